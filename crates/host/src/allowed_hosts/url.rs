//! The URL side of the allow-list check, as Spin's `OutboundUrl`.

use anyhow::Context;

/// The parts of a URL the check reads: lowercased scheme and host, explicit port only
/// (the `url` crate drops a special scheme's default port).
#[derive(Debug)]
pub(super) struct OutboundUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

impl OutboundUrl {
    /// Parse `url`; failing that (or without a host), `{scheme}://{url}`. User info is
    /// percent-encoded first so that any password characters parse.
    pub fn parse(url: &str, scheme: &str) -> anyhow::Result<OutboundUrl> {
        let url = encode_user_info(url);
        let parsed = match ::url::Url::parse(&url) {
            Ok(parsed) if parsed.has_host() => parsed,
            first => match ::url::Url::parse(&format!("{scheme}://{url}")) {
                Ok(parsed) => parsed,
                Err(second) => return Err(first.err().map_or(second, |e| e).into()),
            },
        };
        Ok(OutboundUrl {
            scheme: parsed.scheme().to_owned(),
            host: parsed
                .host_str()
                .with_context(|| format!("{url:?} does not have a host component"))?
                .to_owned(),
            port: parsed.port(),
        })
    }
}

fn encode_user_info(url: &str) -> String {
    let Some(at) = url.find('@') else {
        return url.to_owned();
    };
    let start = url.find("://").map_or(0, |i| i + 3);
    let path = url[start..].find('/').map_or(usize::MAX, |i| i + start);
    if at >= path || at < start {
        return url.to_owned();
    }
    let user_info = &url[start..at];
    format!(
        "{}{}{}",
        &url[..start],
        urlencoding::encode(user_info),
        &url[at..]
    )
}
