//! The catalogue against what the checks really do: every fact part a check's answer
//! depends on is declared, every cause it names is declared and present, and the
//! published lists (README, contract, `--list-checks`) name the same checks.

use super::catalogue::{CATALOGUE, def};
use super::{evaluate, evaluate_unsettled, fixtures};
use crate::facts::{FactPart, Facts, PartKind, PartialFacts, ProbeErrorKind, Probed};
use crate::model::{CheckId, Finding};
use crate::options::Options;

/// Every recorded training scenario and the hand-built fixtures, with their options.
fn corpus() -> Vec<(String, Facts, Options)> {
    let mut out = vec![
        (
            "healthy".to_string(),
            fixtures::healthy(),
            fixtures::options(),
        ),
        (
            "healthy_online".to_string(),
            fixtures::healthy_online(),
            fixtures::options(),
        ),
    ];
    for (name, _) in crate::train::list() {
        let sc = crate::train::load(name).expect("bundled scenario loads");
        out.push((
            name.to_string(),
            sc.snapshot.facts.clone(),
            sc.snapshot.options.clone(),
        ));
    }
    out
}

/// `facts` with one part replaced.
fn with_part(facts: &Facts, replacement: FactPart) -> Facts {
    let mut p = PartialFacts::new(facts.host.clone());
    let kind = replacement.kind();
    for part in facts.parts() {
        if part.kind() != kind {
            p.apply(part);
        }
    }
    p.apply(replacement);
    p.into_facts()
}

/// The part of `kind` as a probe that failed.
fn failed_part(kind: PartKind) -> FactPart {
    fn e<T>() -> Probed<T> {
        Probed::err(ProbeErrorKind::Failed, "perturbed")
    }
    let mut empty = PartialFacts::new(fixtures::healthy().host);
    // The DNS part of facts where nothing was gathered: every answer "not run".
    let dns = {
        let f = empty.facts().clone();
        Box::new(f.dns)
    };
    empty.apply(FactPart::Pings(Vec::new()));
    match kind {
        PartKind::Netlink => FactPart::Netlink {
            links: e(),
            routes: e(),
            neighbours: e(),
        },
        PartKind::Sysctl => FactPart::Sysctl(e()),
        PartKind::SysctlFiles => FactPart::SysctlFiles(e()),
        PartKind::Listeners => FactPart::Listeners(e()),
        PartKind::Web => FactPart::Web(e()),
        PartKind::Dns => FactPart::Dns(dns),
        PartKind::Pings => FactPart::Pings(Vec::new()),
        PartKind::Firewall => FactPart::Firewall(e()),
        PartKind::Isp => FactPart::Isp(e()),
        PartKind::BootNetwork => FactPart::BootNetwork(Some(e())),
        PartKind::Ipv4Deps => FactPart::Ipv4Deps(Some(e())),
        PartKind::Mail => FactPart::Mail(Some(e())),
        PartKind::Containers => FactPart::Containers(Some(e())),
        PartKind::Regions => FactPart::Regions(Some(e())),
    }
}

fn of(fs: &[Finding], id: CheckId) -> Vec<&Finding> {
    fs.iter().filter(|f| f.id == id).collect()
}

#[test]
fn catalogue_is_in_tree_order_with_one_entry_per_check() {
    let ids: Vec<CheckId> = CATALOGUE.iter().map(|d| d.id).collect();
    assert_eq!(ids, CheckId::ALL);
    for &id in CheckId::ALL {
        assert_eq!(def(id).id, id);
        assert_eq!(def(id).per_port(), id.per_port(), "{id}");
        assert!(!def(id).reads.is_empty(), "{id} reads nothing");
    }
}

/// A check's own answer (before the last pass) changes only when a part it declares
/// changes: replace each undeclared part with another scenario's, or a failed probe.
#[test]
fn every_part_a_check_depends_on_is_declared() {
    let corpus = corpus();
    let mut problems = Vec::new();
    for (i, (name, facts, opts)) in corpus.iter().enumerate() {
        let base = evaluate_unsettled(facts, opts);
        let other = &corpus[(i + 1) % corpus.len()].1;
        for kind in PartKind::ALL {
            let from_other = other
                .parts()
                .into_iter()
                .find(|p| p.kind() == kind)
                .expect("every part");
            for replacement in [from_other, failed_part(kind)] {
                let changed = evaluate_unsettled(&with_part(facts, replacement), opts);
                for d in CATALOGUE.iter().filter(|d| !d.reads.contains(&kind)) {
                    if of(&base, d.id) != of(&changed, d.id) {
                        problems.push(format!("{} depends on {kind:?} ({name})", d.id));
                    }
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "undeclared reads: {problems:#?}");
}

#[test]
fn every_cause_named_is_declared_and_in_the_same_evaluation() {
    for (name, facts, opts) in corpus() {
        let fs = evaluate(&facts, &opts);
        for f in &fs {
            let Some(cause) = f.caused_by else { continue };
            assert!(
                def(f.id).causes().any(|c| c == cause.check),
                "{name}: {} names {cause} but the catalogue does not declare it",
                f.label()
            );
            assert_eq!(
                cause.port.is_some(),
                cause.check.per_port(),
                "{name}: {} names {cause}",
                f.label()
            );
            assert!(
                fs.iter().any(|x| x.as_cause() == cause),
                "{name}: {} names {cause}, which is not in the evaluation",
                f.label()
            );
        }
    }
}

/// Rows of a markdown table whose first cell holds check ids in backticks (`a` / `b`),
/// with the per-port cell: the ids in order and whether each is per port.
fn table_ids(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let per_port = cells[2] == "yes";
        for part in cells[1].split('/') {
            let id = part.trim().trim_matches('`');
            if CheckId::ALL
                .iter()
                .any(|c| id.starts_with(&format!("{}.", c.stage().as_str())))
            {
                out.push((id.to_string(), per_port));
            }
        }
    }
    out
}

fn catalogue_ids() -> Vec<(String, bool)> {
    CATALOGUE
        .iter()
        .map(|d| (d.id.as_str().to_string(), d.per_port()))
        .collect()
}

#[test]
fn readme_table_lists_the_catalogue() {
    let readme = include_str!("../../README.md");
    assert_eq!(table_ids(readme), catalogue_ids());
}

/// Contract checks whose issue is still open: in the contract, not built yet.
const NOT_BUILT_YET: &[&str] = &[];

#[test]
fn contract_catalogue_matches_except_checks_not_built_yet() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/contract.md");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the contract must sit beside the project: {path}: {e}"));
    let contract: Vec<(String, bool)> = table_ids(&text)
        .into_iter()
        .filter(|(id, _)| !NOT_BUILT_YET.contains(&id.as_str()))
        .collect();
    assert_eq!(contract, catalogue_ids());
    for id in NOT_BUILT_YET {
        assert!(
            CheckId::parse(id).is_none(),
            "{id} is built: drop it from NOT_BUILT_YET"
        );
    }
}

#[test]
fn list_checks_names_the_catalogue_in_every_format() {
    let json = crate::report::list_checks(crate::report::Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let listed: Vec<(String, bool)> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            assert!(
                !e["meaning"].as_str().unwrap_or("").is_empty(),
                "no meaning: {e}"
            );
            (
                e["id"].as_str().unwrap_or("").to_string(),
                e["per_port"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(listed, catalogue_ids());
    for (e, d) in v.as_array().expect("array").iter().zip(CATALOGUE) {
        let fam = d.id.family().map(|f| f.as_str());
        assert_eq!(e["family"].as_str(), fam, "{}", d.id);
        if let Some(f) = fam {
            assert!(d.id.as_str().contains(f) || d.id.as_str().starts_with("dns.a"));
        }
    }
    let md = crate::report::list_checks(crate::report::Format::Markdown);
    assert_eq!(table_ids(&md), catalogue_ids());
    let text = crate::report::list_checks(crate::report::Format::Text);
    for d in CATALOGUE {
        assert!(
            text.lines().any(|l| l.starts_with(d.id.as_str())),
            "{}",
            d.id
        );
    }
}
