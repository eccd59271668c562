//! The audit trail: creating a user and revoking an API key leave `audit_log` rows that
//! name the actor, the entity and the request; no row and no log line holds a password,
//! a token, an API key or the signing key. The app runs as a `crm-host up` process so
//! that its output can be read.

use super::support::*;
use super::tokens::SigningKey;
use crm_tests::backends::{BackendSet, backend_sets};
use reqwest::Method;
use std::path::Path;

/// One `audit_log` row; `text` is all its columns, for the secrets check.
#[derive(Debug)]
struct AuditRow {
    action: String,
    entity_id: String,
    actor_user_id: String,
    request_id: String,
    text: String,
}

const AUDIT_QUERY: &str = "SELECT action, entity_type, coalesce(entity_id, ''), \
     coalesce(actor_user_id, ''), coalesce(actor_api_key_id, ''), coalesce(request_id, ''), \
     CAST(details AS TEXT) FROM audit_log";

fn audit_row(columns: Vec<String>) -> AuditRow {
    AuditRow {
        action: columns[0].clone(),
        entity_id: columns[2].clone(),
        actor_user_id: columns[3].clone(),
        request_id: columns[5].clone(),
        text: columns.join(" | "),
    }
}

/// The rows of `audit_log`, read straight from the app's database.
async fn audit_rows(set: &BackendSet, app_dir: &Path) -> Vec<AuditRow> {
    match set {
        BackendSet::Sqlite => {
            let file = app_dir.join(".spin").join("sqlite_db.db");
            crate::clients::support::off_the_runtime(move || {
                let connection =
                    rusqlite::Connection::open(&file).expect("the app's SQLite database");
                let mut statement = connection.prepare(AUDIT_QUERY).expect("audit query");
                let rows = statement
                    .query_map([], |row| (0..7).map(|i| row.get::<_, String>(i)).collect())
                    .expect("audit rows");
                rows.map(|row| audit_row(row.expect("an audit row")))
                    .collect()
            })
            .await
        }
        BackendSet::PostgresRedis { db, .. } => {
            let rows = db
                .client()
                .await
                .query(AUDIT_QUERY, &[])
                .await
                .expect("audit rows");
            rows.iter()
                .map(|row| audit_row((0..7).map(|i| row.get::<_, String>(i)).collect()))
                .collect()
        }
    }
}

fn find<'a>(rows: &'a [AuditRow], entity_id: &str, verbs: &[&str]) -> Option<&'a AuditRow> {
    rows.iter().find(|row| {
        let action = row.action.to_lowercase();
        row.entity_id == entity_id && verbs.iter().any(|verb| action.contains(verb))
    })
}

#[tokio::test]
async fn writes_are_audited_and_no_row_or_log_line_holds_a_secret() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start_process().await;
        let session = sign_in(&app, &admin).await;
        let admin_id = user_id(&app, &session.access_token).await;
        let wrong = "a wrong password nobody may log";
        let reply = login(
            &app,
            &Account {
                password: wrong.into(),
                ..admin.clone()
            },
        )
        .await;
        assert_problem(&reply, 401, &format!("{name}: a failed login"));
        let user = create_user(&app, &session.access_token, "editor").await;
        let user_session = sign_in(&app, &user.account).await;
        let rotated = assert_tokens(&refresh(&app, &user_session.refresh_token).await, name);
        let key = create_api_key(&app, &session.access_token, "viewer", "free").await;
        let path = format!("/api/api-keys/{}", key.id);
        let revoked = send(
            &app,
            Method::DELETE,
            &path,
            Auth::Bearer(&session.access_token),
            None,
        )
        .await;
        assert_eq!(revoked.status, 204, "{name}: {revoked}");

        let rows = audit_rows(&set, app.dir.path()).await;
        let created = find(&rows, &user.id, &["creat"]);
        let created = created.unwrap_or_else(|| panic!("{name}: the user's creation: {rows:#?}"));
        assert_eq!(created.actor_user_id, admin_id, "{name}: {created:?}");
        assert_eq!(created.request_id, user.request_id, "{name}: {created:?}");
        let revocation = find(&rows, &key.id, &["revok", "delet"]);
        let revocation =
            revocation.unwrap_or_else(|| panic!("{name}: the key's revocation: {rows:#?}"));
        assert_eq!(revocation.actor_user_id, admin_id, "{name}: {revocation:?}");
        assert_eq!(
            revocation.request_id,
            revoked.header("x-request-id"),
            "{name}: {revocation:?}"
        );

        let seed = SigningKey::suite().seed_text();
        let secrets = [
            ("admin's password", admin.password.as_str()),
            ("user's password", &user.account.password),
            ("wrong password", wrong),
            ("admin's access token", &session.access_token),
            ("admin's refresh token", &session.refresh_token),
            ("user's first refresh token", &user_session.refresh_token),
            ("user's rotated refresh token", &rotated.refresh_token),
            ("user's rotated access token", &rotated.access_token),
            ("API key", &key.key),
            ("signing seed", &seed),
        ];
        for row in &rows {
            assert_no_secrets(&row.text, &secrets, &format!("{name}: audit_log"));
        }
        let lines = app.stop();
        assert!(
            lines.iter().any(|line| line.contains("/api/api-keys")),
            "{name}: the app's log lines were read: {lines:#?}"
        );
        assert_no_secrets(&lines.join("\n"), &secrets, &format!("{name}: the log"));
    }
}
