//! The interactive wizard: one `tokio::select!` over terminal input, a tick (only while
//! checks run), probe results and signals. `App` (pure) decides; this loop performs the
//! effects it asks for and draws.

pub mod app;
pub mod clipboard;
pub mod export;
pub mod keys;
pub mod theme;
pub mod view;

use crate::options::Options;
use crate::probe;
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

pub async fn run(opts: Options, ask: bool, mode: Mode, t0: Instant) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the wizard needs a terminal; for scripts and monitoring run `dsdoctor check DOMAIN`"
        );
    }
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, opts, ask, mode, t0).await;
    ratatui::restore();
    result
}

/// Where a run's facts come from.
#[derive(Clone)]
enum Source {
    Live,
    /// Recorded facts: every run (and re-check) replays them, touching nothing.
    Replay(std::sync::Arc<Snapshot>),
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    opts: Options,
    ask: bool,
    mode: Mode,
    t0: Instant,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut training = None;
    let (opts, ask, source) = match mode {
        Mode::Live => (opts, ask, Source::Live),
        Mode::Replay(snap) => (
            snap.options.clone(),
            false,
            Source::Replay(std::sync::Arc::new(snap)),
        ),
        Mode::Train(sc) => {
            training = Some(app::Training {
                title: sc.title.clone(),
                story: sc.story.clone(),
                answer: sc.answer(),
                picked: None,
            });
            (
                sc.snapshot.options.clone(),
                false,
                Source::Replay(std::sync::Arc::new(sc.snapshot)),
            )
        }
    };
    let mut app = App::new(opts, ask, theme::Theme::from_env());
    app.training = training;
    if let Source::Replay(s) = &source {
        app.replay = Some(app::ReplayInfo {
            hostname: s.hostname.clone(),
            recorded_at: s.recorded_at.clone(),
        });
    }
    terminal.draw(|f| view::draw(f, &app))?;
    trace_first_frame(t0);

    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();

    let effects = app.start();
    perform(&mut app, effects, &tx, t0, &started_at, &source);
    loop {
        terminal.draw(|f| view::draw(f, &app))?;
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
        let effects = app.update(action);
        perform(&mut app, effects, &tx, t0, &started_at, &source);
    }
}

fn perform(
    app: &mut App,
    effects: Vec<Effect>,
    tx: &UnboundedSender<Action>,
    t0: Instant,
    started_at: &str,
    source: &Source,
) {
    for e in effects {
        match e {
            Effect::Quit => app.quit = true,
            Effect::StartRun { run, opts, .. } => match source {
                Source::Live => spawn_run(run, opts, tx.clone(), t0),
                Source::Replay(snap) => replay_run(run, snap, tx, t0),
            },
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

/// Send a recording's facts as if a run had just gathered them.
fn replay_run(run: u64, snap: &Snapshot, tx: &UnboundedSender<Action>, t0: Instant) {
    let at_ms = t0.elapsed().as_millis() as u64;
    let _ = tx.send(Action::Started {
        run,
        host: snap.facts.host.clone(),
    });
    for part in snap.facts.parts() {
        let _ = tx.send(Action::Part { run, part, at_ms });
    }
    let _ = tx.send(Action::Finished { run, at_ms });
}

/// Gather facts in the background, streaming each part to the loop as it arrives.
fn spawn_run(run: u64, opts: Options, tx: UnboundedSender<Action>, t0: Instant) {
    tokio::spawn(async move {
        let ms = || t0.elapsed().as_millis() as u64;
        let host = tokio::task::spawn_blocking(probe::host::host_facts).await;
        let Ok(host) = host else { return };
        if tx.send(Action::Started { run, host }).is_err() {
            return;
        }
        let (ptx, mut prx) = unbounded_channel();
        let gather = async {
            probe::gather_parts(&opts, &ptx).await;
            drop(ptx);
        };
        let forward = async {
            while let Some(part) = prx.recv().await {
                if tx
                    .send(Action::Part {
                        run,
                        part,
                        at_ms: ms(),
                    })
                    .is_err()
                {
                    return;
                }
            }
        };
        tokio::join!(gather, forward);
        let _ = tx.send(Action::Finished { run, at_ms: ms() });
    });
}

/// For the start-up bench: `DSDOCTOR_TRACE_FIRST_FRAME=FILE` records the microseconds
/// from process start to the first drawn frame.
fn trace_first_frame(t0: Instant) {
    if let Some(path) = std::env::var_os("DSDOCTOR_TRACE_FIRST_FRAME") {
        let _ = std::fs::write(path, format!("{}\n", t0.elapsed().as_micros()));
    }
}
