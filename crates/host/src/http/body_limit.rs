//! A request body that ends in an error past `--max-request-body` bytes. A declared
//! `Content-Length` over the limit is refused before the guest runs; this catches chunked
//! bodies as the guest reads them, and records that it happened so the host can answer
//! 413 instead of whatever the guest made of the error.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use wasmtime_wasi_http::Error as HttpError;

/// Set once the body went past its limit.
#[derive(Debug, Clone, Default)]
pub struct Exceeded(Arc<AtomicBool>);

impl Exceeded {
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// `inner`, cut off with `HttpRequestBodySize` after `limit` bytes.
pub struct LimitedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
    exceeded: Exceeded,
}

impl<B> LimitedBody<B> {
    pub fn new(inner: B, limit: u64) -> (LimitedBody<B>, Exceeded) {
        let exceeded = Exceeded::default();
        let body = LimitedBody {
            inner,
            remaining: limit,
            limit,
            exceeded: exceeded.clone(),
        };
        (body, exceeded)
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<HttpError>,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            let len = data.len() as u64;
            if len > self.remaining {
                self.exceeded.0.store(true, Ordering::Relaxed);
                self.remaining = 0;
                let limit = self.limit;
                return Poll::Ready(Some(Err(HttpError::HttpRequestBodySize(Some(limit)))));
            }
            self.remaining -= len;
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

    fn chunks(sizes: &[usize]) -> impl Body<Data = Bytes, Error = HttpError> + Unpin {
        let frames: Vec<Result<Frame<Bytes>, HttpError>> = sizes
            .iter()
            .map(|n| Ok(Frame::data(Bytes::from(vec![b'x'; *n]))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_passes_whole() {
        let (body, exceeded) = LimitedBody::new(chunks(&[4, 4, 2]), 10);
        let collected = body.collect().await.expect("within the limit");
        assert_eq!(collected.to_bytes().len(), 10);
        assert!(!exceeded.happened());
    }

    #[tokio::test]
    async fn a_body_past_the_limit_errors_and_says_so() {
        let (body, exceeded) = LimitedBody::new(chunks(&[4, 4, 4]), 10);
        let err = body.collect().await.expect_err("past the limit");
        assert!(
            matches!(err, HttpError::HttpRequestBodySize(Some(10))),
            "{err:?}"
        );
        assert!(exceeded.happened());
        let (small, flag) = LimitedBody::new(Full::new(Bytes::from_static(b"ok")), 10);
        assert_eq!(small.collect().await.unwrap().to_bytes(), "ok");
        assert!(!flag.happened());
    }
}
