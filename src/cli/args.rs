//! The command line's shape: subcommands, options and their help. build.rs compiles this
//! file as well, to write the completion scripts and the man page from the very
//! definition the binary parses with; so it names nothing but clap, std and what its
//! parent module provides (the value parsers and the types they return).

use super::{
    IpNet, PortList, parse_domain, parse_echo_url, parse_egress, parse_interval, parse_ports,
    parse_prefix, parse_resolver, parse_timeout,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "dsdoctor",
    version,
    // main.rs and build.rs put the commit next to the version: `--version`, man page.
    about = "Finds out why a server is reachable over IPv4 but not IPv6, or the reverse",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Domain the site is served under (the interactive wizard)
    #[arg(value_parser = parse_domain)]
    pub domain: Option<String>,
    #[command(flatten)]
    pub common: Common,
    /// Replay facts recorded with `check --save-facts` instead of probing this system
    #[arg(long, value_name = "FILE")]
    pub replay: Option<std::path::PathBuf>,
    /// When to colour the output: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorArg,
}

/// `--color`: whether the output is coloured (see `options::Color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// The shells `completions` writes a script for: the ones the Debian package installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole decision tree once and print a report (exit codes as Nagios)
    Check(CheckArgs),
    /// Run the tree repeatedly and report every change (monitoring)
    Watch(WatchArgs),
    /// Training: real breakage recorded in a lab; guess the stage, then see the findings
    Train(TrainArgs),
    /// Print the completion script for a shell (the Debian package installs them)
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: ShellArg,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The scenario to play (without one, list them)
    pub scenario: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Domain the site is served under
    #[arg(value_parser = parse_domain)]
    pub domain: String,
    #[command(flatten)]
    pub common: Common,
    /// Time between runs (30s, 5m)
    #[arg(long, value_parser = parse_interval, default_value = "60s")]
    pub interval: Duration,
    /// After each run, write node_exporter textfile-collector metrics to PATH
    #[arg(long = "prometheus-textfile", value_name = "PATH")]
    pub prometheus_textfile: Option<std::path::PathBuf>,
    /// On every change, run CMD with `sh -c`, the event as JSON on its standard input
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// With --regions N: ask the measurement network on every Kth run only (its quota
    /// is small; the first run asks)
    #[arg(long = "regions-every", value_name = "K", default_value = "1", value_parser = clap::value_parser!(u64).range(1..))]
    pub regions_every: u64,
    /// Stop after N runs (default: run until interrupted)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Domain the site is served under
    #[arg(value_parser = parse_domain, required_unless_present_any = ["replay", "list_checks"])]
    pub domain: Option<String>,
    #[command(flatten)]
    pub common: Common,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also write every fact gathered to FILE (JSON), for --replay
    #[arg(long = "save-facts", value_name = "FILE", conflicts_with = "replay")]
    pub save_facts: Option<std::path::PathBuf>,
    /// Evaluate facts recorded with --save-facts instead of probing this system
    #[arg(long, value_name = "FILE")]
    pub replay: Option<std::path::PathBuf>,
    /// List every check (id, stage, per port, what it establishes) and exit
    #[arg(long = "list-checks", exclusive = false, conflicts_with_all = ["replay", "save_facts"])]
    pub list_checks: bool,
    /// Print only the status line (`DSDOCTOR FAIL check - summary`), for cron and mail
    #[arg(short = 'q', long, conflicts_with_all = ["format", "list_checks"])]
    pub quiet: bool,
}

/// `--format`: the report formats (`report::Format`), as the command line names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExpectArg {
    Both,
    Ipv4,
    Ipv6,
}

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Comma-separated TCP ports the site serves
    #[arg(short = 'p', long = "port", value_parser = parse_ports, default_value = "80,443")]
    pub ports: PortList,
    /// Which families the site is meant to serve
    #[arg(long, value_enum, default_value = "both")]
    pub expect: ExpectArg,
    /// DNS server to ask instead of resolv.conf: IP, IP:PORT or [IPv6]:PORT (repeatable)
    #[arg(long = "resolver", value_parser = parse_resolver)]
    pub resolvers: Vec<SocketAddr>,
    /// ifconfig.co-compatible echo service (repeatable)
    #[arg(long = "echo-url", value_parser = parse_echo_url)]
    pub echo_urls: Vec<String>,
    /// HOST:PORT target for outbound reachability probes (repeatable)
    #[arg(long = "egress", value_parser = parse_egress)]
    pub egress: Vec<String>,
    /// HOST:PORT of a receiving mail server for the outbound port-25 probe (repeatable)
    #[arg(long = "mail-egress", value_name = "HOST:PORT", value_parser = parse_egress)]
    pub mail_egress: Vec<String>,
    /// A DNS blocklist zone to look the sending addresses up in (repeatable)
    #[arg(long = "dnsbl", value_name = "ZONE", value_parser = parse_domain)]
    pub dnsbl: Vec<String>,
    /// Treat addresses in PREFIX as reachable by the site's clients (repeatable)
    #[arg(long = "assume-public", value_parser = parse_prefix)]
    pub assume_public: Vec<IpNet>,
    /// Limit for any single probe (500ms, 3s)
    #[arg(long, value_parser = parse_timeout, default_value = "3s")]
    pub timeout: Duration,
    /// Run no probe that leaves this host (DNS to a local resolver is allowed)
    #[arg(long)]
    pub offline: bool,
    /// Ask N vantage points of the measurement network to fetch the site over both
    /// families (isp.regions; spends its quota, takes up to 30 s); 0 turns it off
    #[arg(long, value_name = "N", default_value = "0", value_parser = clap::value_parser!(u16).range(0..=64))]
    pub regions: u16,
    /// Base URL of the Globalping-compatible API (token from GLOBALPING_TOKEN)
    #[arg(
        long = "globalping-url",
        value_name = "URL",
        value_parser = parse_echo_url,
        default_value = "https://api.globalping.io/v1"
    )]
    pub globalping_url: String,
}
