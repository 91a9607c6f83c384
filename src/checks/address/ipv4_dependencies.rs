//! `address.ipv4_dependencies`: what this host's services still need IPv4 for, each
//! named with where it comes from and whether NAT64 would carry it.
//!
//! It applies with `--expect ipv6` (on a dual-stack host the question "could I drop
//! IPv4?", answered as a readiness report: `warn`, never `fail`) and on a host without
//! IPv4 (`facts::deps::without_ipv4`: no IPv4 address outside loopback, or no IPv4
//! default route), where a dependency that NAT64 does not cover is a `fail`. A name
//! without AAAA is covered when the resolver synthesises AAAA (`dns.dns64`) and the
//! translator behind its prefix answered (`isp.nat64`); where the ISP stage did not
//! examine it, NAT64 is "presumed", and the finding says so.

use crate::checks::host::{self, Nat64State};
use crate::checks::subject::Subject;
use crate::checks::view::{Ctx, in_nat64};
use crate::facts::deps::{self, Ipv4Deps};
use crate::facts::servers::{ProxyTarget, TargetHost};
use crate::facts::{Facts, Place, ProbeErrorKind, Probed};
use crate::model::{CheckId, Expect, Finding};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// Dependencies of one kind named in the evidence; the rest are counted.
const MAX_SHOWN: usize = 20;
/// Dependencies named in the summary.
const MAX_IN_SUMMARY: usize = 3;
/// Fixes offered: the first dependencies' own.
const MAX_FIXES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cover {
    /// An IPv4 address written down: it never passes through DNS64.
    Never,
    /// Reached by name, and the resolver does DNS64: NAT64 presumed.
    Presumed,
    /// Reached by name, the resolver does DNS64, and the translator answered.
    Verified,
    /// Reached by name, the resolver does DNS64, and nothing translates (isp.nat64).
    Broken,
    /// Reached by name (or maybe by name), and no DNS64 to synthesise an address.
    NoNat64,
}

impl Cover {
    fn words(self) -> &'static str {
        match self {
            Cover::Never => "an IPv4 literal, which NAT64 never covers",
            Cover::Presumed => "covered by NAT64 (presumed, not verified)",
            Cover::Verified => "covered by NAT64 (verified by isp.nat64)",
            Cover::Broken => {
                "not covered: the resolver's NAT64 prefix leads to no translator (see isp.nat64)"
            }
            Cover::NoNat64 => "no IPv6, and no NAT64 (the resolver does no DNS64)",
        }
    }
}

struct Dep {
    /// A few words for the summary.
    short: String,
    /// The evidence line, with where it comes from.
    line: String,
    cover: Cover,
    fix: Option<(&'static str, Vec<(&'static str, String)>)>,
}

pub fn check(c: &Ctx) -> Finding {
    let s = Subject::host(CheckId::AddressIpv4Dependencies);
    let f = c.facts;
    if let Err(e) = &f.links.result {
        return s.unread(f, "read addresses", e);
    }
    if let Err(e) = &f.routes.result {
        return s.unread(f, "read routes", e);
    }
    let without = deps::without_ipv4(f.links(), host::routes(f));
    if without.is_none() && c.opts.target.expect != Expect::Ipv6 {
        return s.skip(format!(
            "this host has IPv4 (an address and a default route); to ask whether it could drop IPv4, run `dsdoctor check {} --expect ipv6`",
            c.opts.target.domain
        ));
    }
    let d = match &f.ipv4_deps {
        None => {
            return s.skip("not gathered: these facts come from an older dsdoctor");
        }
        Some(p) => match &p.result {
            Ok(d) => d,
            // Gathered under other options (the wizard's form changed `--expect`): the
            // next run gathers it; nothing failed.
            Err(e) if e.kind == ProbeErrorKind::NotRun => {
                return s.skip(format!("not examined yet: {}", e.message));
            }
            Err(e) => return s.unread(f, "list what the services depend on", e),
        },
    };
    let by_name = name_cover(c);
    let mut unread = Vec::new();
    let mut found = Vec::new();
    let kinds = [
        proxy_targets(f, &mut unread),
        resolvers(f),
        hosts_file(d, &mut unread),
        connections(d, by_name, &mut unread),
        package_sources(c, d, &mut unread),
    ];
    let mut evidence = Vec::new();
    for (kind, omitted) in kinds {
        let shown = kind.len().min(MAX_SHOWN);
        evidence.extend(
            kind.iter()
                .take(shown)
                .map(|d| format!("{}: {}", d.line, d.cover.words())),
        );
        let more = kind.len() - shown + omitted;
        if more > 0 {
            evidence.push(format!("... and {more} more of the same kind"));
        }
        found.extend(kind);
    }
    evidence.extend(unread);
    judge(c, s, without, &found).evidence_all(evidence)
}

/// How a destination reached by name and without AAAA fares: through the DNS64
/// resolver's prefix, verified by `isp.nat64` where it ran.
fn name_cover(c: &Ctx) -> Cover {
    if c.view.nat64.is_empty() {
        return Cover::NoNat64;
    }
    match host::nat64_state(c.facts) {
        Nat64State::Works(p) if c.view.nat64.contains(&p) => Cover::Verified,
        Nat64State::Broken(p) if c.view.nat64.contains(&p) => Cover::Broken,
        _ => Cover::Presumed,
    }
}

fn judge(c: &Ctx, s: Subject, without: Option<&str>, found: &[Dep]) -> Finding {
    let prefix = c.view.nat64.first().map(|p| p.to_string());
    // What the resolver says of NAT64, only where it was asked and answered.
    let no_dns64 = c.facts.dns.dns64.value().is_some_and(|v| v.is_empty());
    let presumed = |fd: Finding| match &prefix {
        Some(p) => fd.explain_also("deps_nat64_presumed", &[("prefix", p)]),
        None if no_dns64 => fd.explain_also("deps_no_dns64", &[]),
        None => fd,
    };
    if found.is_empty() {
        return s
            .pass("nothing this host's services were seen to use needs IPv4")
            .explain("deps_none", &[]);
    }
    let broken: Vec<&Dep> = found
        .iter()
        .filter(|d| !matches!(d.cover, Cover::Presumed | Cover::Verified))
        .collect();
    if broken.is_empty() && found.iter().all(|d| d.cover == Cover::Verified) {
        return s
            .pass(format!(
                "{} IPv4-only {} reached by name, through NAT64 prefix {} (translation verified by isp.nat64)",
                found.len(),
                if found.len() == 1 { "destination is" } else { "destinations are" },
                prefix.as_deref().unwrap_or("?"),
            ))
            .explain("deps_none", &[]);
    }
    if broken.is_empty() {
        let fd = s.pass(format!(
            "{} IPv4-only {} reached by name, covered by NAT64 (presumed: the resolver synthesises AAAA with prefix {}; the translation itself is not verified)",
            found.len(),
            if found.len() == 1 { "destination is" } else { "destinations are" },
            prefix.as_deref().unwrap_or("?"),
        ));
        return presumed(fd.explain("deps_none", &[]));
    }
    let mut named: Vec<String> = broken
        .iter()
        .take(MAX_IN_SUMMARY)
        .map(|d| d.short.clone())
        .collect();
    if broken.len() > MAX_IN_SUMMARY {
        named.push(format!("and {} more", broken.len() - MAX_IN_SUMMARY));
    }
    let what = format!(
        "{} {} IPv4: {}",
        broken.len(),
        if broken.len() == 1 {
            "dependency needs"
        } else {
            "dependencies need"
        },
        named.join("; ")
    );
    let mut fd = match without {
        None => s
            .warn(format!(
                "not ready to drop IPv4 (asked with --expect ipv6; the site itself is not judged here): {what}"
            ))
            .explain("deps_readiness", &[]),
        Some(why) => s
            .fail(format!("this host has no IPv4 ({why}), yet {what}"))
            .explain("deps_broken", &[("why", why)]),
    };
    fd = presumed(fd);
    for d in broken.iter().take(MAX_FIXES) {
        if let Some((key, vars)) = &d.fix {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            fd = fd.fix(key, &vars);
        }
    }
    fd
}

/// The IPv4 address an address stands for (a v4-mapped one included), unless it is
/// loopback or unspecified: those work without IPv4 on the wire.
fn remote_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => v6.to_ipv4_mapped()?,
    };
    (!v4.is_loopback() && !v4.is_unspecified()).then_some(v4)
}

fn place_vars(at: &Place) -> Vec<(&'static str, String)> {
    vec![
        ("place", at.to_string()),
        ("file", at.file.display().to_string()),
        ("line", at.line.to_string()),
    ]
}

/// A fact part's value, or `None` once `unread` says that `what` failed and why (the
/// finding lists what it could not look at).
fn read<'a, T>(p: &'a Probed<T>, what: &str, unread: &mut Vec<String>) -> Option<&'a T> {
    match &p.result {
        Ok(v) => Some(v),
        Err(e) => {
            unread.push(format!("{what}: {}", e.message));
            None
        }
    }
}

/// IPv4 literals among the web servers' proxy targets.
fn proxy_targets(f: &Facts, unread: &mut Vec<String>) -> (Vec<Dep>, usize) {
    let Some(web) = read(&f.web, "web servers not read", unread) else {
        return (Vec::new(), 0);
    };
    let mut servers: Vec<(&str, u32, &[ProxyTarget])> = Vec::new();
    for n in &web.nginx {
        if let Ok(cfg) = &n.config {
            servers.push(("nginx", n.pid, &cfg.proxy_targets));
        }
    }
    for a in &web.apache {
        if let Ok(cfg) = &a.config {
            servers.push(("Apache httpd", a.pid, &cfg.proxy_targets));
        }
    }
    for h in &web.haproxy {
        if let Ok(cfg) = &h.config {
            servers.push(("HAProxy", h.pid, &cfg.proxy_targets));
        }
    }
    let mut out = Vec::new();
    for (server, pid, targets) in servers {
        for t in targets {
            let TargetHost::Ip(ip) = t.host else { continue };
            let Some(v4) = remote_v4(ip) else { continue };
            let mut vars = place_vars(&t.at);
            vars.push(("server", server.to_string()));
            vars.push(("ip", v4.to_string()));
            out.push(Dep {
                short: format!("{server} {} {v4} ({})", t.directive, t.at),
                line: format!("{server} (pid {pid}) {} {} at {}", t.directive, t.raw, t.at),
                cover: Cover::Never,
                fix: Some(("deps_proxy_literal", vars)),
            });
        }
    }
    (out, 0)
}

/// IPv4 name servers of resolv.conf (not those of `--resolver`: the host does not use
/// them). A loopback resolver (systemd-resolved's stub) is local; its own upstream
/// servers are not read.
fn resolvers(f: &Facts) -> (Vec<Dep>, usize) {
    let source = f.dns.resolver_source.as_str();
    if source != "/etc/resolv.conf" {
        return (Vec::new(), 0);
    }
    let has_v6 = f
        .dns
        .resolvers
        .iter()
        .any(|r| r.ip().is_ipv6() && remote_v4(r.ip()).is_none() && !r.ip().is_loopback());
    let out = f
        .dns
        .resolvers
        .iter()
        .filter_map(|r| remote_v4(r.ip()))
        .map(|v4| Dep {
            short: format!("name server {v4} ({source})"),
            line: format!(
                "name server {v4} in {source}{}",
                if has_v6 {
                    " (an IPv6 one is listed too: lookups wait for this one to time out first)"
                } else {
                    " (no IPv6 name server is listed: every lookup would fail)"
                }
            ),
            cover: Cover::Never,
            fix: Some(("deps_resolver", vec![("file", source.to_string())])),
        })
        .collect();
    (out, 0)
}

/// Names of /etc/hosts with a non-loopback IPv4 address and no IPv6 one.
fn hosts_file(d: &Ipv4Deps, unread: &mut Vec<String>) -> (Vec<Dep>, usize) {
    let Some(entries) = read(&d.hosts, "/etc/hosts not read", unread) else {
        return (Vec::new(), 0);
    };
    let mut v6_names: BTreeMap<&str, ()> = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| remote_v4(e.ip).is_none() && e.ip.is_ipv6())
    {
        for n in &e.names {
            v6_names.insert(n, ());
        }
    }
    let mut out = Vec::new();
    for e in entries {
        let Some(v4) = remote_v4(e.ip) else { continue };
        let names: Vec<&str> = e
            .names
            .iter()
            .map(String::as_str)
            .filter(|n| !v6_names.contains_key(n))
            .collect();
        let Some(first) = names.first() else { continue };
        let mut vars = place_vars(&e.at);
        vars.push(("name", (*first).to_string()));
        out.push(Dep {
            short: format!("{first} -> {v4} ({})", e.at),
            line: format!(
                "{}: {} -> {v4}, no IPv6 entry for {}",
                e.at,
                names.join(" "),
                if names.len() == 1 { "it" } else { "them" }
            ),
            cover: Cover::Never,
            fix: Some(("deps_hosts_line", vars)),
        });
    }
    (out, 0)
}

/// Outbound connections to IPv4 peers, with their processes.
fn connections(d: &Ipv4Deps, cover: Cover, unread: &mut Vec<String>) -> (Vec<Dep>, usize) {
    let Some(conns) = read(&d.connections, "outbound connections not listed", unread) else {
        return (Vec::new(), 0);
    };
    // The peer's address says nothing of how the program found it: by name, NAT64 may
    // carry it; by an address in its configuration, nothing will.
    let out = conns
        .list
        .iter()
        .map(|cn| {
            let who = match (&cn.process, cn.pid) {
                (Some(p), Some(pid)) => format!("{p} (pid {pid})"),
                (None, Some(pid)) => format!("pid {pid}"),
                _ => "a process this run cannot see (needs root)".to_string(),
            };
            let fix = match (&cn.process, cn.pid) {
                (Some(p), Some(pid)) => Some((
                    "deps_connection",
                    vec![
                        ("process", p.clone()),
                        ("pid", pid.to_string()),
                        ("peer", cn.peer.to_string()),
                        ("ip", cn.peer.ip().to_string()),
                    ],
                )),
                _ => None,
            };
            Dep {
                short: format!("{who} connected to {}", cn.peer),
                line: format!(
                    "outbound TCP {} -> {} by {who}{}",
                    cn.local,
                    cn.peer,
                    if cn.mapped {
                        " (an IPv6 socket, v4-mapped)"
                    } else {
                        ""
                    }
                ),
                cover,
                fix,
            }
        })
        .collect();
    (out, conns.omitted)
}

/// Package sources whose host is an IPv4 literal or has no AAAA of its own (a
/// synthesised one, inside the NAT64 prefix, is not its own).
fn package_sources(c: &Ctx, d: &Ipv4Deps, unread: &mut Vec<String>) -> (Vec<Dep>, usize) {
    let Some(sources) = read(&d.package_sources, "package sources not read", unread) else {
        return (Vec::new(), 0);
    };
    let by_name = name_cover(c);
    let mut out = Vec::new();
    for src in sources {
        let cover = match src.host.parse::<IpAddr>() {
            Ok(ip) => match remote_v4(ip) {
                Some(_) => Cover::Never,
                None => continue,
            },
            Err(_) => match &src.aaaa.result {
                Ok(aaaa) => {
                    let own = aaaa
                        .iter()
                        .any(|a| !in_nat64(IpAddr::V6(*a), &c.view.nat64));
                    if own {
                        continue;
                    }
                    by_name
                }
                Err(e) => {
                    unread.push(format!(
                        "AAAA of {} ({}) not known: {}",
                        src.host, src.at, e.message
                    ));
                    continue;
                }
            },
        };
        let mut vars = place_vars(&src.at);
        vars.push(("host", src.host.clone()));
        out.push(Dep {
            short: format!("package source {} ({})", src.host, src.at),
            line: format!("package source {} at {}", src.uri, src.at),
            cover,
            fix: Some(("deps_package_source", vars)),
        });
    }
    (out, 0)
}
