//! The boot network parsers on fixtures taken from each system's own documentation
//! (named at each test), the in-charge decision, and hostile input.

use super::*;
use crate::facts::netconf::{IfaceConfig, NetSystem};
use crate::parse::source::{MapSource, ReadError};
use std::path::Path;

fn net(s: &str) -> IpNet {
    s.parse().expect("fixture prefix")
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().expect("fixture address")
}

fn v6_addrs(i: &IfaceConfig) -> Vec<String> {
    i.addresses.iter().map(|a| a.net.to_string()).collect()
}

fn system(b: &BootNetwork, s: NetSystem) -> &SystemConfig {
    b.systems
        .iter()
        .find(|x| x.system == s)
        .unwrap_or_else(|| panic!("{s:?} not found: {b:#?}"))
}

/// MapSource with `/dev/...` contents made links (enabled or masked units).
fn src(files: &[(&str, &str)]) -> MapSource {
    let mut s = MapSource::new();
    for (p, t) in files {
        s = if t.starts_with('/') {
            s.link(*p, *t)
        } else {
            s.with(*p, *t)
        };
    }
    s
}

fn load_map(files: &[(&str, &str)]) -> BootNetwork {
    load(&src(files), &Limits::default(), "")
}

// ------------------------------------------------------------------ netplan

/// netplan's `examples/direct_connect_gateway_ipv6.yaml` (netplan.io documentation,
/// "Directly connected gateway"): a gateway outside the /64, reached on-link, as OVH
/// documents it.
const NETPLAN_ONLINK: &str = r#"network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      addresses: [ "2001:cafe:face:beef::dead:dead/64" ]
      routes:
        - to: "::/0"
          via: "2001:cafe:face::1"
          on-link: true
"#;

/// The file cloud-init writes on Ubuntu (its header as cloud-init 23 writes it), for a
/// device matched by MAC and renamed.
const NETPLAN_CLOUD_INIT: &str =
    "# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
network:
    ethernets:
        ens3:
            dhcp4: true
            dhcp6: true
            match:
                macaddress: fa:16:3e:aa:bb:cc
            set-name: ens3
    version: 2
";

#[test]
fn netplan_on_link_gateway_from_the_documentation() {
    let np = netplan::parse(&[("/etc/netplan/01-netcfg.yaml".into(), NETPLAN_ONLINK.into())]);
    assert!(np.problems.is_empty(), "{:?}", np.problems);
    assert_eq!(np.renderer, "networkd");
    let eth0 = &np.interfaces[0];
    assert_eq!((eth0.name.as_str(), eth0.at.line), ("eth0", 5));
    assert_eq!(v6_addrs(eth0), ["2001:cafe:face:beef::dead:dead/64"]);
    assert_eq!(eth0.addresses[0].at.line, 6);
    let r = &eth0.routes[0];
    assert_eq!(
        (r.dst, r.gateway, r.on_link, r.at.line),
        (None, Some(ip("2001:cafe:face::1")), true, 9)
    );
    assert!(
        eth0.accept_ra,
        "networkd honours RAs unless accept-ra: false"
    );
}

#[test]
fn netplan_files_merge_in_name_order_with_run_shadowing_etc() {
    let order = netplan::file_order(&[
        ("/lib/netplan".into(), vec!["00-lib.yaml".into()]),
        (
            "/etc/netplan".into(),
            vec![
                "50-cloud-init.yaml".into(),
                "90-ipv6.yaml".into(),
                "x.yml".into(),
            ],
        ),
        ("/run/netplan".into(), vec!["90-ipv6.yaml".into()]),
    ]);
    assert_eq!(
        order,
        [
            "/lib/netplan/00-lib.yaml",
            "/etc/netplan/50-cloud-init.yaml",
            "/run/netplan/90-ipv6.yaml"
        ]
        .map(PathBuf::from)
        .to_vec()
    );
    let later = "network:\n  version: 2\n  ethernets:\n    ens3:\n      addresses:\n        - \"2001:db8:1::10/64\": {lifetime: 0}\n      accept-ra: no\n      routes:\n        - to: default\n          via: fe80::1\n        - to: 0.0.0.0/0\n          via: 192.0.2.1\n";
    let np = netplan::parse(&[
        (
            "/etc/netplan/50-cloud-init.yaml".into(),
            NETPLAN_CLOUD_INIT.into(),
        ),
        ("/etc/netplan/90-ipv6.yaml".into(), later.into()),
    ]);
    assert_eq!(np.interfaces.len(), 1, "one device, merged");
    let ens3 = &np.interfaces[0];
    assert_eq!((ens3.name.as_str(), ens3.id.as_str()), ("ens3", "ens3"));
    assert_eq!(ens3.at.file, Path::new("/etc/netplan/50-cloud-init.yaml"));
    assert!(ens3.cloud_init && ens3.dhcp6 && !ens3.accept_ra);
    assert_eq!(v6_addrs(ens3), ["2001:db8:1::10/64"]);
    assert_eq!(
        ens3.addresses[0].at.file,
        Path::new("/etc/netplan/90-ipv6.yaml")
    );
    assert_eq!(ens3.routes.len(), 1, "the IPv4 default route is left out");
    assert_eq!(ens3.routes[0].gateway, Some(ip("fe80::1")));
}

#[test]
fn netplan_renderer_networkmanager_and_bad_yaml() {
    let nm = "network:\n  version: 2\n  renderer: NetworkManager\n  ethernets:\n    eth0:\n      match: {name: \"en*\"}\n      addresses: [2001:db8::5/64, nonsense]\n";
    let np = netplan::parse(&[
        ("/etc/netplan/a.yaml".into(), ": : [\n".into()),
        ("/etc/netplan/b.yaml".into(), nm.into()),
    ]);
    assert_eq!(np.renderer, "NetworkManager");
    assert_eq!(np.interfaces[0].name, "en*");
    assert!(
        !np.interfaces[0].accept_ra,
        "NetworkManager without dhcp6: manual"
    );
    assert!(
        np.problems
            .iter()
            .any(|p| p.contains("/etc/netplan/a.yaml") && p.contains("YAML"))
    );
    assert!(np.problems.iter().any(|p| p.contains("nonsense")));
}

#[test]
fn netplan_alias_bomb_is_refused_quickly() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb += &format!(
            "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        );
    }
    bomb += "network:\n  ethernets:\n    eth0:\n      addresses: *b11\n";
    let start = std::time::Instant::now();
    let np = netplan::parse(&[("/etc/netplan/bomb.yaml".into(), bomb)]);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert!(np.interfaces.iter().all(|i| i.addresses.is_empty()));
}

// ------------------------------------------------------------------ ifupdown

/// The EXAMPLE of Debian's interfaces(5) (ifupdown 0.8.41): eth0 by SLAAC, eth1
/// static, brought up by `auto` and `allow-hotplug`.
const INTERFACES_EXAMPLE: &str = "auto eth0
allow-hotplug eth1

iface eth0 inet dhcp

iface eth0 inet6 auto

iface eth1 inet static
     address 192.168.1.2/24
     gateway 192.168.1.1

iface eth1 inet6 static
     address fec0:0:0:1::2/64
     gateway fec0:0:0:1::1
";

fn ifupdown_of(files: &[(&str, &str)]) -> (ifupdown::Interfaces, Vec<String>) {
    let s = src(files);
    let limits = Limits::default();
    let mut reader = Reader::new(&s, &limits);
    let out = ifupdown::parse(&mut reader, Path::new(ifupdown::INTERFACES));
    (out, reader.problems)
}

#[test]
fn ifupdown_example_of_the_manual() {
    let (i, problems) = ifupdown_of(&[("/etc/network/interfaces", INTERFACES_EXAMPLE)]);
    assert!(problems.is_empty(), "{problems:?}");
    let eth0 = i
        .interfaces
        .iter()
        .find(|c| c.name == "eth0")
        .expect("eth0");
    assert!(eth0.accept_ra && eth0.addresses.is_empty());
    let eth1 = i
        .interfaces
        .iter()
        .find(|c| c.name == "eth1")
        .expect("eth1");
    assert_eq!(v6_addrs(eth1), ["fec0:0:0:1::2/64"]);
    assert_eq!(
        (
            eth1.at.line,
            eth1.addresses[0].at.line,
            eth1.routes[0].at.line
        ),
        (12, 13, 14)
    );
    assert_eq!(eth1.routes[0].gateway, Some(ip("fec0:0:0:1::1")));
    assert!(!eth1.accept_ra, "static turns autoconfiguration off");
}

#[test]
fn ifupdown_sources_globs_and_directories_and_reads_post_up_routes() {
    let (i, problems) = ifupdown_of(&[
        (
            "/etc/network/interfaces",
            "source interfaces.d/*\nsource-directory /etc/network/more\nsource /etc/network/interfaces\n",
        ),
        // cloud-init's Debian file, and the OVH way to an on-link gateway.
        (
            "/etc/network/interfaces.d/50-cloud-init",
            "# This file is generated from information provided by the datasource.\nauto ens3\niface ens3 inet6 static\n    address 2001:41d0:302::10\n    netmask 128\n    post-up /sbin/ip -6 route add 2001:41d0:302::ff dev ens3\n    post-up /sbin/ip -6 route add default via 2001:41d0:302::ff dev ens3\n",
        ),
        (
            "/etc/network/more/eth9",
            "iface eth9 inet6 static\n    address 2001:db8::9/64\n",
        ),
        (
            "/etc/network/more/skipped.cfg",
            "auto eth8\niface eth8 inet6 auto\n",
        ),
    ]);
    let ens3 = &i.interfaces[0];
    assert!(ens3.cloud_init);
    assert_eq!(v6_addrs(ens3), ["2001:41d0:302::10/128"]);
    assert_eq!(ens3.routes[0].gateway, Some(ip("2001:41d0:302::ff")));
    assert_eq!(
        i.not_at_boot,
        vec![(
            "eth9".to_string(),
            PathBuf::from("/etc/network/more/eth9"),
            1
        )]
    );
    assert!(
        !i.interfaces.iter().any(|c| c.name == "eth8"),
        "run-parts names only"
    );
    assert!(problems.iter().any(|p| p.contains("cycle")), "{problems:?}");
}

// ------------------------------------------------------------------ systemd-networkd

/// systemd.network(5), "Example 2. DHCP on ethernet links" (systemd 252).
const NETWORKD_DHCP: &str =
    "# /etc/systemd/network/80-dhcp.network\n[Match]\nName=en*\n\n[Network]\nDHCP=yes\n";

#[test]
fn networkd_example_and_a_drop_in_with_an_on_link_route() {
    let cfg = networkd::parse(&vec![
        ("/etc/systemd/network/80-dhcp.network".into(), NETWORKD_DHCP.into()),
        (
            "/etc/systemd/network/80-dhcp.network.d/60-ipv6.conf".into(),
            "[Address]\nAddress=2001:db8:1::10/64\n\n[Route]\nGateway=2001:db8:2::1\nGatewayOnLink=yes\n\n[Route]\nDestination=2001:db8:9::/48\nGateway=fe80::9\n".into(),
        ),
    ])
    .expect("not masked");
    assert_eq!((cfg.name.as_str(), cfg.at.line), ("en*", 3));
    assert!(cfg.dhcp6 && cfg.accept_ra);
    assert_eq!(v6_addrs(&cfg), ["2001:db8:1::10/64"]);
    assert_eq!(cfg.routes.len(), 2);
    assert_eq!((cfg.routes[0].dst, cfg.routes[0].on_link), (None, true));
    assert_eq!(cfg.routes[1].dst, Some(net("2001:db8:9::/48")));
    assert!(networkd::name_matches("en*", "ens3"));
    assert!(!networkd::name_matches("!en* wl*", "ens3"));
    assert!(networkd::name_matches("!en*", "eth0"));
    assert!(
        networkd::parse(&vec![(
            "/etc/systemd/network/x.network".into(),
            "\n".into()
        )])
        .is_none()
    );
}

#[test]
fn networkd_search_path_masks_and_enablement() {
    let b = load_map(&[
        (
            "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
            "/lib/systemd/system/systemd-networkd.service",
        ),
        (
            "/etc/systemd/network/20-wired.network",
            "[Match]\nName=eth0\n[Network]\nAddress=2001:db8::1/64\nGateway=2001:db8::ff\n",
        ),
        (
            "/lib/systemd/network/20-wired.network",
            "[Match]\nName=eth0\n[Network]\nAddress=2001:db8::2/64\n",
        ),
        ("/lib/systemd/network/80-container-ve.network", "/dev/null"),
        ("/usr/lib/systemd/network/99-default.network", ""),
    ]);
    let nd = system(&b, NetSystem::Networkd);
    assert!(nd.in_charge, "{}", nd.why);
    assert_eq!(
        nd.interfaces.len(),
        1,
        "the masked and empty files declare nothing"
    );
    assert_eq!(v6_addrs(&nd.interfaces[0]), ["2001:db8::1/64"]);
}

// ------------------------------------------------------------------ NetworkManager

/// nm-settings-keyfile(5) (NetworkManager 1.42): the sample ethernet connection, with
/// the `[ipv6]` values of the manual's table (address1, gateway, route1).
const KEYFILE: &str = "[connection]
id=Main eth0
uuid=27afa607-ee36-43f0-b8c3-9d245cdc4bb3
type=802-3-ethernet
autoconnect=true

[ipv4]
method=auto

[802-3-ethernet]
mac-address=00:23:5a:47:1f:71

[ipv6]
method=manual
address1=abbe::cafe/96
address2=2001::1234
gateway=abbe::1
route1=2001:4860:4860::/64,2620:52:0:2219:222:68ff:fe11:5403
";

#[test]
fn keyfile_of_the_manual() {
    let c = keyfile::parse(
        Path::new("/etc/NetworkManager/system-connections/Main eth0.nmconnection"),
        KEYFILE,
    )
    .expect("autoconnects");
    assert_eq!((c.name.as_str(), c.id.as_str()), ("*", "Main eth0"));
    assert_eq!(v6_addrs(&c), ["abbe::cafe/96", "2001::1234/128"]);
    assert!(!c.accept_ra && !c.dhcp6);
    let default = c.routes.iter().find(|r| r.dst.is_none()).expect("gateway");
    assert_eq!(
        (default.gateway, default.at.line),
        (Some(ip("abbe::1")), 17)
    );
    assert!(
        c.routes
            .iter()
            .any(|r| r.dst == Some(net("2001:4860:4860::/64")))
    );
    let off = KEYFILE.replace("autoconnect=true", "autoconnect=false");
    assert!(
        keyfile::parse(Path::new("/x"), &off).is_none(),
        "not brought up at boot"
    );
    let ignored = "[connection]\ninterface-name=eth0\n[ipv6]\nmethod=ignore\n";
    assert!(keyfile::parse(Path::new("/x"), ignored).is_none());
    let auto = "[connection]\nid=eth0\ninterface-name=eth0\n";
    let a = keyfile::parse(Path::new("/x"), auto).expect("auto");
    assert!(a.accept_ra && a.name == "eth0");
}

// ------------------------------------------------------------------ ifcfg

/// The IPv6 variables of initscripts' sysconfig.txt (RHEL 7 networking guide, "Static
/// IPv6"), with a route6 file in `ip route` syntax.
#[test]
fn ifcfg_static_ipv6_and_route6() {
    let text = "# Created by cloud-init on instance boot automatically, do not edit.\nDEVICE=eth0\nBOOTPROTO=none\nONBOOT=yes\nIPV6INIT=yes\nIPV6ADDR=\"2001:db8::10/64\"\nIPV6ADDR_SECONDARIES='2001:db8::11/64 2001:db8::12/64'\nIPV6_DEFAULTGW=fe80::1%eth0\nIPV6_AUTOCONF=no\n";
    let c = ifcfg::parse(
        Path::new("/etc/sysconfig/network-scripts/ifcfg-eth0"),
        text,
        Some((
            Path::new("/etc/sysconfig/network-scripts/route6-eth0"),
            "2001:db8:9::/48 via 2001:db8::1 dev eth0\ndefault via fe80::2 dev eth0 onlink\n",
        )),
    )
    .expect("onboot");
    assert!(c.cloud_init && !c.accept_ra);
    assert_eq!(
        v6_addrs(&c),
        ["2001:db8::10/64", "2001:db8::11/64", "2001:db8::12/64"]
    );
    assert_eq!(c.routes[0].gateway, Some(ip("fe80::1")));
    assert!(
        c.routes
            .iter()
            .any(|r| r.dst.is_none() && r.on_link && r.gateway == Some(ip("fe80::2")))
    );
    assert!(ifcfg::parse(Path::new("/x/ifcfg-eth1"), "ONBOOT=no\n", None).is_none());
}

// ------------------------------------------------------------------ cloud-init

#[test]
fn cloud_init_network_switch() {
    // cloud-init's documentation ("Disabling network configuration").
    let off = (
        PathBuf::from("/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"),
        "network: {config: disabled}\n".to_string(),
    );
    let on_again = (
        PathBuf::from("/etc/cloud/cloud.cfg.d/99z.cfg"),
        "network:\n  version: 2\n".to_string(),
    );
    let by = cloud_init::network_disabled_by(std::slice::from_ref(&off), "");
    assert!(by.is_some_and(|b| b.contains("99-disable-network-config.cfg")));
    assert_eq!(cloud_init::network_disabled_by(&[off, on_again], ""), None);
    assert!(cloud_init::network_disabled_by(&[], "ro network-config=disabled quiet").is_some());
    let b = load_map(&[
        ("/usr/sbin/netplan", ""),
        ("/etc/cloud/cloud.cfg", "datasource_list: [NoCloud]\n"),
        ("/etc/netplan/50-cloud-init.yaml", NETPLAN_CLOUD_INIT),
    ]);
    let ci = b.cloud_init.as_ref().expect("installed");
    assert!(ci.rewrites_network());
    assert!(system(&b, NetSystem::Netplan).interfaces[0].cloud_init);
    let off = load_map(&[
        ("/etc/cloud/cloud.cfg", "x: 1\n"),
        ("/etc/cloud/cloud-init.disabled", ""),
    ]);
    assert!(!off.cloud_init.expect("installed").rewrites_network());
}

// ------------------------------------------------------------------ in charge

#[test]
fn who_is_in_charge_is_read_from_the_disk() {
    // netplan's YAML without netplan installed is read by nothing.
    let b = load_map(&[("/etc/netplan/01.yaml", NETPLAN_ONLINK)]);
    assert!(!system(&b, NetSystem::Netplan).in_charge);
    // Installed, rendering for networkd: netplan and networkd both in charge.
    let b = load_map(&[
        ("/lib/systemd/system-generators/netplan", ""),
        ("/etc/netplan/01.yaml", NETPLAN_ONLINK),
        (
            "/lib/systemd/network/80-container-host0.network",
            "[Match]\nName=host0\n",
        ),
    ]);
    assert!(system(&b, NetSystem::Netplan).in_charge);
    assert!(system(&b, NetSystem::Networkd).in_charge);
    // ifupdown: enabled by its service (or sysvinit link), its file present.
    let b = load_map(&[
        ("/etc/network/interfaces", INTERFACES_EXAMPLE),
        ("/etc/rcS.d/S01networking", "/etc/init.d/networking"),
    ]);
    assert!(system(&b, NetSystem::Ifupdown).in_charge);
    let b = load_map(&[("/etc/network/interfaces", INTERFACES_EXAMPLE)]);
    assert!(!system(&b, NetSystem::Ifupdown).in_charge);
    // NetworkManager masked: neither its keyfiles nor ifcfg files are read.
    let b = load_map(&[
        (
            "/etc/systemd/system/multi-user.target.wants/NetworkManager.service",
            "/usr/lib/systemd/system/NetworkManager.service",
        ),
        ("/etc/systemd/system/NetworkManager.service", "/dev/null"),
        (
            "/etc/NetworkManager/system-connections/eth0.nmconnection",
            KEYFILE,
        ),
        (
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "DEVICE=eth0\nIPV6INIT=yes\n",
        ),
    ]);
    assert!(!system(&b, NetSystem::NetworkManager).in_charge);
    assert!(!system(&b, NetSystem::Ifcfg).in_charge);
    let b = load_map(&[
        (
            "/etc/systemd/system/multi-user.target.wants/NetworkManager.service",
            "/usr/lib/systemd/system/NetworkManager.service",
        ),
        (
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "DEVICE=eth0\nIPV6INIT=yes\n",
        ),
    ]);
    assert!(system(&b, NetSystem::Ifcfg).in_charge, "ifcfg-rh");
    assert!(load_map(&[]).systems.is_empty());
}

/// A source whose files deny reading, as root-only files do for an unprivileged run.
struct Denied(MapSource);

impl ConfigSource for Denied {
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        if path.starts_with("/etc/NetworkManager") {
            return Err(ReadError::Io(format!(
                "{}: Permission denied (os error 13)",
                path.display()
            )));
        }
        self.0.read(path)
    }
    fn list_dir(&self, dir: &Path) -> Vec<PathBuf> {
        self.0.list_dir(dir)
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.0.is_dir(path)
    }
    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        self.0.read_link(path)
    }
}

#[test]
fn root_only_files_are_named_not_hidden() {
    let s = Denied(src(&[
        (
            "/etc/systemd/system/multi-user.target.wants/NetworkManager.service",
            "/usr/lib/systemd/system/NetworkManager.service",
        ),
        (
            "/etc/NetworkManager/system-connections/eth0.nmconnection",
            KEYFILE,
        ),
    ]));
    let b = load(&s, &Limits::default(), "");
    assert_eq!(
        b.unreadable,
        vec![PathBuf::from(
            "/etc/NetworkManager/system-connections/eth0.nmconnection"
        )]
    );
    assert!(b.problems.is_empty(), "{:?}", b.problems);
}

/// The real filesystem below a temporary root.
struct Rooted {
    root: PathBuf,
    fs: crate::parse::source::FsSource,
}

impl Rooted {
    fn at(&self, p: &Path) -> PathBuf {
        self.root.join(p.strip_prefix("/").unwrap_or(p))
    }
}

impl ConfigSource for Rooted {
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        self.fs.read(&self.at(path))
    }
    fn list_dir(&self, dir: &Path) -> Vec<PathBuf> {
        self.fs
            .list_dir(&self.at(dir))
            .into_iter()
            .filter_map(|p| {
                p.strip_prefix(&self.root)
                    .ok()
                    .map(|r| Path::new("/").join(r))
            })
            .collect()
    }
    fn is_dir(&self, path: &Path) -> bool {
        self.fs.is_dir(&self.at(path))
    }
    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        self.fs.read_link(&self.at(path))
    }
}

#[test]
fn fifos_and_huge_files_neither_hang_nor_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for d in [
        "etc/netplan",
        "etc/network",
        "usr/sbin",
        "etc/systemd/network",
    ] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::write(root.join("usr/sbin/netplan"), "").expect("write");
    nix::unistd::mkfifo(
        &root.join("etc/netplan/10-fifo.yaml"),
        nix::sys::stat::Mode::S_IRWXU,
    )
    .expect("fifo");
    nix::unistd::mkfifo(
        &root.join("etc/network/interfaces"),
        nix::sys::stat::Mode::S_IRWXU,
    )
    .expect("fifo");
    let big =
        std::fs::File::create(root.join("etc/systemd/network/10-big.network")).expect("create");
    big.set_len(200 << 20).expect("sparse");
    std::fs::write(root.join("etc/netplan/20-ok.yaml"), NETPLAN_ONLINK).expect("write");
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let s = Rooted {
        root: root.to_path_buf(),
        fs: crate::parse::source::FsSource::new(&limits),
    };
    let start = std::time::Instant::now();
    let b = load(&s, &limits, "");
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    let np = system(&b, NetSystem::Netplan);
    assert_eq!(
        v6_addrs(&np.interfaces[0]),
        ["2001:cafe:face:beef::dead:dead/64"]
    );
    for (file, why) in [
        ("10-fifo.yaml", "not a regular file"),
        ("10-big.network", "larger"),
    ] {
        assert!(
            b.problems
                .iter()
                .any(|p| p.contains(file) && p.contains(why)),
            "{file}: {:?}",
            b.problems
        );
    }
}

// ------------------------------------------------------------------ fuzz

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

proptest::proptest! {
    #![proptest_config(crate::testutil::inputs::config())]

    #[test]
    fn fuzz_netplan_yaml_never_panics(input in crate::testutil::inputs::input("netplan", 40)) {
        let np = netplan::parse(&[("/etc/netplan/f.yaml".into(), lossy(&input))]);
        for i in &np.interfaces {
            assert!(crate::testutil::is_inert(&i.name) && crate::testutil::is_inert(&i.id));
        }
        assert!(np.problems.iter().all(|p| crate::testutil::is_inert(p)));
    }

    #[test]
    fn fuzz_interfaces_never_panic(
        input in crate::testutil::inputs::input("ifupdown", 40),
        extra in crate::testutil::inputs::soup_of("ifupdown", 20),
    ) {
        let (i, problems) = ifupdown_of(&[
            ("/etc/network/interfaces", &lossy(&input)),
            ("/etc/network/interfaces.d/a", &extra),
        ]);
        assert!(
            i.interfaces
                .iter()
                .all(|c| crate::testutil::is_inert(&c.name))
        );
        assert!(problems.len() <= crate::parse::source::MAX_PROBLEMS + 1);
    }

    #[test]
    fn fuzz_networkd_keyfile_and_ifcfg_never_panic(
        input in crate::testutil::inputs::input("netini", 40),
    ) {
        let text = lossy(&input);
        let p = Path::new("/etc/x");
        if let Some(c) = networkd::parse(&vec![(p.to_path_buf(), text.clone())]) {
            assert!(crate::testutil::is_inert(&c.name));
        }
        if let Some(c) = keyfile::parse(p, &text) {
            assert!(crate::testutil::is_inert(&c.name) && crate::testutil::is_inert(&c.id));
        }
        if let Some(c) = ifcfg::parse(p, &text, Some((p, &text))) {
            assert!(crate::testutil::is_inert(&c.name));
        }
        let _ = cloud_init::network_disabled_by(&[(p.to_path_buf(), text)], "");
    }
}
