//! The lab test binary: dsdoctor on real hosts built from network namespaces.
//!
//! - `harness/`: the lab itself (topology, processes, DNS, web servers, firewall, the
//!   internet side, running dsdoctor, the typed report and its assertions, tmux);
//! - `table/` and `tables/*.toml`: scenario tables, one row a breakage with what must
//!   come out, one test a row;
//! - one module per area: `check`, `containers` (ports Docker publishes), `firewall`, `isp`, `mail` (their tables and the tests that are
//!   not one row), `regions` (the measurement network), `cli` (the command line's conventions, no lab needed), `hardening`, `network` (the lab's own tests), `replay`, `scenarios`
//!   (the training scenarios and the tables' own rules), `watch`, `wizard`.
//!
//! `cargo test --test lab` (root: the lab creates network namespaces; the tests fail, they
//! never skip, when it cannot). `cargo test --test lab isp::` runs one area.

mod harness;
#[macro_use]
mod table;

mod check;
mod cli;
mod containers;
mod firewall;
mod geo;
mod hardening;
mod isp;
mod mail;
mod network;
mod oracle;
mod oracle_gen;
mod reboot;
mod regions;
mod replay;
mod scenarios;
mod watch;
mod wizard;
