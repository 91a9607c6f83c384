//! `dsdoctor watch`: the tree run again and again, reporting what changed — a check's
//! status, or a key fact (the host's IPv6 addresses, the A/AAAA answers, a listener
//! appearing or going) — as lines, a Prometheus textfile and a hook command.

pub mod events;
pub mod prometheus;

use crate::model::Report;
use crate::options::Options;
use events::{Event, KeyFacts};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

pub struct WatchConfig {
    pub interval: Duration,
    pub prometheus_textfile: Option<PathBuf>,
    pub exec: Option<String>,
    /// Stop after this many runs (none: until interrupted).
    pub count: Option<u64>,
    /// With `--regions N`: ask the measurement network on every Kth run (`--regions-every`).
    pub regions_every: u64,
}

/// How long a hook command may take before it is killed: a stuck mail relay must not
/// stop the monitoring.
const EXEC_LIMIT: Duration = Duration::from_secs(30);

pub async fn run(opts: &Options, cfg: &WatchConfig, out: &mut impl Write) -> anyhow::Result<()> {
    let mut prev: Option<(Report, KeyFacts)> = None;
    let mut n: u64 = 0;
    // One session for every run: a run that does not ask the measurement network keeps
    // the last answer (the engine plans no regions part for it) instead of "not asked".
    let session = crate::engine::Session::live().headless();
    loop {
        n += 1;
        let run_opts = Options {
            regions: if asks_the_world(n, cfg.regions_every) {
                opts.regions
            } else {
                0
            },
            ..opts.clone()
        };
        let (facts, report) = crate::engine::run_in(&session, n, &run_opts).await;
        let keys = KeyFacts::from_facts(&facts, opts);
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        writeln!(out, "{}", events::run_line(&now, n, &report))?;
        let evs: Vec<Event> = match &prev {
            Some((r, k)) => events::diff(&now, &opts.target.domain, r, k, &report, &keys),
            None => Vec::new(),
        };
        for e in &evs {
            writeln!(out, "{}", e.line())?;
        }
        out.flush()?;
        if let Some(path) = &cfg.prometheus_textfile {
            let regions_at = prometheus::regions_measured_at(&facts);
            let text = prometheus::render(&report, unix_now(), regions_at);
            if let Err(e) = crate::atomic_file::write(path, text.as_bytes()) {
                writeln!(out, "{now} error: cannot write {}: {e}", path.display())?;
            }
        }
        if let Some(cmd) = &cfg.exec {
            for e in &evs {
                if let Err(err) = exec_hook(cmd, e).await {
                    writeln!(out, "{now} error: --exec: {err}")?;
                }
            }
        }
        prev = Some((report, keys));
        if cfg.count.is_some_and(|c| n >= c) {
            return Ok(());
        }
        tokio::time::sleep(cfg.interval).await;
    }
}

/// Whether run `n` (from 1) asks the measurement network: the first, then every Kth.
fn asks_the_world(n: u64, every: u64) -> bool {
    (n - 1).is_multiple_of(every.max(1))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Run `sh -c CMD` with the event as JSON on its standard input.
async fn exec_hook(cmd: &str, e: &Event) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", cmd])
        .stdin(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start sh: {e}"))?;
    let json = serde_json::to_string(e)?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(json.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    match tokio::time::timeout(EXEC_LIMIT, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => anyhow::bail!("`{cmd}` exited with {status}"),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => anyhow::bail!(
            "`{cmd}` took longer than {} s and was killed",
            EXEC_LIMIT.as_secs()
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_world_is_asked_on_the_first_run_then_every_kth() {
        let asked: Vec<u64> = (1..=7).filter(|n| super::asks_the_world(*n, 3)).collect();
        assert_eq!(asked, vec![1, 4, 7]);
        assert!((1..=3).all(|n| super::asks_the_world(n, 1)));
    }
}
