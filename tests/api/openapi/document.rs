//! The document on its own: its operations are exactly the app's routes, each secured as
//! its table says, every error is problem+json, every reference resolves, every schema
//! compiles as JSON Schema 2020-12, and the clients operations carry what docs/clients.md
//! promises (headers, conditional requests, media types, the writable fields).

use super::conformance::{schema_validator, validate};
use super::{
    Guard, app_routes, document, documented, documented_response, operation, parameters, resolve,
};
use crm_domain::auth::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Non-2xx answers documented with a body that is not problem+json, on purpose.
const NOT_PROBLEMS: &[(&str, &str, &str)] = &[
    // The readiness report itself, so an orchestrator and a person see which check failed.
    ("GET", "/health/ready", "503"),
];

#[test]
fn the_document_lists_exactly_the_routes_the_app_serves() {
    let document = document();
    assert!(
        document["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1."),
        "OpenAPI 3.1: {}",
        document["openapi"]
    );
    let routes: BTreeSet<(String, String)> = app_routes()
        .into_iter()
        .map(|(method, path, _)| (method.to_owned(), path.to_owned()))
        .collect();
    assert_eq!(routes.len(), app_routes().len(), "no route twice");
    let documented = documented(&document);
    let missing: Vec<_> = routes.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "undocumented routes: {missing:?}; documented but not routed: {extra:?}"
    );

    let mut operation_ids = BTreeSet::new();
    for (method, path) in &documented {
        let id = operation(&document, method, path)["operationId"]
            .as_str()
            .unwrap_or_default();
        assert!(!id.is_empty(), "{method} {path}: operationId");
        assert!(operation_ids.insert(id), "{method} {path}: {id} twice");
    }
}

#[test]
fn the_document_secures_each_operation_as_the_route_tables_say() {
    let document = document();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http", "{schemes}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT", "{schemes}");
    assert_eq!(schemes["apiKey"]["type"], "apiKey", "{schemes}");
    assert_eq!(schemes["apiKey"]["in"], "header", "{schemes}");
    assert_eq!(schemes["apiKey"]["name"], "X-API-Key", "{schemes}");

    for (method, path, guard) in app_routes() {
        let operation = operation(&document, method, path);
        let context = format!("{method} {path}");
        let security = operation.get("security").unwrap_or(&document["security"]);
        let requirements = security.as_array().cloned().unwrap_or_default();
        let responses = &operation["responses"];
        if guard == Guard::Public {
            assert!(
                operation.get("security").is_some() && requirements.is_empty(),
                "{context}: says `security: []`: {security}"
            );
            assert!(responses.get("403").is_none(), "{context}: no 403");
            continue;
        }
        assert!(!requirements.is_empty(), "{context}: needs credentials");
        for requirement in &requirements {
            for scheme in requirement.as_object().into_iter().flat_map(|r| r.keys()) {
                assert!(schemes.get(scheme).is_some(), "{context}: scheme {scheme}");
            }
        }
        let statuses: &[&str] = match guard {
            Guard::Public => &[],
            Guard::User | Guard::ScrapeToken => &["401"],
            Guard::Admin | Guard::Role(_) => &["401", "403"],
        };
        for status in statuses {
            assert!(
                responses.get(*status).is_some(),
                "{context}: documents {status}"
            );
        }
        if let Guard::Role(role) = guard {
            // Either credential alone is enough: two alternative requirements.
            assert_eq!(
                security,
                &json!([{"bearer": []}, {"apiKey": []}]),
                "{context}: a bearer token or an API key"
            );
            let description = operation["description"].as_str().unwrap_or_default();
            let role = match role {
                Role::Viewer => "`viewer`",
                Role::Editor => "`editor`",
                Role::Admin => "`admin`",
            };
            assert!(
                description.contains(role),
                "{context}: names its role {role}: {description}"
            );
        }
    }
}

#[test]
fn every_error_the_document_describes_is_problem_json() {
    let document = document();
    for (method, path) in documented(&document) {
        let responses = operation(&document, &method, &path)["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(!responses.is_empty(), "{method} {path}: responses");
        for status in responses.keys() {
            let response = documented_response(&document, &method, &path, status)
                .unwrap_or_else(|| panic!("{method} {path} {status}"));
            let context = format!("{method} {path} {status}");
            assert!(
                response["description"].is_string(),
                "{context}: a description"
            );
            let code: u16 = status.parse().unwrap_or(0);
            assert!(
                (100..600).contains(&code),
                "{context}: an explicit status code"
            );
            if code < 400 {
                continue;
            }
            let content = response["content"].as_object().cloned().unwrap_or_default();
            if NOT_PROBLEMS.contains(&(method.as_str(), path.as_str(), status.as_str())) {
                assert!(
                    !content.contains_key("application/problem+json"),
                    "{context}"
                );
                continue;
            }
            let media: Vec<&String> = content.keys().collect();
            assert_eq!(media, ["application/problem+json"], "{context}: {response}");
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{context}: {response}"
            );
        }
    }
}

#[test]
fn every_reference_of_the_document_resolves() {
    fn walk(document: &Value, value: &Value, at: &str, seen: &mut usize) {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    let pointer = reference
                        .strip_prefix('#')
                        .unwrap_or_else(|| panic!("{at}: a local reference: {reference}"));
                    assert!(
                        document.pointer(pointer).is_some(),
                        "{at}: {reference} resolves"
                    );
                    *seen += 1;
                }
                for (key, child) in map {
                    walk(document, child, &format!("{at}/{key}"), seen);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(document, child, &format!("{at}/{i}"), seen);
                }
            }
            _ => {}
        }
    }
    let document = document();
    let mut seen = 0;
    walk(&document, &document, "#", &mut seen);
    assert!(seen > 100, "{seen} references");
}

#[test]
fn every_schema_of_the_document_compiles_as_json_schema_2020_12() {
    let document = document();
    let schemas = document["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(schemas.contains_key("Client"), "the clients schemas");
    for name in schemas.keys() {
        let _ = schema_validator(&document, &format!("/components/schemas/{name}"));
    }
}

/// The client of docs/clients.md's example, completed.
fn example_client() -> Value {
    json!({
        "id": "0192f7c4-8a3e-7b1c-9d2e-3f4a5b6c7d8e",
        "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+442071234567",
        "company": "Analytical Engines",
        "status": "lead",
        "tags": ["beta-2", "vip"],
        "notes": "Met at the webinar.",
        "source": "webinar",
        "subscribed": true,
        "properties": {"plan": "pro", "seats": 5, "trial": false},
        "created_at": "2026-11-26T07:00:00.000Z", "updated_at": "2026-11-26T07:00:00.000Z",
        "created_by": "0192f7c4-0000-7000-8000-000000000001",
        "version": 1
    })
}

#[test]
fn the_client_schemas_say_what_docs_clients_md_says() {
    let document = document();
    let client = "/components/schemas/Client";
    let input = "/components/schemas/ClientInput";
    let patch = "/components/schemas/ClientPatch";
    let example = example_client();
    validate(&document, client, &example, "the example client");
    let mut erased_fields = example.clone();
    for field in [
        "first_name",
        "last_name",
        "phone",
        "company",
        "notes",
        "source",
    ] {
        erased_fields[field] = Value::Null;
    }
    validate(&document, client, &erased_fields, "null optional fields");

    let refused = |schema: &str, instance: Value, why: &str| {
        let validator = schema_validator(&document, schema);
        assert!(
            !validator.is_valid(&instance),
            "{schema} refuses {why}: {instance}"
        );
    };
    for (field, value) in [
        ("status", json!("prospect")),
        ("tags", json!(["VIP"])),
        ("phone", json!("020 7123 4567")),
        ("version", json!(0)),
        ("deleted_at", json!(null)),
    ] {
        let mut wrong = example.clone();
        wrong[field] = value;
        refused(client, wrong, field);
    }
    let mut too_many = example.clone();
    too_many["tags"] = json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>());
    refused(client, too_many, "21 tags");

    // Writable fields only, `email` required on create/replace; a patch may clear fields.
    let writable = json!({
        "first_name": "Ada", "last_name": null, "email": "Ada@Example.com ",
        "phone": "+44 (20) 7123-4567", "company": "", "status": "active",
        "tags": ["VIP"], "notes": null, "source": "webinar", "subscribed": false,
        "properties": {"plan": "pro"}
    });
    validate(&document, input, &writable, "a client's writable fields");
    validate(
        &document,
        input,
        &json!({"email": "a@example.com"}),
        "email alone",
    );
    refused(input, json!({"first_name": "Ada"}), "a body without email");
    for read_only in ["id", "created_at", "updated_at", "created_by", "version"] {
        let mut body = writable.clone();
        body[read_only] = example[read_only].clone();
        refused(input, body.clone(), read_only);
        refused(patch, body, read_only);
    }
    refused(
        input,
        json!({"email": "a@example.com", "nickname": "A"}),
        "an unknown field",
    );
    validate(&document, patch, &json!({}), "an empty patch");
    validate(
        &document,
        patch,
        &json!({"company": null, "properties": {"plan": null, "seats": 6}}),
        "a merge patch that clears and sets",
    );
    refused(patch, json!({"email": null}), "clearing the e-mail");

    let page = json!({"data": [example.clone()], "next_cursor": null});
    validate(&document, "/components/schemas/ClientPage", &page, "a page");
    let entry = json!({
        "id": "a1", "action": "client.updated",
        "actor": {"kind": "api_key", "id": "k1"},
        "at": "2026-11-26T07:00:00.000Z", "fields": ["email", "tags"], "request_id": "r-1"
    });
    validate(
        &document,
        "/components/schemas/HistoryPage",
        &json!({"data": [entry], "next_cursor": "c"}),
        "a history page",
    );
    let report = json!({"created": 2, "updated": 1, "unchanged": 0, "rejected": 1,
        "not_processed": 1, "rows": [
        {"line": 2, "status": "created", "id": "0192f7c4-8a3e-7b1c-9d2e-3f4a5b6c7d8e"},
        {"line": 4, "status": "unchanged", "id": "0192f7c4-8a3e-7b1c-9d2e-3f4a5b6c7d8f"},
        {"line": 3, "status": "rejected", "errors": [{"field": "email", "message": "is not an e-mail address"}]},
        {"line": 5, "status": "not_processed"}
    ]});
    validate(
        &document,
        "/components/schemas/ImportReport",
        &report,
        "docs/clients.md's import report",
    );
}

#[test]
fn the_client_operations_carry_the_headers_and_media_types_of_docs_clients_md() {
    let document = document();
    let header_names = |method: &str, path: &str, status: &str| -> BTreeSet<String> {
        documented_response(&document, method, path, status)
            .and_then(|r| r["headers"].as_object())
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default()
    };
    let parameter = |method: &str, path: &str, name: &str| -> Option<Value> {
        parameters(&document, method, path)
            .into_iter()
            .find(|p| p["name"] == name)
            .cloned()
    };
    let request_media = |method: &str, path: &str| -> Vec<String> {
        let body = resolve(
            &document,
            &operation(&document, method, path)["requestBody"],
        );
        body["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    };
    let statuses = |method: &str, path: &str| -> BTreeSet<String> {
        operation(&document, method, path)["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| (*s).to_owned()).collect() };

    let (collection, one, history) = (
        "/api/clients",
        "/api/clients/{id}",
        "/api/clients/{id}/history",
    );
    assert_eq!(
        header_names("POST", collection, "201"),
        set(&["ETag", "Idempotency-Replayed", "Location"])
    );
    assert!(parameter("POST", collection, "Idempotency-Key").is_some());
    assert_eq!(request_media("POST", collection), ["application/json"]);
    assert_eq!(
        statuses("POST", collection),
        set(&[
            "201", "400", "401", "403", "409", "413", "415", "422", "429"
        ])
    );

    // Reads: validators, Cache-Control, and X-Cache on the cached routes (docs/caching.md).
    assert_eq!(
        header_names("GET", collection, "200"),
        set(&["Cache-Control", "ETag", "Link", "X-Cache"])
    );
    for (path, cached) in [(collection, true), (one, true), (history, false)] {
        assert!(
            parameter("GET", path, "If-None-Match").is_some(),
            "GET {path}: If-None-Match"
        );
        assert!(statuses("GET", path).contains("304"), "GET {path}: 304");
        assert_eq!(
            header_names("GET", path, "200").contains("X-Cache"),
            cached,
            "GET {path}: X-Cache only where the server-side cache answers"
        );
        assert_eq!(
            cached,
            crm_domain::clients::routes::CACHED_ROUTES.contains(&path),
            "the document and the cached routes agree on {path}"
        );
    }
    for name in [
        "limit",
        "cursor",
        "q",
        "status",
        "tag",
        "created_after",
        "created_before",
        "sort",
    ] {
        let found = parameter("GET", collection, name);
        assert_eq!(
            found.as_ref().map(|p| p["in"].clone()),
            Some(json!("query")),
            "GET {collection} ?{name}"
        );
    }

    assert_eq!(
        header_names("GET", one, "200"),
        set(&["Cache-Control", "ETag", "X-Cache"])
    );
    // Every limited operation documents the rate limiter's 429 and its headers.
    for (method, path, _) in super::app_routes() {
        if path.starts_with("/health")
            || path == "/metrics"
            || path == "/api/openapi.json"
            || path == "/docs"
            || path.starts_with("/admin/")
        {
            continue;
        }
        assert_eq!(
            header_names(method, path, "429"),
            set(&[
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining"
            ]),
            "{method} {path}"
        );
    }
    assert_eq!(
        header_names("GET", one, "304"),
        set(&["Cache-Control", "ETag", "X-Cache"])
    );
    assert!(parameter("GET", one, "If-None-Match").is_some());
    for method in ["PUT", "PATCH", "DELETE"] {
        let if_match = parameter(method, one, "If-Match").unwrap_or_default();
        assert_eq!(if_match["in"], "header", "{method}");
        assert_eq!(if_match["required"], true, "{method}: If-Match is required");
        for status in ["404", "412", "428"] {
            assert!(statuses(method, one).contains(status), "{method} {status}");
        }
    }
    for method in ["PUT", "PATCH"] {
        assert_eq!(header_names(method, one, "200"), set(&["ETag"]), "{method}");
        for status in ["409", "413", "415", "422"] {
            assert!(statuses(method, one).contains(status), "{method} {status}");
        }
    }
    assert_eq!(request_media("PUT", one), ["application/json"]);
    assert_eq!(
        request_media("PATCH", one),
        ["application/merge-patch+json"]
    );
    assert!(statuses("DELETE", one).contains("204"));
    assert_eq!(
        parameter("DELETE", one, "purge").map(|p| p["schema"]["type"].clone()),
        Some(json!("boolean"))
    );
    assert!(parameter("GET", history, "limit").is_some());
    assert!(parameter("GET", history, "cursor").is_some());

    let export = documented_response(&document, "GET", "/api/clients/export", "200")
        .cloned()
        .unwrap_or_default();
    assert!(
        export["content"].get("application/x-ndjson").is_some(),
        "{export}"
    );
    assert_eq!(
        request_media("POST", "/api/clients/import"),
        ["application/x-ndjson", "text/csv"]
    );

    // The writable fields are exactly the client's fields less the read-only ones.
    let schemas = &document["components"]["schemas"];
    let keys = |schema: &Value| -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let read_only = set(&["id", "created_at", "updated_at", "created_by", "version"]);
    let writable: BTreeSet<String> = keys(&schemas["Client"])
        .difference(&read_only)
        .cloned()
        .collect();
    assert_eq!(keys(&schemas["ClientInput"]), writable);
    assert_eq!(keys(&schemas["ClientPatch"]), writable);
    for name in ["Client", "ClientInput", "ClientPatch"] {
        assert_eq!(
            schemas[name]["additionalProperties"], false,
            "{name}: no other field"
        );
    }
    assert_eq!(keys(&schemas["Client"]).len(), 16);
}
