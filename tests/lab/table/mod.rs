//! Scenario tables: "build a lab, break it one way, run `dsdoctor check`, assert" as data.
//!
//! Each row of `tests/lab/tables/*.toml` (one file per area, the way trippy keeps its
//! simulations as data) names:
//! - the breakage: `zone` (what DNS serves) and `steps` ([`Step`]: services started, commands
//!   run, rules loaded, and checks that the breakage took effect), in order;
//! - the run: `ports`, extra `args`, who runs it (`run`);
//! - what must come out: `exit`, `verdict`, `stages`, `checks` (statuses by check id, or
//!   `id@PORT`), `says` (text in a finding's parts), `also` (report-wide invariants),
//!   `after` (more runs on the same host);
//! - `twin`: the healthy row that must pass every check this one expects to go wrong (a
//!   false alarm is as bad as a miss), and `training`: the bundled training scenario
//!   (assets/scenarios/NAME.json) the row records.
//!
//! Every row also checks that the report keeps the contract ([`validate_report`]) and that
//! replaying the facts it recorded gives exactly the live report. Strings may name the
//! lab's addresses as `{SRV_V6}` and the like ([`expand`]).
//!
//! `DSD_RECORD_SCENARIOS=1 cargo test --test lab` re-records the bundled training
//! snapshots (the stories, NAME.toml, are written by hand).

mod build;
mod expect;
mod row;

pub use row::{LAB_PLACEHOLDERS, PLACEHOLDERS, Scenario, expand, unknown_placeholder};

use crate::harness::*;
use row::{After, How};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One table file and the tests generated for its rows (by `scenario_tests!`).
pub struct Table {
    pub file: &'static str,
    pub text: &'static str,
    pub tests: &'static [&'static str],
}

/// `scenario_tests!("check.toml": row_a, row_b, ...)`: `TABLE` for the file and one
/// `#[test]` per row, named as the row.
macro_rules! scenario_tests {
    ($file:literal: $($name:ident),* $(,)?) => {
        /// The rows of this area's table, `tests/lab/tables/` + the file name.
        pub const TABLE: crate::table::Table = crate::table::Table {
            file: $file,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/tables/", $file)),
            tests: &[$(stringify!($name)),*],
        };
        $(
            #[test]
            fn $name() {
                crate::table::run(&TABLE, stringify!($name));
            }
        )*
    };
}

/// Every table of the binary.
pub fn tables() -> [&'static Table; 4] {
    [
        &crate::check::TABLE,
        &crate::firewall::TABLE,
        &crate::isp::TABLE,
        &crate::mail::TABLE,
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
}

/// The rows of `table`, with `same_as` resolved; panics naming the file on a parse error.
pub fn rows(table: &Table) -> Vec<Scenario> {
    let file: File = toml::from_str(table.text)
        .unwrap_or_else(|e| panic!("tests/lab/tables/{}: {e}", table.file));
    let raw = file.scenario;
    raw.iter()
        .map(|row| match &row.same_as {
            None => row.clone(),
            Some(other) => {
                let base = raw
                    .iter()
                    .find(|r| &r.name == other)
                    .unwrap_or_else(|| panic!("{}: same_as {other}: no such row", row.name));
                row.inherit(base)
            }
        })
        .collect()
}

/// The rows of every table.
pub fn all_rows() -> Vec<Scenario> {
    tables().into_iter().flat_map(rows).collect()
}

/// Run the row `name` of `table`: build, break, check, assert.
pub fn run(table: &Table, name: &str) {
    let all = all_rows();
    let sc = rows(table)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("tests/lab/tables/{}: no row {name}", table.file));

    let mut lab = Lab::with_zone(&sc.name, sc.zone.build());
    for step in &sc.steps {
        build::apply(&mut lab, step);
    }

    // The facts directory is writable for an unprivileged run too.
    let facts_dir = lab.dir().join("facts");
    std::fs::create_dir_all(&facts_dir).expect("create the facts directory");
    std::fs::set_permissions(
        &facts_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod the facts directory");
    let facts = facts_dir.join("live.json");
    let facts_s = facts.display().to_string();
    let ports = sc
        .ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut extra: Vec<String> = sc.args.iter().map(|a| expand(a, Some(&lab))).collect();
    extra.extend(["-p".into(), ports, "--save-facts".into(), facts_s]);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();

    let t0 = Instant::now();
    let live = match sc.run {
        How::Root => lab.check(&extra),
        How::Nobody => lab.check_as(RunAs::Nobody, &extra),
        How::WithoutNft => {
            let args = Lab::check_args(&extra);
            let (code, out, err) = lab.run_dsdoctor_in_mount_ns(
                "mount --bind /dev/null \"$(command -v nft || echo /usr/sbin/nft)\"",
                &args,
            );
            let run = CheckRun::parse(&format!("{args:?} without nft"), code, out, err);
            lab.assert_fixes_concrete(&run);
            run
        }
    };
    let took = t0.elapsed();
    if let Some(limit) = sc.within_s {
        assert!(
            took < Duration::from_secs(limit),
            "{}: the run took {took:?}, more than {limit} s",
            sc.name
        );
    }

    expect::assert_row(&sc, &lab, &live);
    validate_report(&live);
    for row in all.iter().filter(|r| r.twin.as_deref() == Some(&sc.name)) {
        for (id, port) in row.problems() {
            assert_eq!(
                live.status(id, port),
                Status::Pass,
                "{}: {id} (port {port:?}) goes wrong in {}, whose healthy twin this is: a \
                 false alarm here\n{}",
                sc.name,
                row.name,
                live.dump(id, port)
            );
        }
    }
    assert_replay_equals_live(&lab, &facts, &live);
    if let Some(training) = &sc.training {
        check_training(&lab, training, &facts, &live);
    }
    for after in &sc.after {
        run_after(&sc, &lab, &facts, &live, after);
    }
}

/// Replaying the recorded facts gives exactly the live report: exit code, findings,
/// verdict, stages, target, host and the recording's time.
fn assert_replay_equals_live(lab: &Lab, facts: &Path, live: &CheckRun) {
    assert!(facts.exists(), "no snapshot written to {}", facts.display());
    let replayed = lab.replay(facts);
    let (a, b) = (&replayed.report, &live.report);
    assert_eq!(replayed.code, live.code, "replay: exit code");
    assert_eq!(a.checks, b.checks, "replay: findings differ");
    assert_eq!(a.verdict, b.verdict, "replay: verdict differs");
    assert_eq!(a.stages, b.stages, "replay: stages differ");
    assert_eq!(a.target, b.target, "replay: target differs");
    assert_eq!(a.host.hostname, b.host.hostname, "replay: hostname");
    assert_eq!(a.started_at, b.started_at, "replay: the recording's time");
}

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios")
}

/// The bundled recording of training scenario `name` still tells the story the lab
/// produces today (its verdict); with `DSD_RECORD_SCENARIOS` set, re-record it instead.
fn check_training(lab: &Lab, name: &str, facts: &Path, live: &CheckRun) {
    let bundled = scenario_dir().join(format!("{name}.json"));
    assert!(
        scenario_dir().join(format!("{name}.toml")).exists(),
        "{name}: no story"
    );
    if std::env::var_os("DSD_RECORD_SCENARIOS").is_some() {
        std::fs::copy(facts, &bundled).expect("record the scenario");
        return;
    }
    let recorded = lab.replay(&bundled);
    assert_eq!(
        recorded.report.verdict.check, live.report.verdict.check,
        "{name}: the bundled recording is stale; re-record"
    );
}

fn run_after(sc: &Scenario, lab: &Lab, facts: &Path, live: &CheckRun, after: &After) {
    let name = &sc.name;
    match after {
        After::Offline => {
            // (Offline, the gateway pings of the route stage do not run either: not
            // asserted here.)
            let r = lab.check(&["--offline"]);
            r.assert_stage(Stage::Isp, Status::Skip);
            for c in r.in_stage(Stage::Isp) {
                assert!(
                    c.status == Status::Skip && c.summary.contains("--offline"),
                    "{name} --offline: {c:#?}"
                );
            }
        }
        After::Formats(needles) => {
            let verdict = format!(
                "VERDICT {}",
                live.report.verdict.status.as_str().to_uppercase()
            );
            for (format, must) in [("text", verdict.as_str()), ("markdown", "## Verdict")] {
                let mut args = Lab::check_args(&[]);
                let i = args
                    .iter()
                    .position(|a| a == "json")
                    .expect("--format json");
                args[i] = format.to_string();
                let (code, out, err) = lab.run_dsdoctor(&args);
                assert_eq!(
                    code, live.code,
                    "{name} {format}: exit {code}\n{out}\n{err}"
                );
                assert!(out.contains(must), "{name} {format} report:\n{out}");
                assert!(
                    !out.contains('\x1b'),
                    "{name} {format} report has ESC:\n{out:?}"
                );
                if format == "markdown" {
                    assert!(out.contains("```sh"), "{name}: no ```sh fence:\n{out}");
                } else {
                    for n in needles {
                        assert!(out.contains(n), "{name}: text report lacks {n:?}:\n{out}");
                    }
                }
            }
        }
        After::ReplayOutsideLab => {
            let out = std::process::Command::new(DSDOCTOR)
                .args(replay_args(facts, "json"))
                .output()
                .expect("run dsdoctor");
            let r = CheckRun::parse(
                "replay in the root namespace",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
            assert_eq!(
                r.report.checks, live.report.checks,
                "{name}: replay outside"
            );
        }
    }
}
