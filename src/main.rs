#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use dualstack_doctor::{
    Cli, Command, Snapshot, WatchConfig, WizardMode, list_checks, load_scenario, load_snapshot,
    render, replay, run_watch, run_with_facts, run_wizard, save_snapshot, scenarios,
};
use std::io::Write;
use std::process::ExitCode;

/// Exit code 3: the diagnosis could not run (contract).
const UNUSABLE: u8 = 3;

fn main() -> ExitCode {
    let t0 = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line, so scripts and monitoring logs stay readable.
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("dsdoctor: {}", line.trim_start_matches("error: "));
            return ExitCode::from(UNUSABLE);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dsdoctor: cannot start the async runtime: {e}");
            return ExitCode::from(UNUSABLE);
        }
    };
    let code = match cli.command {
        Some(Command::Check(args)) if args.list_checks => {
            let text = list_checks(args.format.into());
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(UNUSABLE),
            }
        }
        Some(Command::Check(args)) => {
            let report = if let Some(path) = &args.replay {
                match load_snapshot(path) {
                    Ok(snap) => replay(&snap),
                    Err(e) => {
                        eprintln!("dsdoctor: {e}");
                        return ExitCode::from(UNUSABLE);
                    }
                }
            } else {
                let domain = args.domain.clone().unwrap_or_default();
                let opts = args.common.options(&domain);
                let (facts, report) = runtime.block_on(run_with_facts(&opts));
                if let Some(path) = &args.save_facts {
                    let snap = Snapshot::new(&opts, &facts, report.started_at.clone());
                    if let Err(e) = save_snapshot(path, &snap) {
                        eprintln!("dsdoctor: {e}");
                        return ExitCode::from(UNUSABLE);
                    }
                }
                report
            };
            let text = render(&report, args.format.into());
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                return ExitCode::from(UNUSABLE);
            }
            ExitCode::from(report.exit_code() as u8)
        }
        Some(Command::Train(args)) => match &args.scenario {
            None => {
                println!("Training scenarios (run one with `dsdoctor train NAME`):");
                for (name, title) in scenarios() {
                    println!("  {name:<24} {title}");
                }
                ExitCode::SUCCESS
            }
            Some(name) => match load_scenario(name) {
                Ok(sc) => {
                    let opts = sc.snapshot.options.clone();
                    match runtime.block_on(run_wizard(opts, false, WizardMode::Train(sc), t0)) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            eprintln!("dsdoctor: {e}");
                            ExitCode::from(UNUSABLE)
                        }
                    }
                }
                Err(e) => {
                    eprintln!("dsdoctor: {e}");
                    ExitCode::from(UNUSABLE)
                }
            },
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
            match runtime.block_on(run_watch(&opts, &cfg, &mut out)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("dsdoctor: {e}");
                    ExitCode::from(UNUSABLE)
                }
            }
        }
        None => {
            let ask = cli.domain.is_none();
            let domain = cli.domain.clone().unwrap_or_else(default_domain);
            let opts = cli.common.options(&domain);
            let replay = match cli.replay.as_deref().map(load_snapshot).transpose() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("dsdoctor: {e}");
                    return ExitCode::from(UNUSABLE);
                }
            };
            let mode = match replay {
                Some(s) => WizardMode::Replay(s),
                None => WizardMode::Live,
            };
            match runtime.block_on(run_wizard(opts, ask, mode, t0)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("dsdoctor: {e}");
                    ExitCode::from(UNUSABLE)
                }
            }
        }
    };
    // Probes still in flight when the user quits (a slow outside probe waiting for its
    // timeout) must not keep the process alive: the answer is no longer wanted.
    runtime.shutdown_background();
    code
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
