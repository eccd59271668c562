//! Requests to Loops over `wasi:http/outgoing-handler`, with the request options Spin
//! honours (connect, first-byte and between-bytes timeouts: factor-outbound-http
//! `wasi.rs`), so a slow or silent Loops costs at most the timeout. The answer's body is
//! read up to [`MAX_BODY_BYTES`].

use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Loops answers with small JSON documents; more is not read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// An answer from Loops: its status, the headers the sync reads, and the body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub ratelimit_remaining: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// Loops' `message`, if its error body has one (cut to 200 characters).
    pub fn message(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        let message = value.get("message")?.as_str()?;
        Some(message.chars().take(200).collect())
    }
}

/// `method {base_url}{path}` with `bearer` (the API key) and `body` as JSON. `Err` is a
/// short description of why no answer came (never the key).
pub fn send(
    base_url: &str,
    bearer: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    timeout_ms: u64,
) -> Result<Answer, String> {
    let (scheme, authority) = match base_url.split_once("://") {
        Some(("https", authority)) => (Scheme::Https, authority),
        Some(("http", authority)) => (Scheme::Http, authority),
        _ => return Err("loops_base_url is not an http(s) URL".into()),
    };
    let mut headers: Vec<(String, Vec<u8>)> = vec![("accept".into(), b"application/json".to_vec())];
    if let Some(token) = bearer {
        headers.push((
            "authorization".into(),
            format!("Bearer {token}").into_bytes(),
        ));
    }
    if body.is_some() {
        headers.push(("content-type".into(), b"application/json".to_vec()));
    }
    let fields =
        Fields::from_list(&headers).map_err(|e| format!("request headers refused: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        other => Method::Other(other.to_owned()),
    };
    let set = request.set_method(&method).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(authority)).is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !set {
        return Err("loops_base_url or path refused by the HTTP client".into());
    }
    let outgoing_body = request
        .body()
        .map_err(|()| "request body unavailable".to_owned())?;
    let options = RequestOptions::new();
    let nanos = timeout_ms.saturating_mul(1_000_000);
    // Hosts that do not support an option refuse it; the others still apply.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let pending = outgoing_handler::handle(request, Some(options))
        .map_err(|code| format!("request failed: {code:?}"))?;
    {
        let stream = outgoing_body
            .write()
            .map_err(|()| "request body stream unavailable".to_owned())?;
        for chunk in body.unwrap_or_default().chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("request body write failed: {e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing_body, None)
        .map_err(|code| format!("request body failed: {code:?}"))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(describe(&code)),
        Some(Err(())) | None => return Err("no answer".into()),
    };
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .first()
            .and_then(|value| String::from_utf8(value.clone()).ok())
    };
    let retry_after = header("retry-after");
    let ratelimit_remaining = header("x-ratelimit-remaining");
    let mut bytes = Vec::new();
    // The stream is declared after its body, so it is dropped first (a child resource).
    if let Ok(incoming) = response.consume()
        && let Ok(stream) = incoming.stream()
    {
        // Each read waits at most the between-bytes timeout; the whole body at most twice
        // the timeout, so a trickling answer cannot outlive the row's lease.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms * 2);
        while bytes.len() < MAX_BODY_BYTES && std::time::Instant::now() < deadline {
            match stream.blocking_read(8192) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(_closed_or_failed) => break,
            }
        }
    }
    Ok(Answer {
        status,
        retry_after,
        ratelimit_remaining,
        body: bytes,
    })
}

/// The error code as a short phrase (no URL, no header).
fn describe(code: &spin_sdk::http::ErrorCode) -> String {
    use spin_sdk::http::ErrorCode as E;
    match code {
        E::ConnectionRefused => "connection refused".into(),
        E::ConnectionTimeout => "connection timed out".into(),
        E::ConnectionReadTimeout => "read timed out".into(),
        E::DnsTimeout | E::DnsError(_) => "DNS lookup failed".into(),
        E::HttpRequestDenied => "request denied by allowed_outbound_hosts".into(),
        E::ConnectionTerminated => "connection terminated".into(),
        other => {
            let text = format!("{other:?}");
            text.split(['(', '{'])
                .next()
                .unwrap_or("error")
                .trim()
                .to_owned()
        }
    }
}
