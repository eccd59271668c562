//! The request body, read with a cap (Spin has no body limit of its own), and the
//! response, written to the `ResponseOutparam`.

use futures::{SinkExt, StreamExt};
use spin_sdk::http::{IncomingRequest, OutgoingResponse, Request, Response, ResponseOutparam};

/// Largest JSON body a client route reads.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// How reading the body ended.
pub enum ReadBody {
    Complete,
    /// Larger than the limit (declared or sent): the body is dropped unread.
    TooLarge,
    Failed(String),
}

/// The request with its body when it fits in `limit` bytes (else with an empty body).
pub async fn read(incoming: IncomingRequest, limit: usize) -> (Request, ReadBody) {
    let mut builder = Request::builder();
    builder
        .method(incoming.method())
        .uri(incoming.uri())
        .headers(incoming.headers());
    let declared = incoming
        .headers()
        .get("content-length")
        .first()
        .and_then(|value| std::str::from_utf8(value).ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return (builder.build(), ReadBody::TooLarge);
    }
    let mut stream = incoming.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) if body.len() + chunk.len() > limit => {
                return (builder.build(), ReadBody::TooLarge);
            }
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(error) => return (builder.build(), ReadBody::Failed(error.to_debug_string())),
        }
    }
    builder.body(body);
    (builder.build(), ReadBody::Complete)
}

/// Sends `response` whole.
pub async fn send(response_out: ResponseOutparam, mut response: Response) {
    let body = std::mem::take(response.body_mut());
    match OutgoingResponse::try_from(response) {
        Ok(outgoing) => {
            let mut sink = outgoing.take_body();
            response_out.set(outgoing);
            if let Err(error) = sink.send(body).await {
                eprintln!("clients: the response body could not be written: {error}");
            }
        }
        Err(error) => eprintln!("clients: the response could not be built: {error}"),
    }
}
