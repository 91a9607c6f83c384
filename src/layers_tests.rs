//! The layers of ARCHITECTURE.md, enforced: a module never names (`crate::…`) a module of
//! a higher layer, and no two top-level modules depend on each other in a circle. Test
//! code (`#[cfg(test)]` modules and files) is left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. A module may use modules of its own layer or below.
const LAYERS: &[&[&str]] = &[
    &[
        "net",
        "model",
        "facts",
        "options",
        "assets",
        "sanitize",
        "atomic_file",
    ],
    &["parse", "probe", "snapshot"],
    &["checks", "verdict", "firewall"],
    &["engine"],
    &["report", "tui", "watch", "train"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The source without test modules (`#[cfg(test)]` and the item after it, up to the
/// closing brace at the start of a line) and without comments.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            // The item after it: one line (`mod x;`, `use …;`), or a block to its `}`.
            if let Some(item) = lines.next() {
                if item.trim_end().ends_with('{') {
                    let indent = item.len() - item.trim_start().len();
                    for l in lines.by_ref() {
                        if l.trim_end() == format!("{}}}", " ".repeat(indent)) {
                            break;
                        }
                    }
                }
            }
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Test-only files: the ones a `#[cfg(test)] mod NAME;` declares.
fn test_only_files(files: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in files {
        let dir = match path
            .strip_suffix("mod.rs")
            .or_else(|| path.strip_suffix("lib.rs"))
        {
            Some(d) => d.to_string(),
            None => format!("{}/", path.trim_end_matches(".rs")),
        };
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            if !l.trim_start().starts_with("#[cfg(test)]") {
                continue;
            }
            let Some(item) = lines.next() else { break };
            let item = item.trim();
            let name = item
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'));
            if let Some(name) = name {
                out.insert(format!("{dir}{name}.rs"));
                out.insert(format!("{dir}{name}/"));
            }
        }
    }
    out
}

/// Top-level module → the top-level modules its production code names.
fn dependencies(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let tests = test_only_files(files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        if path == "lib.rs"
            || path == "main.rs"
            || tests.iter().any(|t| path.starts_with(t.as_str()))
        {
            continue;
        }
        let top = path
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let code = production_code(text);
        let entry = deps.entry(top.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let before = code[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `dualstack_doctor_crate::`, say
            }
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                entry.insert(name);
            }
        }
    }
    deps
}

/// Every breach of the layering, and every cycle between top-level modules.
fn problems(files: &BTreeMap<String, String>) -> Vec<String> {
    let deps = dependencies(files);
    let mut out = Vec::new();
    for (module, used) in &deps {
        let Some(own) = layer_of(module) else {
            out.push(format!("{module} has no layer in LAYERS"));
            continue;
        };
        for u in used {
            match layer_of(u) {
                Some(l) if l > own => out.push(format!(
                    "{module} (layer {own}) uses {u} (layer {l}), a higher layer"
                )),
                None if deps.contains_key(u) => out.push(format!("{u} has no layer in LAYERS")),
                _ => {}
            }
        }
    }
    // Cycles: depth-first search over the module graph.
    fn visit(
        m: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = stack.iter().position(|s| s == m) {
            out.push(format!("cycle: {} -> {m}", stack[i..].join(" -> ")));
            return;
        }
        stack.push(m.to_string());
        for d in deps.get(m).into_iter().flatten() {
            visit(d, deps, stack, done, out);
        }
        stack.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        visit(m, &deps, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

fn read_tree(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, base, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
}

#[test]
fn no_module_uses_a_higher_layer_and_none_depend_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_tree(&src, &src, &mut files);
    assert!(
        files.len() > 50,
        "read {} files from {}",
        files.len(),
        src.display()
    );
    let deps = dependencies(&files);
    for layer in LAYERS {
        for m in *layer {
            assert!(
                deps.contains_key(*m),
                "LAYERS names {m}, which is not a module"
            );
        }
    }
    let p = problems(&files);
    assert!(p.is_empty(), "{p:#?}");
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

/// The check itself: a lower layer naming a higher one fails, test code does not.
#[test]
fn a_lower_layer_using_a_higher_one_is_caught() {
    let ok = tree(&[
        (
            "model/mod.rs",
            "use crate::net::x;\n#[cfg(test)]\nmod tests;\n",
        ),
        ("model/tests.rs", "use crate::tui::App;\n"),
        (
            "net.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::engine::X;\n}\n",
        ),
        (
            "tui/mod.rs",
            "use crate::model::Finding; // crate::cli in a comment\n",
        ),
    ]);
    assert_eq!(problems(&ok), Vec::<String>::new());
    let bad = tree(&[
        ("model/mod.rs", "use crate::tui::App;\n"),
        ("tui/mod.rs", "use crate::model::Finding;\n"),
    ]);
    let p = problems(&bad);
    assert!(
        p.iter()
            .any(|x| x.contains("model (layer 0) uses tui (layer 4)")),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.starts_with("cycle:")), "{p:?}");
    let cycle = tree(&[
        ("assets.rs", "use crate::model::Fix;\n"),
        ("model/mod.rs", "fn f() { crate::assets::about(\"x\"); }\n"),
    ]);
    assert!(
        problems(&cycle)
            .iter()
            .any(|x| x.contains("assets -> model -> assets")
                || x.contains("model -> assets -> model")),
        "{:?}",
        problems(&cycle)
    );
}
