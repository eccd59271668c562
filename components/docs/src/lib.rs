//! Docs component: serves the API's OpenAPI 3.1 document (`GET /api/openapi.json`,
//! openapi/crm-api.json embedded at build time), its interactive page (`GET /docs`,
//! Swagger UI) and the admin pages (`/admin/status`, `/admin/flags`, which call the API
//! with the token of the admin signed in on them), whose scripts, styles and images it
//! serves itself under `/docs/` and `/admin/`: no CDN, no inline script, so each page's
//! Content-Security-Policy allows this origin only.
//! `HEAD` answers as `GET` without the body. Anything else under its routes is a
//! problem+json 404; another method is 405.
#![deny(unsafe_code)]

mod assets;

use assets::Asset;
use crm_domain::RequestId;
use crm_platform::http_kit::{self, ApiError};
use spin_sdk::http::{Method, Request, Response};

/// Name written as `component` in every log line.
const COMPONENT: &str = "docs";

/// Methods every path of this component answers.
const ALLOWED_METHODS: &[&str] = &["GET", "HEAD"];

/// The page's policy: scripts, styles, fonts and requests from this origin only; images
/// also as `data:` URLs (Swagger UI's stylesheet draws its icons with them).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The wasi:http export. `#[http_component]` expands to FFI glue that needs `unsafe`;
/// our own code stays under `deny(unsafe_code)`.
#[allow(unsafe_code)]
mod export {
    #[spin_sdk::http_component]
    fn handle_docs(request: spin_sdk::http::Request) -> spin_sdk::http::Response {
        super::handle_docs(request)
    }
}

/// Request id, error mapping and access log are `serve`'s; routing is `route`'s.
fn handle_docs(request: Request) -> Response {
    http_kit::serve(COMPONENT, request, route)
}

fn route(request: &Request, _request_id: &RequestId) -> Result<Response, ApiError> {
    let asset = assets::find(request.path())
        .ok_or_else(|| ApiError::NotFound(format!("No route matches {}.", request.path())))?;
    let with_body = match request.method() {
        Method::Get => true,
        Method::Head => false,
        other => {
            return Err(ApiError::MethodNotAllowed {
                method: other.to_string(),
                allowed: ALLOWED_METHODS,
            });
        }
    };
    let if_none_match = request
        .header("if-none-match")
        .and_then(|value| value.as_str());
    Ok(answer(asset, if_none_match, with_body))
}

/// 200 with the file (without it for `HEAD`), or 304 when `If-None-Match` names its tag
/// (`serve` adds the request id).
fn answer(asset: &Asset, if_none_match: Option<&str>, with_body: bool) -> Response {
    let etag = asset.etag();
    let not_modified = if_none_match.is_some_and(|tags| crm_domain::cache::none_match(tags, etag));
    let mut response = Response::builder();
    response
        .header("etag", etag)
        .header("cache-control", asset.caching.header())
        .header("x-content-type-options", "nosniff");
    if asset.is_html() {
        response
            .header("content-security-policy", CONTENT_SECURITY_POLICY)
            .header("referrer-policy", "no-referrer")
            .header("x-frame-options", "DENY");
    }
    if not_modified {
        return response.status(304).build();
    }
    response
        .status(200)
        .header("content-type", asset.content_type);
    if with_body {
        response.body(asset.bytes.to_vec());
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response.header(name).and_then(|value| value.as_str())
    }

    fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::new(Method::Get, path);
        if let Some(tags) = if_none_match {
            request.set_header("if-none-match", tags);
        }
        handle_docs(request)
    }

    #[test]
    fn the_document_is_served_as_json_with_validators() {
        let response = get("/api/openapi.json", None);
        assert_eq!(*response.status(), 200);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "cache-control"), Some("no-cache"));
        let etag = header(&response, "etag").unwrap_or_default();
        assert!(etag.starts_with('"'), "{etag}");
        let document = String::from_utf8_lossy(response.body());
        assert!(document.contains("\"openapi\": \"3.1."), "{document:.80}");
    }

    #[test]
    fn a_matching_if_none_match_is_304_without_a_body() {
        let etag = header(&get("/docs/", None), "etag")
            .unwrap_or_default()
            .to_owned();
        for tags in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"x\", {etag}"),
            "*".into(),
        ] {
            let response = get("/docs", Some(&tags));
            assert_eq!(*response.status(), 304, "{tags}");
            assert!(response.body().is_empty(), "{tags}");
            assert_eq!(header(&response, "etag"), Some(etag.as_str()));
        }
        assert_eq!(*get("/docs", Some("\"other\"")).status(), 200);
    }

    #[test]
    fn head_answers_the_headers_of_get_without_the_body() {
        let get = get("/docs/swagger-ui/swagger-ui.css", None);
        let head = handle_docs(Request::new(
            Method::Head,
            "/docs/swagger-ui/swagger-ui.css",
        ));
        assert_eq!(*head.status(), 200);
        assert!(head.body().is_empty());
        assert!(!get.body().is_empty());
        for name in ["content-type", "etag", "cache-control"] {
            assert_eq!(header(&head, name), header(&get, name), "{name}");
        }
    }

    #[test]
    fn the_page_carries_a_same_origin_content_security_policy() {
        let response = get("/docs", None);
        assert_eq!(*response.status(), 200);
        assert_eq!(
            header(&response, "content-type"),
            Some("text/html; charset=utf-8")
        );
        let policy = header(&response, "content-security-policy").unwrap_or_default();
        assert!(policy.starts_with("default-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(!policy.contains("unsafe-eval"), "{policy}");
        assert_eq!(
            header(&get("/docs/init.js", None), "content-security-policy"),
            None
        );
    }

    #[test]
    fn unknown_paths_are_404_and_other_methods_405_as_problems() {
        let response = get("/docs/missing.js", None);
        assert_eq!(*response.status(), 404);
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json")
        );
        for method in [Method::Post, Method::Put, Method::Delete, Method::Options] {
            let response = handle_docs(Request::new(method.clone(), "/api/openapi.json"));
            assert_eq!(*response.status(), 405, "{method}");
            assert_eq!(header(&response, "allow"), Some("GET, HEAD"), "{method}");
        }
    }
}
