//! `culprit web` driven in real headless Chromium on a real Go 1.19 heap profile captured
//! from a service under load: switch the sample type, open the flame graph, click a frame,
//! search, and check what the page shows. Leaves `target/test-artifacts/web.png`.

mod web_support;

use serde_json::json;
use web_support::{Browser, Server, artifacts};

fn gotrace(name: &str) -> std::path::PathBuf {
    culprit_testkit::testdata().join("gotrace").join(name)
}

#[test]
fn web_ui_switches_sample_type_zooms_and_searches_in_chromium() {
    let Some(chromium) = culprit_testkit::require_tool("chromium") else {
        return;
    };
    let heap = gotrace("heap.pb.gz");
    let server = Server::start(&[heap.as_path()]);
    let mut b = Browser::launch(&chromium, 1280, 900);

    b.goto(&server.url);
    b.wait_for("document.body.dataset.ready === '1'");
    let headline = b.eval("document.getElementById('headline').textContent");
    assert!(
        headline
            .as_str()
            .is_some_and(|h| h.starts_with("inuse_space (bytes)")),
        "{headline}"
    );
    let rows = b.eval("document.querySelectorAll('#top tbody tr').length");
    assert!(rows.as_u64().is_some_and(|n| n > 5), "top rows: {rows}");

    // Switch the sample type with the page's own control.
    b.eval("(() => { const s = document.getElementById('si'); s.value = 'alloc_space'; s.dispatchEvent(new Event('change')); })()");
    b.wait_for("document.body.dataset.ready === '1' && document.getElementById('headline').textContent.startsWith('alloc_space')");
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('si')"),
        json!("alloc_space")
    );

    // Sort the top table by cum with a real click on the header.
    b.click("#top th[data-sort=cum]");
    let sorted = b.eval(
        "(() => { const c = [...document.querySelectorAll('#top tbody tr td:nth-child(5)')].map(t => parseFloat(t.textContent)); \
           return c.length > 5 && c.every((v, i) => i === 0 || c[i - 1] >= v); })()",
    );
    assert_eq!(
        sorted,
        json!(true),
        "clicking cum sorts the table by cum, largest first"
    );
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('sort')"),
        json!("cum")
    );

    // Open the flame graph.
    b.click("nav a[data-view=flame]");
    b.wait_for("document.body.dataset.ready === '1' && document.querySelector('#flame svg g.f')");
    let title = b.eval("document.querySelector('#flame svg .title').textContent");
    assert!(
        title
            .as_str()
            .is_some_and(|t| t.starts_with("alloc_space (bytes): total ")),
        "{title}"
    );
    let frames = b
        .eval("document.querySelectorAll('#flame svg g.f').length")
        .as_u64()
        .unwrap_or(0);
    assert!(frames > 20, "only {frames} frames drawn");

    // Click the widest frame two levels below the root: the graph zooms to it and the
    // callers and callees of that function appear under the graph.
    let target = b.eval(
        "(() => { let best = null; document.querySelectorAll('#flame svg g.f[data-d=\"2\"]').forEach(g => { \
           if (!best || +g.dataset.w > +best.dataset.w) best = g; }); best.id = 'target'; \
           return best.querySelector('title').textContent.split('\\n')[0]; })()",
    );
    let name = target.as_str().expect("a frame at depth 2").to_owned();
    b.click("#target");
    b.wait_for("new URLSearchParams(location.search).get('fn') && document.querySelector('#neighbours h3')");
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('fn')"),
        json!(name)
    );
    let hidden = b
        .eval("document.querySelectorAll('#flame svg g.f.hide').length")
        .as_u64()
        .unwrap_or(0);
    assert!(hidden > 0, "zooming hid no frames");
    let neighbours = b.eval("document.getElementById('neighbours').textContent");
    let text = neighbours.as_str().unwrap_or("");
    assert!(
        text.contains("Callers") && text.contains("Callees") && text.contains(&name),
        "{text}"
    );
    b.click("#reset-zoom");

    // Search: matches are highlighted and their share of the total is shown.
    b.type_into("#search", "runtime\\.");
    b.wait_for("document.getElementById('matched').textContent.startsWith('matched ')");
    let matched = b.eval("document.getElementById('matched').textContent");
    let share: f64 = matched
        .as_str()
        .and_then(|m| m.strip_prefix("matched "))
        .and_then(|m| m.split('%').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("{matched}"));
    assert!(share > 0.0 && share <= 100.0, "{matched}");
    let highlighted = b
        .eval("document.querySelectorAll('#flame svg g.f.match').length")
        .as_u64()
        .unwrap_or(0);
    assert!(highlighted > 0, "no frame highlighted");
    assert_eq!(
        b.eval("new URLSearchParams(location.search).get('q')"),
        json!("runtime\\.")
    );
    // Zoom back into the frame so the screenshot shows zoom, search and neighbours at once.
    b.click("#target");
    b.wait_for("document.querySelector('#neighbours h3')");
    b.screenshot(&artifacts().join("web.png"));

    // The whole state is in the URL: reloading it restores the same view and search.
    let url = b.eval("location.href");
    b.goto(url.as_str().expect("href"));
    b.wait_for(
        "document.body.dataset.ready === '1' && document.querySelector('#flame svg g.f.match')",
    );
    assert_eq!(
        b.eval("document.getElementById('si').value"),
        json!("alloc_space")
    );
}

#[test]
fn web_api_serves_filtered_profile_and_rejects_bad_filters() {
    let cpu = gotrace("cpu.pb.gz");
    let server = Server::start(&[cpu.as_path()]);
    let (status, body) = server.get("/api/profile.pb.gz?focus=runtime");
    assert_eq!(status, 200);
    let p = culprit_profile::parse(&body).expect("downloaded profile parses");
    assert!(!p.samples.is_empty());
    let (status, body) = server.get("/api/top?focus=%28");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("focus"));
    let (status, svg) = server.get("/api/flame.svg?si=cpu");
    assert_eq!(status, 200);
    roxmltree::Document::parse(std::str::from_utf8(&svg).expect("utf8")).expect("SVG is XML");
}
