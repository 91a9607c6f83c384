//! One diagnosis end to end: gather facts, evaluate, pick the verdict, build the report.

use crate::facts::Facts;
use crate::model::{HostId, Report, SCHEMA_VERSION, Tool};
use crate::options::Options;
use crate::{checks, probe, verdict};
use std::time::{Instant, SystemTime};

/// Build the report from facts (pure: also used by tests and, later, replay).
pub fn report_from_facts(
    facts: &Facts,
    opts: &Options,
    started_at: String,
    duration_ms: u64,
) -> Report {
    let findings = checks::evaluate(facts, opts);
    assemble(findings, opts, &facts.host, started_at, duration_ms)
}

/// The report around a set of findings (the wizard builds its findings stage by stage).
pub fn assemble(
    findings: Vec<crate::model::Finding>,
    opts: &Options,
    host: &crate::facts::HostFacts,
    started_at: String,
    duration_ms: u64,
) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "dsdoctor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        target: opts.target.clone(),
        host: HostId {
            hostname: host.hostname.clone(),
            kernel: host.kernel.clone(),
        },
        started_at,
        duration_ms,
        stages: verdict::stages(&findings),
        verdict: verdict::verdict(&findings),
        checks: findings,
    }
}

pub async fn run(opts: &Options) -> Report {
    run_with_facts(opts).await.1
}

/// A live run, keeping the facts (for `--save-facts`).
pub async fn run_with_facts(opts: &Options) -> (Facts, Report) {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let facts = probe::gather(opts).await;
    let started_at = humantime::format_rfc3339_seconds(started).to_string();
    let report = report_from_facts(&facts, opts, started_at, t0.elapsed().as_millis() as u64);
    (facts, report)
}

/// The report of a recorded snapshot: the recording's options, facts and time.
pub fn replay(snap: &crate::snapshot::Snapshot) -> Report {
    report_from_facts(&snap.facts, &snap.options, snap.recorded_at.clone(), 0)
}
