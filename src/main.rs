#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use anyhow::anyhow;
use clap::Parser;
use dualstack_doctor::{
    Cli, Command, Snapshot, WatchConfig, WizardMode, list_checks, load_scenario, load_snapshot,
    render, replay, run_watch, run_with_facts, run_wizard, save_snapshot, scenarios,
};
use std::io::Write;
use std::process::ExitCode;

/// Exit code 3: the diagnosis could not run (contract).
const UNUSABLE: u8 = 3;

/// The one exit path: a run that could not diagnose says why in one line and exits 3;
/// otherwise the front end's own code (the report's Nagios code for `check`).
fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            // Every error's message is whole (it names its cause), so the chain is not
            // printed again: one line, so scripts and monitoring logs stay readable.
            eprintln!("dsdoctor: {e}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let t0 = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    let code = command(cli, &runtime, t0);
    // Probes still in flight when the user quits (a slow outside probe waiting for its
    // timeout) must not keep the process alive: the answer is no longer wanted.
    runtime.shutdown_background();
    code
}

/// Help and version are answers (exit 0); anything else clap refuses is a usage error,
/// reported in its first line.
fn usage(e: clap::Error) -> anyhow::Result<ExitCode> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return Ok(ExitCode::SUCCESS);
    }
    let text = e.to_string();
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    Err(anyhow!("{}", line.trim_start_matches("error: ")))
}

fn command(
    cli: Cli,
    runtime: &tokio::runtime::Runtime,
    t0: std::time::Instant,
) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Check(args)) if args.list_checks => {
            print(&list_checks(args.format.into()))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check(args)) => {
            let report = if let Some(path) = &args.replay {
                replay(&load_snapshot(path)?)
            } else {
                let domain = args.domain.clone().unwrap_or_default();
                let opts = args.common.options(&domain);
                let (facts, report) = runtime.block_on(run_with_facts(&opts));
                if let Some(path) = &args.save_facts {
                    let snap = Snapshot::new(&opts, &facts, report.started_at.clone());
                    save_snapshot(path, &snap)?;
                }
                report
            };
            print(&render(&report, args.format.into()))?;
            Ok(ExitCode::from(report.exit_code() as u8))
        }
        Some(Command::Train(args)) => match &args.scenario {
            None => {
                let mut text =
                    String::from("Training scenarios (run one with `dsdoctor train NAME`):\n");
                for (name, title) in scenarios() {
                    text.push_str(&format!("  {name:<24} {title}\n"));
                }
                print(&text)?;
                Ok(ExitCode::SUCCESS)
            }
            Some(name) => {
                let sc = load_scenario(name)?;
                let opts = sc.snapshot.options.clone();
                runtime.block_on(run_wizard(opts, false, WizardMode::Train(sc), t0))?;
                Ok(ExitCode::SUCCESS)
            }
        },
        Some(Command::Watch(args)) => {
            let opts = args.common.options(&args.domain);
            let cfg = WatchConfig {
                interval: args.interval,
                prometheus_textfile: args.prometheus_textfile.clone(),
                exec: args.exec.clone(),
                count: args.count,
            };
            let mut out = std::io::stdout();
            runtime.block_on(run_watch(&opts, &cfg, &mut out))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let ask = cli.domain.is_none();
            let domain = cli.domain.clone().unwrap_or_else(default_domain);
            let opts = cli.common.options(&domain);
            let mode = match cli.replay.as_deref().map(load_snapshot).transpose()? {
                Some(s) => WizardMode::Replay(s),
                None => WizardMode::Live,
            };
            runtime.block_on(run_wizard(opts, ask, mode, t0))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Standard output closed early (`| head`) is a failure to deliver the report.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| anyhow!("cannot write the output: {e}"))
}

/// The host's fully qualified name as the kernel knows it, for the form's default.
fn default_domain() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let host = read("/proc/sys/kernel/hostname");
    let domain = read("/proc/sys/kernel/domainname");
    if !host.contains('.') && !domain.is_empty() && domain != "(none)" {
        format!("{host}.{domain}")
    } else {
        host
    }
}
