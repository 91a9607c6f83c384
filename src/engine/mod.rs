//! The engine: one session runs the decision tree for every front end (`check`,
//! `watch`, the wizard, `--replay`, training). It gathers facts (probes), evaluates the
//! catalogue (checks) and streams events; the front ends only consume them.

mod scope;
mod session;

pub use scope::Scope;
pub use session::{Event, Judged, Session, Stepper};

use crate::facts::Facts;
use crate::model::{Finding, HostId, Report, SCHEMA_VERSION, Tool};
use crate::options::Options;
use crate::verdict;
use std::time::SystemTime;

/// Build the report from facts, evaluated directly (tests compare the session with it).
#[cfg(test)]
pub fn report_from_facts(
    facts: &Facts,
    opts: &Options,
    started_at: String,
    duration_ms: u64,
) -> Report {
    let findings = crate::checks::evaluate(facts, opts);
    assemble(findings, opts, &facts.host, started_at, duration_ms)
}

/// The report around a set of findings.
pub fn assemble(
    findings: Vec<Finding>,
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

/// A live run of every check through a session, keeping the facts (`--save-facts`).
pub async fn run_with_facts(opts: &Options) -> (Facts, Report) {
    run_in(&Session::live().headless(), 1, opts).await
}

/// Run `run` of every check in `session`, which keeps what a run does not gather from
/// the run before (`watch`: the measurement network's answer between the runs that ask
/// it).
pub async fn run_in(session: &Session, run: u64, opts: &Options) -> (Facts, Report) {
    let started = SystemTime::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let drain = async { while rx.recv().await.is_some() {} };
    let (judged, ()) = tokio::join!(
        async {
            let j = session.run(run, Scope::All, opts, &tx).await;
            drop(tx);
            j
        },
        drain
    );
    let duration_ms = started.elapsed().map(|d| d.as_millis() as u64).unwrap_or(0);
    let started_at = humantime::format_rfc3339_seconds(started).to_string();
    let facts = session.facts().unwrap_or_else(|| {
        crate::facts::PartialFacts::new(crate::probe::host::host_facts()).into_facts()
    });
    let findings = judged.into_iter().map(|j| j.finding).collect();
    let report = assemble(findings, opts, &facts.host, started_at, duration_ms);
    (facts, report)
}

/// The report of a recorded snapshot (`check --replay`, training): a replay run of the
/// session over the recording's options and facts, dated when it was recorded.
pub fn replay(snap: &crate::snapshot::Snapshot) -> Report {
    let events = Stepper::default().run(1, Scope::All, &snap.options, &snap.facts);
    let findings = events
        .into_iter()
        .find_map(|e| match e {
            Event::Finished { findings, .. } => Some(findings),
            _ => None,
        })
        .unwrap_or_default()
        .into_iter()
        .map(|j| j.finding)
        .collect();
    assemble(
        findings,
        &snap.options,
        &snap.facts.host,
        snap.recorded_at.clone(),
        0,
    )
}
