//! Routing against the cases checked in Spin's `crates/routes` and routefinder 0.5.4.

use super::*;

fn router(routes: &[&str]) -> Router<String> {
    let pairs = routes
        .iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect();
    Router::build(pairs).expect("valid routes").0
}

/// The route chosen for `path`, and the path info, or None.
fn chosen(router: &Router<String>, path: &str) -> Option<(String, String)> {
    router
        .route(path)
        .map(|(route, m)| (route.clone(), m.path_info))
}

#[test]
fn the_first_differing_segment_decides_precedence() {
    for (routes, path, want) in [
        (&["/a/:x/:y", "/a/b/..."][..], "/a/b/c", "/a/b/..."),
        (&["/a/:x/:y", "/a/b/..."][..], "/a/q/c", "/a/:x/:y"),
        (&["/a/:x/c", "/a/b/..."][..], "/a/b/c", "/a/b/..."),
        (&["/:a/b", "/a/:b"][..], "/a/b", "/a/:b"),
        (&["/a/...", "/a", "/a/:x/..."][..], "/a", "/a"),
        (&["/a/...", "/a", "/a/:x/..."][..], "/a/b", "/a/:x/..."),
        (&["/...", "/"][..], "/", "/"),
        (&["/...", "/one"][..], "/one", "/one"),
        (
            &["/one/...", "/one/two/...", "/one/two/three/..."][..],
            "/one/two/three/four",
            "/one/two/three/...",
        ),
        (&["/a/:x", "/a/:y"][..], "/a/b", "/a/:x"),
        (&["/a/:y", "/a/:x"][..], "/a/b", "/a/:y"),
        (
            &["/match/exact", "/match/..."][..],
            "/match/exact",
            "/match/exact",
        ),
        (&["/api/*"][..], "/api/v1", "/api/*"),
    ] {
        let (route, _) = chosen(&router(routes), path).unwrap_or_else(|| panic!("{path}"));
        assert_eq!(route, want, "{routes:?} for {path}");
    }
}

#[test]
fn paths_match_as_spin_matches_them() {
    let routes = [
        "/match/exact",
        "/test/...",
        "/users/:id/profile",
        "/caf%C3%A9",
        "/",
    ];
    let router = router(&routes);
    for (path, want) in [
        ("/match/exact", Some(("/match/exact", ""))),
        ("/match/exact/", Some(("/match/exact", ""))),
        ("//match/exact//", Some(("/match/exact", ""))),
        ("/Match/exact", None),
        ("/match/exactly", None),
        ("/test", Some(("/test/...", ""))),
        ("/test/", Some(("/test/...", "/"))),
        ("/test/hello", Some(("/test/...", "/hello"))),
        ("/test/hello/", Some(("/test/...", "/hello/"))),
        ("/testing", None),
        ("/users/ada/profile", Some(("/users/:id/profile", ""))),
        ("/users//profile", Some(("/users/:id/profile", ""))),
        ("/users/ada", None),
        ("/caf%C3%A9", Some(("/caf%C3%A9", ""))),
        ("/café", None),
        ("/", Some(("/", ""))),
        ("/nope", None),
    ] {
        let got = chosen(&router, path);
        let want = want.map(|(r, i)| (r.to_owned(), i.to_owned()));
        assert_eq!(got, want, "{path}");
    }
}

#[test]
fn matches_carry_spins_header_values() {
    let router = router(&["/users/:user_id/...", "/", "foo/"]);
    let (_, m) = router.route("/users/7/a/b").unwrap();
    assert_eq!(m.matched_route, "/users/:user_id/...");
    assert_eq!(m.component_route(), "/users/:user_id");
    assert_eq!(m.params, vec![("user_id".to_owned(), "7".to_owned())]);
    let (_, root) = router.route("/").unwrap();
    assert_eq!(
        (root.matched_route.as_str(), root.raw_route.as_str()),
        ("", "/")
    );
    let (_, foo) = router.route("/foo").unwrap();
    assert_eq!(
        (foo.matched_route.as_str(), foo.raw_route.as_str()),
        ("/foo", "foo/")
    );
    let wildcard_root = Router::build(vec![("/...".to_owned(), "w".to_owned())])
        .unwrap()
        .0;
    assert_eq!(wildcard_root.route("/x").unwrap().1.component_route(), "");
}

#[test]
fn a_duplicated_route_is_won_by_its_last_use_and_reported() {
    let pairs = vec![
        ("/same".to_owned(), "first".to_owned()),
        ("/other".to_owned(), "other".to_owned()),
        ("/same".to_owned(), "second".to_owned()),
    ];
    let (router, duplicates) = Router::build(pairs).unwrap();
    assert_eq!(router.route("/same").unwrap().0, "second");
    assert_eq!(
        duplicates,
        vec![DuplicateRoute {
            route: "/same".into(),
            replaced: "first".into(),
            effective: "second".into()
        }]
    );
}

#[test]
fn invalid_routes_are_refused_at_load() {
    for (route, why) in [
        (
            "/x/*/y",
            "a wildcard inside a route (Spin panics per request)",
        ),
        ("/x/*/...", "two wildcards"),
        ("/*name", "a named wildcard"),
        ("/a/:", "an unnamed parameter"),
        (
            "/.well-known/jwks.json",
            "a first segment starting with `.` (misroutes everything on Spin)",
        ),
        (
            "/x/.hidden",
            "a segment starting with `.` (unreachable on Spin)",
        ),
        (
            "/.well-known/spin/health",
            "Spin's reserved prefix starts with a dot too",
        ),
    ] {
        assert!(validate(route).is_err(), "{why}: {route}");
    }
    for route in [
        "/api/*",
        "/...",
        "/",
        "foo",
        "/a/:b/c",
        "/file.txt",
        "/:well_known/jwks.json",
    ] {
        assert!(validate(route).is_ok(), "{route}");
    }
}

#[test]
fn dots_inside_segments_route_normally() {
    let router = router(&["/hello", "/file.txt", "/:name.json", "/v1.2/...", "/..."]);
    for (path, want) in [
        ("/hello", "/hello"),
        ("/file.txt", "/file.txt"),
        ("/report.json", "/:name.json"),
        ("/v1.2/z", "/v1.2/..."),
        ("/other", "/..."),
    ] {
        assert_eq!(
            chosen(&router, path).map(|c| c.0).as_deref(),
            Some(want),
            "{path}"
        );
    }
}
