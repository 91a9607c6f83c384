//! Building and breaking a row's lab host: its zone, then its steps in order.

use super::row::expand;
use super::row::{Dad, Step, Zone};
use crate::harness::*;
use std::time::{Duration, Instant};

impl Zone {
    pub fn build(&self) -> DnsZone {
        let expanded = |v: &Option<Vec<String>>| -> Option<Vec<String>> {
            v.as_ref()
                .map(|v| v.iter().map(|a| expand(a, None)).collect())
        };
        fn refs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let mut z = DnsZone::new();
        if let Some(a) = expanded(&self.shop_a) {
            z = z.shop_a(&refs(&a));
        }
        if let Some(a) = expanded(&self.shop_aaaa) {
            z = z.shop_aaaa(&refs(&a));
        }
        for (name, addr) in &self.resolver_address {
            z = z.resolver_address(name, &expand(addr, None));
        }
        for h in &self.hosts {
            z = z.host(&h.name, h.a.as_deref(), h.aaaa.as_deref());
        }
        for (owner, exchange, preference) in &self.mx {
            z = z.mx(&expand(owner, None), &expand(exchange, None), *preference);
        }
        if let Some(prefix) = &self.dns64 {
            z = z.dns64_at(&expand(prefix, None));
        }
        if let Some(spf) = &self.spf {
            z = z.spf(&expand(spf, None));
        }
        for (owner, text) in &self.txt {
            z = z.txt(&expand(owner, None), &expand(text, None));
        }
        z
    }
}

pub fn apply(lab: &mut Lab, step: &Step) {
    let x = |s: &String, lab: &Lab| expand(s, Some(lab));
    let xs = |v: &[String], lab: &Lab| v.iter().map(|s| x(s, lab)).collect::<Vec<_>>();
    match step {
        Step::Nginx(listen) => {
            lab.start_nginx(listen);
        }
        Step::NginxSite(site) => {
            let site = x(site, lab);
            lab.start_nginx_raw(&site);
        }
        Step::Apache { ports, site } => {
            let site = site.as_ref().map_or(APACHE_SITE.to_string(), |s| x(s, lab));
            lab.start_apache(&x(ports, lab), &site);
        }
        Step::Haproxy(binds) => {
            lab.start_haproxy(&x(binds, lab));
        }
        Step::HaproxyTo { binds, server } => {
            lab.start_haproxy_to(&x(binds, lab), &x(server, lab));
        }
        Step::Caddy(bind) => {
            lab.start_caddy(&x(bind, lab));
        }
        Step::Listener {
            addr,
            port,
            v6only,
            body,
        } => {
            lab.start_listener(addr, *port, *v6only, body);
        }
        Step::Postfix(lines) => {
            let lines = x(lines, lab);
            lab.start_postfix(&lines);
        }
        Step::Endless { slow } => lab.start_endless_server(80, *slow),
        Step::Smtp(socks) => {
            let socks: Vec<(String, u16, String)> = socks
                .iter()
                .map(|(a, p, n)| (x(a, lab), *p, x(n, lab)))
                .collect();
            let refs: Vec<(&str, u16, &str)> = socks
                .iter()
                .map(|(a, p, n)| (a.as_str(), *p, n.as_str()))
                .collect();
            lab.start_smtp(&refs);
        }
        Step::Certificate { label, names } => {
            lab.trust_lab_ca();
            let names = xs(names, lab);
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            lab.lab_cert(label, &refs);
        }
        Step::Srv(argv) | Step::Net(argv) => {
            let ns = if matches!(step, Step::Srv(_)) {
                Ns::Srv
            } else {
                Ns::Net
            };
            let argv = xs(argv, lab);
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            lab.exec_ok(ns, &refs);
        }
        Step::SysctlFile { name, content } => {
            lab.write_srv_etc(&format!("sysctl.d/{name}"), content);
            // `ip netns exec` bind-mounts /etc/netns/<srv>/sysctl.d over /etc/sysctl.d.
            let seen = lab.exec_ok(Ns::Srv, &["cat", &format!("/etc/sysctl.d/{name}")]);
            assert_eq!(&seen, content, "the sysctl.d overlay is not visible in srv");
        }
        Step::Etc {
            path,
            content,
            mode,
        } => {
            let content = x(content, lab);
            lab.write_boot_etc(path, &content, mode.unwrap_or(0o644));
        }
        Step::SrvEtc { path, content } => {
            let content = x(content, lab);
            lab.write_srv_etc(path, &content);
        }
        Step::EtcLink { path, target } => lab.link_boot_etc(path, target),
        Step::EtcRemove(path) => lab.remove_srv_etc(path),
        Step::SrvPrints { cmd, out } => {
            let argv = xs(cmd, lab);
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            assert_eq!(lab.exec_ok(Ns::Srv, &refs).trim(), out, "{argv:?} in srv");
        }
        Step::WaitDad(dad) => wait_srv_dad(lab, *dad),
        Step::HeldConnection { addr, port } => lab.hold_connection(&x(addr, lab), *port),
        Step::Nft { ns, rules } => lab.nft(*ns, rules),
        Step::StrictRuleset => lab.nft(Ns::Srv, STRICT_NFT),
        Step::Iptables(argv) => {
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            lab.iptables(&refs);
        }
        Step::FlushV6Neighbours => lab.flush_v6_neighbours(),
        Step::SecondIpv4Uplink => lab.second_ipv4_uplink(),
        Step::BehindNat(nat) => lab.put_behind_nat(*nat),
        Step::ForwardPort { nat, port, hairpin } => lab.forward_port(*nat, *port, *hairpin),
        Step::BlockIpv6Upstream => lab.block_ipv6_upstream(),
        Step::NarrowUplink(mtu) => lab.narrow_upstream_link(*mtu),
        Step::DropPacketTooBigUpstream { ipv4 } => lab.drop_packet_too_big_upstream(*ipv4),
        Step::Blackhole6(addr) => lab.add_blackhole_v6(&x(addr, lab)),
        Step::Nat64 { mtu } => lab.start_nat64(*mtu),
        Step::Pref64(prefix) => lab.advertise_pref64(&x(prefix, lab)),
        Step::Reach { to, port, open } => {
            let to = x(to, lab);
            assert_eq!(
                lab.tcp_connects(Ns::Cli, &to, *port),
                *open,
                "from cli, {to} port {port} should be {}; srv's ruleset:\n{}",
                if *open { "open" } else { "closed" },
                lab.ruleset()
            );
        }
        Step::Refused { to, port } => {
            let to = x(to, lab);
            let err = lab
                .http_get(Ns::Cli, &to, *port)
                .expect_err("the reject has no effect");
            assert!(err.contains("Refused") || err.contains("refused"), "{err}");
        }
    }
}

/// Poll `ip -6 addr show dev eth0` in srv until duplicate address detection is over (no
/// address is tentative unless DAD failed on it: a dadfailed address keeps the tentative
/// flag) and has ended as `dad` says.
fn wait_srv_dad(lab: &Lab, dad: Dad) {
    let timeout = Duration::from_secs(5);
    let deadline = Instant::now() + timeout;
    let cidr = format!("{SRV_V6}/64");
    loop {
        let out = lab.exec_ok(Ns::Srv, &["ip", "-6", "addr", "show", "dev", "eth0"]);
        let pending = out
            .lines()
            .any(|l| l.contains("tentative") && !l.contains("dadfailed"));
        let ended = match dad {
            Dad::LinkLocalOnly => !out.contains("scope global") && out.contains("scope link"),
            Dad::Failed => out
                .lines()
                .any(|l| l.contains(&cidr) && l.contains("dadfailed")),
        };
        if !pending && ended {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "DAD on srv eth0 not ended as {dad:?} after {timeout:?}:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
