//! The conformance suite: the app in tests/conformance/spin.toml, a list of requests, and
//! Spin's recorded answers (tests/conformance/recorded-spin.json). crm-host is checked
//! against the recording on every run. With a `spin` binary on PATH the suite also runs
//! live against it; `CRM_CONFORMANCE_RECORD=1` then rewrites the recording.

mod cases;
mod run;
mod spin_process;

use crm_tests::backends::{self, PgDatabase};
use crm_tests::{Manifest, app};
use run::Env;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const RECORDING: &str = "tests/conformance/recorded-spin.json";

/// What every host of a run shares: the outbound target and the database.
struct Shared {
    target: MockServer,
    pg: Option<String>,
    _db: Option<PgDatabase>,
}

impl Shared {
    async fn start() -> Shared {
        let target = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("target ok"))
            .mount(&target)
            .await;
        let db = PgDatabase::create().await;
        let pg = match &db {
            Some(db) if db.has_tls().await => Some(backends::host_port(&db.url)),
            _ => None,
        };
        Shared {
            target,
            pg,
            _db: db,
        }
    }

    fn target_port(&self) -> u16 {
        self.target.address().port()
    }

    /// `--variable`s both hosts are started with.
    fn variables(&self) -> Vec<(String, String)> {
        let port = self.target_port();
        let mut vars = vec![
            ("target_port".to_owned(), port.to_string()),
            ("target_port_prev".to_owned(), (port - 1).to_string()),
            ("target_port_next".to_owned(), (port + 1).to_string()),
        ];
        if let Some(pg) = &self.pg {
            vars.push(("pg_host".to_owned(), pg.clone()));
        }
        vars
    }

    fn env(&self, server: SocketAddr) -> Env {
        Env {
            server,
            target_port: self.target_port(),
            pg: self.pg.clone(),
        }
    }
}

/// The runtime config both hosts use: the second store the key-value cases need.
const RUNTIME_CONFIG: &str = "[key_value_store.scratch]\ntype = \"spin\"\npath = \"scratch.db\"\n";

async fn crm_host_views(shared: &Shared) -> BTreeMap<String, Value> {
    let mut builder = app(Manifest::Conformance).runtime_config(RUNTIME_CONFIG);
    for (name, value) in shared.variables() {
        builder = builder.variable(&name, &value);
    }
    let host = builder.start().await;
    run::run_all(&cases::all(), &shared.env(host.addr)).await
}

fn recording_path() -> std::path::PathBuf {
    crm_tests::repo_root().join(RECORDING)
}

fn load_recording() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(recording_path()).expect("the recording exists");
    let recording: Value = serde_json::from_str(&text).expect("the recording is JSON");
    serde_json::from_value(recording["cases"].clone()).expect("cases by name")
}

#[tokio::test]
async fn crm_host_answers_every_case_as_recorded_from_spin() {
    let shared = Shared::start().await;
    let recorded = load_recording();
    let views = crm_host_views(&shared).await;
    if std::env::var("CRM_CONFORMANCE_DUMP").is_ok() {
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&views).unwrap_or_default()
        );
    }
    let unrecorded: Vec<_> = views
        .keys()
        .filter(|n| !recorded.contains_key(*n))
        .collect();
    if !unrecorded.is_empty() {
        eprintln!(
            "notice: cases not recorded from Spin yet (re-record with spin on PATH): {unrecorded:?}"
        );
    }
    let compared = recorded.keys().filter(|n| views.contains_key(*n)).count();
    assert!(compared >= 30, "only {compared} recorded cases ran");
    let differences = run::differences(&recorded, &views);
    assert!(
        differences.is_empty(),
        "crm-host differs from Spin on {} case(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[tokio::test]
async fn spin_on_path_answers_every_case_as_crm_host_does() {
    let Some(spin) = spin_process::SpinProcess::find() else {
        eprintln!("notice: no `spin` on PATH: the live conformance run is skipped");
        return;
    };
    let shared = Shared::start().await;
    let running = spin
        .start(&shared.variables(), RUNTIME_CONFIG)
        .await
        .expect("spin up starts");
    let spin_views = run::run_all(&cases::all(), &shared.env(running.addr)).await;
    let version = running.version.clone();
    drop(running);
    if std::env::var("CRM_CONFORMANCE_RECORD").as_deref() == Ok("1") {
        let recording = serde_json::json!({
            "spin": version,
            "note": "Spin's answers to tests/host/conformance/cases.rs, reduced to their views.",
            "cases": spin_views,
        });
        let text = serde_json::to_string_pretty(&recording).expect("JSON") + "\n";
        std::fs::write(recording_path(), text).expect("write the recording");
        eprintln!("recorded {} cases from {version}", spin_views.len());
    }
    let crm_views = crm_host_views(&shared).await;
    let differences = run::differences(&spin_views, &crm_views);
    assert!(
        differences.is_empty(),
        "crm-host differs from live Spin on {} case(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
}
