//! The public routes `auth` serves, one table for its router, the OpenAPI document
//! (`openapi/crm-api.json`) and the test that keeps the two equal. `{id}` is one segment.

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (login, refresh, logout, the JWKS).
    Anyone,
    /// Any signed-in user.
    User,
    /// Admins only.
    Admin,
}

/// `(method, path template, who may call it)`.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("POST", "/api/auth/token", Access::Anyone),
    ("POST", "/api/auth/refresh", Access::Anyone),
    ("POST", "/api/auth/revoke", Access::Anyone),
    ("GET", "/.well-known/jwks.json", Access::Anyone),
    ("POST", "/api/users", Access::Admin),
    ("GET", "/api/users", Access::Admin),
    ("GET", "/api/users/me", Access::User),
    ("PUT", "/api/users/me/password", Access::User),
    ("GET", "/api/users/{id}", Access::Admin),
    ("PATCH", "/api/users/{id}", Access::Admin),
    ("POST", "/api/api-keys", Access::Admin),
    ("GET", "/api/api-keys", Access::Admin),
    ("DELETE", "/api/api-keys/{id}", Access::Admin),
    ("GET", "/api/flags", Access::Admin),
    ("GET", "/api/flags/{id}", Access::Admin),
    ("PUT", "/api/flags/{id}", Access::Admin),
    ("DELETE", "/api/flags/{id}", Access::Admin),
    ("POST", "/api/flags/{id}/evaluate", Access::Admin),
    ("GET", "/api/admin/errors", Access::Admin),
];

/// The template of `ROUTES` that `path` matches (literal segments win over `{id}`), with
/// the `{id}` value if any.
pub fn match_path(path: &str) -> Option<(&'static str, Option<&str>)> {
    crate::route_template::match_template(ROUTES.iter().map(|(_, template, _)| *template), path)
}

/// The methods of each template, as `Allow` lists them (kept equal to `ROUTES` by a test).
const ALLOW: &[(&str, &[&str])] = &[
    ("/api/auth/token", &["POST"]),
    ("/api/auth/refresh", &["POST"]),
    ("/api/auth/revoke", &["POST"]),
    ("/.well-known/jwks.json", &["GET"]),
    ("/api/users", &["POST", "GET"]),
    ("/api/users/me", &["GET"]),
    ("/api/users/me/password", &["PUT"]),
    ("/api/users/{id}", &["GET", "PATCH"]),
    ("/api/api-keys", &["POST", "GET"]),
    ("/api/api-keys/{id}", &["DELETE"]),
    ("/api/flags", &["GET"]),
    ("/api/flags/{id}", &["GET", "PUT", "DELETE"]),
    ("/api/flags/{id}/evaluate", &["POST"]),
    ("/api/admin/errors", &["GET"]),
];

/// The methods `ROUTES` has for a template (for a 405's `Allow`).
pub fn methods_of(template: &str) -> &'static [&'static str] {
    ALLOW
        .iter()
        .find(|(t, _)| *t == template)
        .map_or(&[], |(_, methods)| methods)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_template_and_id() {
        for (path, want) in [
            ("/api/users", Some(("/api/users", None))),
            ("/api/users/", Some(("/api/users", None))),
            ("/api/users/me", Some(("/api/users/me", None))),
            ("/api/users/u-1", Some(("/api/users/{id}", Some("u-1")))),
            (
                "/api/users/me/password",
                Some(("/api/users/me/password", None)),
            ),
            ("/api/users/u-1/password", None),
            (
                "/api/api-keys/k-9",
                Some(("/api/api-keys/{id}", Some("k-9"))),
            ),
            ("/api/auth/nope", None),
        ] {
            assert_eq!(match_path(path), want, "{path}");
        }
        assert_eq!(methods_of("/api/users/{id}"), ["GET", "PATCH"]);
    }

    #[test]
    fn the_allow_table_lists_exactly_the_methods_of_routes() {
        for (_, template, _) in ROUTES {
            let from_routes: Vec<&str> = ROUTES
                .iter()
                .filter(|(_, t, _)| t == template)
                .map(|(m, _, _)| *m)
                .collect();
            assert_eq!(methods_of(template), from_routes.as_slice(), "{template}");
        }
        assert_eq!(ALLOW.len(), {
            let mut templates: Vec<&str> = ROUTES.iter().map(|(_, t, _)| *t).collect();
            templates.dedup();
            templates.len()
        });
    }
}
