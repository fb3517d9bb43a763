//! culprit's local web UI over profiles, goroutine dumps and metric series.
//! [`inputs`] recognises what it is given; [`router`] gives an axum router that other
//! commands can serve or nest. Every view's numbers are computed on the server from the
//! same code as the text reports, and only pruned results go to the page.
//!
//! Routes: `/` (the page), `/api/meta` (what is loaded); for profiles `/api/top`,
//! `/api/flame.svg`, `/api/peek`, `/api/source`, `/api/profile.pb.gz`, which take the
//! query of [`Query`]; `/api/goroutines` (query [`GoroutineQuery`], the JSON of
//! `culprit goroutines --format json`); `/api/series?s=N` (charts as data and SVG);
//! `/api/causal?c=N` (a causal profile's ranking and speed-up curves, as data and SVG).

pub mod goroutines;
pub mod inputs;
pub mod series;
pub mod state;
pub mod views;

use axum::Router;
use axum::extract::{Query as Q, State as S};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use culprit_flame::svg;
use culprit_flame::units::{percent, value_label};
use serde_json::json;

pub use goroutines::GoroutineQuery;
pub use inputs::{Input, InputError, Kind};
pub use state::{Query, State, View};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const FLAME_JS: &str = include_str!("../../culprit-flame/assets/flame.js");

/// Frames narrower than this many pixels of the 1200-pixel graph are not sent (about
/// 0.04% of the total), which bounds the page's size on huge profiles.
const MIN_FRAME_PX: f64 = 0.5;
/// Rows of the top table sent at most.
const TOP_ROWS: usize = 500;

/// The web UI's routes over `state`.
pub fn router(state: State) -> Router {
    Router::new()
        .route("/", get(|| async { html(INDEX) }))
        .route(
            "/app.js",
            get(|| async { asset(APP_JS, "text/javascript") }),
        )
        .route(
            "/flame.js",
            get(|| async { asset(FLAME_JS, "text/javascript") }),
        )
        .route("/app.css", get(|| async { asset(APP_CSS, "text/css") }))
        .route("/api/meta", get(meta))
        .route("/api/top", get(top))
        .route("/api/flame.svg", get(flame))
        .route("/api/peek", get(peek))
        .route("/api/source", get(source))
        .route("/api/profile.pb.gz", get(download))
        .route("/api/goroutines", get(goroutines))
        .route("/api/series", get(series))
        .route("/api/causal", get(causal))
        .with_state(state)
}

fn html(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn asset(body: &'static str, ty: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ty)], body).into_response()
}

fn bad(msg: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, msg.to_string()).into_response()
}

/// Runs CPU-heavy work off the async workers.
async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

async fn meta(S(st): S<State>) -> Response {
    let profiles: Vec<_> = st
        .profiles()
        .iter()
        .map(|set| {
            let p = &set.merged;
            json!({
                "name": set.name,
                "sample_types": p.sample_type.iter().map(|t| json!({"kind": t.kind, "unit": t.unit})).collect::<Vec<_>>(),
                "default_index": p.default_sample_index(),
                "samples": p.samples.len(),
            })
        })
        .collect();
    let dumps: Vec<_> = st
        .dumps()
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "format": d.snapshot.format.describe(),
                "goroutines": d.snapshot.total(),
            })
        })
        .collect();
    let series: Vec<_> = st
        .series()
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "samples": s.series.samples,
                "charts": s.series.charts.len(),
            })
        })
        .collect();
    axum::Json(json!({
        "files": st.files(),
        "profiles": profiles,
        "goroutines": dumps,
        "series": series,
        "causal": st.causal().iter().map(|c| json!({
            "name": c.name,
            "experiments": c.analysis.experiments,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn goroutines(S(st): S<State>, Q(q): Q<GoroutineQuery>) -> Response {
    blocking(move || {
        let idx = q.d.unwrap_or(0);
        let Some(dump) = st.dumps().get(idx) else {
            return (
                StatusCode::NOT_FOUND,
                format!(
                    "no goroutine dump number {idx} ({} loaded)",
                    st.dumps().len()
                ),
            )
                .into_response();
        };
        match goroutines::grouped(&dump.snapshot, &q) {
            Ok(mut v) => {
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("name".into(), dump.name.clone().into());
                }
                axum::Json(v).into_response()
            }
            Err(e) => bad(e),
        }
    })
    .await
}

/// The query of `/api/series`.
#[derive(Debug, Default, serde::Deserialize)]
struct SeriesQuery {
    /// Index of the series among those loaded (default 0).
    #[serde(default)]
    s: Option<usize>,
}

async fn series(S(st): S<State>, Q(q): Q<SeriesQuery>) -> Response {
    let idx = q.s.unwrap_or(0);
    let Some(named) = st.series().get(idx) else {
        return (
            StatusCode::NOT_FOUND,
            format!("no series number {idx} ({} loaded)", st.series().len()),
        )
            .into_response();
    };
    let s = &named.series;
    axum::Json(json!({
        "name": named.name,
        "samples": s.samples,
        "start": s.start,
        "charts": s.charts.iter().map(series::Chart::json).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// Which causal profile `/api/causal` shows.
#[derive(serde::Deserialize)]
struct CausalQuery {
    c: Option<usize>,
}

async fn causal(S(st): S<State>, Q(q): Q<CausalQuery>) -> Response {
    let idx = q.c.unwrap_or(0);
    let Some(named) = st.causal().get(idx) else {
        return (
            StatusCode::NOT_FOUND,
            format!(
                "no causal profile number {idx} ({} loaded)",
                st.causal().len()
            ),
        )
            .into_response();
    };
    let a = &named.analysis;
    let curves: Vec<_> = a
        .curves
        .iter()
        .map(|c| {
            json!({
                "line": c.line,
                "progress_point": c.progress_point,
                "slope": c.fit.map(|f| f.slope),
                "r2": c.fit.map(|f| f.r2),
                "max_speedup": c.max_speedup,
                "points": c.points,
                "svg": c.baseline.is_some().then(|| culprit_causal::render::curve_svg(c)),
            })
        })
        .collect();
    axum::Json(json!({
        "name": named.name,
        "experiments": a.experiments,
        "runtime_ns": a.runtime_ns,
        "curves": curves,
    }))
    .into_response()
}

fn headline(v: &View) -> serde_json::Value {
    let st = &v.prepared.sample_type;
    json!({
        "sample_type": st.kind,
        "unit": st.unit,
        "total": v.prepared.total,
        "total_label": value_label(v.prepared.total, &st.unit),
        "shown": v.tree.total(),
        "shown_label": value_label(v.tree.total(), &st.unit),
        "filters": v.prepared.active_filters,
    })
}

async fn top(S(st): S<State>, Q(q): Q<Query>) -> Response {
    blocking(move || {
        let v = match st.view(&q) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
        let unit = v.prepared.sample_type.unit.clone();
        let total = v.prepared.total;
        let mut sum = 0i64;
        let rows: Vec<_> = views::top(&v.tree)
            .into_iter()
            .take(TOP_ROWS)
            .map(|r| {
                sum += r.flat;
                json!({
                    "name": r.name,
                    "flat": r.flat, "flat_label": value_label(r.flat, &unit), "flat_pct": percent(r.flat, total),
                    "sum_pct": percent(sum, total),
                    "cum": r.cum, "cum_label": value_label(r.cum, &unit), "cum_pct": percent(r.cum, total),
                })
            })
            .collect();
        axum::Json(json!({"head": headline(&v), "rows": rows})).into_response()
    })
    .await
}

async fn flame(S(st): S<State>, Q(q): Q<Query>) -> Response {
    blocking(move || {
        let v = match st.view(&q) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
        let st_ = &v.prepared.sample_type;
        let opts = svg::Options {
            title: format!(
                "{} ({}): total {}",
                st_.kind,
                st_.unit,
                value_label(v.prepared.total, &st_.unit)
            ),
            subtitle: v.prepared.active_filters.join("; "),
            unit: st_.unit.clone(),
            total: v.prepared.total,
            min_width_px: MIN_FRAME_PX,
            ..svg::Options::default()
        };
        let mut out = Vec::with_capacity(1 << 20);
        if let Err(e) = svg::write_svg(&v.tree, &opts, &mut out) {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
        ([(header::CONTENT_TYPE, "image/svg+xml")], out).into_response()
    })
    .await
}

async fn peek(S(st): S<State>, Q(q): Q<Query>) -> Response {
    blocking(move || {
        let v = match st.view(&q) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
        let Some(name) = q.func.as_deref() else {
            return bad("peek needs fn=NAME");
        };
        match views::peek(&v.tree, name) {
            Some(p) => axum::Json(json!({"head": headline(&v), "peek": p})).into_response(),
            None => (StatusCode::NOT_FOUND, format!("no frame named {name:?}")).into_response(),
        }
    })
    .await
}

async fn source(S(st): S<State>, Q(q): Q<Query>) -> Response {
    blocking(move || {
        let v = match st.view(&q) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
        let Some(name) = q.func.as_deref() else {
            return bad("source needs fn=NAME");
        };
        let Some((file, values)) = views::line_values(&v.prepared.profile, |s| v.value(s), name)
        else {
            return (StatusCode::NOT_FOUND, format!("no samples in {name:?}")).into_response();
        };
        match std::fs::read_to_string(&file) {
            Ok(text) => axum::Json(json!({
                "head": headline(&v),
                "source": views::listing(name, &file, &text, &values, 5),
            }))
            .into_response(),
            Err(e) => (
                StatusCode::NOT_FOUND,
                format!("source of {name} not found locally ({file}: {e})"),
            )
                .into_response(),
        }
    })
    .await
}

async fn download(S(st): S<State>, Q(q): Q<Query>) -> Response {
    blocking(move || {
        let v = match st.view(&q) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
        let body = culprit_profile::encode_gzip(&v.prepared.profile);
        (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"profile.pb.gz\"",
                ),
            ],
            body,
        )
            .into_response()
    })
    .await
}
