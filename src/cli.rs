//! The command line of the contract. Parsing errors exit 3 with one line, as the
//! contract's "the diagnosis could not run" code.

use crate::model::{Expect, Target};
use crate::options::Options;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "dsdoctor",
    version,
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole decision tree once and print a report (exit codes as Nagios)
    Check(CheckArgs),
    /// Run the tree repeatedly and report every change (monitoring)
    Watch(WatchArgs),
    /// Training: real breakage recorded in a lab; guess the stage, then see the findings
    Train(TrainArgs),
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
}

/// `--format`: the report formats (`report::Format`), as the command line names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

impl From<FormatArg> for crate::report::Format {
    fn from(f: FormatArg) -> Self {
        use crate::report::Format;
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
        }
    }
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
    /// Treat addresses in PREFIX as reachable by the site's clients (repeatable)
    #[arg(long = "assume-public", value_parser = parse_prefix)]
    pub assume_public: Vec<IpNet>,
    /// Limit for any single probe (500ms, 3s)
    #[arg(long, value_parser = parse_timeout, default_value = "3s")]
    pub timeout: Duration,
    /// Run no probe that leaves this host (DNS to a local resolver is allowed)
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortList(pub Vec<u16>);

/// The ports as the command line gives them (`80,443`); see `options::parse_ports`.
pub fn parse_ports(s: &str) -> Result<PortList, String> {
    crate::options::parse_ports(s).map(PortList)
}

pub use crate::options::parse_domain;

pub fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>().map_err(|_| {
        format!(
            "'{}' is not IP, IP:PORT or [IPv6]:PORT",
            crate::sanitize::clean(s)
        )
    })
}

pub fn parse_prefix(s: &str) -> Result<IpNet, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    s.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| {
        format!(
            "'{}' is not an address prefix such as 203.0.113.0/24 or 2001:db8::/32",
            crate::sanitize::clean(s)
        )
    })
}

/// `http://` or `https://` followed by a host: the ISP stage's echo service.
pub fn parse_echo_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "'{}' is not an http:// or https:// URL",
                crate::sanitize::clean(s)
            )
        })?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || s.chars()
            .any(|c| crate::sanitize::is_dangerous(c) || c.is_whitespace())
    {
        return Err(format!(
            "'{}' is not a usable URL",
            crate::sanitize::clean(s)
        ));
    }
    Ok(s.to_string())
}

/// `HOST:PORT` or `[IPv6]:PORT`.
pub fn parse_egress(s: &str) -> Result<String, String> {
    if s.parse::<SocketAddr>().is_ok() {
        return Ok(s.to_string());
    }
    let bad = || {
        format!(
            "'{}' is not HOST:PORT or [IPv6]:PORT",
            crate::sanitize::clean(s)
        )
    };
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    port.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(bad)?;
    parse_domain(host).map_err(|_| bad())?;
    Ok(s.to_string())
}

/// A duration such as `examples` within `range`, else an error saying `rule`.
fn parse_duration_in(
    s: &str,
    examples: &str,
    range: std::ops::RangeInclusive<Duration>,
    rule: &str,
) -> Result<Duration, String> {
    let clean = crate::sanitize::clean;
    let d = humantime::parse_duration(s).map_err(|e| {
        format!(
            "'{}' is not a duration such as {examples}: {}",
            clean(s),
            clean(&e.to_string())
        )
    })?;
    if !range.contains(&d) {
        return Err(format!("'{}': {rule}", clean(s)));
    }
    Ok(d)
}

pub fn parse_interval(s: &str) -> Result<Duration, String> {
    parse_duration_in(
        s,
        "30s or 5m",
        Duration::from_secs(1)..=Duration::MAX,
        "the interval must be at least 1s",
    )
}

pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    parse_duration_in(
        s,
        "500ms or 3s",
        Duration::from_nanos(1)..=Duration::from_secs(300),
        "the timeout must be between 1ms and 300s",
    )
}

impl Common {
    pub fn options(&self, domain: &str) -> Options {
        Options {
            target: Target {
                domain: domain.to_string(),
                ports: self.ports.0.clone(),
                expect: match self.expect {
                    ExpectArg::Both => Expect::Both,
                    ExpectArg::Ipv4 => Expect::Ipv4,
                    ExpectArg::Ipv6 => Expect::Ipv6,
                },
            },
            resolvers: self.resolvers.clone(),
            echo_urls: self.echo_urls.clone(),
            egress: self.egress.clone(),
            assume_public: self.assume_public.clone(),
            timeout: self.timeout,
            offline: self.offline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_ports("80,443").unwrap().0, vec![80, 443]);
        assert_eq!(parse_ports("80, 80").unwrap().0, vec![80]);
        for bad in ["80,x", "0", "65536", ""] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(parse_domain("Shop.Example.").unwrap(), "shop.example");
        let long_label = "a".repeat(64);
        for bad in [
            "bad..name",
            "-x.example",
            "a b.example",
            "x\u{1b}[31m.example",
            "192.0.2.1",
            &long_label,
        ] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolvers_and_prefixes() {
        assert_eq!(parse_resolver("192.0.2.53").unwrap().port(), 53);
        assert_eq!(parse_resolver("[2001:db8::53]:5353").unwrap().port(), 5353);
        assert!(parse_resolver("2001:db8::53").unwrap().is_ipv6());
        assert!(parse_resolver("dns.example").is_err());
        assert_eq!(
            parse_prefix("2001:db8::1/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            parse_prefix("192.0.2.1").unwrap().to_string(),
            "192.0.2.1/32"
        );
        assert!(parse_prefix("nope").is_err());
    }

    #[test]
    fn echo_and_egress() {
        // (input, accepted)
        for (url, ok) in [
            ("https://ifconfig.co/", true),
            ("http://[2001:db8::1]:8080/", true),
            ("ftp://x", false),
            ("https://", false),
        ] {
            assert_eq!(parse_echo_url(url).is_ok(), ok, "{url}");
        }
        for (egress, ok) in [
            ("192.0.2.1:443", true),
            ("[2001:db8::1]:53", true),
            ("one.one.example:443", true),
            ("nohost", false),
            ("host:0", false),
        ] {
            assert_eq!(parse_egress(egress).is_ok(), ok, "{egress}");
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("fast").is_err());
    }

    /// Found by `fuzz_argument_parsers`: an argument pasted with escapes in it came back
    /// raw in the error message.
    #[test]
    fn argument_errors_are_inert() {
        for e in [
            parse_ports("8\u{1b}]52;c;AAAA\u{7}").unwrap_err(),
            parse_resolver("\u{1b}[2J").unwrap_err(),
            parse_prefix("\u{1b}[2J").unwrap_err(),
            parse_timeout("\u{1b}[2J").unwrap_err(),
            parse_interval("\u{1b}[2J").unwrap_err(),
            parse_echo_url("https://evil\u{202e}moc.example/").unwrap_err(),
        ] {
            assert!(!e.contains('\u{1b}') && !e.contains('\u{7}'), "{e:?}");
        }
    }

    #[test]
    fn fuzz_argument_parsers() {
        use crate::testutil::{Rng, fuzz_data, fuzz_iters, is_inert};
        let mut rng = Rng::seeded(0xc11_0000_0001);
        let vocab = fuzz_data("cli.vocab");
        for round in 0..fuzz_iters() {
            let s = if round % 4 == 0 {
                String::from_utf8_lossy(&rng.bytes(40)).into_owned()
            } else {
                rng.soup(&vocab, 12)
            };
            let results = [
                parse_ports(&s).map(|p| assert!(!p.0.contains(&0))),
                parse_domain(&s).map(|d| {
                    assert!(d.len() <= 253 && is_inert(&d));
                    assert_eq!(parse_domain(&d), Ok(d.clone()));
                }),
                parse_resolver(&s).map(drop),
                parse_prefix(&s).map(drop),
                parse_echo_url(&s).map(|u| assert!(is_inert(&u))),
                parse_egress(&s).map(|e| assert!(is_inert(&e))),
                parse_interval(&s).map(drop),
                parse_timeout(&s).map(drop),
            ];
            for r in results {
                if let Err(e) = r {
                    // An argument pasted from a hostile page must not reach the
                    // terminal raw through the error message.
                    assert!(is_inert(&e), "{e:?}");
                }
            }
        }
    }
}
