//! The caller's address as Spin reports it in `spin-client-addr`, and how service chaining
//! shows there. Pure: no host calls.

use std::net::SocketAddr;

/// Header in which Spin passes the client's socket address.
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";
/// The address Spin gives a request made by another component (service chaining).
pub const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";
/// The address counted when the header is missing or unreadable.
pub const UNKNOWN_ADDRESS: &str = "unknown";

/// The IP part of `ip:port` or `[ipv6]:port`; [`UNKNOWN_ADDRESS`] when it is neither.
pub fn ip_of(client_addr: Option<&str>) -> String {
    client_addr
        .and_then(|addr| addr.trim().parse::<SocketAddr>().ok())
        .map_or_else(|| UNKNOWN_ADDRESS.to_owned(), |addr| addr.ip().to_string())
}

/// Whether the request came from another component of the app.
pub fn is_chained(client_addr: Option<&str>) -> bool {
    client_addr.map(str::trim) == Some(CHAINED_CLIENT_ADDR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ip_is_taken_from_the_socket_address() {
        let cases = [
            (Some("203.0.113.7:51234"), "203.0.113.7", "IPv4"),
            (Some("[2001:db8::1]:443"), "2001:db8::1", "IPv6"),
            (Some("203.0.113.7"), UNKNOWN_ADDRESS, "no port"),
            (Some("garbage"), UNKNOWN_ADDRESS, "not an address"),
            (None, UNKNOWN_ADDRESS, "no header"),
        ];
        for (header, expected, reason) in cases {
            assert_eq!(ip_of(header), expected, "{reason}");
        }
    }

    #[test]
    fn only_the_unspecified_address_marks_a_chained_request() {
        let cases = [
            (Some("0.0.0.0:0"), true, "Spin's chained requests"),
            (Some("127.0.0.1:0"), false, "loopback is a real client"),
            (Some("0.0.0.0:80"), false, "a port is a real client"),
            (None, false, "no header"),
        ];
        for (header, expected, reason) in cases {
            assert_eq!(is_chained(header), expected, "{reason}");
        }
    }
}
