//! Spin's HTTP route syntax and matching: exact, `:name` segments, `/...` wildcards.

use anyhow::bail;
use std::fmt;

/// A parsed `route = "..."` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// What a successful match tells the component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The path after the route's fixed part (`/...` remainder), "" for exact routes.
    pub path_info: String,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
}

impl RoutePattern {
    /// Parse a route as written in spin.toml.
    pub fn parse(route: &str) -> anyhow::Result<RoutePattern> {
        if !route.starts_with('/') {
            bail!("route `{route}` must start with `/`");
        }
        if route.starts_with("/.well-known/spin") {
            bail!("route `{route}` is reserved by Spin (`/.well-known/spin/...`)");
        }
        let (body, wildcard) = match route.strip_suffix("/...") {
            Some(body) => (body, true),
            None => (route, false),
        };
        let mut segments = Vec::new();
        for seg in body.split('/').filter(|s| !s.is_empty()) {
            if seg.contains("...") {
                bail!("route `{route}`: `...` may only end a route, as `/...`");
            }
            match seg.strip_prefix(':') {
                Some("") => bail!("route `{route}`: a `:` segment needs a name"),
                Some(name) => segments.push(Segment::Param(name.to_owned())),
                None => segments.push(Segment::Literal(seg.to_owned())),
            }
        }
        Ok(RoutePattern {
            raw: route.to_owned(),
            segments,
            wildcard,
        })
    }

    /// The route exactly as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The route without its trailing `/...` (Spin's `spin-component-route`).
    pub fn without_wildcard(&self) -> &str {
        if self.wildcard {
            let trimmed = &self.raw[..self.raw.len() - 4];
            if trimmed.is_empty() { "" } else { trimmed }
        } else {
            &self.raw
        }
    }

    /// Match a request path (no query) against this route.
    pub fn matches(&self, path: &str) -> Option<RouteMatch> {
        let mut rest = path;
        let mut params = Vec::new();
        for segment in &self.segments {
            let trimmed = rest.strip_prefix('/')?;
            let end = trimmed.find('/').unwrap_or(trimmed.len());
            let (value, tail) = trimmed.split_at(end);
            match segment {
                Segment::Literal(lit) if lit == value => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if value.is_empty() => return None,
                Segment::Param(name) => params.push((name.clone(), value.to_owned())),
            }
            rest = tail;
        }
        let exact_rest = rest.is_empty() || rest == "/";
        if self.wildcard {
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            return Some(RouteMatch {
                path_info: rest.to_owned(),
                params,
            });
        }
        exact_rest.then(|| RouteMatch {
            path_info: String::new(),
            params,
        })
    }

    /// Ordering key: higher wins. Exact beats wildcard; then more literal
    /// segments (longest prefix); then fewer parameters.
    fn specificity(&self) -> (bool, usize, usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (
            !self.wildcard,
            self.segments.len(),
            literals,
            usize::MAX - self.params_count(),
        )
    }

    fn params_count(&self) -> usize {
        self.segments.len()
            - self
                .segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count()
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Routes of the application, in Spin's precedence.
#[derive(Debug, Clone, Default)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T: Clone> Router<T> {
    pub fn new(mut routes: Vec<(RoutePattern, T)>) -> Router<T> {
        routes.sort_by_key(|(route, _)| std::cmp::Reverse(route.specificity()));
        Router { routes }
    }

    /// The best route for `path`, with what it matched.
    pub fn route(&self, path: &str) -> Option<(&RoutePattern, &T, RouteMatch)> {
        self.routes
            .iter()
            .find_map(|(route, target)| route.matches(path).map(|m| (route, target, m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router<&'static str> {
        let routes = [
            "/match/exact",
            "/match/...",
            "/match/deeper/...",
            "/users/:id/profile",
            "/...",
        ];
        Router::new(
            routes
                .iter()
                .map(|r| (RoutePattern::parse(r).unwrap(), *r))
                .collect(),
        )
    }

    #[test]
    fn routes_follow_spin_precedence() {
        let router = router();
        for (path, want, info) in [
            ("/match/exact", "/match/exact", ""),
            ("/match/exact/", "/match/exact", ""),
            ("/match/exactly", "/match/...", "/exactly"),
            ("/match", "/match/...", ""),
            ("/match/other/x", "/match/...", "/other/x"),
            ("/match/deeper", "/match/deeper/...", ""),
            ("/match/deeper/a/b", "/match/deeper/...", "/a/b"),
            ("/users/42/profile", "/users/:id/profile", ""),
            ("/users/42/other", "/...", "/users/42/other"),
            ("/", "/...", "/"),
        ] {
            let (route, _, m) = router.route(path).unwrap();
            assert_eq!(route.as_str(), want, "path {path}");
            assert_eq!(m.path_info, info, "path_info of {path}");
        }
    }

    #[test]
    fn parse_rejects_invalid_routes() {
        for (route, why) in [
            ("nope", "must start with /"),
            ("/a/.../b", "wildcard not at the end"),
            ("/a/:", "unnamed parameter"),
            ("/.well-known/spin/health", "reserved"),
        ] {
            assert!(RoutePattern::parse(route).is_err(), "{why}: {route}");
        }
    }
}
