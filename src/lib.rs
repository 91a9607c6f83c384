//! dsdoctor: finds out why a server is reachable over one IP family but not the other.
//!
//! Layers: `probe` gathers typed facts (async I/O, each probe bounded by a timeout),
//! `checks` turns facts into findings (pure), `verdict` picks the root cause, and
//! `report` renders the result. `engine` wires them together.
#![forbid(unsafe_code)]
// Outside tests a panic on a production box in mid-incident is never the right answer:
// every fallible step says what went wrong instead.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod assets;
pub mod atomic_file;
pub mod checks;
pub mod cli;
pub mod engine;
pub mod facts;
pub mod firewall;
#[cfg(test)]
mod layers_tests;
pub mod model;
pub mod net;
pub mod options;
pub mod parse;
pub mod probe;
pub mod report;
pub mod sanitize;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod testutil;
pub mod train;
pub mod tui;
pub mod verdict;
pub mod watch;
