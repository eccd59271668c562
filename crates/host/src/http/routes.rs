//! Spin's HTTP routing (`crates/routes` over the `routefinder` crate Spin uses):
//! `/...` (or `/*`) trailing wildcards, `:name` segments, segment-by-segment precedence
//! (exact > parameter > wildcard; the first differing segment decides, then the shorter
//! route, then the one written first), a duplicated route string won by its last use.

use anyhow::{anyhow, bail};
use routefinder::Segment;

/// What a route leads to, with the route as written and as matched.
#[derive(Debug, Clone)]
struct Entry<T> {
    target: T,
    /// As written in spin.toml (`spin-raw-component-route`).
    raw: String,
    /// Absolute, one trailing `/` removed (`spin-matched-route`): `/` becomes "".
    based: String,
}

/// A route that lost to a later use of the same route string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRoute {
    pub route: String,
    pub replaced: String,
    pub effective: String,
}

/// What a match tells the component, in Spin's header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// `spin-matched-route`.
    pub matched_route: String,
    /// `spin-raw-component-route`.
    pub raw_route: String,
    /// `spin-path-info`: the wildcard's part of the path ("" for routes without one).
    pub path_info: String,
    /// `:name` captures in route order (`spin-path-match-<name>`).
    pub params: Vec<(String, String)>,
}

impl RouteMatch {
    /// How Spin's service chaining presents a request: as matched by `/...`, the whole
    /// path as path info.
    pub fn chained(path: &str) -> RouteMatch {
        RouteMatch {
            matched_route: "/...".into(),
            raw_route: "/...".into(),
            path_info: path.to_owned(),
            params: Vec::new(),
        }
    }

    /// `spin-component-route`: the raw route without one trailing `/...`.
    pub fn component_route(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }
}

/// The application's routes.
#[derive(Debug)]
pub struct Router<T> {
    inner: routefinder::Router<Entry<T>>,
}

impl<T: Clone> Router<T> {
    /// Build from `(raw route, target)` pairs in manifest order; also returns the routes
    /// a later duplicate made unreachable (Spin logs them and carries on).
    pub fn build(routes: Vec<(String, T)>) -> anyhow::Result<(Router<T>, Vec<DuplicateRoute>)>
    where
        T: std::fmt::Display,
    {
        let mut unique: Vec<Entry<T>> = Vec::new();
        let mut duplicates = Vec::new();
        for (raw, target) in routes {
            let based = based_route(&raw);
            let entry = Entry { target, raw, based };
            match unique.iter_mut().find(|e| e.raw == entry.raw) {
                Some(existing) => {
                    duplicates.push(DuplicateRoute {
                        route: existing.based.clone(),
                        replaced: existing.target.to_string(),
                        effective: entry.target.to_string(),
                    });
                    existing.target = entry.target;
                }
                None => unique.push(entry),
            }
        }
        let mut inner = routefinder::Router::new();
        for entry in unique {
            let spec = parse_route(&entry.based).map_err(|e| {
                anyhow!(
                    "Error parsing route {} associated with component {}: {e}",
                    entry.based,
                    entry.target
                )
            })?;
            inner.add(spec, entry).map_err(|e| anyhow!("{e}"))?;
        }
        Ok((Router { inner }, duplicates))
    }

    /// The best route for `path` (no query), with what it matched.
    pub fn route(&self, path: &str) -> Option<(&T, RouteMatch)> {
        let best = self.inner.best_match(path)?;
        let entry = best.handler();
        let captures = best.captures();
        let path_info = match captures.wildcard() {
            None => String::new(),
            Some(rest) => match (rest.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".into(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            },
        };
        let params = captures
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Some((
            &entry.target,
            RouteMatch {
                matched_route: entry.based.clone(),
                raw_route: entry.raw.clone(),
                path_info,
                params,
            },
        ))
    }
}

/// `foo` → `/foo`, `/foo/` → `/foo`, `/` → "" (one trailing slash only, as Spin).
fn based_route(raw: &str) -> String {
    let absolute = if raw.starts_with('/') {
        raw.to_owned()
    } else {
        format!("/{raw}")
    };
    match absolute.strip_suffix('/') {
        Some(trimmed) => trimmed.to_owned(),
        None => absolute,
    }
}

/// `/...` is routefinder's trailing `/*`. Two kinds of route load on Spin but fail there,
/// so crm-host refuses them at load: a `*` anywhere but at the end (Spin panics per
/// request), and a segment starting with `.` (routefinder orders it inconsistently —
/// checked on Spin 4.1: `/.well-known/jwks.json` sends even exact routes to `/...`).
fn parse_route(based: &str) -> anyhow::Result<routefinder::RouteSpec> {
    let spec_text = match based.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/*"),
        None => based.to_owned(),
    };
    if spec_text.contains("/.") {
        bail!(
            "a path segment starting with `.` is mis-ordered by Spin's router (routefinder): on Spin such a route is never reached, and as the first segment (e.g. `/.well-known/...`) it sends every request to the wrong component; match the segment with a parameter instead (e.g. `/:well_known/jwks.json`)"
        );
    }
    let spec: routefinder::RouteSpec = spec_text.as_str().try_into().map_err(|e| anyhow!("{e}"))?;
    let segments = spec.segments();
    let wildcard_inside = segments
        .iter()
        .enumerate()
        .any(|(i, s)| matches!(s, Segment::Wildcard) && i + 1 < segments.len());
    if wildcard_inside {
        bail!("a wildcard (`*` or `...`) may only end a route (Spin fails such requests)");
    }
    Ok(spec)
}

/// Check a route string at manifest load (the router checks it again when built).
pub fn validate(raw: &str) -> anyhow::Result<()> {
    parse_route(&based_route(raw)).map(|_| ())
}

#[cfg(test)]
mod tests;
