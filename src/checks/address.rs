//! The address stage: does the host have a usable address of each family?

use super::host::{self, Ipv6State};
use super::view::Ctx;
use crate::model::{CheckId, Family, Finding, Status};
use crate::net::{AddrClass, classify, reachable_by_clients};
use crate::parse::sysctl_conf::last_assignment;

pub fn ipv6_enabled(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::AddressIpv6Enabled;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    let values: Vec<String> = f
        .sysctl
        .value()
        .map(|s| {
            ["all".to_string(), "default".to_string()]
                .into_iter()
                .chain(host::relevant_ifaces(f, Family::V6))
                .filter_map(|k| {
                    s.disable_ipv6
                        .get(&k)
                        .map(|v| format!("net.ipv6.conf.{k}.disable_ipv6 = {v}"))
                })
                .collect()
        })
        .unwrap_or_default();
    match host::ipv6_state(f) {
        Ipv6State::Absent => {
            let why = if f.host.ipv6_cmdline_disabled {
                "the kernel was booted with ipv6.disable=1"
            } else {
                "the kernel has no IPv6 support (/proc/sys/net/ipv6 is absent)"
            };
            Finding::new(id, None, Status::Fail, format!("IPv6 is absent: {why}"))
                .explain("ipv6_absent", &[])
                .fix("kernel_cmdline_ipv6", &[])
        }
        Ipv6State::Disabled(keys) => {
            let fd = Finding::new(
                id,
                None,
                Status::Fail,
                format!("IPv6 is disabled: disable_ipv6 = 1 for {}", keys.join(", ")),
            )
            .evidence_all(values)
            .explain("ipv6_disabled", &[]);
            let mut cmds: Vec<String> = keys
                .iter()
                .map(|k| format!("sysctl -w net.ipv6.conf.{k}.disable_ipv6=0"))
                .collect();
            if !keys.iter().any(|k| k == "default") {
                cmds.push("sysctl -w net.ipv6.conf.default.disable_ipv6=0".into());
            }
            fd.fix_lines("enable_ipv6_now", cmds)
                .fix("enable_ipv6_persist", &[])
        }
        Ipv6State::Unknown => Finding::new(
            id,
            None,
            Status::Error,
            format!(
                "could not read the IPv6 settings: {}",
                f.sysctl
                    .result
                    .as_ref()
                    .err()
                    .map(|e| e.message.as_str())
                    .unwrap_or("unknown")
            ),
        ),
        Ipv6State::Enabled => Finding::new(id, None, Status::Pass, "IPv6 is enabled in the kernel")
            .evidence_all(values),
    }
    .took(f.sysctl.ms)
}

pub fn ipv6_persistent(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::AddressIpv6Persistent;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    let settings = match &f.sysctl_files.result {
        Ok(s) => s,
        Err(e) => {
            return Finding::new(
                id,
                None,
                Status::Error,
                format!("could not read the sysctl configuration: {}", e.message),
            );
        }
    };
    let mut keys = vec!["all".to_string(), "default".to_string()];
    keys.extend(host::relevant_ifaces(f, Family::V6));
    let mut offenders = Vec::new();
    let mut evidence = Vec::new();
    for k in &keys {
        let key = format!("net.ipv6.conf.{k}.disable_ipv6");
        if let Some(s) = last_assignment(settings, &key) {
            evidence.push(format!(
                "{}:{}: {} = {}",
                s.file.display(),
                s.line,
                s.key,
                s.value
            ));
            if s.value.trim() == "1" {
                offenders.push(s.clone());
            }
        }
    }
    if f.host.ipv6_cmdline_disabled {
        return Finding::new(
            id,
            None,
            Status::Fail,
            "the kernel command line has ipv6.disable=1: IPv6 stays off after every boot",
        )
        .explain("ipv6_absent", &[])
        .fix("kernel_cmdline_ipv6", &[]);
    }
    if offenders.is_empty() {
        if evidence.is_empty() {
            evidence.push("no sysctl configuration file sets disable_ipv6".into());
        }
        return Finding::new(
            id,
            None,
            Status::Pass,
            "no sysctl configuration file disables IPv6 at boot",
        )
        .evidence_all(evidence);
    }
    let where_ = offenders
        .iter()
        .map(|s| format!("{}:{} ({} = {})", s.file.display(), s.line, s.key, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    let now_enabled = host::ipv6_state(f) == Ipv6State::Enabled;
    let mut fd = Finding::new(
        id,
        None,
        Status::Fail,
        if now_enabled {
            format!("IPv6 works now but will be disabled at the next boot by {where_}")
        } else {
            format!("IPv6 is disabled at every boot by {where_}")
        },
    )
    .evidence_all(evidence)
    .explain("ipv6_persistent", &[]);
    for s in &offenders {
        fd = fd.fix(
            "sysctl_file_line",
            &[
                ("file", &s.file.display().to_string()),
                ("line", &s.line.to_string()),
                ("key", &s.key),
            ],
        );
    }
    fd.took(f.sysctl_files.ms)
}

pub fn global_ipv6(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::AddressGlobalIpv6;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
        return skip;
    }
    if let Err(e) = &f.links.result {
        return Finding::new(
            id,
            None,
            Status::Error,
            format!("could not read addresses: {}", e.message),
        );
    }
    let evidence = host::addr_evidence(f, Family::V6);
    if host::ipv6_off(f) {
        return Finding::new(
            id,
            None,
            Status::Fail,
            "no IPv6 address: IPv6 is disabled on this host (see address.ipv6_enabled)",
        )
        .evidence_all(evidence)
        .caused_by(CheckId::AddressIpv6Enabled);
    }
    let global: Vec<_> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv6() && reachable_by_clients(a.ip, &o.assume_public))
        .collect();
    let usable: Vec<_> = global
        .iter()
        .filter(|(_, a)| !a.tentative && !a.dadfailed)
        .collect();
    let iface = host::relevant_ifaces(f, Family::V6)
        .into_iter()
        .next()
        .unwrap_or_else(|| "eth0".into());
    let aaaa = f
        .dns
        .ips(Family::V6)
        .into_iter()
        .find(|ip| ip.is_ipv6())
        .map(|ip| ip.to_string());
    let fix_vars_addr = aaaa.clone().unwrap_or_else(|| "YOUR_IPV6_ADDRESS".into());
    let fix_vars = [("addr", fix_vars_addr.as_str()), ("iface", iface.as_str())];
    if let Some((l, a)) = usable.iter().find(|(_, a)| !a.deprecated) {
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!("global IPv6 address {} on {}", a.ip, l.name),
        )
        .evidence_all(evidence);
    }
    if let Some((l, a)) = usable.first() {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "the only global IPv6 address {} on {} is deprecated",
                a.ip, l.name
            ),
        )
        .evidence_all(evidence)
        .explain("v6_deprecated", &[]);
    }
    if let Some((l, a)) = global.iter().find(|(_, a)| a.dadfailed) {
        let ip = a.ip.to_string();
        return Finding::new(
            id,
            None,
            Status::Fail,
            format!(
                "{} on {} failed duplicate address detection: another host on the link uses it",
                a.ip, l.name
            ),
        )
        .evidence_all(evidence)
        .explain("v6_dadfailed", &[])
        .fix(
            "dad_failed",
            &[
                ("addr", &ip),
                ("prefix", &a.prefix_len.to_string()),
                ("iface", &l.name),
            ],
        );
    }
    if let Some((l, a)) = global.iter().find(|(_, a)| a.tentative) {
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!(
                "{} on {} is still tentative (duplicate address detection running)",
                a.ip, l.name
            ),
        )
        .evidence_all(evidence)
        .explain("v6_tentative", &[]);
    }
    let kinds: Vec<&str> = f
        .addrs()
        .filter(|(_, a)| a.ip.is_ipv6())
        .map(|(_, a)| classify(a.ip).describe())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let summary = if kinds.is_empty() {
        "no IPv6 address outside loopback".to_string()
    } else {
        format!("no global IPv6 address: only {}", kinds.join(" and "))
    };
    Finding::new(id, None, Status::Fail, summary)
        .evidence_all(evidence)
        .explain("v6_no_global", &[])
        .fix("add_v6_address", &fix_vars)
}

pub fn global_ipv4(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::AddressGlobalIpv4;
    if let Some(skip) = host::unexpected(o, id, None, Family::V4) {
        return skip;
    }
    if let Err(e) = &f.links.result {
        return Finding::new(
            id,
            None,
            Status::Error,
            format!("could not read addresses: {}", e.message),
        );
    }
    let evidence = host::addr_evidence(f, Family::V4);
    let relevant = host::relevant_ifaces(f, Family::V4);
    let v4: Vec<_> = f
        .addrs()
        .filter(|(l, a)| a.ip.is_ipv4() && relevant.contains(&l.name))
        .collect();
    if let Some((l, a)) = v4
        .iter()
        .find(|(_, a)| reachable_by_clients(a.ip, &o.assume_public))
    {
        return Finding::new(
            id,
            None,
            Status::Pass,
            format!("public IPv4 address {} on {}", a.ip, l.name),
        )
        .evidence_all(evidence);
    }
    if let Some((l, a)) = v4.iter().find(|(_, a)| classify(a.ip) == AddrClass::Cgnat) {
        return Finding::new(
            id,
            None,
            Status::Fail,
            format!("{} on {} is carrier-grade NAT space (100.64.0.0/10): no inbound IPv4 connection can reach this host", a.ip, l.name),
        )
        .evidence_all(evidence)
        .explain("v4_cgnat", &[]);
    }
    if let Some((l, a)) = v4
        .iter()
        .find(|(_, a)| classify(a.ip) == AddrClass::Private)
    {
        // The ISP stage connected from outside through the NAT on every port: the port
        // forwarding works, so the private address is no problem.
        if let Some(public) = super::view::nat_forward_confirmed(c) {
            return Finding::new(
                id,
                None,
                Status::Pass,
                format!("{} on {} is private, behind NAT: the internet sees {public} and reaches every port through the router's port forwarding (isp.inbound_ipv4)", a.ip, l.name),
            )
            .evidence_all(evidence)
            .explain("v4_nat_forwarded", &[("public", &public.to_string())]);
        }
        return Finding::new(
            id,
            None,
            Status::Warn,
            format!("{} on {} is private: IPv4 clients reach this host only through NAT port forwarding", a.ip, l.name),
        )
        .evidence_all(evidence)
        .explain("v4_private", &[]);
    }
    Finding::new(
        id,
        None,
        Status::Fail,
        "no public IPv4 address on this host",
    )
    .evidence_all(evidence)
    .explain("v4_none", &[])
}
