//! Spin's `{{ variable }}` templates, used in component variables and outbound hosts.

use anyhow::bail;

enum Part<'a> {
    Literal(&'a str),
    Variable(&'a str),
}

fn parts(template: &str) -> anyhow::Result<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Literal(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unterminated `{{{{` in template `{template}`");
        };
        let name = after[..end].trim();
        crate::app::manifest::validate_variable_name(name)?;
        parts.push(Part::Variable(name));
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        bail!("unmatched `}}}}` in template `{template}`");
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest));
    }
    Ok(parts)
}

/// The variable names a template refers to.
pub fn references(template: &str) -> anyhow::Result<Vec<String>> {
    Ok(parts(template)?
        .into_iter()
        .filter_map(|p| match p {
            Part::Variable(name) => Some(name.to_owned()),
            Part::Literal(_) => None,
        })
        .collect())
}

/// Render a template, resolving each variable with `lookup`.
pub fn render<E>(
    template: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, RenderError<E>> {
    let mut out = String::with_capacity(template.len());
    for part in parts(template).map_err(RenderError::Syntax)? {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Variable(name) => out.push_str(&lookup(name).map_err(RenderError::Lookup)?),
        }
    }
    Ok(out)
}

/// Why rendering failed: bad syntax, or a variable without a value.
#[derive(Debug)]
pub enum RenderError<E> {
    Syntax(anyhow::Error),
    Lookup(E),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_substitutes_every_reference() {
        let out = render("say {{ greeting }} to {{name}}!", |n| {
            Ok::<_, ()>(n.to_uppercase())
        });
        assert_eq!(out.unwrap(), "say GREETING to NAME!");
    }

    #[test]
    fn references_rejects_bad_templates() {
        for (template, why) in [
            ("{{ open", "unterminated"),
            ("close }}", "unmatched close"),
            ("{{ Bad-Name }}", "invalid name"),
            ("{{}}", "empty name"),
        ] {
            assert!(references(template).is_err(), "{why}: {template}");
        }
    }
}
