//! culprit's local web UI. [`router`] gives an axum router that other commands can serve
//! or nest; every view's numbers are computed on the server from the same prepared profile
//! as the text reports, and only pruned results go to the page.
//!
//! Routes: `/` (the page), `/api/meta`, `/api/top`, `/api/flame.svg`, `/api/peek`,
//! `/api/source`, `/api/profile.pb.gz`. Every `/api` route takes the query of [`Query`].

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
    let p = st.profile();
    axum::Json(json!({
        "files": st.files(),
        "sample_types": p.sample_type.iter().map(|t| json!({"kind": t.kind, "unit": t.unit})).collect::<Vec<_>>(),
        "default_index": p.default_sample_index(),
        "samples": p.samples.len(),
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
