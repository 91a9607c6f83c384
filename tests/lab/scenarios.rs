//! The training scenarios (assets/scenarios/) and the scenario tables' own rules.
//!
//! Each training scenario is a failure class of the seeds, built in the lab by a table
//! row (`training = "NAME"`): that row records its live run with `--save-facts`, checks
//! that replaying the recording gives exactly the live report, and that the bundled
//! recording still has the verdict the lab produces today.
//! `DSD_RECORD_SCENARIOS=1 cargo test --test lab` re-records the bundled snapshots (the
//! stories, NAME.toml, are written by hand).
//!
//! The tests here need no lab: they hold the tables to their rules.

use crate::table::{Scenario, all_rows, rows, tables, unknown_placeholder};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn at_least_twelve_scenarios_and_every_bundled_one_is_tested() {
    let trained: Vec<String> = all_rows().into_iter().filter_map(|r| r.training).collect();
    assert!(trained.len() >= 12, "{trained:?}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    for name in &trained {
        for ext in ["json", "toml"] {
            assert!(
                dir.join(format!("{name}.{ext}")).exists(),
                "{name}.{ext} is not bundled"
            );
        }
    }
    for e in std::fs::read_dir(&dir).expect("assets/scenarios").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(
                trained.iter().any(|t| t == stem),
                "{stem} is bundled but no table row rebuilds it"
            );
        }
    }
}

/// Every row has its test and every test its row; names are unique; every check key
/// parses and names a port where it must; every placeholder is known.
#[test]
fn every_row_has_a_test_and_reads_well() {
    let mut names = BTreeSet::new();
    for table in tables() {
        let rows = rows(table);
        let in_file: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let tested: BTreeSet<&str> = table.tests.iter().copied().collect();
        assert_eq!(in_file, tested, "{}: rows and tests differ", table.file);
        for row in &rows {
            assert!(names.insert(row.name.clone()), "{}: twice", row.name);
            assert!(!row.about.is_empty(), "{}: say what it is about", row.name);
            assert!(row.exit.is_some(), "{}: no exit code", row.name);
            assert!(row.verdict.is_some(), "{}: no verdict", row.name);
            for key in row.checks.keys().chain(row.says.keys()) {
                row.key(key);
            }
            row.problems();
            for s in row.strings() {
                let known = |n: &str| {
                    crate::table::PLACEHOLDERS.iter().any(|p| p.0 == n)
                        || crate::table::LAB_PLACEHOLDERS.contains(&n)
                };
                let mut rest = s.as_str();
                while let Some(n) = unknown_placeholder(rest) {
                    assert!(known(n), "{}: unknown placeholder {{{n}}}", row.name);
                    rest = &rest[rest.find(n).unwrap_or(0) + n.len()..];
                }
            }
        }
    }
}

/// A false alarm is as bad as a miss: every row that expects something to go wrong names
/// a healthy twin (exit 0) on the same ports, which must pass each of those checks (its
/// run asserts that, see `table::run`).
#[test]
fn every_broken_row_has_a_healthy_twin() {
    let all = all_rows();
    let find = |name: &str| -> &Scenario {
        all.iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    for row in &all {
        let problems = row.problems();
        let broken = !problems.is_empty() || row.exit != Some(0);
        match (&row.twin, broken) {
            (None, true) => panic!("{} goes wrong but names no healthy twin", row.name),
            (None, false) => {}
            (Some(twin), _) => {
                let twin = find(twin);
                assert_eq!(
                    twin.exit,
                    Some(0),
                    "{}: twin {} is not healthy",
                    row.name,
                    twin.name
                );
                assert!(twin.twin.is_none(), "{}: a twin has no twin", twin.name);
                for (id, port) in problems {
                    assert!(
                        port.is_none_or(|p| twin.ports.contains(&p)),
                        "{}: {id} at {port:?} is not on the ports of its twin {}",
                        row.name,
                        twin.name
                    );
                }
            }
        }
    }
}
