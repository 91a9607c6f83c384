//! The layers of ARCHITECTURE.md, enforced: a module never names (`crate::…`) a module of
//! a higher layer, no two top-level modules depend on each other in a circle, and no
//! two modules inside `checks` do either (a stage's files, or the stages taken whole).
//! Test code (`#[cfg(test)]` modules and files) is left out: tests may reach anywhere.

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
            if let Some(item) = lines.next()
                && item.trim_end().ends_with('{')
            {
                let indent = item.len() - item.trim_start().len();
                for l in lines.by_ref() {
                    if l.trim_end() == format!("{}}}", " ".repeat(indent)) {
                        break;
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
    out.extend(cycles(&deps));
    out
}

/// Every cycle in a module graph (depth-first search), as `a -> b -> a`.
fn cycles(deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
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
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        visit(m, deps, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

/// The module a file holds: `checks/dns/mod.rs` and `checks/dns.rs` are `checks::dns`.
fn module_of(path: &str) -> Vec<String> {
    let path = path
        .strip_suffix("/mod.rs")
        .or_else(|| path.strip_suffix(".rs"))
        .unwrap_or(path);
    if path == "lib" || path == "main" {
        return Vec::new();
    }
    path.split('/').map(str::to_string).collect()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The path (or `use` tree) starting at `i`, each full path pushed onto `out` with
/// `prefix` in front (`super::{a, b::{self, c}}` gives `super::a`, `super::b`,
/// `super::b::c`); returns where it ends.
fn use_tree(
    code: &str,
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let b = code.as_bytes();
    loop {
        i = skip_ws(b, i);
        if b.get(i) == Some(&b'{') {
            i += 1;
            loop {
                i = skip_ws(b, i);
                match b.get(i) {
                    None => return i,
                    Some(b'}') => return i + 1,
                    Some(b',') => i += 1,
                    Some(_) => {
                        let j = use_tree(code, i, prefix.clone(), out);
                        i = if j == i { i + 1 } else { j };
                    }
                }
            }
        }
        let start = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            i += 1;
        }
        let seg = &code[start..i];
        // `x::{self, y}` names `x` itself.
        if !seg.is_empty() && (seg != "self" || prefix.is_empty()) {
            prefix.push(seg.to_string());
        }
        let j = skip_ws(b, i);
        if seg.is_empty() || !code[j..].starts_with("::") {
            out.push(prefix);
            return i.max(start + 1).min(b.len());
        }
        i = j + 2;
    }
}

/// Every path the code names from `crate::`, `super::` or `self::`, with `use` trees
/// expanded, plus `child::…` for the given child modules of the file's own module.
fn named_paths(code: &str, children: &[&str]) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary =
            i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':');
        // Inside a multi-byte character: no path starts there.
        let Some(rest) = code.get(i..) else {
            i += 1;
            continue;
        };
        let rooted = ["crate::", "super::", "self::"]
            .iter()
            .any(|p| rest.starts_with(p));
        let child = children
            .iter()
            .any(|c| rest.starts_with(c) && rest[c.len()..].starts_with("::"));
        if boundary && (rooted || child) {
            let mut paths = Vec::new();
            i = use_tree(code, i, Vec::new(), &mut paths);
            if child && !rooted {
                for p in &mut paths {
                    p.insert(0, "self".to_string());
                }
            }
            out.extend(paths);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path names from inside `module`: the longest known module it starts
/// with (`super::view::Ctx` from `checks::dns` is `checks::view`).
fn resolve(module: &[String], path: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    let mut abs: Vec<String> = Vec::new();
    let mut rest = path;
    if rest.first().is_some_and(|s| s == "crate") {
        rest = &rest[1..];
    } else {
        abs = module.to_vec();
        while let Some(s) = rest.first() {
            match s.as_str() {
                "super" => {
                    abs.pop();
                }
                "self" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
    }
    abs.extend(rest.iter().cloned());
    (0..=abs.len())
        .rev()
        .map(|n| abs[..n].to_vec())
        .find(|m| modules.contains(m))
        .unwrap_or_default()
}

/// Between the modules inside `checks`: file module → the modules inside `checks` its
/// production code names (`checks::dns::records` → `checks::dns`, `checks::view`).
fn checks_dependencies(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let tests = test_only_files(files);
    let production: Vec<(&String, &String)> = files
        .iter()
        .filter(|(p, _)| !tests.iter().any(|t| p.starts_with(t.as_str())))
        .collect();
    let modules: BTreeSet<Vec<String>> = production.iter().map(|(p, _)| module_of(p)).collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in production {
        let module = module_of(path);
        if module.first().map(String::as_str) != Some("checks") {
            continue;
        }
        let children: Vec<&str> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
            .filter_map(|m| m.last().map(String::as_str))
            .collect();
        let entry = deps.entry(module.join("::")).or_default();
        for p in named_paths(&production_code(text), &children) {
            let target = resolve(&module, &p, &modules);
            if target.first().map(String::as_str) == Some("checks") && target != module {
                entry.insert(target.join("::"));
            }
        }
    }
    deps
}

/// Cycles between modules inside `checks`: between files, and between the stage
/// modules (`checks::dns`, `checks::host`, …) with each one's files taken together.
fn checks_cycles(files: &BTreeMap<String, String>) -> Vec<String> {
    let deps = checks_dependencies(files);
    let mut out = cycles(&deps);
    let stage = |m: &str| m.split("::").take(2).collect::<Vec<_>>().join("::");
    let mut stages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, used) in &deps {
        let own = stage(m);
        let entry = stages.entry(own.clone()).or_default();
        entry.extend(used.iter().map(|u| stage(u)).filter(|u| *u != own));
    }
    for c in cycles(&stages) {
        if !out.contains(&c) {
            out.push(c);
        }
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
    let inner = checks_dependencies(&files);
    assert!(
        inner.contains_key("checks::catalogue") && inner.contains_key("checks::view"),
        "{inner:#?}"
    );
    let c = checks_cycles(&files);
    assert!(
        c.is_empty(),
        "modules inside checks depend on each other: {c:#?}"
    );
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

/// Inside `checks`: a circle between two stages, between a stage's files, or through a
/// child module named without `super::`, is caught; test files and one-way use are not.
#[test]
fn a_cycle_inside_checks_is_caught() {
    let ok = tree(&[
        (
            "checks/mod.rs",
            "mod catalogue;\nmod dns;\nmod host;\n#[cfg(test)]\nmod tests;\n",
        ),
        (
            "checks/catalogue.rs",
            "use super::{dns, host::{self, fam}};\n",
        ),
        ("checks/host.rs", "pub fn fam() {}\n"),
        ("checks/dns/mod.rs", "use super::host;\nmod records;\n"),
        (
            "checks/dns/records.rs",
            "use super::super::host::fam;\nfn f() { super::helper(); }\n",
        ),
        (
            "checks/tests.rs",
            "use super::catalogue;\nuse crate::checks::dns;\n",
        ),
    ]);
    assert_eq!(checks_cycles(&ok), Vec::<String>::new());
    let deps = checks_dependencies(&ok);
    let both: BTreeSet<String> = ["checks::dns", "checks::host"].map(String::from).into();
    assert_eq!(deps["checks::catalogue"], both);
    assert_eq!(deps["checks::dns::records"], both);
    // Between two stages: host names a file of dns, which names host.
    assert_cycle(
        &ok,
        (
            "checks/host.rs",
            "pub fn fam() { crate::checks::dns::records::x(); }\n",
        ),
        ["checks::dns", "checks::host"],
    );
    // Inside a stage: its mod.rs names its file without `super::`, which names it back.
    assert_cycle(
        &ok,
        (
            "checks/dns/mod.rs",
            "use super::host;\nmod records;\nfn g() { records::x(); }\n",
        ),
        ["checks::dns", "checks::dns::records"],
    );
}

/// With one file replaced, `checks_cycles` reports the cycle between `a` and `b`.
fn assert_cycle(files: &BTreeMap<String, String>, (path, text): (&str, &str), [a, b]: [&str; 2]) {
    let mut files = files.clone();
    files.insert(path.into(), text.into());
    let c = checks_cycles(&files);
    assert!(
        c.iter().any(|x| x.contains(&format!("{a} -> {b} -> {a}"))
            || x.contains(&format!("{b} -> {a} -> {b}"))),
        "{c:?}"
    );
}
