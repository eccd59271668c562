//! Listings page with `limit` and an opaque `cursor`: every item once, `next_cursor` null
//! on the last page, and a bad `limit` or `cursor` a 422 naming it.

use super::support::*;
use crm_tests::backends::backend_sets;
use serde_json::Value;

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn users_and_api_keys_are_listed_in_pages_with_a_cursor() {
    for set in backend_sets().await {
        let name = set.name();
        let admin = Account::new("admin");
        let app = auth_app(&set, &admin).start().await;
        let token = sign_in(&app, &admin).await.access_token;
        let mut users = vec![user_id(&app, &token).await];
        let mut keys = vec![];
        for role in ["viewer", "editor"] {
            users.push(create_user(&app, &token, role).await.id);
            keys.push(create_api_key(&app, &token, role, "free").await.id);
        }
        keys.push(create_api_key(&app, &token, "viewer", "premium").await.id);

        for (path, mut want) in [("/api/users", users), ("/api/api-keys", keys)] {
            let context = format!("{name}: {path}");
            let first = get(&app, &format!("{path}?limit=2"), Auth::Bearer(&token)).await;
            assert_json(&first, 200, &context);
            assert_eq!(ids(&first.body).len(), 2, "{context}: {first}");
            let cursor = first.body["next_cursor"].as_str().unwrap_or_default();
            assert!(!cursor.is_empty(), "{context}: a next page: {first}");
            let next = format!(
                "{path}?limit=2&cursor={}",
                crm_tests::backends::url_encode(cursor)
            );
            let second = get(&app, &next, Auth::Bearer(&token)).await;
            assert_json(&second, 200, &context);
            assert_eq!(
                second.body["next_cursor"],
                Value::Null,
                "{context}: {second}"
            );
            let mut seen = [ids(&first.body), ids(&second.body)].concat();
            seen.sort();
            want.sort();
            assert_eq!(seen, want, "{context}: every item once");

            for (query, field) in [
                ("limit=0", "limit"),
                ("limit=101", "limit"),
                ("limit=ten", "limit"),
                ("cursor=not-a-cursor", "cursor"),
            ] {
                let reply = get(&app, &format!("{path}?{query}"), Auth::Bearer(&token)).await;
                let context = format!("{context}?{query}");
                assert_problem(&reply, 422, &context);
                let fields = reply.body["errors"].to_string();
                assert!(
                    fields.contains(&format!("\"{field}\"")),
                    "{context}: {reply}"
                );
            }
        }
    }
}
