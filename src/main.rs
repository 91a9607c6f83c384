use clap::Parser;
use dualstack_doctor::cli::{Cli, Command};
use dualstack_doctor::{engine, report};
use std::io::Write;
use std::process::ExitCode;

/// Exit code 3: the diagnosis could not run (contract).
const UNUSABLE: u8 = 3;

fn main() -> ExitCode {
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
    match cli.command {
        Some(Command::Check(args)) => {
            let opts = args.common.options(&args.domain);
            let report = runtime.block_on(engine::run(&opts));
            let text = report::render(&report, args.format);
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
        None => {
            eprintln!(
                "dsdoctor: the interactive wizard is not available yet; run `dsdoctor check DOMAIN` for a report"
            );
            ExitCode::from(UNUSABLE)
        }
    }
}
