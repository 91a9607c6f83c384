//! address.ipv6_persistent against the network configuration in charge: one test per
//! system and per decision (declared, added by hand, missing at runtime, cloud-init,
//! keep_addr_on_down, learned from RAs, nothing found, root-only files).

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::*;
use crate::model::{CheckId, Finding, Status};

const ID: CheckId = CheckId::AddressIpv6Persistent;
const NM_ON: (&str, &str) = (
    "/etc/systemd/system/multi-user.target.wants/NetworkManager.service",
    "/usr/lib/systemd/system/NetworkManager.service",
);
const NETWORKD_ON: (&str, &str) = (
    "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
    "/lib/systemd/system/systemd-networkd.service",
);
const IFUPDOWN_ON: (&str, &str) = (
    "/etc/systemd/system/multi-user.target.wants/networking.service",
    "/lib/systemd/system/networking.service",
);
const INTERFACES: &str = "auto eth0\niface eth0 inet6 static\n    address 2001:db8:1::10/64\n    gateway 2001:db8:1::1\n";

fn run(f: &Facts, status: Status) -> Finding {
    expect(&evaluate(f, &options()), ID, None, status).clone()
}

fn with_boot(files: &[(&str, &str)]) -> Facts {
    let mut f = healthy();
    f.boot_network = Some(Probed::ok(boot(files)));
    f
}

fn add_v6(f: &mut Facts, a: &str, prefix: u8) {
    eth0(f).addrs.push(addr(a, prefix));
}

fn set_v6_default(f: &mut Facts, gw: &str, protocol: &str) {
    if let Ok(rs) = f.routes.result.as_mut() {
        rs.retain(|r| !(r.family == crate::model::Family::V6 && r.dst.is_none()));
        rs.push(Route {
            family: crate::model::Family::V6,
            dst: None,
            gateway: Some(ip(gw)),
            dev: Some("eth0".into()),
            metric: Some(1024),
            protocol: protocol.into(),
            more_gateways: Vec::new(),
        });
    }
}

fn commands(fd: &Finding) -> String {
    fd.fixes
        .iter()
        .map(|x| format!("{}\n{}", x.title, x.commands.join("\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn declared_in_netplan_passes_and_says_who_is_in_charge() {
    let fd = run(&healthy(), Status::Pass);
    assert_has(
        &fd.summary,
        "come back at boot (netplan, rendered by networkd",
    );
    assert!(
        fd.evidence
            .iter()
            .any(|e| e
                .contains("2001:db8:1::10/64 on eth0: declared at /etc/netplan/10-web1.yaml:5")),
        "{:#?}",
        fd.evidence
    );
    assert_line(
        &fd.evidence,
        "default via 2001:db8:1::1 dev eth0 (proto static): declared at /etc/netplan/10-web1.yaml:10",
    );
}

#[test]
fn an_older_snapshot_is_judged_on_the_sysctl_files_alone() {
    let mut f = healthy();
    f.boot_network = None;
    add_v6(&mut f, "2001:db8:1::20", 64);
    let fd = run(&f, Status::Pass);
    assert_eq!(
        fd.summary,
        "no sysctl configuration file disables IPv6 at boot"
    );
}

/// An address or default route added by hand, with the system in charge: what the
/// finding says, and the declaration its fix writes (healthy: netplan).
struct ByHand {
    /// The boot configuration instead of the healthy netplan one.
    boot: Option<&'static [(&'static str, &'static str)]>,
    addr: Option<&'static str>,
    gateway: Option<&'static str>,
    summary: &'static [&'static str],
    evidence: &'static [&'static str],
    commands: &'static [&'static str],
    not_in_commands: &'static [&'static str],
}

const NOTHING_MORE: ByHand = ByHand {
    boot: None,
    addr: None,
    gateway: None,
    summary: &[],
    evidence: &[],
    commands: &[],
    not_in_commands: &[],
};

const NM_KEYFILE: (&str, &str) = (
    "/etc/NetworkManager/system-connections/eth0.nmconnection",
    "[connection]\nid=Wired eth0\ninterface-name=eth0\n[ipv6]\nmethod=manual\naddress1=2001:db8:1::10/64,2001:db8:1::1\n",
);

#[test]
fn added_by_hand_gets_the_declaration_of_the_system_in_charge() {
    let rows = [
        ByHand {
            addr: Some("2001:db8:1::20"),
            summary: &[
                "2001:db8:1::20/64 on eth0 was added by hand",
                "gone after the next reboot",
            ],
            commands: &[
                "cat > /etc/netplan/90-ipv6.yaml <<'EOF'\nnetwork:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [2001:db8:1::20/64]\nEOF",
                "merged with /etc/netplan/10-web1.yaml",
                "netplan try",
            ],
            not_in_commands: &["{"],
            ..NOTHING_MORE
        },
        // Hetzner's gateway: the declared route is missing now, the opposite drift is in
        // the evidence; a link-local gateway needs no on-link.
        ByHand {
            gateway: Some("fe80::1"),
            summary: &["the IPv6 default route via fe80::1 dev eth0 was added by hand"],
            evidence: &[
                "warn: the default route via 2001:db8:1::1 is declared for eth0 at /etc/netplan/10-web1.yaml:10",
            ],
            commands: &["      routes:\n        - to: default\n          via: fe80::1\nEOF"],
            not_in_commands: &["on-link"],
            ..NOTHING_MORE
        },
        // OVH's gateway outside the prefix.
        ByHand {
            gateway: Some("2001:db8:ff:ff:ff:ff:ff:ff"),
            commands: &["          via: 2001:db8:ff:ff:ff:ff:ff:ff\n          on-link: true\n"],
            ..NOTHING_MORE
        },
        ByHand {
            boot: Some(&[IFUPDOWN_ON, ("/etc/network/interfaces", INTERFACES)]),
            addr: Some("2001:db8:1::20"),
            gateway: Some("2001:db8:ff::1"),
            commands: &[
                "Declare it for ifupdown in /etc/network/interfaces",
                "cat >> /etc/network/interfaces <<'EOF'\n\niface eth0 inet6 static\n    address 2001:db8:1::20/64\n    post-up ip -6 route add 2001:db8:ff::1 dev eth0\n    post-up ip -6 route add default via 2001:db8:ff::1 dev eth0\nEOF",
                "ifup --no-act eth0",
            ],
            ..NOTHING_MORE
        },
        // An interface ifupdown does not know gets `auto` too.
        ByHand {
            boot: Some(&[
                IFUPDOWN_ON,
                (
                    "/etc/network/interfaces",
                    "auto lo\niface lo inet loopback\n",
                ),
            ]),
            gateway: Some("fe80::1"),
            commands: &[
                "auto eth0\niface eth0 inet6 static\n    address 2001:db8:1::10/64\n    gateway fe80::1\n",
            ],
            ..NOTHING_MORE
        },
        ByHand {
            boot: Some(&[NM_ON, NM_KEYFILE]),
            addr: Some("2001:db8:1::20"),
            commands: &["nmcli connection modify 'Wired eth0' +ipv6.addresses 2001:db8:1::20/64"],
            ..NOTHING_MORE
        },
        // No connection for the interface on disk: nmcli names it at run time.
        ByHand {
            boot: Some(&[NM_ON]),
            addr: Some("2001:db8:1::20"),
            commands: &[
                "nmcli connection modify \"$(nmcli -g GENERAL.CONNECTION device show eth0)\" +ipv6.addresses 2001:db8:1::10/64",
            ],
            ..NOTHING_MORE
        },
        ByHand {
            boot: Some(&[
                NM_ON,
                (
                    "/etc/sysconfig/network-scripts/ifcfg-eth0",
                    "DEVICE=eth0\nONBOOT=yes\nIPV6INIT=yes\nIPV6ADDR=2001:db8:1::10/64\nIPV6_DEFAULTGW=2001:db8:1::1%eth0\n",
                ),
            ]),
            addr: Some("2001:db8:1::20"),
            commands: &[
                "Declare it in /etc/sysconfig/network-scripts/ifcfg-eth0",
                "IPV6ADDR_SECONDARIES=\"2001:db8:1::20/64\"",
            ],
            ..NOTHING_MORE
        },
        // networkd_gets_a_drop_in: a drop-in next to the .network file that lacks the
        // route...
        ByHand {
            boot: Some(&[
                NETWORKD_ON,
                (
                    "/etc/systemd/network/10-eth0.network",
                    "[Match]\nName=eth0\n[Network]\nAddress=2001:db8:1::10/64\n",
                ),
            ]),
            summary: &["default route via 2001:db8:1::1 dev eth0 was added by hand"],
            commands: &[
                "mkdir -p /etc/systemd/network/10-eth0.network.d",
                "cat > /etc/systemd/network/10-eth0.network.d/60-ipv6.conf <<'EOF'\n[Route]\nGateway=2001:db8:1::1\nEOF",
                "networkctl reload",
            ],
            ..NOTHING_MORE
        },
        // ...and a whole .network file where there is none.
        ByHand {
            boot: Some(&[NETWORKD_ON]),
            commands: &[
                "/etc/systemd/network/10-eth0.network <<'EOF'\n[Match]\nName=eth0\n\n[Address]\nAddress=2001:db8:1::10/64\n",
            ],
            ..NOTHING_MORE
        },
    ];
    for row in rows {
        let mut f = match row.boot {
            Some(files) => with_boot(files),
            None => healthy(),
        };
        if let Some(a) = row.addr {
            add_v6(&mut f, a, 64);
        }
        if let Some(gw) = row.gateway {
            set_v6_default(&mut f, gw, "boot");
        }
        let fd = run(&f, Status::Fail);
        for part in row.summary {
            assert_has(&fd.summary, part);
        }
        for part in row.evidence {
            assert_line(&fd.evidence, part);
        }
        let c = commands(&fd);
        for part in row.commands {
            assert_has(&c, part);
        }
        for part in row.not_in_commands {
            assert!(!c.contains(part), "{part:?} in {c}");
        }
    }
}

#[test]
fn declared_but_missing_at_runtime_is_a_warning_with_the_safe_apply() {
    let np = NETPLAN.replace(
        "2001:db8:1::10/64]",
        "2001:db8:1::10/64, 2001:db8:1::99/64]",
    );
    let mut f = healthy();
    f.boot_network = netplan(&np);
    let fd = run(&f, Status::Warn);
    assert_has(
        &fd.summary,
        "2001:db8:1::99/64 is declared for eth0 at /etc/netplan/10-web1.yaml:5 (netplan) but is not in use now",
    );
    let c = commands(&fd);
    assert_has(&c, "Apply what /etc/netplan/10-web1.yaml declares");
    assert_has(&c, "netplan try");
}

#[test]
fn a_file_cloud_init_rewrites_gets_the_cloud_init_fix() {
    let cloud =
        format!("# This file is generated from information provided by the datasource.\n{NETPLAN}");
    let files = [
        ("/usr/sbin/netplan", ""),
        ("/etc/cloud/cloud.cfg", "datasource_list: [ Hetzner ]\n"),
        ("/etc/netplan/50-cloud-init.yaml", cloud.as_str()),
    ];
    let mut f = with_boot(&files);
    add_v6(&mut f, "2001:db8:1::20", 64);
    let fd = run(&f, Status::Fail);
    let c = commands(&fd);
    assert_has(&c, "merged with /etc/netplan/50-cloud-init.yaml");
    assert_has(
        &c,
        "Stop cloud-init from rewriting /etc/netplan/50-cloud-init.yaml at every boot",
    );
    assert_has(
        &c,
        "echo 'network: {config: disabled}' > /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg",
    );
    let mut off = files.to_vec();
    off.push((
        "/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg",
        "network: {config: disabled}\n",
    ));
    let mut f = with_boot(&off);
    add_v6(&mut f, "2001:db8:1::20", 64);
    let fd = run(&f, Status::Fail);
    assert!(!commands(&fd).contains("cloud.cfg.d"), "{}", commands(&fd));
    assert_line(
        &fd.evidence,
        "cloud-init leaves the network configuration alone",
    );
}

#[test]
fn keep_addr_on_down_off_under_ifupdown_warns() {
    let f = with_boot(&[IFUPDOWN_ON, ("/etc/network/interfaces", INTERFACES)]);
    let fd = run(&f, Status::Warn);
    assert_has(
        &fd.summary,
        "keep_addr_on_down is off: a link flap removes it",
    );
    assert_has(
        &commands(&fd),
        "sysctl -w net.ipv6.conf.eth0.keep_addr_on_down=1",
    );
    let mut f = f;
    if let Some(Ok(b)) = f.boot_network.as_mut().map(|p| p.result.as_mut()) {
        b.keep_addr_on_down.insert("all".into(), 1);
    }
    run(&f, Status::Pass);
}

#[test]
fn learned_from_router_advertisements_comes_back_when_accepted() {
    let mut f = healthy();
    let mut slaac = addr("2001:db8:1:0:200:ff:fe00:10", 64);
    slaac.permanent = false;
    slaac.mngtmpaddr = true;
    eth0(&mut f).addrs.push(slaac);
    let mut privacy = addr("2001:db8:1:0:1234:5678:9abc:def0", 64);
    (privacy.permanent, privacy.temporary) = (false, true);
    eth0(&mut f).addrs.push(privacy);
    set_v6_default(&mut f, "fe80::1", "ra");
    let np = NETPLAN.replace("        - to: default\n          via: 2001:db8:1::1\n", "");
    f.boot_network = netplan(&np);
    let fd = run(&f, Status::Pass);
    assert_line(&fd.evidence, "learned from router advertisements");
    let off = np.replace("    eth0:\n", "    eth0:\n      accept-ra: false\n");
    f.boot_network = netplan(&off);
    let fd = run(&f, Status::Fail);
    assert_has(&fd.summary, "does not accept them on eth0");
    assert_has(&commands(&fd), "      accept-ra: true\n");
}

#[test]
fn nothing_in_charge_is_a_warning_not_a_failure() {
    let f = with_boot(&[(
        "/lib/systemd/network/80-container-host0.network",
        "[Match]\nName=host0\n",
    )]);
    let fd = run(&f, Status::Warn);
    assert_has(
        &fd.summary,
        "no network configuration that this host boots with was found",
    );
    assert_has(&fd.summary, "2001:db8:1::10 on eth0");
    assert_line(&fd.evidence, "systemd-networkd is not enabled");
    assert_has(&commands(&fd), "grep -rn '2001:db8:1::10' /etc");
}

#[test]
fn root_only_configuration_is_an_error_that_says_root() {
    let mut f = with_boot(&[]);
    if let Some(Ok(b)) = f.boot_network.as_mut().map(|p| p.result.as_mut()) {
        b.unreadable.push("/etc/netplan/50-cloud-init.yaml".into());
    }
    let fd = run(&f, Status::Error);
    assert_has(&fd.summary, "run as root");
    assert_line(
        &fd.evidence,
        "/etc/netplan/50-cloud-init.yaml: only root can read it",
    );
}

#[test]
fn ipv6_off_now_is_not_compared() {
    let mut f = healthy();
    if let Ok(s) = f.sysctl.result.as_mut() {
        s.disable_ipv6.insert("all".into(), 1);
    }
    eth0(&mut f).addrs.retain(|a| a.ip.is_ipv4());
    let fd = run(&f, Status::Pass);
    assert_line(&fd.evidence, "IPv6 is not enabled now");
}

#[test]
fn a_sysctl_file_and_a_hand_added_address_both_show() {
    let mut f = healthy();
    add_v6(&mut f, "2001:db8:1::20", 64);
    f.sysctl_files = ipv6_off_at_boot();
    let fd = run(&f, Status::Fail);
    assert_has(&fd.summary, "/etc/sysctl.d/99-hardening.conf:7");
    assert_line(
        &fd.evidence,
        "fail: 2001:db8:1::20/64 on eth0 was added by hand",
    );
    assert_has(&commands(&fd), "/etc/netplan/90-ipv6.yaml");
}

#[test]
fn every_hop_of_a_multipath_default_route_is_judged() {
    let mut f = healthy();
    if let Ok(rs) = f.routes.result.as_mut() {
        for r in rs
            .iter_mut()
            .filter(|r| r.family == crate::model::Family::V6)
        {
            r.more_gateways.push(ip("fe80::2"));
        }
    }
    let fd = run(&f, Status::Fail);
    assert_has(
        &fd.summary,
        "the IPv6 default route via fe80::2 dev eth0 was added by hand",
    );
}

#[test]
fn a_declared_link_with_nothing_in_use_is_compared_too() {
    let mut f = healthy();
    add_link(&mut f, ethernet(3, "eth1", vec![addr("fe80::11", 64)]));
    let np = format!("{NETPLAN}    eth1:\n      addresses: [2001:db8:7::1/64]\n");
    f.boot_network = netplan(&np);
    let fd = run(&f, Status::Warn);
    assert_has(&fd.summary, "2001:db8:7::1/64 is declared for eth1");
}
