//! A simulated reboot proves address.ipv6_persistent's verdict: srv's IPv6 addresses and
//! default routes are flushed and brought up again from the configuration it boots with,
//! by a minimal applier of ifupdown's stanzas, or from the systemd-networkd files that
//! `netplan generate` writes. What the check called hand-added must be gone afterwards,
//! and once its own fix is written into the configuration, it must come back.
//!
//! The reboot happens in srv, the lab's own throwaway namespace; `netplan generate`
//! writes into a temporary root only.

use crate::harness::*;
use std::path::Path;

/// The text of the heredoc (`<<'EOF'` ... `EOF`) in the fix command that writes or
/// appends to `file`.
fn heredoc(r: &CheckRun, file: &str) -> String {
    let f = r.finding(CheckId::AddressIpv6Persistent, None);
    let cmd = f
        .fixes
        .iter()
        .flat_map(|x| &x.commands)
        .find(|c| c.contains(&format!(" {file} <<'EOF'\n")))
        .unwrap_or_else(|| {
            panic!(
                "no fix writes {file}:\n{}",
                r.dump(CheckId::AddressIpv6Persistent, None)
            )
        });
    let body = cmd.split_once("<<'EOF'\n").map_or("", |(_, b)| b);
    body.strip_suffix("EOF").unwrap_or(body).to_string()
}

/// srv loses what a reboot loses: every global IPv6 address and the IPv6 default routes.
fn power_off(lab: &Lab) {
    lab.exec_ok(
        Ns::Srv,
        &[
            "ip", "-6", "addr", "flush", "dev", "eth0", "scope", "global",
        ],
    );
    lab.exec_ok(Ns::Srv, &["ip", "-6", "route", "flush", "default"]);
}

/// ifupdown's `inet6 static` stanzas of `text` for eth0 (address, gateway, `post-up`
/// commands), the way `ifup` brings them up at boot.
fn boot_ifupdown(lab: &Lab, text: &str) {
    power_off(lab);
    let mut in_stanza = false;
    let mut later: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["iface", "eth0", "inet6", "static"] => in_stanza = true,
            ["iface", ..] | ["auto", ..] | ["source", ..] => in_stanza = false,
            ["address", a] if in_stanza => {
                lab.exec_ok(
                    Ns::Srv,
                    &["ip", "-6", "addr", "add", a, "dev", "eth0", "nodad"],
                );
            }
            ["gateway", g] if in_stanza => {
                later.push(
                    [
                        "ip", "-6", "route", "add", "default", "via", g, "dev", "eth0",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
            }
            ["post-up", cmd @ ..] if in_stanza => {
                later.push(cmd.iter().map(|s| s.to_string()).collect())
            }
            _ => {}
        }
    }
    for cmd in later {
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        lab.exec_ok(Ns::Srv, &refs);
    }
}

/// The IPv6 `Address=` and `[Route]` settings of the `.network` files netplan generated
/// under `root`, brought up the way systemd-networkd does.
fn boot_networkd(lab: &Lab, root: &Path) {
    power_off(lab);
    let dir = root.join("run/systemd/network");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("netplan generated nothing in {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "network"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "netplan generated no .network file");
    let mut routes: Vec<(String, bool)> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read a generated file");
        let mut gateway: Option<String> = None;
        let mut on_link = false;
        let mut flush = |g: &mut Option<String>, o: &mut bool| {
            if let Some(g) = g.take().filter(|g| g.contains(':')) {
                routes.push((g, *o));
            }
            *o = false;
        };
        for line in text.lines() {
            if line.starts_with('[') {
                flush(&mut gateway, &mut on_link);
            }
            match line.split_once('=') {
                Some(("Address", a)) if a.contains(':') => {
                    lab.exec_ok(
                        Ns::Srv,
                        &["ip", "-6", "addr", "add", a, "dev", "eth0", "nodad"],
                    );
                }
                Some(("Gateway", g)) => gateway = Some(g.to_string()),
                Some(("GatewayOnLink", v)) => on_link = v == "true" || v == "yes",
                _ => {}
            }
        }
        flush(&mut gateway, &mut on_link);
    }
    for (g, on_link) in routes {
        let mut cmd = vec![
            "ip", "-6", "route", "append", "default", "via", &g, "dev", "eth0",
        ];
        if on_link {
            cmd.push("onlink");
        }
        lab.exec_ok(Ns::Srv, &cmd);
    }
}

/// `netplan generate` over srv's netplan `files` (name, text), in a temporary root.
fn netplan_generate(lab: &Lab, files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let etc = root.path().join("etc/netplan");
    std::fs::create_dir_all(&etc).expect("mkdir");
    for (name, text) in files {
        let p = etc.join(name);
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
    }
    let root_s = root.path().display().to_string();
    lab.exec_ok(Ns::Srv, &["netplan", "generate", "--root-dir", &root_s]);
    root
}

fn v6_addrs(lab: &Lab) -> String {
    lab.exec_ok(
        Ns::Srv,
        &["ip", "-6", "addr", "show", "dev", "eth0", "scope", "global"],
    )
}

#[test]
fn ifupdown_reboot_drops_the_hand_added_address_and_keeps_the_declared_fix() {
    let mut lab = Lab::new("reboot-ifupdown");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.remove_srv_etc("netplan/10-lab.yaml");
    let stanza = format!(
        "auto eth0\niface eth0 inet6 static\n    address {SRV_V6}/64\n    gateway {SRV_GW_V6}\n"
    );
    lab.write_boot_etc("network/interfaces", &stanza, 0o644);
    lab.link_boot_etc(
        "systemd/system/multi-user.target.wants/networking.service",
        "/lib/systemd/system/networking.service",
    );
    lab.exec_ok(
        Ns::Srv,
        &[
            "sysctl",
            "-q",
            "-w",
            "net.ipv6.conf.eth0.keep_addr_on_down=1",
        ],
    );
    let before = add_by_hand(&lab);
    let fix = heredoc(&before, "/etc/network/interfaces");

    // The verdict: after a reboot the declared address is back, the hand-added one gone.
    boot_ifupdown(&lab, &stanza);
    let addrs = v6_addrs(&lab);
    assert!(
        addrs.contains(SRV_V6) && !addrs.contains("2001:db8:1::20"),
        "{addrs}"
    );
    lab.check(&[])
        .assert_status(CheckId::AddressIpv6Persistent, None, Status::Pass);

    // The fix: the stanza dsdoctor showed, appended as it says, survives the reboot.
    let fixed = format!("{stanza}{fix}");
    lab.write_boot_etc("network/interfaces", &fixed, 0o644);
    boot_ifupdown(&lab, &fixed);
    let addrs = v6_addrs(&lab);
    assert!(
        addrs.contains("2001:db8:1::20"),
        "the fix did not bring it back:\n{fixed}\n{addrs}"
    );
    let after = lab.check(&[]);
    after.assert_status(CheckId::AddressIpv6Persistent, None, Status::Pass);
}

#[test]
fn netplan_reboot_from_its_generated_files_proves_the_on_link_fix() {
    let mut lab = Lab::new("reboot-netplan");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // OVH's case: the gateway lies outside srv's /64, reached on-link; and an address
    // added by hand.
    let gw = "2001:db8:ff::1";
    lab.exec_ok(
        Ns::Net,
        &[
            "ip",
            "addr",
            "add",
            &format!("{gw}/128"),
            "dev",
            "esrv",
            "nodad",
        ],
    );
    lab.exec_ok(
        Ns::Srv,
        &[
            "ip", "-6", "route", "replace", "default", "via", gw, "dev", "eth0", "onlink",
        ],
    );
    let before = add_by_hand(&lab);
    before.assert_status(CheckId::RouteIpv6Gateway, None, Status::Pass);
    let fix = heredoc(&before, "/etc/netplan/90-ipv6.yaml");
    assert!(
        fix.contains(&format!("via: {gw}\n          on-link: true")),
        "{fix}"
    );

    let lab_yaml = lab_netplan(SRV_GW_V6);
    let root = netplan_generate(&lab, &[("10-lab.yaml", &lab_yaml)]);
    boot_networkd(&lab, root.path());
    let addrs = v6_addrs(&lab);
    assert!(
        addrs.contains(SRV_V6) && !addrs.contains("2001:db8:1::20"),
        "{addrs}"
    );
    let routes = lab.exec_ok(Ns::Srv, &["ip", "-6", "route", "show", "default"]);
    assert!(
        !routes.contains(gw),
        "the hand-added gateway came back: {routes}"
    );

    // dsdoctor's netplan file, as its fix writes it: netplan accepts it, and the
    // address and the on-link gateway come back.
    let root = netplan_generate(&lab, &[("10-lab.yaml", &lab_yaml), ("90-ipv6.yaml", &fix)]);
    boot_networkd(&lab, root.path());
    let addrs = v6_addrs(&lab);
    assert!(addrs.contains("2001:db8:1::20"), "{fix}\n{addrs}");
    let routes = lab.exec_ok(Ns::Srv, &["ip", "-6", "route", "show", "default"]);
    assert!(routes.contains(gw), "{routes}");
    lab.write_srv_etc("netplan/90-ipv6.yaml", &fix);
    let after = lab.check(&[]);
    after.assert_status(CheckId::AddressIpv6Persistent, None, Status::Pass);
    after.assert_status(CheckId::RouteIpv6Gateway, None, Status::Pass);
}

/// An address added by hand, declared nowhere: `address.ipv6_persistent` fails.
fn add_by_hand(lab: &Lab) -> CheckRun {
    lab.exec_ok(
        Ns::Srv,
        &[
            "ip",
            "addr",
            "add",
            "2001:db8:1::20/64",
            "dev",
            "eth0",
            "nodad",
        ],
    );
    let before = lab.check(&[]);
    before.assert_status(CheckId::AddressIpv6Persistent, None, Status::Fail);
    before
}
