//! What the component serves: the OpenAPI document and the docs page's files, all embedded
//! at build time (no file system, no outbound requests), each with its media type, caching
//! policy and an `ETag` computed by build.rs.

/// `ETAGS`: every embedded file's quoted tag, by its path relative to the crate.
mod generated {
    include!(concat!(env!("OUT_DIR"), "/etags.rs"));
}

/// The path of the OpenAPI document.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

/// The docs page, also answered at `/docs` and `/docs/`.
pub const PAGE_PATH: &str = "/docs/index.html";

/// Who may cache a file, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Ours, changed with the code: caches revalidate (`If-None-Match`) before each reuse.
    Revalidate,
    /// Vendored Swagger UI, changed only by scripts/vendor-swagger-ui.sh: an hour.
    Vendored,
}

impl Caching {
    pub fn header(self) -> &'static str {
        match self {
            Caching::Revalidate => "no-cache",
            Caching::Vendored => "public, max-age=3600",
        }
    }
}

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The absolute URL path it is served at.
    pub path: &'static str,
    /// Where it lives, relative to the crate (the key of its ETag).
    pub file: &'static str,
    pub content_type: &'static str,
    pub caching: Caching,
    pub bytes: &'static [u8],
}

impl Asset {
    /// The file's quoted strong ETag.
    pub fn etag(&self) -> &'static str {
        generated::ETAGS
            .iter()
            .find(|(file, _)| *file == self.file)
            .map_or("\"0\"", |(_, tag)| tag)
    }

    /// Whether this is an HTML page (it gets the Content-Security-Policy).
    pub fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }
}

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const PNG: &str = "image/png";
const TEXT: &str = "text/plain; charset=utf-8";

/// Declares an embedded file: `asset!(url path, file under the crate, type, caching)`.
macro_rules! asset {
    ($path:expr, $file:literal, $content_type:expr, $caching:expr) => {
        Asset {
            path: $path,
            file: $file,
            content_type: $content_type,
            caching: $caching,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $file)),
        }
    };
}

/// Every file served, by URL path.
pub static ASSETS: &[Asset] = &[
    Asset {
        path: DOCUMENT_PATH,
        file: "../../openapi/crm-api.json",
        content_type: JSON,
        caching: Caching::Revalidate,
        bytes: include_str!("../../../openapi/crm-api.json").as_bytes(),
    },
    asset!(PAGE_PATH, "assets/index.html", HTML, Caching::Revalidate),
    asset!(
        "/admin/status",
        "assets/admin/status.html",
        HTML,
        Caching::Revalidate
    ),
    asset!(
        "/admin/flags",
        "assets/admin/flags.html",
        HTML,
        Caching::Revalidate
    ),
    asset!(
        "/admin/admin.js",
        "assets/admin/admin.js",
        JAVASCRIPT,
        Caching::Revalidate
    ),
    asset!(
        "/admin/status.js",
        "assets/admin/status.js",
        JAVASCRIPT,
        Caching::Revalidate
    ),
    asset!(
        "/admin/flags.js",
        "assets/admin/flags.js",
        JAVASCRIPT,
        Caching::Revalidate
    ),
    asset!(
        "/admin/admin.css",
        "assets/admin/admin.css",
        CSS,
        Caching::Revalidate
    ),
    asset!(
        "/docs/init.js",
        "assets/init.js",
        JAVASCRIPT,
        Caching::Revalidate
    ),
    asset!(
        "/docs/docs.css",
        "assets/docs.css",
        CSS,
        Caching::Revalidate
    ),
    asset!(
        "/docs/swagger-ui/swagger-ui-bundle.js",
        "assets/swagger-ui/swagger-ui-bundle.js",
        JAVASCRIPT,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/swagger-ui.css",
        "assets/swagger-ui/swagger-ui.css",
        CSS,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/favicon-16x16.png",
        "assets/swagger-ui/favicon-16x16.png",
        PNG,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/favicon-32x32.png",
        "assets/swagger-ui/favicon-32x32.png",
        PNG,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/LICENSE",
        "assets/swagger-ui/LICENSE",
        TEXT,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/NOTICE",
        "assets/swagger-ui/NOTICE",
        TEXT,
        Caching::Vendored
    ),
    asset!(
        "/docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
        "assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
        TEXT,
        Caching::Vendored
    ),
];

/// The file served at `path`: `/docs` and `/docs/` are the page; one trailing slash is
/// ignored elsewhere.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = match path {
        "/docs" | "/docs/" => PAGE_PATH,
        _ => path.strip_suffix('/').unwrap_or(path),
    };
    ASSETS.iter().find(|asset| asset.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_served_at_docs_with_and_without_a_slash() {
        for path in ["/docs", "/docs/", "/docs/index.html"] {
            assert_eq!(find(path).map(|a| a.path), Some(PAGE_PATH), "{path}");
        }
        assert_eq!(
            find("/api/openapi.json").map(|a| a.content_type),
            Some(JSON)
        );
        assert_eq!(
            find("/docs/init.js/").map(|a| a.path),
            Some("/docs/init.js")
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in [
            "/docs/nope.js",
            "/docs//",
            "/docs/swagger-ui/VERSION",
            "/docs/swagger-ui",
            "/docs/../api/openapi.json",
            "/docsx",
            "/api/openapi.json.map",
            "/",
        ] {
            assert!(find(path).is_none(), "{path}");
        }
    }

    #[test]
    fn every_asset_has_a_distinct_path_a_real_etag_and_bytes() {
        for (i, asset) in ASSETS.iter().enumerate() {
            assert!(!asset.bytes.is_empty(), "{}", asset.path);
            let tag = asset.etag();
            assert!(
                tag.len() > 4 && tag.starts_with('"') && tag.ends_with('"'),
                "{}: {tag}",
                asset.path
            );
            assert!(
                ASSETS[i + 1..].iter().all(|other| other.path != asset.path),
                "{} twice",
                asset.path
            );
        }
    }

    #[test]
    fn the_document_is_the_repository_file() {
        let document = find(DOCUMENT_PATH).map(|a| a.bytes).unwrap_or_default();
        assert_eq!(
            document,
            include_bytes!("../../../openapi/crm-api.json").as_slice()
        );
    }
}
