//! `/docs` in a real browser: headless Chromium loads the page from the app (scripts and
//! styles from the app itself, under its Content-Security-Policy) and the rendered DOM is
//! Swagger UI showing the document's operations and the Authorize button. Without
//! `chromium` (or `chromium-browser`) on PATH the test skips with a notice, except under
//! `CI=true`, where that is a failure (.ci/run installs it).

use crm_tests::backends::in_ci;
use crm_tests::{Manifest, app};
use std::path::PathBuf;
use std::time::Duration;

/// How long the browser may take, in all.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn chromium_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

#[tokio::test]
async fn the_docs_page_renders_swagger_ui_in_a_real_browser() {
    let Some(chromium) = chromium_on_path() else {
        assert!(
            !in_ci(),
            "chromium is not on PATH and CI=true: .ci/run installs it (apt-get install chromium)"
        );
        eprintln!("notice: no chromium or chromium-browser on PATH: skipping the browser check");
        return;
    };
    let app = app(Manifest::App).start().await;
    let profile = tempfile::tempdir().expect("a profile dir");
    let url = app.url("/docs/");
    let run = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(BROWSER_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} did not finish in {BROWSER_TIMEOUT:?}",
                chromium.display()
            )
        })
        .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()));
    let dom = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown_stderr: String = stderr
        .chars()
        .rev()
        .take(3000)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(
        output.status.success(),
        "{} --dump-dom {url}: {}\n{shown_stderr}",
        chromium.display(),
        output.status
    );
    let context = format!(
        "the DOM Chromium rendered ({} bytes; stderr ends: {shown_stderr})",
        dom.len()
    );

    assert!(
        dom.contains("class=\"swagger-ui"),
        "Swagger UI ran: {context}"
    );
    assert!(
        !dom.contains("Failed to load API definition"),
        "the document loaded: {context}"
    );
    assert!(
        dom.contains("CRM API"),
        "the document's title is shown: {context}"
    );
    // Operations of the document, rendered as Swagger UI's operation blocks.
    assert!(dom.contains("opblock"), "operation blocks: {context}");
    for (method, path) in [
        ("post", "/api/clients"),
        ("get", "/api/clients/{id}"),
        ("post", "/api/auth/token"),
        ("get", "/health/ready"),
    ] {
        assert!(
            dom.contains(&format!("opblock-{method}")),
            "a {method} block: {context}"
        );
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "{method} {path} is shown: {context}"
        );
    }
    // The Authorize button, there because the document has security schemes.
    assert!(
        dom.contains("btn authorize"),
        "the Authorize button: {context}"
    );
}
