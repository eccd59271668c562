//! Requests of the auth suite and the assertions on their answers: a target (in-process
//! app or `crm-host up` process), credentials, whole answers, JSON and problem checks.

use crm_tests::TestApp;
use crm_tests::app_process::AppProcess;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::fmt;

/// What requests are sent to: an in-process app or a `crm-host up` process.
pub trait Target {
    fn client(&self) -> &reqwest::Client;
    fn url(&self, path: &str) -> String;
}

impl Target for TestApp {
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn url(&self, path: &str) -> String {
        TestApp::url(self, path)
    }
}

impl Target for AppProcess {
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn url(&self, path: &str) -> String {
        AppProcess::url(self, path)
    }
}

/// The credentials a request carries.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    Anonymous,
    Bearer(&'a str),
    ApiKey(&'a str),
}

/// `request` with `auth`'s credential (remembered as a secret no log may show).
pub fn authorize(request: reqwest::RequestBuilder, auth: Auth<'_>) -> reqwest::RequestBuilder {
    match auth {
        Auth::Anonymous => request,
        Auth::Bearer(token) => {
            crm_tests::secrets::remember(token);
            request.bearer_auth(token)
        }
        Auth::ApiKey(key) => {
            crm_tests::secrets::remember(key);
            request.header("x-api-key", key)
        }
    }
}

/// An answer, read whole.
pub struct Reply {
    pub request: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}", self.request, self.status, self.text)
    }
}

/// Send `method path` with `auth` and, when given, a JSON body.
pub async fn send(
    target: &impl Target,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<&Value>,
) -> Reply {
    let mut request = authorize(
        target.client().request(method.clone(), target.url(path)),
        auth,
    );
    if let Some(body) = body {
        request = request.json(body);
    }
    read(format!("{method} {path}"), request).await
}

/// Send `method path` with a body of raw bytes and `content_type`.
pub async fn send_raw(
    target: &impl Target,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let request = target
        .client()
        .request(method.clone(), target.url(path))
        .header("content-type", content_type)
        .body(body);
    read(format!("{method} {path} ({content_type})"), request).await
}

pub async fn read(label: String, request: reqwest::RequestBuilder) -> Reply {
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    // Tokens and keys the app hands out are secrets no log may show.
    for field in ["access_token", "refresh_token", "key"] {
        if let Some(secret) = body[field].as_str() {
            crm_tests::secrets::remember(secret);
        }
    }
    Reply {
        request: label,
        status,
        headers,
        text,
        body,
    }
}

pub async fn get(target: &impl Target, path: &str, auth: Auth<'_>) -> Reply {
    send(target, Method::GET, path, auth, None).await
}

pub async fn post(target: &impl Target, path: &str, auth: Auth<'_>, body: &Value) -> Reply {
    send(target, Method::POST, path, auth, Some(body)).await
}

/// Asserts a JSON answer with `status`.
pub fn assert_json(reply: &Reply, status: u16, context: &str) {
    assert_eq!(reply.status, status, "{context}: {reply}");
    assert!(
        reply.header("content-type").starts_with("application/json"),
        "{context}: content type {:?}: {reply}",
        reply.header("content-type")
    );
    assert!(!reply.body.is_null(), "{context}: a JSON body: {reply}");
}

/// Asserts an RFC 9457 problem with `status`: its content type, `status`, `type`, `title`.
pub fn assert_problem(reply: &Reply, status: u16, context: &str) {
    assert_eq!(reply.status, status, "{context}: {reply}");
    assert_eq!(
        reply.header("content-type"),
        "application/problem+json",
        "{context}: {reply}"
    );
    assert_eq!(reply.body["status"], status, "{context}: {reply}");
    let problem_type = reply.body["type"].as_str().unwrap_or_default();
    assert!(problem_type.starts_with("https://"), "{context}: {reply}");
    assert!(reply.body["title"].is_string(), "{context}: {reply}");
}

/// Asserts 401 problem+json with `WWW-Authenticate: Bearer realm="crm-api", error="invalid_token"`.
pub fn assert_invalid_token(reply: &Reply, context: &str) {
    assert_problem(reply, 401, context);
    let challenge = reply.header("www-authenticate");
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"realm="crm-api""#),
        "{context}: challenge {challenge:?}: {reply}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{context}: challenge {challenge:?}: {reply}"
    );
}
