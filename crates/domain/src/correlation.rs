//! The correlation id every log line of a request carries: the W3C `traceparent` trace id
//! when the caller (or Spin's OTel layer, or a gateway) sent one, else the caller's
//! `x-correlation-id`, else the request id. Components and crm-host derive it with the
//! same function, so a request's lines in both share it.

use crate::RequestId;

/// Header a caller may send (and every response carries) with the correlation id.
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

/// The W3C trace-context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The correlation id of a request from its `traceparent`, `x-correlation-id` and request
/// id, in that order of preference; an invalid header is skipped.
pub fn correlation_id(
    traceparent: Option<&str>,
    x_correlation_id: Option<&str>,
    request_id: &str,
) -> String {
    if let Some(trace_id) = traceparent.and_then(trace_id) {
        return trace_id.to_owned();
    }
    x_correlation_id
        .and_then(|value| RequestId::parse(value.trim()).ok())
        .map_or_else(|| request_id.to_owned(), |id| id.as_str().to_owned())
}

/// The trace id of a valid `traceparent` (`version-traceid-parentid-flags`, lowercase hex;
/// version `ff` and all-zero ids are invalid, per W3C Trace Context §3.2).
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    // Version 00 has exactly four parts; later versions may append more.
    if version == "00" && parts.next().is_some() {
        return None;
    }
    let hex = |text: &str, len: usize| {
        text.len() == len
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then_some(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_trace_id_wins_then_the_correlation_header_then_the_request_id() {
        assert_eq!(
            correlation_id(Some(TRACEPARENT), Some("corr-1"), "req-1"),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(correlation_id(None, Some("corr-1"), "req-1"), "corr-1");
        assert_eq!(correlation_id(None, None, "req-1"), "req-1");
    }

    #[test]
    fn invalid_headers_are_skipped() {
        let bad_traceparents = [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ];
        for traceparent in bad_traceparents {
            assert_eq!(
                correlation_id(Some(traceparent), Some("has space"), "req-1"),
                "req-1",
                "{traceparent:?}"
            );
        }
    }

    #[test]
    fn a_later_version_may_carry_more_fields() {
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more";
        assert_eq!(trace_id(future), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    }
}
