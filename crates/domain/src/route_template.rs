//! Path templates of the route tables (`/api/users/{id}`): which template a path matches.

/// The template of `templates` that `path` matches, with the value of its `{id}` segment
/// if any. Literal segments win over `{id}` (`/api/users/me` before `/api/users/{id}`);
/// one trailing slash is ignored; `{id}` is one non-empty segment.
pub fn match_template<'p>(
    templates: impl IntoIterator<Item = &'static str>,
    path: &'p str,
) -> Option<(&'static str, Option<&'p str>)> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut best: Option<(&'static str, Option<&'p str>)> = None;
    for template in templates {
        if let Some(id) = matches(template, path)
            && (best.is_none() || id.is_none())
        {
            best = Some((template, id));
        }
    }
    best
}

fn matches<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    let mut id = None;
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(value)) if !value.is_empty() => id = Some(value),
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}
