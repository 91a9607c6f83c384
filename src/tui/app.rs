//! The wizard's state machine: pure, driven by `Action`s, asking the runtime for side
//! effects (`Effect`s). Snapshot and state tests drive it without a terminal or probes.

use super::keys::{self, Command};
use super::theme::Theme;
use crate::engine::{Event, Judged, Scope};
use crate::facts::HostFacts;
use crate::model::{CheckId, Expect, Finding, PerStage, Stage, Status};
use crate::options::Options;
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Form,
    Wizard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Overview,
    Timeline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageRun {
    /// Not run yet in this session.
    Waiting,
    Running,
    Done(Status),
}

#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    /// The spinner's clock, only while a run is going on.
    Tick,
    /// What the engine session reported, and when (ms since the wizard started).
    Engine {
        event: Event,
        at_ms: u64,
    },
    /// The runtime's answer to an `Effect` (export path, clipboard), shown to the user.
    Message(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Ask the engine session for a run: every check, or one stage and its dependents.
    StartRun {
        run: u64,
        /// Boxed: the options are the largest of the effects by far.
        opts: Box<Options>,
        scope: Scope,
    },
    /// Put text on the clipboard (the runtime writes OSC 52).
    Copy(String),
    /// Write the markdown report with the timeline.
    Export,
    Quit,
}

/// One change seen by a check run.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// Milliseconds since the wizard started.
    pub at_ms: u64,
    pub run: u64,
    pub id: crate::model::CheckId,
    pub port: Option<u16>,
    pub before: Option<Status>,
    pub after: Status,
    pub summary: String,
}

impl TimelineEntry {
    /// The check, with its port where it has one: `listener.ipv6 :80`.
    pub fn label(&self) -> String {
        crate::model::Cause {
            check: self.id,
            port: self.port,
        }
        .label()
    }

    /// What the run changed: `fail → pass`, or the status a first run gave.
    pub fn change(&self) -> String {
        match self.before {
            Some(b) => format!("{} → {}", b.as_str(), self.after.as_str()),
            None => self.after.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub domain: String,
    pub ports: String,
    pub expect: Expect,
    pub focus: usize,
    pub error: Option<String>,
}

pub const FORM_FIELDS: usize = 3;

/// Probes the "ask the world" key asks for when `--regions` did not say.
pub const WIZARD_REGIONS: u16 = 8;

/// How old a finding on screen is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    /// The run whose facts it comes from.
    pub run: u64,
    /// The current run is gathering its facts again.
    pub pending: bool,
    /// ... and its results are streaming in: the finding is this run's, so far.
    pub partial: bool,
}

/// A training scenario: the trainee reads the story and picks a stage before the
/// findings are revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    pub title: String,
    pub story: String,
    /// The stage of the root cause (from the recording's verdict).
    pub answer: Option<Stage>,
    /// The trainee's pick, once answered.
    pub picked: Option<Stage>,
}

impl Training {
    pub fn quiz(&self) -> bool {
        self.picked.is_none()
    }
}

/// Shown as a REPLAY badge: whose facts these are.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayInfo {
    pub hostname: String,
    pub recorded_at: String,
}

pub struct App {
    pub screen: Screen,
    pub replay: Option<ReplayInfo>,
    pub training: Option<Training>,
    pub overlay: Option<Overlay>,
    pub form: Form,
    /// The options the diagnosis runs with (from the command line, then the form).
    pub opts: Options,
    pub host: Option<HostFacts>,
    pub stages: PerStage<StageRun>,
    /// Latest findings, tree order.
    pub findings: Vec<Finding>,
    /// The age of each finding on screen, by its check and port.
    ages: HashMap<(CheckId, Option<u16>), Age>,
    /// The stage the tree points at.
    pub stage: Stage,
    pub check: usize,
    pub fix: usize,
    pub scroll: u16,
    pub guided: bool,
    pub learn: bool,
    pub timeline: Vec<TimelineEntry>,
    pub message: Option<String>,
    pub spinner: usize,
    pub theme: Theme,
    pub quit: bool,
    /// How long the last finished run took.
    pub last_run_ms: Option<u64>,
    /// The newest run asked for; events of older runs are dropped.
    pub current_run: u64,
    /// The current run has not finished.
    running: bool,
    next_run: u64,
}

impl App {
    /// A wizard for `opts`; with `ask` the form is shown first (no domain on the
    /// command line), pre-filled from `opts`.
    pub fn new(opts: Options, ask: bool, theme: Theme) -> App {
        let form = Form {
            domain: opts.target.domain.clone(),
            ports: opts.target.ports_text(","),
            expect: opts.target.expect,
            focus: 0,
            error: None,
        };
        App {
            screen: if ask { Screen::Form } else { Screen::Wizard },
            replay: None,
            training: None,
            overlay: None,
            form,
            opts,
            host: None,
            stages: PerStage::filled(StageRun::Waiting),
            findings: Vec::new(),
            ages: HashMap::new(),
            stage: Stage::Dns,
            check: 0,
            fix: 0,
            scroll: 0,
            guided: true,
            learn: false,
            timeline: Vec::new(),
            message: None,
            spinner: 0,
            theme,
            quit: false,
            last_run_ms: None,
            current_run: 0,
            running: false,
            next_run: 1,
        }
    }

    /// The first effect: start the full run, unless the form must be filled first.
    pub fn start(&mut self) -> Vec<Effect> {
        if self.screen == Screen::Wizard && !self.in_quiz() {
            self.begin(Scope::All)
        } else {
            Vec::new()
        }
    }

    pub fn in_quiz(&self) -> bool {
        self.training.as_ref().is_some_and(|t| t.quiz())
    }

    pub fn running(&self) -> bool {
        self.running
    }

    /// The finding's age, when it is on screen.
    pub fn age(&self, f: &Finding) -> Option<Age> {
        self.ages.get(&(f.id, f.port)).copied()
    }

    /// The finding comes from facts of an earlier run, or is being checked again.
    pub fn is_older(&self, f: &Finding) -> bool {
        self.age(f)
            .is_some_and(|a| !a.partial && (a.pending || a.run < self.current_run))
    }

    pub fn selected_stage(&self) -> Stage {
        self.stage
    }

    pub fn stage_findings(&self, stage: Stage) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.stage == stage).collect()
    }

    pub fn selected_finding(&self) -> Option<&Finding> {
        self.stage_findings(self.selected_stage())
            .get(self.check)
            .copied()
    }

    /// Every command of the selected finding's fixes, numbered in the order shown.
    pub fn fix_commands(&self) -> Vec<String> {
        self.selected_finding()
            .map(|f| f.fixes.iter().flat_map(|x| x.typed().cloned()).collect())
            .unwrap_or_default()
    }

    /// The binding lists active now: the help screen and key bar show exactly these.
    pub fn bindings(&self) -> Vec<&'static [keys::Binding]> {
        match (self.screen, self.overlay) {
            (Screen::Form, _) => vec![keys::FORM],
            (Screen::Wizard, Some(_)) => vec![keys::GLOBAL],
            (Screen::Wizard, None) if self.in_quiz() => vec![keys::TRAIN, keys::GLOBAL],
            (Screen::Wizard, None) if self.stage == Stage::Isp => {
                vec![keys::ISP, keys::WIZARD, keys::GLOBAL]
            }
            (Screen::Wizard, None) => vec![keys::WIZARD, keys::GLOBAL],
        }
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(k) => self.key(k),
            Action::Tick => {
                self.spinner = self.spinner.wrapping_add(1);
                Vec::new()
            }
            Action::Engine { event, at_ms } => {
                self.engine(event, at_ms);
                Vec::new()
            }
            Action::Message(m) => {
                self.message = Some(crate::sanitize::clean(&m));
                Vec::new()
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if self.screen == Screen::Form {
            return self.form_key(k);
        }
        let lists = self.bindings();
        let Some(cmd) = keys::lookup(&lists, &k) else {
            return Vec::new();
        };
        self.message = None;
        if self.in_quiz() && self.overlay.is_none() {
            match cmd {
                Command::PrevStage => {
                    self.stage = self.stage.prev();
                    return Vec::new();
                }
                Command::NextStage => {
                    self.stage = self.stage.next();
                    return Vec::new();
                }
                Command::Start => return self.answer(),
                _ => {}
            }
        }
        match cmd {
            Command::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Command::Back => {
                if self.overlay.is_some() {
                    self.overlay = None;
                    Vec::new()
                } else {
                    self.quit = true;
                    vec![Effect::Quit]
                }
            }
            Command::Help => self.toggle(Overlay::Help),
            Command::Overview => self.toggle(Overlay::Overview),
            Command::Timeline => self.toggle(Overlay::Timeline),
            Command::Recheck => {
                let s = self.selected_stage();
                self.begin(Scope::Stage(s))
            }
            Command::RerunAll => self.begin(Scope::All),
            Command::AskWorld => {
                // `--regions N` says how many; without it the wizard asks a few.
                let mut opts = self.opts.clone();
                if opts.regions == 0 {
                    opts.regions = WIZARD_REGIONS;
                }
                self.message = Some(format!(
                    "asking {} probes of {} (up to 30 s)",
                    opts.regions,
                    crate::sanitize::clean(&opts.globalping_url)
                ));
                self.begin_with(Scope::World, opts)
            }
            Command::PrevStage => {
                self.guided = false;
                self.select_stage(self.stage.prev());
                Vec::new()
            }
            Command::NextStage => {
                self.guided = false;
                self.select_stage(self.stage.next());
                Vec::new()
            }
            Command::PrevCheck => {
                self.check = self.check.saturating_sub(1);
                self.fix = 0;
                self.scroll = 0;
                Vec::new()
            }
            Command::NextCheck => {
                let n = self.stage_findings(self.selected_stage()).len();
                self.check = (self.check + 1).min(n.saturating_sub(1));
                self.fix = 0;
                self.scroll = 0;
                Vec::new()
            }
            Command::SelectFix(n) => {
                let count = self.fix_commands().len();
                if usize::from(n) <= count && n > 0 {
                    self.fix = usize::from(n) - 1;
                }
                Vec::new()
            }
            Command::Copy => match self.fix_commands().get(self.fix) {
                Some(c) => {
                    self.message = Some(format!("copied fix {} to the clipboard", self.fix + 1));
                    vec![Effect::Copy(c.clone())]
                }
                None => {
                    self.message = Some("this check has no fix command to copy".into());
                    Vec::new()
                }
            },
            Command::Export => vec![Effect::Export],
            Command::Learn => {
                self.learn = !self.learn;
                Vec::new()
            }
            Command::Guided => {
                self.guided = true;
                self.guide();
                Vec::new()
            }
            Command::ScrollUp => {
                self.scroll = self.scroll.saturating_sub(5);
                Vec::new()
            }
            Command::ScrollDown => {
                self.scroll = self.scroll.saturating_add(5);
                Vec::new()
            }
            Command::NextField | Command::PrevField | Command::Start => Vec::new(),
        }
    }

    /// The trainee answered: say whether the pick was right, then reveal the findings.
    fn answer(&mut self) -> Vec<Effect> {
        let picked = self.selected_stage();
        if let Some(t) = self.training.as_mut() {
            t.picked = Some(picked);
            self.message = Some(match t.answer {
                Some(a) if a == picked => {
                    format!("Right: the root cause is in the {} stage", a.title())
                }
                Some(a) => format!(
                    "Not quite: you picked {}, the root cause is in {}",
                    picked.title(),
                    a.title()
                ),
                None => "This recording shows no failure".to_string(),
            });
        }
        self.guided = true;
        self.begin(Scope::All)
    }

    fn toggle(&mut self, o: Overlay) -> Vec<Effect> {
        self.overlay = if self.overlay == Some(o) {
            None
        } else {
            Some(o)
        };
        Vec::new()
    }

    fn select_stage(&mut self, s: Stage) {
        if s != self.stage {
            self.stage = s;
            self.check = self.first_interesting_check(s);
            self.fix = 0;
            self.scroll = 0;
        }
    }

    fn first_interesting_check(&self, stage: Stage) -> usize {
        let fs = self.stage_findings(stage);
        let rank = |s: Status| match s {
            Status::Fail => 0,
            Status::Error => 1,
            Status::Warn => 2,
            _ => 3,
        };
        fs.iter()
            .enumerate()
            .min_by_key(|(i, f)| (rank(f.status), *i))
            .filter(|(_, f)| rank(f.status) < 3)
            .map(|(i, _)| i)
            .unwrap_or(0)
    }

    fn form_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        match keys::lookup(&[keys::FORM], &k) {
            Some(Command::Quit) => {
                self.quit = true;
                return vec![Effect::Quit];
            }
            Some(Command::NextField) => self.form.focus = (self.form.focus + 1) % FORM_FIELDS,
            Some(Command::PrevField) => {
                self.form.focus = (self.form.focus + FORM_FIELDS - 1) % FORM_FIELDS
            }
            Some(Command::Start) => return self.submit_form(),
            _ => self.form_edit(k),
        }
        Vec::new()
    }

    fn form_edit(&mut self, k: KeyEvent) {
        self.form.error = None;
        if self.form.focus == 2 {
            let order = [Expect::Both, Expect::Ipv4, Expect::Ipv6];
            let i = order
                .iter()
                .position(|e| *e == self.form.expect)
                .unwrap_or(0);
            match k.code {
                KeyCode::Left => self.form.expect = order[(i + 2) % 3],
                KeyCode::Right | KeyCode::Char(' ') => self.form.expect = order[(i + 1) % 3],
                _ => {}
            }
            return;
        }
        let field = if self.form.focus == 0 {
            &mut self.form.domain
        } else {
            &mut self.form.ports
        };
        match k.code {
            KeyCode::Backspace => {
                field.pop();
            }
            KeyCode::Char(c) if !c.is_control() && field.len() < 253 => field.push(c),
            _ => {}
        }
    }

    fn submit_form(&mut self) -> Vec<Effect> {
        // The first field that does not parse gets the focus and the message.
        let parsed = crate::options::parse_domain(self.form.domain.trim())
            .map_err(|e| (0, e))
            .and_then(|d| {
                crate::options::parse_ports(self.form.ports.trim())
                    .map(|p| (d, p))
                    .map_err(|e| (1, e))
            });
        let (domain, ports) = match parsed {
            Ok(v) => v,
            Err((focus, e)) => {
                self.form.error = Some(e);
                self.form.focus = focus;
                return Vec::new();
            }
        };
        self.opts.target.domain = domain;
        self.opts.target.ports = ports;
        self.opts.target.expect = self.form.expect;
        self.screen = Screen::Wizard;
        // New options: nothing on screen is about them.
        self.findings.clear();
        self.ages.clear();
        self.begin(Scope::All)
    }

    /// Start a run; a run already going on is superseded (its late events carry an old
    /// id and are dropped).
    fn begin(&mut self, scope: Scope) -> Vec<Effect> {
        self.begin_with(scope, self.opts.clone())
    }

    /// `begin` with options of its own (the world asked with `--regions` set).
    fn begin_with(&mut self, scope: Scope, opts: Options) -> Vec<Effect> {
        let id = self.next_run;
        self.next_run += 1;
        self.current_run = id;
        self.running = true;
        let plan = scope.plan_for(&opts);
        for s in Stage::ALL {
            if plan.checks.iter().any(|c| c.stage() == s) {
                self.stages[s] = StageRun::Running;
            }
        }
        vec![Effect::StartRun {
            run: id,
            opts: Box::new(opts),
            scope,
        }]
    }

    fn engine(&mut self, event: Event, at_ms: u64) {
        if event.run() != self.current_run {
            return;
        }
        match event {
            Event::Started { host, .. } => self.host = Some(host),
            Event::Evaluated { run, findings, .. } => self.install(findings, run, at_ms),
            Event::Finished {
                run,
                findings,
                duration_ms,
            } => {
                self.install(findings, run, at_ms);
                self.running = false;
                self.last_run_ms = Some(duration_ms);
            }
        }
        self.guide();
    }

    /// Show what the engine evaluated, recording what changed in the timeline. A check
    /// whose facts are still being gathered keeps its earlier finding (marked as being
    /// re-checked), or stays hidden on a first run.
    fn install(&mut self, judged: Vec<Judged>, run: u64, at_ms: u64) {
        let mut findings = Vec::with_capacity(judged.len());
        let mut ages = HashMap::with_capacity(judged.len());
        let mut stage_pending = PerStage::filled(false);
        for j in judged {
            let key = (j.finding.id, j.finding.port);
            let old = self.findings.iter().find(|o| (o.id, o.port) == key);
            if j.pending && !j.partial {
                stage_pending[j.finding.stage] = true;
                if let (Some(o), Some(a)) = (old, self.ages.get(&key)) {
                    findings.push(o.clone());
                    ages.insert(
                        key,
                        Age {
                            run: a.run,
                            pending: true,
                            partial: false,
                        },
                    );
                }
                continue;
            }
            let before = old.map(|o| o.status);
            if before != Some(j.finding.status) {
                self.timeline.push(TimelineEntry {
                    at_ms,
                    run,
                    id: j.finding.id,
                    port: j.finding.port,
                    before,
                    after: j.finding.status,
                    summary: j.finding.summary.clone(),
                });
            }
            if j.pending {
                // Results streaming in (the measurement network): shown as they come,
                // the stage still running.
                stage_pending[j.finding.stage] = true;
            }
            ages.insert(
                key,
                Age {
                    run: j.run,
                    pending: j.pending,
                    partial: j.pending,
                },
            );
            findings.push(j.finding);
        }
        self.findings = findings;
        self.ages = ages;
        for s in Stage::ALL {
            let mine = self.findings.iter().filter(|f| f.stage == s);
            self.stages[s] = if stage_pending[s] {
                StageRun::Running
            } else if self.findings.iter().any(|f| f.stage == s) {
                StageRun::Done(Status::worst(mine.map(|f| f.status)))
            } else {
                StageRun::Waiting
            };
        }
        let n = self.stage_findings(self.selected_stage()).len();
        self.check = self.check.min(n.saturating_sub(1));
    }

    /// Guided mode: stop at the first failing stage; while everything passes, follow
    /// the run; at the end, the first stage with a warning, else the last stage.
    fn guide(&mut self) {
        if !self.guided {
            return;
        }
        let failing = self
            .stages
            .find(|s| matches!(s, StageRun::Done(Status::Fail)));
        let running = self
            .stages
            .find(|s| matches!(s, StageRun::Running | StageRun::Waiting));
        let warning = self
            .stages
            .find(|s| matches!(s, StageRun::Done(Status::Warn | Status::Error)));
        let target = failing.or(running).or(warning).unwrap_or(Stage::Isp);
        if target != self.stage {
            self.stage = target;
            self.fix = 0;
            self.scroll = 0;
        }
        self.check = self.first_interesting_check(self.selected_stage());
    }

    /// The verdict over what is known so far.
    pub fn verdict(&self) -> crate::model::Verdict {
        crate::verdict::verdict(&self.findings)
    }
}

#[cfg(test)]
pub(crate) mod tests;
