//! The OpenAPI document `openapi/crm-api.json`: exactly the routes of
//! `crm_domain::auth::routes::ROUTES`, secured as that table says, and every operation it
//! documents served by the running app.

use crm_domain::auth::routes::{Access, ROUTES};
use crm_tests::{Manifest, app};
use serde_json::Value;
use std::collections::BTreeSet;

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    let path = crm_tests::repo_root().join("openapi/crm-api.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

/// `(METHOD, path)` of every operation the document describes.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    paths
        .iter()
        .flat_map(|(path, item)| {
            HTTP_METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method.to_lowercase()]
}

#[test]
fn the_document_lists_exactly_the_routes_auth_serves() {
    let document = document();
    assert!(
        document["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1."),
        "OpenAPI 3.1: {}",
        document["openapi"]
    );
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(documented(&document), routes);
}

#[test]
fn the_document_secures_each_operation_as_the_route_table_says() {
    let document = document();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http", "{schemes}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT", "{schemes}");
    assert_eq!(schemes["apiKey"]["type"], "apiKey", "{schemes}");
    assert_eq!(schemes["apiKey"]["in"], "header", "{schemes}");
    assert_eq!(schemes["apiKey"]["name"], "X-API-Key", "{schemes}");

    for (method, path, access) in ROUTES {
        let operation = operation(&document, method, path);
        let context = format!("{method} {path}");
        let security = operation.get("security").unwrap_or(&document["security"]);
        let requirements = security.as_array().cloned().unwrap_or_default();
        let responses = &operation["responses"];
        if *access == Access::Anyone {
            assert!(
                requirements.is_empty(),
                "{context}: `security: []`: {security}"
            );
            assert!(
                operation.get("security").is_some(),
                "{context}: says `security: []`"
            );
            continue;
        }
        assert!(!requirements.is_empty(), "{context}: needs credentials");
        for requirement in &requirements {
            for scheme in requirement.as_object().into_iter().flat_map(|r| r.keys()) {
                assert!(schemes.get(scheme).is_some(), "{context}: scheme {scheme}");
            }
        }
        let mut statuses = vec!["401"];
        if *access == Access::Admin {
            statuses.push("403");
        }
        for status in statuses {
            assert!(
                responses.get(status).is_some(),
                "{context}: documents {status}"
            );
        }
    }
}

#[test]
fn every_error_the_document_describes_is_problem_json() {
    let document = document();
    let shared = &document["components"]["responses"];
    for (method, path) in documented(&document) {
        let responses = operation(&document, &method, &path)["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(!responses.is_empty(), "{method} {path}: responses");
        for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
            let response = match response["$ref"].as_str() {
                Some(reference) => &shared[reference.rsplit('/').next().unwrap_or_default()],
                None => response,
            };
            let schema = &response["content"]["application/problem+json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/Problem",
                "{method} {path} {status}: {response}"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_by_the_running_app() {
    let app = app(Manifest::App).start().await;
    for (method, path) in documented(&document()) {
        let url = app.url(&path.replace("{id}", "00000000-0000-4000-8000-000000000000"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let response = app
            .client
            .request(method.clone(), url)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").cloned();
        let body = response.text().await.unwrap_or_default();
        assert!(
            !matches!(status, 404 | 405) && status < 500,
            "{method} {path} without credentials: {status} {body}"
        );
        if status >= 400 {
            assert_eq!(
                content_type.as_ref().and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "{method} {path}: {status} {body}"
            );
        }
    }
}
