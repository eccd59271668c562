//! Computes a strong `ETag` for every file the component embeds (its `assets/` and the
//! OpenAPI document), so a request never hashes megabytes: `$OUT_DIR/etags.rs` holds
//! `ETAGS: &[(&str, &str)]`, each file by its path relative to the crate (`assets/…`,
//! `../../openapi/crm-api.json`) with its quoted tag.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The OpenAPI document, relative to this crate.
const DOCUMENT: &str = "../../openapi/crm-api.json";

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut files = vec![PathBuf::from(DOCUMENT)];
    collect(&crate_dir, Path::new("assets"), &mut files);
    files.sort();

    println!("cargo:rerun-if-changed=assets");
    let mut out = String::from("/// `(file relative to the crate, its quoted ETag)`.\n");
    out.push_str("pub const ETAGS: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let bytes = std::fs::read(crate_dir.join(file))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let relative = file.to_string_lossy().replace('\\', "/");
        let _ = writeln!(out, "    ({relative:?}, {:?}),", etag(&bytes));
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out_dir.join("etags.rs"), out).expect("write etags.rs");
}

/// Every file under `crate_dir/dir`, relative to `crate_dir`.
fn collect(crate_dir: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(crate_dir.join(dir)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let relative = dir.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            println!("cargo:rerun-if-changed={}", relative.display());
            collect(crate_dir, &relative, files);
        } else {
            files.push(relative);
        }
    }
}

/// `"<length in hex>-<FNV-1a 64 of the bytes>"`: changes whenever the bytes do (a cache
/// validator, not a security hash).
fn etag(bytes: &[u8]) -> String {
    let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{:x}-{digest:016x}\"", bytes.len())
}
