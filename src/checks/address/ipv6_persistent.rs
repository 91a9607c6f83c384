//! `address.ipv6_persistent`: the IPv6 set-up in use survives a reboot. No sysctl
//! configuration file or kernel command line turns IPv6 off at the next boot, and each
//! global IPv6 address and IPv6 default route in use is declared in the network
//! configuration in charge, or learned from router advertisements or DHCPv6 that the
//! configuration accepts.

use super::declare::{Wanted, apply, declare};
use crate::checks::host::{self, Ipv6State};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::netconf::{BootNetwork, IfaceConfig, NetSystem, SystemConfig};
use crate::facts::{AddrFacts, Facts, Link, Route};
use crate::model::{CheckId, Family, Finding, Status};
use crate::parse::netconf::networkd::name_matches;
use crate::parse::sysctl_conf::last_assignment;
use std::net::IpAddr;
use std::path::Path;

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::AddressIpv6Persistent);
    if let Some(skip) = host::unexpected(o, s, Family::V6) {
        return skip;
    }
    let settings = match &f.sysctl_files.result {
        Ok(s) => s,
        Err(e) => {
            return s.unread(c.facts, "read the sysctl configuration", e);
        }
    };
    let mut keys = vec!["all".to_string(), "default".to_string()];
    keys.extend(host::relevant_ifaces(f, Family::V6));
    let mut offenders = Vec::new();
    let mut evidence = Vec::new();
    for k in &keys {
        let key = format!("net.ipv6.conf.{k}.disable_ipv6");
        if let Some(s) = last_assignment(settings, &key) {
            evidence.push(format!("{}: {} = {}", s.at, s.key, s.value));
            if s.value.trim() == "1" {
                offenders.push(s.clone());
            }
        }
    }
    if f.host.ipv6_cmdline_disabled {
        return s
            .fail("the kernel command line has ipv6.disable=1: IPv6 stays off after every boot")
            .explain("ipv6_absent", &[])
            .fix("kernel_cmdline_ipv6", &[]);
    }
    // Snapshots of older versions hold no boot network: judged on the sysctl files alone.
    let boot = f.boot_network.as_ref().map(|p| match &p.result {
        Ok(b) => Ok(judge(f, b)),
        Err(e) => Err(e),
    });
    if offenders.is_empty() {
        if evidence.is_empty() {
            evidence.push("no sysctl configuration file sets disable_ipv6".into());
        }
        let sysctl_ok = "no sysctl configuration file disables IPv6 at boot";
        return match boot {
            None => s.pass(sysctl_ok).evidence_all(evidence),
            Some(Err(e)) => s.unread(c.facts, "read the network configuration", e),
            Some(Ok(j)) => j.finding(s, sysctl_ok, evidence),
        };
    }
    let where_ = offenders
        .iter()
        .map(|s| format!("{} ({} = {})", s.at, s.key, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    let now_enabled = host::ipv6_state(f) == Ipv6State::Enabled;
    let mut fd = s
        .fail(if now_enabled {
            format!("IPv6 works now but will be disabled at the next boot by {where_}")
        } else {
            format!("IPv6 is disabled at every boot by {where_}")
        })
        .evidence_all(evidence)
        .explain("ipv6_persistent", &[]);
    for s in &offenders {
        fd = fd.fix(
            "sysctl_file_line",
            &[
                ("file", &s.at.file.display().to_string()),
                ("line", &s.at.line.to_string()),
                ("key", &s.key),
            ],
        );
    }
    if let Some(Ok(j)) = boot {
        fd = j.append(fd);
    }
    fd.took(f.sysctl_files.ms)
}

/// A fix to add to the finding.
enum Plan {
    Declare(NetSystem, Option<IfaceConfig>, Wanted),
    CloudInit(String),
    KeepAddr(String),
    /// Apply what a file declares for an interface.
    Apply(NetSystem, String, String),
    /// Nothing in charge: find what configures the interface.
    Find(String, String),
}

/// One thing the configuration and the running host disagree on.
struct Item {
    status: Status,
    summary: String,
    explain: &'static str,
}

/// What the boot network comparison found.
#[derive(Default)]
struct Judgement {
    items: Vec<Item>,
    evidence: Vec<String>,
    /// Fixes, in order.
    fixes: Vec<Plan>,
    /// The systems in charge, for the passing summary.
    in_charge: Vec<String>,
}

impl Judgement {
    fn finding(self, s: Subject, sysctl_ok: &str, sysctl_evidence: Vec<String>) -> Finding {
        let worst = [Status::Fail, Status::Error, Status::Warn]
            .into_iter()
            .find(|st| self.items.iter().any(|i| i.status == *st));
        let mut fd = match worst {
            None => s
                .pass(if self.in_charge.is_empty() {
                    format!("{sysctl_ok}, and no global IPv6 address or default route is in use")
                } else {
                    format!(
                        "{sysctl_ok}, and the IPv6 addresses and default route in use come back at boot ({})",
                        self.in_charge.join(", ")
                    )
                })
                .explain("persist_ok", &[]),
            Some(st) => {
                let shown: Vec<&str> = self
                    .items
                    .iter()
                    .filter(|i| i.status == st)
                    .map(|i| i.summary.as_str())
                    .collect();
                let more = shown.len().saturating_sub(3);
                let mut summary = shown[..shown.len().min(3)].join("; ");
                if more > 0 {
                    summary += &format!("; and {more} more (see the evidence)");
                }
                let explain = self
                    .items
                    .iter()
                    .find(|i| i.status == st)
                    .map_or("persist_unknown", |i| i.explain);
                s.finding(st, summary).explain(explain, &[])
            }
        };
        fd = fd.evidence_all(sysctl_evidence);
        self.append(fd)
    }

    /// The evidence and fixes of the comparison added to a finding of the sysctl part.
    fn append(self, mut fd: Finding) -> Finding {
        fd = fd.evidence_all(self.evidence);
        for i in &self.items {
            if i.status != Status::Pass {
                fd = fd.evidence(format!("{}: {}", i.status.as_str(), i.summary));
            }
        }
        // The declaration first: it is what the finding is about.
        let mut fixes = self.fixes;
        fixes.sort_by_key(|p| match p {
            Plan::Declare(..) | Plan::Find(..) => 0,
            Plan::CloudInit(_) => 1,
            Plan::Apply(..) => 2,
            Plan::KeepAddr(_) => 3,
        });
        for plan in fixes {
            fd = match plan {
                Plan::Declare(system, decl, w) => declare(fd, system, decl.as_ref(), &w),
                Plan::CloudInit(file) => fd.fix("persist_cloud_init", &[("file", &file)]),
                Plan::KeepAddr(iface) => fd.fix("persist_keep_addr", &[("iface", &iface)]),
                Plan::Apply(system, iface, file) => fd.fix(
                    "persist_apply",
                    &[("file", &file), ("apply", &apply(system, &iface))],
                ),
                Plan::Find(iface, addr) => {
                    fd.fix("persist_none", &[("iface", &iface), ("addr", &addr)])
                }
            };
        }
        fd
    }

    fn item(&mut self, status: Status, summary: String, explain: &'static str) {
        self.items.push(Item {
            status,
            summary,
            explain,
        });
    }

    /// `what` on link `name` was learned `from` the network (an address, a route): it
    /// comes back at boot when the configuration in charge accepts that there.
    fn learned(&mut self, what: &str, from: &str, name: &str, ra_ok: bool, wanted: &mut Wanted) {
        if ra_ok {
            self.evidence.push(format!(
                "{what}: learned from {from}, which the configuration accepts on {name}"
            ));
        } else {
            self.item(Status::Fail, format!("{what} was learned from {from}, but the configuration in charge does not accept them on {name}: it does not come back at boot"), "persist_ra");
            wanted.accept_ra = true;
        }
    }
}

/// Whether a configuration for `name` (netplan's may be a glob, networkd's a list of
/// globs) applies to link `link`.
fn applies(system: NetSystem, name: &str, link: &str) -> bool {
    match system {
        NetSystem::Networkd => name_matches(name, link),
        NetSystem::NetworkManager => name == "*" || name == link,
        NetSystem::Netplan => crate::parse::glob_match(name.as_bytes(), link.as_bytes()),
        NetSystem::Ifupdown | NetSystem::Ifcfg => name == link,
    }
}

/// What the systems in charge declare for `link`: networkd takes the first file that
/// matches, the others every declaration.
fn decls<'a>(boot: &'a BootNetwork, link: &str) -> Vec<(&'a SystemConfig, &'a IfaceConfig)> {
    let mut out = Vec::new();
    for sys in boot.in_charge() {
        let mut hits = sys
            .interfaces
            .iter()
            .filter(|i| applies(sys.system, &i.name, link));
        if sys.system == NetSystem::Networkd {
            out.extend(hits.next().map(|i| (sys, i)));
        } else {
            out.extend(hits.map(|i| (sys, i)));
        }
    }
    out
}

fn at(line: usize, file: &Path) -> String {
    format!("{}:{line}", file.display())
}

fn route_text(r: &Route) -> String {
    match (r.gateway, &r.dev) {
        (Some(g), Some(d)) => format!("default via {g} dev {d} (proto {})", r.protocol),
        (Some(g), None) => format!("default via {g} (proto {})", r.protocol),
        (None, Some(d)) => format!("default dev {d} (proto {})", r.protocol),
        (None, None) => format!("default (proto {})", r.protocol),
    }
}

/// A static address on `iface` that a link flap would take away.
fn keep_addr(j: &mut Judgement, boot: &BootNetwork, keep_all: i64, iface: &str, shown: &str) {
    let own = boot.keep_addr_on_down.get(iface).copied().unwrap_or(0);
    if keep_all > 0 || own > 0 {
        return;
    }
    j.item(
        Status::Warn,
        format!("{shown} on {iface} is static and keep_addr_on_down is off: a link flap removes it until the interface is brought up again"),
        "persist_keep_addr",
    );
    if !j
        .fixes
        .iter()
        .any(|p| matches!(p, Plan::KeepAddr(i) if i == iface))
    {
        j.fixes.push(Plan::KeepAddr(iface.to_string()));
    }
}

/// Declared but not in use: the opposite drift.
fn drift(j: &mut Judgement, summary: String, system: NetSystem, iface: &str, file: &Path) {
    j.item(Status::Warn, summary, "persist_missing");
    let file = file.display().to_string();
    if !j
        .fixes
        .iter()
        .any(|p| matches!(p, Plan::Apply(_, i, f) if i == iface && *f == file))
    {
        j.fixes.push(Plan::Apply(system, iface.to_string(), file));
    }
}

/// A global (not link-local, not multicast) IPv6 address that is not a privacy
/// address: the ones a reboot must bring back.
fn in_use(a: &AddrFacts) -> bool {
    match a.ip {
        IpAddr::V6(v6) => {
            !v6.is_loopback()
                && !v6.is_multicast()
                && !v6.is_unspecified()
                && (v6.segments()[0] & 0xffc0) != 0xfe80
                && !a.temporary
                && !a.dadfailed
        }
        IpAddr::V4(_) => false,
    }
}

fn judge(f: &Facts, boot: &BootNetwork) -> Judgement {
    let mut j = Judgement::default();
    if host::ipv6_state(f) != Ipv6State::Enabled {
        j.evidence.push(
            "IPv6 is not enabled now (address.ipv6_enabled): the addresses in use are not compared with the configuration".into(),
        );
        return j;
    }
    j.in_charge = boot
        .in_charge()
        .map(|s| match &s.renderer {
            Some(r) if s.system == NetSystem::Netplan => format!("netplan, rendered by {r}"),
            _ => s.system.name().to_string(),
        })
        .collect();
    for sys in &boot.systems {
        let mut files = sys
            .files
            .iter()
            .take(4)
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if sys.files.len() > 4 {
            files += &format!(" and {} more", sys.files.len() - 4);
        }
        j.evidence.push(format!(
            "{}: {}{}{}",
            sys.system.name(),
            sys.why,
            if files.is_empty() { "" } else { "; files: " },
            files
        ));
    }
    if let Some(ci) = &boot.cloud_init {
        j.evidence
            .push(match (&ci.network_disabled_by, ci.enabled) {
                (_, false) => "cloud-init is installed but disabled".to_string(),
                (Some(by), true) => {
                    format!("cloud-init leaves the network configuration alone ({by})")
                }
                (None, true) => {
                    "cloud-init writes the network configuration again at boot".to_string()
                }
            });
    }
    j.evidence.extend(boot.problems.iter().take(10).cloned());
    for p in &boot.unreadable {
        j.evidence
            .push(format!("{}: only root can read it", p.display()));
    }
    let links = f.links();
    // Each hop of a multipath default route is judged as a route of its own.
    let routes: Vec<Route> = f
        .routes
        .value()
        .map(|r| {
            r.iter()
                .filter(|r| r.family == Family::V6 && r.dst.is_none())
                .flat_map(|r| {
                    let hops = r.more_gateways.iter().map(|g| Route {
                        gateway: Some(*g),
                        more_gateways: Vec::new(),
                        ..r.clone()
                    });
                    std::iter::once(r.clone()).chain(hops)
                })
                .collect()
        })
        .unwrap_or_default();
    let used: Vec<(&Link, &AddrFacts)> = f.addrs().filter(|(_, a)| in_use(a)).collect();
    let anything = !used.is_empty() || !routes.is_empty();
    if boot.in_charge().next().is_none() {
        if anything {
            let what = used
                .first()
                .map(|(l, a)| format!("{} on {}", a.ip, l.name))
                .or_else(|| routes.first().map(route_text))
                .unwrap_or_default();
            let (status, summary, explain) = if boot.unreadable.is_empty() {
                (
                    Status::Warn,
                    format!(
                        "no network configuration that this host boots with was found (netplan, ifupdown, systemd-networkd, NetworkManager, ifcfg): whether {what} comes back after a reboot cannot be told"
                    ),
                    "persist_unknown",
                )
            } else {
                (
                    Status::Error,
                    format!(
                        "whether {what} comes back after a reboot cannot be told: the network configuration is readable by root only; run as root"
                    ),
                    "persist_unreadable",
                )
            };
            j.item(status, summary, explain);
            if let Some((l, a)) = used.first() {
                j.fixes.push(Plan::Find(l.name.clone(), a.ip.to_string()));
            }
        }
        return j;
    }
    let rewrites = boot
        .cloud_init
        .as_ref()
        .is_some_and(|c| c.rewrites_network());
    let unreadable = !boot.unreadable.is_empty();
    let keep_all = boot.keep_addr_on_down.get("all").copied().unwrap_or(0);

    let mut link_names: Vec<&str> = used.iter().map(|(l, _)| l.name.as_str()).collect();
    link_names.extend(routes.iter().filter_map(|r| r.dev.as_deref()));
    // A link with nothing in use is still compared when a configuration names it
    // (not through a glob: a catch-all file would name every bridge and veth).
    link_names.extend(
        links
            .iter()
            .filter(|l| !l.loopback)
            .map(|l| l.name.as_str())
            .filter(|n| {
                boot.in_charge()
                    .any(|s| s.interfaces.iter().any(|i| i.name == *n))
            }),
    );
    link_names.sort();
    link_names.dedup();
    for name in link_names {
        let Some(link) = links.iter().find(|l| l.name == name) else {
            continue;
        };
        let d = decls(boot, name);
        let ra_ok = d.iter().any(|(_, i)| i.accept_ra || i.dhcp6);
        let mut wanted = Wanted {
            iface: name.to_string(),
            addrs: Vec::new(),
            gateway: None,
            accept_ra: false,
        };
        let mut cloud_file: Option<String> = None;
        for a in link.addrs.iter().filter(|a| in_use(a)) {
            let decl = d.iter().find_map(|(s, i)| {
                i.addresses
                    .iter()
                    .find(|x| x.net.addr() == a.ip)
                    .map(|x| (s, i, x))
            });
            let shown = format!("{}/{}", a.ip, a.prefix_len);
            if let Some((s, i, x)) = decl {
                j.evidence.push(format!(
                    "{shown} on {name}: declared at {} ({})",
                    at(x.at.line, &x.at.file),
                    s.system.name()
                ));
                if i.cloud_init && rewrites {
                    j.evidence.push(format!(
                        "{}: written by cloud-init, which writes it again from the provider's data at boot",
                        x.at.file.display()
                    ));
                }
                if a.permanent
                    && matches!(s.system, NetSystem::Ifupdown | NetSystem::Ifcfg)
                    && !boot.keep_addr_on_down.is_empty()
                {
                    keep_addr(&mut j, boot, keep_all, name, &shown);
                }
                continue;
            }
            if !a.permanent || a.mngtmpaddr {
                let what = format!("{shown} on {name}");
                let from = "router advertisements or DHCPv6";
                j.learned(&what, from, name, ra_ok, &mut wanted);
                continue;
            }
            if unreadable {
                j.item(Status::Error, format!("whether {shown} on {name} comes back at boot cannot be told: part of the configuration is readable by root only; run as root"), "persist_unreadable");
                continue;
            }
            j.item(
                Status::Fail,
                format!("{shown} on {name} was added by hand: no configuration declares it, so it is gone after the next reboot"),
                "persist_by_hand",
            );
            // (Whether a link flap would also take it is for the system it gets
            // declared in: ifupdown's is judged once it is.)
            wanted.addrs.push(shown);
        }
        for r in routes.iter().filter(|r| r.dev.as_deref() == Some(name)) {
            let text = route_text(r);
            match r.protocol.as_str() {
                "ra" | "kernel" => {
                    j.learned(&text, "router advertisements", name, ra_ok, &mut wanted)
                }
                "dhcp" => j.evidence.push(format!("{text}: from DHCP")),
                "static" | "boot" | "unspec" => {
                    let decl = d.iter().find_map(|(s, i)| {
                        i.routes
                            .iter()
                            .find(|x| x.dst.is_none() && x.gateway == r.gateway)
                            .map(|x| (s, x))
                    });
                    if let Some((s, x)) = decl {
                        j.evidence.push(format!(
                            "{text}: declared at {} ({})",
                            at(x.at.line, &x.at.file),
                            s.system.name()
                        ));
                    } else if unreadable {
                        j.item(Status::Error, format!("whether {text} comes back at boot cannot be told: part of the configuration is readable by root only; run as root"), "persist_unreadable");
                    } else if let Some(g) = r.gateway {
                        j.item(
                            Status::Fail,
                            format!("the IPv6 default route via {g} dev {name} was added by hand: no configuration declares it, so it is gone after the next reboot"),
                            "persist_by_hand",
                        );
                        let inside = link.addrs.iter().any(|a| {
                            ipnet::IpNet::new(a.ip, a.prefix_len).is_ok_and(|n| n.contains(&g))
                        });
                        let link_local =
                            matches!(g, IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80);
                        wanted.gateway = Some((g, !inside && !link_local));
                    }
                }
                p => j.evidence.push(format!(
                    "{text}: installed by a routing daemon (protocol {p}), not judged"
                )),
            }
        }
        // The opposite drift: what the configuration declares and the host lacks.
        for (s, i) in &d {
            for x in &i.addresses {
                // An address that failed duplicate address detection is not in use.
                if !link
                    .addrs
                    .iter()
                    .any(|a| a.ip == x.net.addr() && !a.dadfailed)
                {
                    let summary = format!(
                        "{} is declared for {name} at {} ({}) but is not in use now",
                        x.net,
                        at(x.at.line, &x.at.file),
                        s.system.name()
                    );
                    drift(&mut j, summary, s.system, name, &x.at.file);
                }
            }
            for x in i.routes.iter().filter(|x| x.dst.is_none()) {
                let Some(g) = x.gateway else { continue };
                if !routes
                    .iter()
                    .any(|r| r.gateway == Some(g) && r.dev.as_deref() == Some(name))
                {
                    let summary = format!(
                        "the default route via {g} is declared for {name} at {} ({}) but is not in use now",
                        at(x.at.line, &x.at.file),
                        s.system.name()
                    );
                    drift(&mut j, summary, s.system, name, &x.at.file);
                }
            }
        }
        if wanted.addrs.is_empty() && wanted.gateway.is_none() && !wanted.accept_ra {
            continue;
        }
        // The system to declare it in: the one that configures the interface already,
        // else the first in charge.
        let (system, decl) = match d.first() {
            Some((s, i)) => (s.system, Some(*i)),
            None => match boot.in_charge().next() {
                Some(s) => (s.system, None),
                None => continue,
            },
        };
        if let Some(i) = decl.filter(|i| i.cloud_init && rewrites) {
            cloud_file = Some(i.at.file.display().to_string());
        }
        j.fixes.push(Plan::Declare(system, decl.cloned(), wanted));
        if let Some(file) = cloud_file {
            j.fixes.push(Plan::CloudInit(file));
        }
    }
    j
}
