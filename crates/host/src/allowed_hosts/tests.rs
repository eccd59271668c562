//! The allow-list grammar against the cases Spin's own parser accepts, rejects and matches.

use super::*;

fn policy(entries: &[&str]) -> OutboundPolicy {
    let parsed = entries
        .iter()
        .map(|e| AllowedHost::parse(e).unwrap_or_else(|err| panic!("{e}: {err:#}")))
        .collect();
    OutboundPolicy::new(parsed, &["probe".into(), "hello".into()])
}

#[test]
fn entries_allow_what_spin_allows() {
    for (entry, url, want) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/x", true),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8081/x", false),
        ("http://127.0.0.1:8080", "https://127.0.0.1:8080/x", false),
        (
            "https://api.example.com",
            "https://api.example.com/v1",
            true,
        ),
        (
            "https://api.example.com",
            "https://API.Example.com/v1",
            true,
        ),
        (
            "https://api.example.com",
            "https://api.example.com:8443/",
            false,
        ),
        ("http://spin.fermyon.dev/", "http://spin.fermyon.dev/", true),
        ("https://*.example.com", "https://a.b.example.com/", true),
        ("https://*.example.com", "https://example.com/", false),
        ("https://*.example.com", "https://aexample.com/", false),
        ("http://*.Example.COM", "http://a.example.com/", true),
        ("*://localhost:*", "http://localhost:1234/", true),
        ("*://localhost:*", "redis://localhost/", true),
        ("http://*:8080", "http://anything.at.all:8080/", true),
        ("*://*:*", "ftp://x/", true),
        ("HTTP://x:80", "http://x/", false),
        (
            "http://localhost:3000..3010",
            "http://localhost:3000/",
            true,
        ),
        (
            "http://localhost:3000..3010",
            "http://localhost:3009/",
            true,
        ),
        (
            "http://localhost:3000..3010",
            "http://localhost:3010/",
            false,
        ),
        (
            "http://localhost:3010..3000",
            "http://localhost:3005/",
            false,
        ),
        ("http://10.0.0.0/8", "http://10.1.2.3/", true),
        ("http://10.0.0.0/8", "http://11.1.2.3/", false),
        ("http://10.0.0.0/8", "http://ten.example/", false),
        ("*://127.0.0.1/24:80", "http://127.0.0.9/", true),
        ("http://[::1]", "http://[::1]/", true),
        ("http://[::1]:8000..9000", "http://[::1]:8500/", true),
        ("http://ff00::/8", "http://[ff02::1]/", true),
        ("http://0x7f.1", "http://127.0.0.1/", true),
        ("http://ex%41mple.com", "http://example.com/", true),
        ("postgres://db.internal", "db.internal", true),
        ("postgres://db.internal", "db.internal:5433", false),
        ("postgres://127.0.0.1:5432", "127.0.0.1:5432", true),
        ("*://127.0.0.1:5432", "127.0.0.1:5432", true),
        ("http://self", "http://self/x", false),
        ("http://x.example", "http://user:p@ss@x.example/", true),
    ] {
        let allowed = policy(&[entry]).allows_url(url, "postgres");
        assert_eq!(allowed, want, "{entry} vs {url}");
    }
}

#[test]
fn service_chaining_wildcards_expand_to_the_apps_components() {
    let chaining = policy(&["http://*.spin.internal"]);
    for (url, want) in [
        ("http://probe.spin.internal/x", true),
        ("http://hello.spin.internal/", true),
        ("http://ghost.spin.internal/", false),
        ("http://probe.spin.internal:8080/", false),
        ("https://probe.spin.internal/", false),
    ] {
        assert_eq!(chaining.allows_url(url, "https"), want, "{url}");
    }
    assert!(policy(&["*://*:*"]).allows_url("http://ghost.spin.internal/", "https"));
}

#[test]
fn relative_requests_need_a_self_or_any_host() {
    for (entries, want) in [
        (&["http://self"][..], true),
        (&["https://self.alt"][..], true),
        (&["*://self:*"][..], true),
        (&["*://*:*"][..], true),
        (&["http://self:9999"][..], true),
        (&["redis://self"][..], false),
        (&["http://localhost"][..], false),
        (&[][..], false),
    ] {
        assert_eq!(
            policy(entries).allows_relative(&["http", "https"]),
            want,
            "{entries:?}"
        );
    }
}

#[test]
fn parse_rejects_what_spin_rejects_with_its_messages() {
    for (entry, message) in [
        ("spin.fermyon.dev", "does not contain a scheme"),
        ("*", "is not an allowed outbound host format"),
        ("spin.fermyon.dev:80", "does not contain a scheme"),
        ("http://x/a", "must not include a path"),
        ("http://x:6666/a/b", "has a path but is not allowed to"),
        ("http://*.x/a", "must not include a path"),
        ("http://x:notaport", "port \"notaport\" is not a number"),
        (
            "http://localhost:3000-3010",
            "port \"3000-3010\" is not a number",
        ),
        ("http://x:99999", "Invalid allowed host port \"99999\""),
        ("http://x:..3000", "contains non-number"),
        ("http://x:8080..70000", "contains non-number"),
        ("http://x:80:90", "Invalid allowed host"),
        ("http://[::1]::80", "Invalid allowed host"),
        ("http://x//", "must not include a path"),
        ("http://*.", "Invalid allowed host"),
        ("http://*.127.0.0.1", "wildcard suffix must be a domain"),
        ("http://a.*.com", "wildcards are allowed only as subdomains"),
        ("http://*.*.com", "wildcards are allowed only as prefixes"),
        ("h2c://x:80", "only alphabetic characters are allowed"),
        ("{http,https}://x:80", "scheme lists are not supported"),
        (
            "{http,https}://x",
            "does not have a known default port number",
        ),
        (
            "http://user:pw@x.example",
            "port \"pw@x.example\" is not a number",
        ),
        ("http://{a,b}", "host lists are not yet supported"),
        ("http://x:{80,81}", "port lists are not yet supported"),
        ("tcp://x", "does not have a known default port number"),
        (
            "*://127.0.0.0/24",
            "does not have a known default port number",
        ),
    ] {
        let err = AllowedHost::parse(entry).expect_err(entry);
        let text = format!("{err:#}");
        assert!(text.contains(message), "{entry}: {text}");
    }
}

#[test]
fn urls_that_do_not_parse_are_denied() {
    let any = policy(&["*://*:*"]);
    assert!(!any.allows_url("", "https"));
    assert!(!policy(&["http://example.com"]).allows_url("http://exa%mple.com/", "https"));
}
