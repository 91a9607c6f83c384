//! The documents that describe the code stay true to it: every path README's "How it is
//! built" and ARCHITECTURE.md name exists, and every top-level module has its place in
//! ARCHITECTURE.md's table of layers.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Words of `text` that name a path in the repository (`src/…`, `tests/…`, …), with
/// trailing punctuation and backticks stripped.
fn paths_named(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '`' | '(' | ')' | ','))
        .map(|w| w.trim_end_matches(['.', ':', ';']))
        .filter(|w| {
            ["src/", "tests/", "assets/", "benches/", "scripts/"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .filter(|w| !w.contains(['*', '<', '{']))
        .map(str::to_string)
        .collect()
}

/// README's section from `## How it is built` to the next `## `.
fn how_it_is_built(readme: &str) -> &str {
    let start = readme
        .find("## How it is built")
        .expect("README has a 'How it is built' section");
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i);
    &rest[..end]
}

#[test]
fn every_path_the_documents_name_exists() {
    let readme = read("README.md");
    let arch = read("ARCHITECTURE.md");
    let mut named = paths_named(how_it_is_built(&readme));
    assert!(named.len() > 10, "README names few paths: {named:?}");
    named.extend(paths_named(&arch));
    let missing: Vec<_> = named.iter().filter(|p| !root().join(p).exists()).collect();
    assert!(missing.is_empty(), "named but not there: {missing:?}");
}

#[test]
fn every_top_level_module_is_in_the_layer_table() {
    let arch = read("ARCHITECTURE.md");
    let table: String = arch
        .lines()
        .skip_while(|l| !l.starts_with("| layer"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let mut modules = Vec::new();
    for e in std::fs::read_dir(root().join("src"))
        .expect("src")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let module = match name.strip_suffix(".rs") {
            Some(m) => m.to_string(),
            None if e.path().join("mod.rs").exists() => name,
            None => continue,
        };
        // The crate roots and test-only modules are not layers.
        if ["lib", "main", "testutil"].contains(&module.as_str()) || module.ends_with("_tests") {
            continue;
        }
        modules.push(module);
    }
    assert!(modules.len() > 15, "{modules:?}");
    let absent: Vec<_> = modules
        .iter()
        .filter(|m| !table.contains(&format!("`{m}`")))
        .collect();
    assert!(
        absent.is_empty(),
        "not in ARCHITECTURE.md's layer table: {absent:?}"
    );
}

#[test]
fn paths_are_found_in_prose() {
    assert_eq!(
        paths_named("see `src/checks/catalogue.rs`, then tests/lab/ (and src/*.rs)."),
        ["src/checks/catalogue.rs", "tests/lab/"]
    );
}
