#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use anyhow::anyhow;
use clap::{CommandFactory, FromArgMatches};
use dualstack_doctor::{
    Cli, Color, Command, Snapshot, WatchConfig, WizardMode, color_before_parsing, completions,
    help_for, list_checks, load_scenario, load_snapshot, render, replay, run_watch, run_with_facts,
    run_wizard, save_snapshot, scenarios, status_line, usage_error,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Exit code 3: the diagnosis could not run (contract).
const UNUSABLE: u8 = 3;

/// `--version`: the package version and the commit it was built from (build.rs).
const VERSION: &str = env!("DSDOCTOR_VERSION");

/// A run that could not diagnose: what went wrong and, where there is something to do,
/// what to do, in cargo's `error:` / `help:` form.
struct Failure {
    message: String,
    help: Option<String>,
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            help: help_for(&e),
            // Every error's message is whole (it names its cause), so the chain is not
            // printed again: one line for what went wrong, so logs stay readable.
            message: e.to_string(),
        }
    }
}

/// The one exit path: a run that could not diagnose says why (and what to do) on
/// standard error and exits 3; otherwise the front end's own code (the report's Nagios
/// code for `check`).
fn main() -> ExitCode {
    let color = color_before_parsing(std::env::args_os());
    match run(color) {
        Ok(code) => code,
        Err(f) => {
            let paint = color.enabled(std::io::stderr().is_terminal());
            // Cargo's colours: bold red for the error, bold cyan for the help.
            let label = |name: &str, sgr: &str| {
                if paint {
                    format!("\x1b[{sgr}m{name}:\x1b[0m")
                } else {
                    format!("{name}:")
                }
            };
            let mut text = format!("{} {}\n", label("error", "1;31"), f.message);
            if let Some(h) = &f.help {
                text.push_str(&format!("{} {h}\n", label("help", "1;36")));
            }
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            ExitCode::from(UNUSABLE)
        }
    }
}

/// `color`: `--color` as read before parsing, for clap's own help and errors.
fn run(color: Color) -> Result<ExitCode, Failure> {
    let t0 = std::time::Instant::now();
    let parsed = Cli::command()
        .version(VERSION)
        .color(match color {
            // clap's auto already follows NO_COLOR and the terminal.
            Color::Auto => clap::ColorChoice::Auto,
            Color::Always => clap::ColorChoice::Always,
            Color::Never => clap::ColorChoice::Never,
        })
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    let code = command(cli, &runtime, t0);
    // Probes still in flight when the user quits (a slow outside probe waiting for its
    // timeout) must not keep the process alive: the answer is no longer wanted.
    runtime.shutdown_background();
    Ok(code?)
}

/// Help and version are answers (exit 0); anything else clap refuses is a usage error:
/// clap's message, and its tip or the `--help` to read.
fn usage(e: clap::Error) -> Result<ExitCode, Failure> {
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
    let args: Vec<_> = std::env::args_os().collect();
    let (message, help) = usage_error(&e, &args);
    Err(Failure {
        message,
        help: Some(help),
    })
}

fn command(
    cli: Cli,
    runtime: &tokio::runtime::Runtime,
    t0: std::time::Instant,
) -> anyhow::Result<ExitCode> {
    let color = Color::from(cli.color);
    match cli.command {
        Some(Command::Completions(args)) => {
            let script = completions(args.shell, &mut Cli::command().version(VERSION));
            print(&String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
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
            if args.quiet {
                print(&format!("{}\n", status_line(&report)))?;
            } else {
                let paint = color.enabled(std::io::stdout().is_terminal());
                print(&render(&report, args.format.into(), paint))?;
            }
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
                runtime.block_on(run_wizard(opts, false, WizardMode::Train(sc), color, t0))?;
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
                regions_every: args.regions_every,
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
            runtime.block_on(run_wizard(opts, ask, mode, color, t0))?;
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
