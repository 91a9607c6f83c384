//! One engine session: every front end (check, watch, the wizard, replay, training)
//! runs the tree through it. A run gathers the fact parts its scope needs, keeps the
//! earlier run's facts for the rest, evaluates the whole catalogue as parts arrive and
//! streams what it found; each finding says which run its facts come from.

use super::scope::{Plan, Scope};
use crate::checks::catalogue::def;
use crate::facts::{FactPart, Facts, HostFacts, PartKind, PartialFacts};
use crate::model::Finding;
use crate::options::Options;
use crate::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// A finding with its age.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub finding: Finding,
    /// The run that gathered the oldest fact part the check read (0: never gathered).
    pub run: u64,
    /// A part the check reads is still being gathered by the current run: the finding
    /// is from the facts known so far.
    pub pending: bool,
    /// Every part still pending has sent partial facts this run (results streaming in):
    /// the finding is about this run's facts so far, worth showing.
    pub partial: bool,
}

/// What a run reports, in order: `Started`, any number of `Evaluated`, `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Started {
        run: u64,
        scope: Scope,
        host: HostFacts,
        /// The parts this run gathers.
        parts: Vec<PartKind>,
    },
    /// A fact part arrived and every check was evaluated again.
    Evaluated {
        run: u64,
        part: PartKind,
        findings: Vec<Judged>,
    },
    Finished {
        run: u64,
        findings: Vec<Judged>,
        /// How long the run took, from its start to its last part.
        duration_ms: u64,
    },
}

impl Event {
    pub fn run(&self) -> u64 {
        match self {
            Event::Started { run, .. }
            | Event::Evaluated { run, .. }
            | Event::Finished { run, .. } => *run,
        }
    }
}

/// Facts of the last finished run, and which run gathered each part.
#[derive(Debug, Clone)]
struct Store {
    opts: Options,
    facts: Facts,
    part_runs: BTreeMap<PartKind, u64>,
}

/// One run, fed part by part (pure: tests and replay drive it without a runtime).
pub struct RunState {
    run: u64,
    opts: Options,
    facts: PartialFacts,
    part_runs: BTreeMap<PartKind, u64>,
    waiting: BTreeSet<PartKind>,
    /// Parts that sent partial facts this run and will send more.
    streaming: BTreeSet<PartKind>,
}

impl RunState {
    /// A run over `plan`, starting from the earlier run's facts when they were gathered
    /// for the same options (a first run gathers everything).
    fn new(run: u64, opts: &Options, host: HostFacts, plan: &Plan, prior: Option<Store>) -> Self {
        match prior.filter(|p| p.opts.same_diagnosis(opts)) {
            Some(p) => {
                let mut facts = p.facts;
                facts.host = host;
                RunState {
                    run,
                    opts: opts.clone(),
                    facts: PartialFacts::from_facts(facts),
                    part_runs: p.part_runs,
                    waiting: plan.parts.clone(),
                    streaming: BTreeSet::new(),
                }
            }
            None => RunState {
                run,
                opts: opts.clone(),
                facts: PartialFacts::new(host),
                part_runs: BTreeMap::new(),
                waiting: PartKind::ALL.into_iter().collect(),
                streaming: BTreeSet::new(),
            },
        }
    }

    /// The parts this run gathers.
    pub fn gathering(&self) -> Vec<PartKind> {
        self.waiting.iter().copied().collect()
    }

    /// The run's first event.
    fn started(&self, scope: Scope) -> Event {
        Event::Started {
            run: self.run,
            scope,
            host: self.facts.facts().host.clone(),
            parts: self.gathering(),
        }
    }

    fn prior_facts(&self) -> Option<&Facts> {
        (!self.part_runs.is_empty()).then(|| self.facts.facts())
    }

    /// Take in a part that arrived.
    fn apply(&mut self, part: FactPart) -> PartKind {
        let kind = part.kind();
        let last = part.is_final();
        self.facts.apply(part);
        self.part_runs.insert(kind, self.run);
        if last {
            self.waiting.remove(&kind);
            self.streaming.remove(&kind);
        } else {
            self.streaming.insert(kind);
        }
        kind
    }

    /// Every check evaluated over the facts known now.
    fn evaluated(&self, part: PartKind) -> Event {
        Event::Evaluated {
            run: self.run,
            part,
            findings: self.judge(),
        }
    }

    fn judge(&self) -> Vec<Judged> {
        crate::checks::evaluate(self.facts.facts(), &self.opts)
            .into_iter()
            .map(|finding| {
                let reads = def(finding.id).reads;
                let mut pending = reads.iter().filter(|p| self.waiting.contains(p)).peekable();
                let is_pending = pending.peek().is_some();
                let partial = is_pending && pending.all(|p| self.streaming.contains(p));
                Judged {
                    partial,
                    run: reads
                        .iter()
                        .map(|p| self.part_runs.get(p).copied().unwrap_or(0))
                        .min()
                        .unwrap_or(self.run),
                    pending: is_pending,
                    finding,
                }
            })
            .collect()
    }

    /// The run is over: parts that never came stay as they were.
    fn finish(mut self, duration_ms: u64) -> (Event, Store) {
        self.waiting.clear();
        self.streaming.clear();
        let event = Event::Finished {
            run: self.run,
            findings: self.judge(),
            duration_ms,
        };
        let store = Store {
            opts: self.opts,
            facts: self.facts.into_facts(),
            part_runs: self.part_runs,
        };
        (event, store)
    }
}

/// Where a session's facts come from.
#[derive(Clone)]
enum Source {
    Live,
    /// Recorded facts: every run (and re-check) replays them, touching nothing.
    Replay(Arc<Snapshot>),
}

#[derive(Default)]
struct Shared {
    store: Option<Store>,
    /// The newest run started: an older run that finishes later is not kept.
    latest: u64,
}

/// An engine session: runs share the facts of the last finished run.
#[derive(Clone)]
pub struct Session {
    source: Source,
    shared: Arc<Mutex<Shared>>,
    /// Evaluate after every part (the wizard draws stages as they are known); a headless
    /// run evaluates once, at the end.
    progress: bool,
}

impl Session {
    pub fn live() -> Session {
        Session {
            source: Source::Live,
            shared: Arc::default(),
            progress: true,
        }
    }

    pub fn replay(snap: Snapshot) -> Session {
        Session {
            source: Source::Replay(Arc::new(snap)),
            shared: Arc::default(),
            progress: true,
        }
    }

    /// Send no `Evaluated` events: only `Started` and `Finished` (`check`, `watch`).
    pub fn headless(mut self) -> Session {
        self.progress = false;
        self
    }

    /// Take in a part, reporting the evaluation when the session shows progress; false
    /// when nobody listens any more.
    fn take(&self, state: &mut RunState, part: FactPart, tx: &UnboundedSender<Event>) -> bool {
        let kind = state.apply(part);
        !self.progress || tx.send(state.evaluated(kind)).is_ok()
    }

    /// Start run `run` in the background; its events go to `tx`.
    pub fn start(&self, run: u64, scope: Scope, opts: Options, tx: UnboundedSender<Event>) {
        let me = self.clone();
        tokio::spawn(async move { me.run(run, scope, &opts, &tx).await });
    }

    /// The facts of the last finished run.
    pub fn facts(&self) -> Option<Facts> {
        self.lock().store.as_ref().map(|s| s.facts.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panic while holding the lock cannot leave the store half-written (it is
        // replaced whole), so a poisoned lock is still safe to use.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run to the end, sending every event; returns the `Finished` event's findings.
    pub async fn run(
        &self,
        run: u64,
        scope: Scope,
        opts: &Options,
        tx: &UnboundedSender<Event>,
    ) -> Vec<Judged> {
        let t0 = Instant::now();
        let prior = {
            let mut s = self.lock();
            s.latest = s.latest.max(run);
            s.store.clone()
        };
        let host = match &self.source {
            Source::Live => tokio::task::spawn_blocking(crate::probe::host::host_facts)
                .await
                .unwrap_or_else(|_| crate::probe::host::host_facts()),
            Source::Replay(s) => s.facts.host.clone(),
        };
        let plan = scope.plan_for(opts);
        let mut state = RunState::new(run, opts, host.clone(), &plan, prior);
        let want = state.gathering();
        let _ = tx.send(state.started(scope));
        match &self.source {
            Source::Replay(snap) => {
                for part in recorded(&snap.facts, &want) {
                    self.take(&mut state, part, tx);
                }
            }
            Source::Live => {
                let (ptx, mut prx) = tokio::sync::mpsc::unbounded_channel();
                let prior = state.prior_facts().cloned();
                let gather = async {
                    let (prior, detours) = (prior.as_ref(), crate::checks::detours);
                    crate::probe::gather_parts(opts, &want, prior, &host, detours, &ptx).await;
                    drop(ptx);
                };
                let forward = async {
                    while let Some(part) = prx.recv().await {
                        if !self.take(&mut state, part, tx) {
                            // Nobody listens any more (the wizard quit or moved on).
                            return;
                        }
                    }
                };
                tokio::join!(gather, forward);
            }
        }
        let (event, store) = state.finish(t0.elapsed().as_millis() as u64);
        let findings = match &event {
            Event::Finished { findings, .. } => findings.clone(),
            _ => Vec::new(),
        };
        {
            let mut s = self.lock();
            if s.latest == run {
                s.store = Some(store);
            }
        }
        let _ = tx.send(event);
        findings
    }
}

/// A session without a runtime, over facts given for each run: the events a session
/// sends when the world looks like `world` (tests of the wizard, the property test).
#[derive(Default)]
pub struct Stepper {
    store: Option<Store>,
    /// What each run reports as its duration.
    pub duration_ms: u64,
}

impl Stepper {
    pub fn run(&mut self, run: u64, scope: Scope, opts: &Options, world: &Facts) -> Vec<Event> {
        let plan = scope.plan_for(opts);
        let mut state = RunState::new(run, opts, world.host.clone(), &plan, self.store.take());
        let want = state.gathering();
        let mut out = vec![state.started(scope)];
        for part in recorded(world, &want) {
            let kind = state.apply(part);
            out.push(state.evaluated(kind));
        }
        let (event, store) = state.finish(self.duration_ms);
        self.store = Some(store);
        out.push(event);
        out
    }
}

/// The recorded parts a run wants, in the order a live run sends them.
fn recorded(facts: &Facts, want: &[PartKind]) -> impl Iterator<Item = FactPart> {
    facts
        .parts()
        .into_iter()
        .filter(move |p| want.contains(&p.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::facts::Probed;
    use crate::model::CheckId;

    /// Results of the measurement network stream in: the finding is shown from the
    /// partial facts (`partial`), still pending until the last word.
    #[test]
    fn a_streaming_part_is_pending_but_partial_until_its_last_word() {
        let mut opts = fixtures::options();
        opts.regions = 3;
        let healthy = fixtures::healthy();
        let mut state = RunState::new(
            1,
            &opts,
            healthy.host.clone(),
            &Scope::All.plan_for(&opts),
            None,
        );
        for part in healthy.parts() {
            if part.kind() != PartKind::Regions {
                state.apply(part);
            }
        }
        let mut partial = fixtures::regions();
        partial.complete = false;
        state.apply(FactPart::Regions(Some(Probed::ok(partial))));
        let judged = state.judge();
        let j = judged
            .iter()
            .find(|j| j.finding.id == CheckId::IspRegions)
            .expect("isp.regions judged");
        assert!(j.pending && j.partial, "{j:?}");
        assert!(
            j.finding.summary.contains("still measuring"),
            "{}",
            j.finding.summary
        );
        assert!(
            judged
                .iter()
                .filter(|j| j.finding.id != CheckId::IspRegions)
                .all(|j| !j.pending)
        );
        state.apply(FactPart::Regions(Some(Probed::ok(fixtures::regions()))));
        let judged = state.judge();
        assert!(judged.iter().all(|j| !j.pending && !j.partial));
    }

    #[test]
    fn a_run_that_does_not_ask_the_world_keeps_the_earlier_answer() {
        let opts = fixtures::options();
        assert!(
            !Scope::All
                .plan_for(&opts)
                .parts
                .contains(&PartKind::Regions)
        );
        let mut asking = opts.clone();
        asking.regions = 8;
        assert!(
            Scope::All
                .plan_for(&asking)
                .parts
                .contains(&PartKind::Regions)
        );
        assert!(opts.same_diagnosis(&asking));
        assert_eq!(
            Scope::World
                .plan_for(&asking)
                .parts
                .into_iter()
                .collect::<Vec<_>>(),
            vec![PartKind::Regions]
        );
    }
}
