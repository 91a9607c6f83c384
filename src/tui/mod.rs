//! The interactive wizard: one `tokio::select!` over terminal input, a tick (only while
//! checks run), probe results and signals. `App` (pure) decides; this loop performs the
//! effects it asks for and draws.

pub mod app;
pub mod clipboard;
pub mod export;
pub mod keys;
pub mod theme;
pub mod view;

use crate::engine::Session;
use crate::options::Options;
use crate::snapshot::Snapshot;
use app::{Action, App, Effect};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// Run the wizard until the user quits (or the session drops). `t0` is the process
/// start, for the first-frame trace.
/// What the wizard shows.
pub enum Mode {
    /// Probe this host.
    Live,
    /// Recorded facts (`--replay`).
    Replay(Snapshot),
    /// A training scenario: guess the stage, then see the recorded findings.
    Train(crate::train::Scenario),
}

/// The wizard was started without a terminal (a script, cron, a pipe): the entry point
/// names the command for that case in its `help:` line.
#[derive(Debug, thiserror::Error)]
#[error("the wizard needs a terminal, and standard input or output is not one")]
pub struct NoTerminal;

pub async fn run(
    opts: Options,
    ask: bool,
    mode: Mode,
    color: crate::options::Color,
    t0: Instant,
) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(NoTerminal.into());
    }
    let (app, session) = prepare(opts, ask, mode, color);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, app, session, t0).await;
    ratatui::restore();
    result
}

/// The wizard's state and the session that feeds it, for the mode asked.
fn prepare(opts: Options, ask: bool, mode: Mode, color: crate::options::Color) -> (App, Session) {
    let mut training = None;
    let mut replay = None;
    let (opts, ask, session) = match mode {
        Mode::Live => (opts, ask, Session::live()),
        Mode::Replay(snap) => {
            replay = Some(app::ReplayInfo {
                hostname: snap.hostname.clone(),
                recorded_at: snap.recorded_at.clone(),
            });
            (snap.options.clone(), false, Session::replay(snap))
        }
        Mode::Train(sc) => {
            training = Some(app::Training {
                title: sc.title.clone(),
                story: sc.story.clone(),
                answer: sc.answer(),
                picked: None,
            });
            replay = Some(app::ReplayInfo {
                hostname: sc.snapshot.hostname.clone(),
                recorded_at: sc.snapshot.recorded_at.clone(),
            });
            (
                sc.snapshot.options.clone(),
                false,
                Session::replay(sc.snapshot),
            )
        }
    };
    let mut app = App::new(opts, ask, theme::Theme::from_env(color));
    app.training = training;
    app.replay = replay;
    (app, session)
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App,
    session: Session,
    t0: Instant,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    terminal.draw(|f| view::draw(f, &app))?;
    trace_first_frame(t0);

    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();

    let effects = app.start();
    perform(&mut app, effects, &tx, t0, &started_at, &session);
    let mut recheck = RecheckTrace::from_env();
    loop {
        terminal.draw(|f| view::draw(f, &app))?;
        recheck.drawn(&app);
        if app.quit {
            return Ok(());
        }
        let action = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind == KeyEventKind::Press => Action::Key(k),
                Some(Ok(_)) => continue, // resize, focus: redraw
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(a) = rx.recv() => a,
            _ = tick.tick(), if app.running() => Action::Tick,
            _ = term.recv() => return Ok(()),
            _ = hup.recv() => return Ok(()),
        };
        let key_at = Instant::now();
        let effects = app.update(action);
        recheck.asked(&effects, key_at);
        perform(&mut app, effects, &tx, t0, &started_at, &session);
    }
}

/// For the re-check bench: `DSDOCTOR_TRACE_RECHECK=FILE` appends, for every `r`, the
/// microseconds from the key to the first frame drawn after its run finished.
struct RecheckTrace {
    path: Option<std::ffi::OsString>,
    since: Option<Instant>,
}

impl RecheckTrace {
    fn from_env() -> RecheckTrace {
        RecheckTrace {
            path: std::env::var_os("DSDOCTOR_TRACE_RECHECK"),
            since: None,
        }
    }

    fn asked(&mut self, effects: &[Effect], at: Instant) {
        let recheck = effects.iter().any(|e| {
            matches!(
                e,
                Effect::StartRun {
                    scope: crate::engine::Scope::Stage(_),
                    ..
                }
            )
        });
        if self.path.is_some() && recheck {
            self.since = Some(at);
        }
    }

    fn drawn(&mut self, app: &App) {
        let (Some(path), Some(since)) = (&self.path, self.since) else {
            return;
        };
        if app.running() {
            return;
        }
        self.since = None;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{}", since.elapsed().as_micros());
        }
    }
}

fn perform(
    app: &mut App,
    effects: Vec<Effect>,
    tx: &UnboundedSender<Action>,
    t0: Instant,
    started_at: &str,
    session: &Session,
) {
    for e in effects {
        match e {
            Effect::Quit => app.quit = true,
            Effect::StartRun { run, opts, scope } => {
                let (etx, mut erx) = unbounded_channel();
                session.start(run, scope, *opts, etx);
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(event) = erx.recv().await {
                        let at_ms = t0.elapsed().as_millis() as u64;
                        if tx.send(Action::Engine { event, at_ms }).is_err() {
                            return;
                        }
                    }
                });
            }
            Effect::Copy(text) => {
                let mut out = std::io::stdout();
                let _ = out
                    .write_all(clipboard::osc52(&text).as_bytes())
                    .and_then(|_| out.flush());
            }
            Effect::Export => {
                let text = export::markdown(app, started_at);
                let stamp = started_at.replace([':', '-'], "");
                let cwd = std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir());
                let msg = match export::write(&cwd, &app.opts.target.domain, &stamp, &text) {
                    Ok(p) => format!("report written to {}", p.display()),
                    Err(e) => format!("could not write the report: {e}"),
                };
                app.update(Action::Message(msg));
            }
        }
    }
}

/// For the start-up bench: `DSDOCTOR_TRACE_FIRST_FRAME=FILE` records the microseconds
/// from process start to the first drawn frame.
fn trace_first_frame(t0: Instant) {
    if let Some(path) = std::env::var_os("DSDOCTOR_TRACE_FIRST_FRAME") {
        let _ = std::fs::write(path, format!("{}\n", t0.elapsed().as_micros()));
    }
}
