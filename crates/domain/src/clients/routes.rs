//! The public routes `clients` serves: one table for its router, the OpenAPI document
//! (`openapi/crm-api.json`) and the tests that keep them equal. `{id}` is one segment.

use crate::auth::Role;

/// `(method, path template, the least role allowed)`. A purge (`DELETE …?purge=true`)
/// needs `admin` on top of the `editor` the table gives DELETE.
pub const ROUTES: &[(&str, &str, Role)] = &[
    ("POST", "/api/clients", Role::Editor),
    ("GET", "/api/clients", Role::Viewer),
    ("GET", "/api/clients/export", Role::Admin),
    ("POST", "/api/clients/import", Role::Admin),
    ("GET", "/api/clients/{id}", Role::Viewer),
    ("PUT", "/api/clients/{id}", Role::Editor),
    ("PATCH", "/api/clients/{id}", Role::Editor),
    ("DELETE", "/api/clients/{id}", Role::Editor),
    ("GET", "/api/clients/{id}/history", Role::Viewer),
];

/// The GET routes answered from the server-side response cache (docs/caching.md), with
/// `X-Cache: hit | miss`.
pub const CACHED_ROUTES: &[&str] = &["/api/clients", "/api/clients/{id}"];

/// What a caller of `role` may see of the client book, as the response cache's scope:
/// every role that may read clients reads every client, every field (docs/clients.md),
/// so all share one scope. A role that saw less would get a scope of its own here.
pub fn read_scope(role: Role) -> &'static str {
    match role {
        Role::Viewer | Role::Editor | Role::Admin => "all-clients",
    }
}

/// The template of `ROUTES` that `path` matches (literal segments win over `{id}`), with
/// the `{id}` value if any.
pub fn match_path(path: &str) -> Option<(&'static str, Option<&str>)> {
    crate::route_template::match_template(ROUTES.iter().map(|(_, template, _)| *template), path)
}

/// The methods `ROUTES` has for a template, in table order (for a 405's `Allow`).
pub fn methods_of(template: &str) -> &'static [&'static str] {
    const ALLOW: &[(&str, &[&str])] = &[
        ("/api/clients", &["POST", "GET"]),
        ("/api/clients/export", &["GET"]),
        ("/api/clients/import", &["POST"]),
        ("/api/clients/{id}", &["GET", "PUT", "PATCH", "DELETE"]),
        ("/api/clients/{id}/history", &["GET"]),
    ];
    ALLOW
        .iter()
        .find(|(t, _)| *t == template)
        .map_or(&[], |(_, methods)| methods)
}

/// The least role for `method` on `template`, if the route exists.
pub fn required_role(method: &str, template: &str) -> Option<Role> {
    ROUTES
        .iter()
        .find(|(m, t, _)| *m == method && *t == template)
        .map(|(_, _, role)| *role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_template_and_id() {
        for (path, want) in [
            ("/api/clients", Some(("/api/clients", None))),
            ("/api/clients/", Some(("/api/clients", None))),
            ("/api/clients/export", Some(("/api/clients/export", None))),
            ("/api/clients/import", Some(("/api/clients/import", None))),
            ("/api/clients/c-1", Some(("/api/clients/{id}", Some("c-1")))),
            (
                "/api/clients/c-1/history",
                Some(("/api/clients/{id}/history", Some("c-1"))),
            ),
            ("/api/clients/c-1/other", None),
            ("/api/clients//history", None),
            ("/api/client", None),
        ] {
            assert_eq!(match_path(path), want, "{path}");
        }
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
        assert_eq!(
            required_role("DELETE", "/api/clients/{id}"),
            Some(Role::Editor)
        );
        assert_eq!(
            required_role("GET", "/api/clients/export"),
            Some(Role::Admin)
        );
        assert_eq!(required_role("HEAD", "/api/clients"), None);
    }
}
