//! dsdoctor: finds out why a server is reachable over one IP family but not the other.
//!
//! Layers: `probe` gathers typed facts (async I/O, each probe bounded by a timeout),
//! `checks` turns facts into findings (pure), `verdict` picks the root cause, and
//! `report` renders the result. `engine` wires them together.
#![forbid(unsafe_code)]
// Outside tests a panic on a production box in mid-incident is never the right answer:
// every fallible step says what went wrong instead.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod assets;
mod atomic_file;
mod checks;
mod cli;
#[cfg(test)]
mod docs_tests;
mod engine;
mod facts;
mod firewall;
#[cfg(test)]
mod layers_tests;
mod model;
mod net;
mod options;
mod parse;
mod probe;
mod report;
mod sanitize;
mod snapshot;
#[cfg(test)]
pub(crate) mod testutil;
mod train;
mod tui;
mod verdict;
mod watch;

// The public surface: what the binary, the benches and the examples use. Everything else
// is private, so the compiler reports what nothing uses.
pub use cli::{Cli, Command, color_before_parsing, completions, help_for, usage_error};
pub use engine::{replay, run_with_facts};
pub use firewall::{Compiled, Packet};
// The report's types, so the lab tests read a report into the model, not into raw JSON.
pub use model::{Cause, CheckId, Family, Finding, Report, Stage, StageStatus, Status, Verdict};
pub use options::Color;
pub use parse::apache::{invocation as apache_invocation, parse_config as parse_apache};
pub use parse::nft::parse as parse_nft;
pub use parse::source::{FsSource, Input, Limits};
pub use probe::listeners::{attach_owners, dump_listeners};
pub use report::{fix_problems, list_checks, render, status_line};
pub use snapshot::{Snapshot, load as load_snapshot, save as save_snapshot};
pub use train::{list as scenarios, load as load_scenario};
pub use tui::{Mode as WizardMode, run as run_wizard};
pub use watch::{WatchConfig, run as run_watch};
