//! The conformance cases: one request each, run in order against one fresh app (the
//! key-value cases build on each other), and the part of the answer that must match Spin's.

/// Which part of a response is compared.
#[derive(Debug, Clone, Copy)]
pub enum View {
    /// Status, content type and the whole body as text.
    Full,
    /// Status and these request headers as the probe saw them (its echo).
    Echo(&'static [&'static str]),
    /// Status and these fields of a JSON body (JSON pointers).
    Json(&'static [&'static str]),
    /// Status and the probe's `error` without its message: cut at the first `("`, so
    /// `Error::ConnectionFailed("…")` compares as `Error::ConnectionFailed` while
    /// `Http(ErrorCode::HttpRequestDenied)` compares whole.
    ErrorKind,
}

/// What a case needs besides the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    /// May hold `{target}` (`127.0.0.1:<target port>`) and `{pg}` (the database address).
    pub path: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: Option<&'static str>,
    pub view: View,
    pub needs: Needs,
}

const ROUTE: &[&str] = &[
    "spin-matched-route",
    "spin-raw-component-route",
    "spin-component-route",
    "spin-path-info",
];

const ALL_SPIN: &[&str] = &[
    "spin-full-url",
    "spin-path-info",
    "spin-matched-route",
    "spin-base-path",
    "spin-raw-component-route",
    "spin-component-route",
    "spin-client-addr",
    "spin-path-match-user-id",
    "host",
    "connection",
];

const fn get(name: &'static str, path: &'static str, view: View) -> Case {
    Case {
        name,
        method: "GET",
        path,
        headers: &[],
        body: None,
        view,
        needs: Needs::Nothing,
    }
}

const fn with_headers(mut case: Case, headers: &'static [(&'static str, &'static str)]) -> Case {
    case.headers = headers;
    case
}

const fn post(mut case: Case, body: &'static str) -> Case {
    case.method = "POST";
    case.body = Some(body);
    case
}

const fn on_postgres(mut case: Case) -> Case {
    case.needs = Needs::Postgres;
    case
}

/// Every case, in the order they run.
pub fn all() -> Vec<Case> {
    let status: &'static [&'static str] = &["/status", "/body"];
    vec![
        // Routing and precedence (crates/routes over routefinder).
        get(
            "route: /a/b/... beats /a/:x/:y",
            "/a/b/c",
            View::Echo(ROUTE),
        ),
        get(
            "route: /a/:x/:y when /a/b/... does not match",
            "/a/q/c",
            View::Echo(ROUTE),
        ),
        get(
            "route: /api/* is a trailing wildcard",
            "/api/v1/x/",
            View::Echo(ROUTE),
        ),
        get(
            "route: exact with a trailing slash",
            "/match/exact/",
            View::Echo(ROUTE),
        ),
        get(
            "route: wildcard root of its prefix",
            "/match",
            View::Echo(ROUTE),
        ),
        get(
            "route: wildcard keeps the trailing slash",
            "/match/x/y/",
            View::Echo(ROUTE),
        ),
        get(
            "route: a parameter may be empty",
            "/users//profile",
            View::Echo(ALL_SPIN),
        ),
        get(
            "route: duplicate route, the last wins",
            "/dup",
            View::Echo(ROUTE),
        ),
        // What the host answers itself.
        get("host: no route matches", "/nope", View::Full),
        get("host: a trapping guest", "/probe/trap", View::Full),
        get(
            "host: reserved health",
            "/.well-known/spin/health",
            View::Full,
        ),
        post(
            get(
                "host: reserved health, any method",
                "/.well-known/spin/health",
                View::Full,
            ),
            "",
        ),
        get("host: reserved info", "/.well-known/spin/info", View::Full),
        get(
            "host: unknown reserved path",
            "/.well-known/spin/nope",
            View::Full,
        ),
        // Request headers (crates/trigger-http/src/headers.rs).
        with_headers(
            get(
                "headers: what a component is given",
                "/probe/some/path?x=1",
                View::Echo(ALL_SPIN),
            ),
            &[("host", "example.test:1234"), ("connection", "keep-alive")],
        ),
        with_headers(
            get(
                "headers: client-sent spin-* values",
                "/probe/real",
                View::Echo(ALL_SPIN),
            ),
            &[
                ("spin-path-info", "/forged"),
                ("spin-client-addr", "6.6.6.6:666"),
                ("spin-full-url", "http://evil.example/"),
            ],
        ),
        // Service chaining.
        get(
            "chaining: a private component, as matched by /...",
            "/probe/outbound?url=http%3A%2F%2Fprivate-probe.spin.internal%2Fecho%2Fpath%3Fq%3D1",
            View::Json(&["/status", "/body"]),
        ),
        get(
            "chaining: a public component, its route bypassed",
            "/probe/outbound?url=http%3A%2F%2Fhello.spin.internal%2Fnot-its-route",
            View::Json(status),
        ),
        get(
            "chaining: a component not granted",
            "/probe/outbound?url=http%3A%2F%2Fa-params.spin.internal%2Fx",
            View::ErrorKind,
        ),
        // allowed_outbound_hosts (crates/outbound-networking-config).
        get(
            "grant: a port range includes its start",
            "/range-in/outbound?url=http%3A%2F%2F{target}%2F",
            View::Json(status),
        ),
        get(
            "grant: a port range excludes its end",
            "/range-end/outbound?url=http%3A%2F%2F{target}%2F",
            View::ErrorKind,
        ),
        get(
            "grant: a CIDR block holding the address",
            "/cidr-in/outbound?url=http%3A%2F%2F{target}%2F",
            View::Json(status),
        ),
        get(
            "grant: a CIDR block not holding it",
            "/cidr-out/outbound?url=http%3A%2F%2F{target}%2F",
            View::ErrorKind,
        ),
        get(
            "grant: any host on one port",
            "/any-host/outbound?url=http%3A%2F%2F{target}%2F",
            View::Json(status),
        ),
        get(
            "grant: *.localhost is subdomains only",
            "/subdomains/outbound?url=http%3A%2F%2Flocalhost%3A{target_port}%2F",
            View::ErrorKind,
        ),
        get(
            "grant: self allows a relative URL",
            "/probe/outbound?url=%2Fhello",
            View::Json(status),
        ),
        get(
            "grant: self allows self.alt",
            "/probe/outbound?url=http%3A%2F%2Fself.alt%2Fhello",
            View::Json(status),
        ),
        get(
            "grant: no self grant, no relative URL",
            "/range-in/outbound?url=%2Fhello",
            View::ErrorKind,
        ),
        // Key-value on Spin's SQLite store (crates/key-value-spin).
        get(
            "kv: increment stores 8 little-endian bytes",
            "/probe/wasi-kv/incr?store=default&key=n&delta=5",
            View::Json(&["/status", "/value"]),
        ),
        get(
            "kv: the stored counter",
            "/probe/wasi-kv/get?store=default&key=n",
            View::Json(&["/status", "/hex"]),
        ),
        post(
            get(
                "kv: set a plain value",
                "/probe/kv/set?store=default&key=a",
                View::Json(&["/status"]),
            ),
            "1",
        ),
        get(
            "kv: get-many leaves out missing keys",
            "/probe/wasi-kv/get-many?store=default&keys=a,missing,a",
            View::Json(&["/status", "/found"]),
        ),
        get(
            "kv: list-keys refuses a cursor",
            "/probe/wasi-kv/list?store=default&cursor=x",
            View::Json(&["/status", "/error"]),
        ),
        get(
            "kv: CAS begun on an absent key",
            "/probe/wasi-kv/cas-absent?store=default&key=fresh",
            View::Json(&["/status", "/seen", "/swapped", "/after"]),
        ),
        post(
            get(
                "kv: a value that is no counter",
                "/probe/kv/set?store=scratch&key=text",
                View::Json(&["/status"]),
            ),
            "5",
        ),
        get(
            "kv: incrementing it fails the request",
            "/probe/wasi-kv/incr?store=scratch&key=text",
            View::Full,
        ),
        // PostgreSQL (crates/factor-outbound-pg).
        on_postgres(post(
            get(
                "pg: TLS unless sslmode=disable",
                "/probe/pg/query?addr=postgres%3A%2F%2Fpostgres%40{pg}%2Fpostgres",
                View::ErrorKind,
            ),
            "SELECT 1",
        )),
        on_postgres(post(
            get(
                "pg: sslmode=disable",
                "/probe/pg/query?addr=postgres%3A%2F%2Fpostgres%40{pg}%2Fpostgres%3Fsslmode%3Ddisable",
                View::Json(&["/status", "/rows"]),
            ),
            "SELECT 1 AS one",
        )),
        on_postgres(post(
            get(
                "pg: a host not granted",
                "/probe/pg/query?addr=postgres%3A%2F%2Fpostgres%40db.invalid%2Fx",
                View::Json(&["/status", "/error"]),
            ),
            "SELECT 1",
        )),
    ]
}
