//! Brute force: failed logins are counted per account and per client address in fixed
//! windows; at the limit login answers 429 with `Retry-After` — the right password too —
//! until the window passes, and an unknown account is answered exactly like a known one.

use super::support::*;
use crm_tests::AppBuilder;
use crm_tests::backends::{BackendSet, backend_sets};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A window length no other test uses (the counters' keys name it).
const WINDOW_SECONDS: u64 = 6;

fn throttled_app(
    set: &BackendSet,
    admin: &Account,
    per_account: u32,
    per_address: u32,
) -> AppBuilder {
    auth_app(set, admin)
        .env(
            "SPIN_VARIABLE_LOGIN_FAILURE_WINDOW_SECONDS",
            &WINDOW_SECONDS.to_string(),
        )
        .env(
            "SPIN_VARIABLE_LOGIN_MAX_FAILURES_PER_ACCOUNT",
            &per_account.to_string(),
        )
        .env(
            "SPIN_VARIABLE_LOGIN_MAX_FAILURES_PER_ADDRESS",
            &per_address.to_string(),
        )
}

/// Sleep until 100 ms into a fresh window, so the failures that follow share one window.
async fn at_the_start_of_a_window() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let window_ms = WINDOW_SECONDS * 1000;
    let into = (now.as_millis() % u128::from(window_ms)) as u64;
    tokio::time::sleep(Duration::from_millis(window_ms - into + 100)).await;
}

fn wrong_password(account: &Account) -> Account {
    Account {
        password: "not the right password".into(),
        ..account.clone()
    }
}

/// Asserts a 429 problem whose `Retry-After` is within the window; returns its seconds.
fn assert_throttled(reply: &Reply, context: &str) -> u64 {
    assert_problem(reply, 429, context);
    let seconds: u64 = reply.header("retry-after").parse().unwrap_or(0);
    assert!(
        (1..=WINDOW_SECONDS).contains(&seconds),
        "{context}: Retry-After: {reply}"
    );
    seconds
}

/// Asserts that `known` and `unknown` tell nothing apart: status, header names, the
/// challenge, and the problem's fields (the detail too, unless it counts seconds).
fn assert_same_answer(known: &Reply, unknown: &Reply, context: &str) {
    assert_eq!(
        known.status, unknown.status,
        "{context}: {known} / {unknown}"
    );
    let names = |reply: &Reply| {
        let mut names: Vec<String> = reply.headers.keys().map(|n| n.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(names(known), names(unknown), "{context}: header names");
    for header in ["content-type", "www-authenticate"] {
        assert_eq!(
            known.header(header),
            unknown.header(header),
            "{context}: {header}"
        );
    }
    let fields = |reply: &Reply| {
        reply
            .body
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(fields(known), fields(unknown), "{context}: problem fields");
    for field in ["type", "title", "status"] {
        assert_eq!(known.body[field], unknown.body[field], "{context}: {field}");
    }
    if known.status != 429 {
        assert_eq!(
            known.body["detail"], unknown.body["detail"],
            "{context}: detail"
        );
    }
}

#[tokio::test]
async fn failed_logins_for_one_account_are_throttled_until_the_window_passes() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = throttled_app(&set, &admin, 3, 100).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let victim = create_user(&app, &admin_token, "viewer").await.account;
        let ghost = Account::new("ghost");

        at_the_start_of_a_window().await;
        for attempt in 1..=3 {
            let context = format!("{name}: failure {attempt}");
            let known = login(&app, &wrong_password(&victim)).await;
            assert_problem(&known, 401, &context);
            let unknown = login(&app, &wrong_password(&ghost)).await;
            assert_same_answer(&known, &unknown, &context);
        }
        let known = login(&app, &wrong_password(&victim)).await;
        let retry_after = assert_throttled(&known, &format!("{name}: over the limit"));
        let unknown = login(&app, &wrong_password(&ghost)).await;
        assert_throttled(
            &unknown,
            &format!("{name}: an unknown account over the limit"),
        );
        assert_same_answer(&known, &unknown, &format!("{name}: throttled"));
        let reply = login(&app, &victim).await;
        assert_throttled(&reply, &format!("{name}: the right password in the window"));
        let reply = login(&app, &admin).await;
        assert_tokens(&reply, &format!("{name}: another account is not throttled"));

        tokio::time::sleep(Duration::from_millis(retry_after * 1000 + 500)).await;
        let reply = login(&app, &victim).await;
        assert_tokens(
            &reply,
            &format!("{name}: the right password after the window"),
        );
    }
}

#[tokio::test]
async fn failed_logins_from_one_address_are_throttled_across_accounts() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = throttled_app(&set, &admin, 100, 3).start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let first = create_user(&app, &admin_token, "viewer").await.account;
        let second = create_user(&app, &admin_token, "editor").await.account;

        at_the_start_of_a_window().await;
        for account in [&first, &second, &Account::new("ghost")] {
            let reply = login(&app, &wrong_password(account)).await;
            assert_problem(&reply, 401, &format!("{name}: {}", account.email));
        }
        let reply = login(&app, &admin).await;
        let retry_after =
            assert_throttled(&reply, &format!("{name}: a fresh account, same address"));
        let reply = login(&app, &Account::new("ghost")).await;
        assert_throttled(&reply, &format!("{name}: an unknown account, same address"));

        tokio::time::sleep(Duration::from_millis(retry_after * 1000 + 500)).await;
        let reply = login(&app, &admin).await;
        assert_tokens(&reply, &format!("{name}: after the window"));
    }
}
