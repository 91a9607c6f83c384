//! The command line of the contract: its shape (`args.rs`, shared with build.rs), the
//! value parsers, and what the entry point needs around them (completions, colour, the
//! `help:` line of an error). Errors exit 3, the contract's "the diagnosis could not
//! run" code.

mod args;

pub use args::*;

use crate::model::{Expect, Target};
use crate::options::{Color, Options};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `--format`: the report formats (`report::Format`), as the command line names them.
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

impl From<ColorArg> for Color {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => Color::Auto,
            ColorArg::Always => Color::Always,
            ColorArg::Never => Color::Never,
        }
    }
}

/// The completion script for `shell`, from the same definition clap parses with.
pub fn completions(shell: ShellArg, command: &mut clap::Command) -> Vec<u8> {
    use clap_complete::Shell;
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, command, "dsdoctor", &mut out);
    out
}

/// What the user can do about an error, for the `help:` line under it; `None` where the
/// message already says it, or nothing can be done from the command line.
pub fn help_for(e: &anyhow::Error) -> Option<String> {
    use crate::snapshot::Error as Snap;
    if e.downcast_ref::<crate::tui::NoTerminal>().is_some() {
        return Some("for scripts, cron and monitoring run `dsdoctor check DOMAIN`".into());
    }
    if let Some(crate::train::Error::Unknown { .. }) = e.downcast_ref() {
        return Some("`dsdoctor train` lists the scenarios with their stories".into());
    }
    let mut snap = e.downcast_ref::<Snap>()?;
    while let Snap::In { source, .. } = snap {
        snap = source.as_ref();
    }
    match snap {
        Snap::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Some(
            "record one on the host to diagnose: `dsdoctor check DOMAIN --save-facts FILE`".into(),
        ),
        Snap::Write { .. } => {
            Some("give --save-facts a path in a directory that exists and is writable".into())
        }
        Snap::TooLarge | Snap::NotASnapshot(_) | Snap::Damaged(_) => Some(
            "--replay reads the file `dsdoctor check --save-facts FILE` writes, unchanged".into(),
        ),
        _ => None,
    }
}

/// A command line clap refused, as `error:` and `help:` lines: clap's message (with the
/// lines it indents under it, such as the missing arguments), then clap's own tip where
/// it has one, else the `--help` of the subcommand in `args` (the raw arguments).
pub fn usage_error(e: &clap::Error, args: &[std::ffi::OsString]) -> (String, String) {
    let text = e.to_string();
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let mut message = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    let mut tip = None;
    let mut indented = true;
    for l in lines {
        let t = l.trim();
        if let Some(x) = t.strip_prefix("tip: ") {
            tip.get_or_insert_with(|| x.to_string());
        }
        indented &= l.starts_with("  ");
        if indented {
            message.push(' ');
            message.push_str(t);
        }
    }
    let help = tip.unwrap_or_else(|| {
        let cmd = <Cli as clap::CommandFactory>::command();
        let sub = args
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy())
            .find_map(|a| {
                cmd.find_subcommand(a.as_ref())
                    .map(|s| s.get_name().to_string())
            });
        match sub {
            Some(s) => format!("see `dsdoctor {s} --help` for the options"),
            None => "see `dsdoctor --help` for the options".to_string(),
        }
    });
    (
        crate::sanitize::clean(&message),
        crate::sanitize::clean(&help),
    )
}

/// `--color`'s value from the raw arguments, before clap has parsed them: clap's own
/// error (a usage error) is printed before any parse result exists. The last one wins,
/// as clap takes it.
pub fn color_before_parsing<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> Color {
    let mut choice = Color::Auto;
    let mut take_next = false;
    for a in args {
        let a = a.to_string_lossy();
        let value = if take_next {
            take_next = false;
            Some(a.as_ref())
        } else if a == "--color" {
            take_next = true;
            None
        } else {
            a.strip_prefix("--color=")
        };
        match value {
            Some("always") => choice = Color::Always,
            Some("never") => choice = Color::Never,
            Some("auto") => choice = Color::Auto,
            _ => {}
        }
        if a == "--" {
            break;
        }
    }
    choice
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
            mail_egress: self.mail_egress.clone(),
            dnsbl: self.dnsbl.clone(),
            regions: self.regions,
            globalping_url: self.globalping_url.clone(),
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

    fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
        args.iter().map(Into::into).collect()
    }

    fn refused(args: &[&str]) -> (String, String) {
        use clap::Parser;
        let e = Cli::try_parse_from(args).expect_err("clap refuses it");
        usage_error(&e, &os(args))
    }

    #[test]
    fn usage_errors_say_what_went_wrong_and_where_to_look() {
        let (m, h) = refused(&["dsdoctor", "check", "-p", "80,x", "shop.example"]);
        assert!(m.starts_with("invalid value '80,x'"), "{m}");
        assert!(!m.starts_with("error:"), "the prefix is the printer's: {m}");
        assert_eq!(h, "see `dsdoctor check --help` for the options");
        // The missing argument is on the line clap indents under its message.
        let (m, _) = refused(&["dsdoctor", "check"]);
        assert!(m.ends_with("not provided: <DOMAIN>"), "{m}");
        // clap's own suggestion is the better help.
        let (_, h) = refused(&["dsdoctor", "--colr", "never"]);
        assert!(h.contains("'--color'"), "{h}");
        let (_, h) = refused(&["dsdoctor", "watch", "shop.example", "--interval", "0s"]);
        assert_eq!(h, "see `dsdoctor watch --help` for the options");
    }

    #[test]
    fn quiet_is_for_the_text_status_line_only() {
        use clap::Parser;
        let ok = Cli::try_parse_from(["dsdoctor", "check", "-q", "shop.example"]).unwrap();
        assert!(matches!(ok.command, Some(Command::Check(a)) if a.quiet));
        for args in [
            [
                "dsdoctor",
                "check",
                "-q",
                "shop.example",
                "--format",
                "json",
            ],
            [
                "dsdoctor",
                "check",
                "-q",
                "--list-checks",
                "--format",
                "text",
            ],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn mail_receivers_and_blocklists_reach_the_options() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "dsdoctor",
            "check",
            "shop.example",
            "--mail-egress",
            "mx.example.net:25",
            "--mail-egress",
            "[2001:db8::25]:25",
            "--dnsbl",
            "Zen.Example.org",
        ])
        .unwrap();
        let Some(Command::Check(a)) = cli.command else {
            panic!("check");
        };
        let o = a.common.options("shop.example");
        assert_eq!(o.mail_egress, ["mx.example.net:25", "[2001:db8::25]:25"]);
        assert_eq!(o.dnsbl, ["zen.example.org"]);
        for bad in [
            ["--mail-egress", "mx.example.net"],
            ["--dnsbl", "not a zone"],
        ] {
            let mut args = vec!["dsdoctor", "check", "shop.example"];
            args.extend(bad);
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn color_is_read_before_parsing_as_clap_reads_it() {
        // (arguments, choice)
        for (args, want) in [
            (vec!["dsdoctor", "x"], Color::Auto),
            (vec!["dsdoctor", "--color", "never", "check"], Color::Never),
            (vec!["dsdoctor", "check", "--color=always"], Color::Always),
            (
                vec!["dsdoctor", "--color=never", "--color", "always"],
                Color::Always,
            ),
            (vec!["dsdoctor", "--", "--color=never"], Color::Auto),
            (vec!["dsdoctor", "--color", "purple"], Color::Auto),
        ] {
            assert_eq!(color_before_parsing(os(&args)), want, "{args:?}");
        }
        use clap::Parser;
        let cli = Cli::try_parse_from(["dsdoctor", "check", "x.example", "--color", "never"]);
        assert_eq!(cli.unwrap().color, ColorArg::Never, "--color is global");
    }

    #[test]
    fn errors_with_something_to_do_get_a_help_line() {
        let missing = crate::snapshot::load(std::path::Path::new("/nonexistent/facts.json"))
            .expect_err("no such file");
        let help = help_for(&missing.into()).expect("a missing snapshot says how to make one");
        assert!(help.contains("--save-facts"), "{help}");
        let help = help_for(&crate::tui::NoTerminal.into()).expect("the wizard names check");
        assert!(help.contains("dsdoctor check DOMAIN"), "{help}");
        assert_eq!(help_for(&anyhow::anyhow!("cannot write the output")), None);
    }

    #[test]
    fn completions_cover_every_subcommand_and_option() {
        use clap::CommandFactory;
        for shell in [ShellArg::Bash, ShellArg::Zsh, ShellArg::Fish] {
            let script = String::from_utf8(completions(shell, &mut Cli::command())).unwrap();
            // Fish spells options `-l color`, the others `--color`.
            for word in [
                "check",
                "watch",
                "train",
                "completions",
                "color",
                "list-checks",
            ] {
                assert!(script.contains(word), "{shell:?} lacks {word}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_argument_parsers(s in proptest::prop_oneof![
            1 => crate::testutil::inputs::junk(40),
            3 => crate::testutil::inputs::soup_of("cli", 12),
        ]) {
            use crate::testutil::is_inert;
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
