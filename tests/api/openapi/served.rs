//! The document and its page on the running app: every documented operation is routed,
//! `GET /api/openapi.json` is the repository's file byte for byte, and `/docs` is an HTML
//! page whose scripts, styles and icons all come from the app itself, with their media
//! types, under a same-origin Content-Security-Policy.

use super::{document, document_bytes, documented, fetch};
use crate::auth::support::{Auth, Reply};
use crm_tests::{Manifest, TestApp, app};
use serde_json::Value;

#[tokio::test]
async fn every_documented_operation_is_served_by_the_running_app() {
    let app = app(Manifest::App).start().await;
    let mut failures = Vec::new();
    for (method, path) in documented(&document()) {
        let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        let reply = fetch(&app, &method, &concrete, Auth::Anonymous, &[], None).await;
        let status = reply.status;
        let shown: String = reply.text.chars().take(200).collect();
        if matches!(status, 404 | 405) || status >= 500 {
            failures.push(format!(
                "{method} {path} without credentials: {status} {shown}"
            ));
        } else if status >= 400 && reply.header("content-type") != "application/problem+json" {
            failures.push(format!(
                "{method} {path}: {status} is not problem+json: {shown}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} operation(s) not served:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_app_serves_the_document_byte_for_byte() {
    let app = app(Manifest::App).start().await;
    let reply = fetch(&app, "GET", "/api/openapi.json", Auth::Anonymous, &[], None).await;
    assert_eq!(reply.status, 200, "{}", reply.request);
    assert_eq!(reply.header("content-type"), "application/json");
    assert!(
        reply.text.as_bytes() == document_bytes().as_slice(),
        "the served document is the repository's file, byte for byte"
    );
    let served: Value = serde_json::from_str(&reply.text).expect("JSON");
    assert_eq!(served, document(), "and parses to the same document");

    let etag = reply.header("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "a strong ETag: {etag:?}"
    );
    assert_eq!(reply.header("cache-control"), "no-cache");
    let again = fetch(
        &app,
        "GET",
        "/api/openapi.json",
        Auth::Anonymous,
        &[("if-none-match", &etag)],
        None,
    )
    .await;
    assert_eq!(again.status, 304, "{again}");
    assert!(again.text.is_empty(), "{again}");
    assert_eq!(again.header("etag"), etag);
}

/// The values of `attribute="…"` in `html`, in order.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!(" {attribute}=\"");
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&needle) {
        rest = &rest[start + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        values.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    values
}

/// The hosts of every `http://` or `https://` URL in `text`.
fn url_hosts(text: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    for scheme in ["http://", "https://"] {
        let mut rest = text;
        while let Some(start) = rest.find(scheme) {
            rest = &rest[start + scheme.len()..];
            let end = rest
                .find(|c: char| {
                    matches!(c, '/' | '"' | '\'' | '`' | ')' | '?' | '#') || c.is_whitespace()
                })
                .unwrap_or(rest.len());
            hosts.push(rest[..end].to_owned());
        }
    }
    hosts
}

/// Asserts `reply` is a 200 whose media type is one of `types`.
fn assert_served_as(reply: &Reply, types: &[&str]) {
    assert_eq!(reply.status, 200, "{}: {}", reply.request, reply.status);
    let media = reply
        .header("content-type")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        types.contains(&media.as_str()),
        "{}: content type {media:?}, wanted one of {types:?}",
        reply.request
    );
    assert_eq!(
        reply.header("x-content-type-options"),
        "nosniff",
        "{}",
        reply.request
    );
}

async fn get(app: &TestApp, path: &str) -> Reply {
    fetch(app, "GET", path, Auth::Anonymous, &[], None).await
}

#[tokio::test]
async fn the_docs_page_and_its_assets_come_from_the_app_itself() {
    let app = app(Manifest::App).start().await;
    let page = get(&app, "/docs").await;
    assert_served_as(&page, &["text/html"]);
    let with_slash = get(&app, "/docs/").await;
    assert_served_as(&with_slash, &["text/html"]);
    assert_eq!(page.text, with_slash.text, "/docs and /docs/ are one page");
    let html = page.text.clone();
    assert!(html.contains("id=\"swagger-ui\""), "{html}");

    // A policy that allows this origin only: no inline or eval'd script, no other host.
    let policy = page.header("content-security-policy").to_owned();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(
            policy.split(';').any(|d| d.trim() == directive),
            "{directive}: {policy}"
        );
    }
    for loose in ["unsafe-inline", "unsafe-eval", "http:", "https:", "*"] {
        assert!(!policy.contains(loose), "{loose} in {policy}");
    }

    // No inline script or style: every <script> has a src and no body.
    let scripts = attribute_values(&html, "src");
    assert_eq!(html.matches("<script").count(), scripts.len(), "{html}");
    assert_eq!(
        html.matches("></script>").count(),
        scripts.len(),
        "scripts without a body: {html}"
    );
    for inline in [
        "<style",
        " style=\"",
        " onload=",
        " onclick=",
        "javascript:",
    ] {
        assert!(!html.contains(inline), "{inline} in {html}");
    }
    let styles: Vec<String> = attribute_values(&html, "href")
        .into_iter()
        .filter(|href| href.ends_with(".css"))
        .collect();
    assert!(!scripts.is_empty() && !styles.is_empty(), "{html}");

    // Everything the page references is same-origin and served with its media type.
    let mut own_scripts = String::new();
    for reference in attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
    {
        assert!(
            reference.starts_with('/') && !reference.starts_with("//"),
            "a same-origin path: {reference}"
        );
        let reply = get(&app, &reference).await;
        let types: &[&str] = match reference.rsplit('.').next().unwrap_or_default() {
            "js" => &["text/javascript", "application/javascript"],
            "css" => &["text/css"],
            "png" => &["image/png"],
            "json" => &["application/json"],
            other => panic!("{reference}: an unexpected kind of asset ({other})"),
        };
        assert_served_as(&reply, types);
        assert!(!reply.text.is_empty(), "{reference}: a body");
        assert!(!reply.header("etag").is_empty(), "{reference}: an ETag");
        assert!(
            !reply.header("cache-control").is_empty(),
            "{reference}: a Cache-Control"
        );
        if reference.ends_with(".js") && !reference.starts_with("/docs/swagger-ui/") {
            own_scripts.push_str(&reply.text);
        }
    }

    // Our script starts Swagger UI on the app's own document and keeps authorisations.
    assert!(
        own_scripts.contains("url: \"/api/openapi.json\""),
        "{own_scripts}"
    );
    assert!(
        own_scripts.contains("persistAuthorization: true"),
        "{own_scripts}"
    );
    for (name, text) in [("index.html", &html), ("the init script", &own_scripts)] {
        let own = app.addr.to_string();
        let foreign: Vec<String> = url_hosts(text)
            .into_iter()
            .filter(|host| *host != own)
            .collect();
        assert!(foreign.is_empty(), "{name} names other hosts: {foreign:?}");
    }
}

#[tokio::test]
async fn the_docs_component_answers_head_and_refuses_unknown_paths_and_methods_with_problems() {
    let app = app(Manifest::App).start().await;
    for path in ["/docs/missing.js", "/docs/swagger-ui/VERSION", "/docs/a/b"] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, 404, "{reply}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(reply.body["status"], 404, "{reply}");
    }
    let head = fetch(
        &app,
        "HEAD",
        "/docs/swagger-ui/swagger-ui-bundle.js",
        Auth::Anonymous,
        &[],
        None,
    )
    .await;
    assert_eq!(head.status, 200, "{head}");
    assert!(head.text.is_empty(), "HEAD has no body");
    assert!(
        head.header("content-type").starts_with("text/javascript"),
        "{:?}",
        head.headers
    );
    for (method, path) in [
        ("POST", "/api/openapi.json"),
        ("PUT", "/docs"),
        ("DELETE", "/docs/init.js"),
    ] {
        let reply = fetch(&app, method, path, Auth::Anonymous, &[], None).await;
        assert_eq!(reply.status, 405, "{reply}");
        assert_eq!(reply.header("allow"), "GET, HEAD", "{reply}");
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert!(!reply.header("x-request-id").is_empty(), "{reply}");
    }
}
