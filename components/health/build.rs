//! Build script: records the migration versions this build ships, so
//! readiness can tell whether the database has pending migrations.

use std::path::Path;

fn versions(dir: &Path) -> Vec<i64> {
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    crm_domain::migrations::migration_version(&e.file_name().to_string_lossy())
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort_unstable();
    versions
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut code = String::new();
    for (name, dialect) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let dir = root.join(dialect);
        println!("cargo:rerun-if-changed={}", dir.display());
        code.push_str(&format!(
            "pub const {name}: &[i64] = &{:?};\n",
            versions(&dir)
        ));
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"))
        .join("migrations.rs");
    std::fs::write(out, code).expect("write migrations.rs");
}
