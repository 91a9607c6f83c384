//! Hand-built facts of a healthy dual-stack host, for check unit tests to break.

use crate::facts::mail::*;
use crate::facts::*;
use crate::model::{CheckId, Family};
use crate::model::{Finding, Status};
use crate::options::Options;
use crate::parse::nginx::{Limits, MapSource, parse_config};
use crate::parse::source::Input;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("fixture address")
}

pub fn addr(s: &str, prefix: u8) -> AddrFacts {
    AddrFacts {
        ip: ip(s),
        prefix_len: prefix,
        tentative: false,
        dadfailed: false,
        deprecated: false,
        permanent: true,
        mngtmpaddr: false,
        temporary: false,
    }
}

pub fn records(ips: &[&str]) -> Probed<DnsAnswer> {
    Probed::ok(DnsAnswer::Records {
        records: ips
            .iter()
            .map(|i| RecordIp {
                ip: ip(i),
                ttl: 300,
            })
            .collect(),
        omitted: 0,
    })
}

pub const SITE: &str =
    "server {\n    listen 80;\n    listen [::]:80;\n    server_name shop.example;\n}\n";

pub fn nginx(site: &str) -> NginxInstance {
    let src = MapSource::new()
        .with(
            "/etc/nginx/nginx.conf",
            "events {}\nhttp {\n    include sites/*.conf;\n}\n",
        )
        .with("/etc/nginx/sites/shop.conf", site);
    NginxInstance {
        pid: 812,
        config_path: "/etc/nginx/nginx.conf".into(),
        config: Ok(parse_config(
            &src,
            Path::new("/etc/nginx/nginx.conf"),
            &Limits::default(),
        )),
    }
}

pub fn listener(a: &str, port: u16, v6only: Option<bool>) -> Listener {
    Listener {
        ip: ip(a),
        port,
        v6only,
        uid: 0,
        inode: 1000 + u32::from(port),
        pid: Some(812),
        process: Some("nginx".into()),
    }
}

/// A listening socket owned by `process` (pid `pid`).
pub fn owned(a: &str, port: u16, v6only: Option<bool>, pid: u32, process: &str) -> Listener {
    Listener {
        pid: Some(pid),
        process: Some(process.into()),
        ..listener(a, port, v6only)
    }
}

/// Apache (pid 700) with Debian's layout: `conf` as apache2.conf, `site` as the one
/// enabled site.
pub fn apache_on(conf: &str, site: &str) -> crate::facts::servers::ApacheInstance {
    use crate::parse::apache;
    let src = MapSource::new()
        .with(
            "/etc/apache2/apache2.conf",
            format!("{conf}\nIncludeOptional sites-enabled/*.conf\n"),
        )
        .with("/etc/apache2/sites-enabled/shop.conf", site);
    let inv = apache::invocation(&["/usr/sbin/apache2".into(), "-k".into(), "start".into()]);
    crate::facts::servers::ApacheInstance {
        pid: 700,
        how: "test".into(),
        config: Ok(apache::parse_config(
            &Input::new(&src, &BTreeMap::new(), &Limits::default()),
            &inv,
        )),
    }
}

fn server(
    s: &str,
    role: ServerRole,
    name: Option<&str>,
    a: &[&str],
    aaaa: &[&str],
) -> ServerAnswers {
    ServerAnswers {
        server: SocketAddr::new(ip(s), 53),
        role,
        name: name.map(str::to_string),
        a: records(a),
        aaaa: records(aaaa),
    }
}

pub fn options() -> Options {
    let mut o = Options::new("shop.example");
    o.target.ports = vec![80];
    o.assume_public = vec![
        "203.0.113.0/24".parse().expect("net"),
        "2001:db8::/32".parse().expect("net"),
    ];
    o
}

/// `lo` with its two addresses.
pub fn loopback() -> Link {
    Link {
        index: 1,
        name: "lo".into(),
        up: true,
        loopback: true,
        addrs: vec![addr("127.0.0.1", 8), addr("::1", 128)],
        mtu: Some(65536),
    }
}

/// An up Ethernet-like link (MTU 1500) with `addrs`.
pub fn ethernet(index: u32, name: &str, addrs: Vec<AddrFacts>) -> Link {
    Link {
        index,
        name: name.into(),
        up: true,
        loopback: false,
        addrs,
        mtu: Some(1500),
    }
}

/// Adds `link` to the host's links.
pub fn add_link(f: &mut Facts, link: Link) {
    f.links.result.as_mut().expect("links").push(link);
}

pub fn healthy() -> Facts {
    let sysctl = Sysctls {
        disable_ipv6: BTreeMap::from([
            ("all".into(), 0),
            ("default".into(), 0),
            ("eth0".into(), 0),
            ("lo".into(), 0),
        ]),
        forwarding_v6: BTreeMap::from([("all".into(), 0), ("eth0".into(), 0)]),
        accept_ra: BTreeMap::from([("all".into(), 1), ("eth0".into(), 1)]),
        bindv6only: Some(0),
        ip_forward: Some(0),
        // systemd's default (50-default.conf): loose.
        rp_filter: BTreeMap::from([("all".into(), 2), ("default".into(), 2), ("eth0".into(), 2)]),
    };
    Facts {
        host: HostFacts {
            hostname: "web1".into(),
            kernel: "6.1.0".into(),
            euid: 0,
            ipv6_kernel: true,
            ipv6_cmdline_disabled: false,
            os_id: Some("debian".into()),
        },
        links: Probed::ok(vec![
            loopback(),
            ethernet(
                2,
                "eth0",
                vec![
                    addr("203.0.113.10", 24),
                    addr("2001:db8:1::10", 64),
                    addr("fe80::10", 64),
                ],
            ),
        ]),
        routes: Probed::ok(vec![
            Route {
                family: Family::V4,
                dst: None,
                gateway: Some(ip("203.0.113.1")),
                dev: Some("eth0".into()),
                metric: None,
                protocol: "static".into(),
                more_gateways: Vec::new(),
            },
            Route {
                family: Family::V6,
                dst: None,
                gateway: Some(ip("2001:db8:1::1")),
                dev: Some("eth0".into()),
                metric: Some(1024),
                protocol: "static".into(),
                more_gateways: Vec::new(),
            },
        ]),
        neighbours: Probed::ok(vec![
            Neighbour {
                ip: ip("203.0.113.1"),
                dev: "eth0".into(),
                state: "reachable".into(),
                lladdr: Some("02:00:00:00:00:01".into()),
                router: false,
            },
            Neighbour {
                ip: ip("2001:db8:1::1"),
                dev: "eth0".into(),
                state: "reachable".into(),
                lladdr: Some("02:00:00:00:00:01".into()),
                router: true,
            },
        ]),
        sysctl: Probed::ok(sysctl),
        sysctl_files: Probed::ok(Vec::new()),
        listeners: Probed::ok(vec![
            listener("0.0.0.0", 80, None),
            listener("::", 80, Some(true)),
        ]),
        web: Probed::ok(WebServers {
            nginx: vec![nginx(SITE)],
            others: Vec::new(),
            ..WebServers::default()
        }),
        dns: DnsFacts {
            resolvers: vec![SocketAddr::new(ip("192.0.2.53"), 53)],
            resolver_source: "/etc/resolv.conf".into(),
            a: records(&["203.0.113.10"]),
            aaaa: records(&["2001:db8:1::10"]),
            servers: vec![
                server(
                    "192.0.2.53",
                    ServerRole::Resolver,
                    None,
                    &["203.0.113.10"],
                    &["2001:db8:1::10"],
                ),
                server(
                    "192.0.2.54",
                    ServerRole::Authoritative,
                    Some("ns1.example"),
                    &["203.0.113.10"],
                    &["2001:db8:1::10"],
                ),
                server(
                    "2001:db8:53::54",
                    ServerRole::Authoritative,
                    Some("ns1.example"),
                    &["203.0.113.10"],
                    &["2001:db8:1::10"],
                ),
                server(
                    "192.0.2.55",
                    ServerRole::Authoritative,
                    Some("ns2.example"),
                    &["203.0.113.10"],
                    &["2001:db8:1::10"],
                ),
            ],
            zone: Probed::ok(ZoneFacts {
                name: "shop.example".into(),
                nameservers: vec![
                    NsHost {
                        name: "ns1.example".into(),
                        a: vec!["192.0.2.54".parse().expect("ip")],
                        aaaa: vec!["2001:db8:53::54".parse().expect("ip")],
                    },
                    NsHost {
                        name: "ns2.example".into(),
                        a: vec!["192.0.2.55".parse().expect("ip")],
                        aaaa: vec!["2001:db8:53::55".parse().expect("ip")],
                    },
                ],
            }),
            mx: None,
            ptr: vec![
                PtrFacts {
                    ip: ip("203.0.113.10"),
                    names: Probed::ok(vec!["shop.example".into()]),
                    forward: vec![("shop.example".into(), vec![ip("203.0.113.10")])],
                },
                PtrFacts {
                    ip: ip("2001:db8:1::10"),
                    names: Probed::ok(vec!["shop.example".into()]),
                    forward: vec![("shop.example".into(), vec![ip("2001:db8:1::10")])],
                },
            ],
            dns64: Probed::ok(Vec::new()),
            geo: Some(geo_answers(
                &["192.0.2.54", "2001:db8:53::54", "192.0.2.55"],
                None,
                &["203.0.113.10"],
                &["2001:db8:1::10"],
            )),
        },
        gateway_pings: vec![
            GatewayPing {
                gateway: ip("203.0.113.1"),
                dev: Some("eth0".into()),
                rtt_ms: Probed::ok(0.2),
            },
            GatewayPing {
                gateway: ip("2001:db8:1::1"),
                dev: Some("eth0".into()),
                rtt_ms: Probed::ok(0.3),
            },
        ],
        firewall: Probed::ok(strict_firewall()),
        isp: Probed::err(ProbeErrorKind::NotRun, "not run: --offline"),
        boot_network: netplan(NETPLAN),
        ipv4_deps: Some(Probed::ok(ipv4_deps())),
        mail: Some(Probed::ok(mail::MailFacts {
            mtas: Vec::new(),
            sources: Vec::new(),
            ptr: Vec::new(),
            spf_dns: Vec::new(),
            blocklists: Vec::new(),
            egress: Vec::new(),
        })),
        // As a run without --regions records it; `regions()` is a measured one.
        regions: Some(Probed::err(
            ProbeErrorKind::NotRun,
            "not asked (--regions 0)",
        )),
        // No container runtime on the healthy host: an empty part.
        containers: Some(Probed::ok(Default::default())),
    }
}

/// The healthy host's dependencies: a Debian hosts file and one package source with
/// AAAA; no outbound connection.
/// Three probes on three continents fetch port 80 over both families and resolve both
/// records: what the measurement network sees of a healthy site.
pub fn regions() -> regions::RegionsFacts {
    use regions::*;
    let places = [
        ("EU", "DE", "Frankfurt", 3320, "Deutsche Telekom AG"),
        ("NA", "US", "Ashburn", 16509, "Amazon.com, Inc."),
        ("AS", "JP", "Tokyo", 2516, "KDDI"),
    ];
    let result = |i: usize, code: Option<u16>, addr: &str, answers: Vec<(String, String)>| {
        let (continent, country, city, asn, network) = places[i];
        ProbeResult {
            probe: ProbePlace {
                continent: continent.into(),
                country: country.into(),
                city: city.into(),
                asn: Some(asn),
                network: network.into(),
            },
            status: TestStatus::Finished,
            status_code: code,
            resolved: addr.parse().ok(),
            total_ms: Some(40 + i as u64),
            output: String::new(),
            answers,
        }
    };
    let measurement = |id: &str, code: Option<u16>, addr: &str, answers: Vec<(String, String)>| {
        Ok(Measurement {
            id: id.into(),
            finished: true,
            results: (0..places.len())
                .map(|i| result(i, code, addr, answers.clone()))
                .collect(),
        })
    };
    let rec = |t: &str, v: &str| vec![(t.to_string(), v.to_string())];
    RegionsFacts {
        api: "https://api.globalping.io/v1".into(),
        asked: 3,
        token: false,
        ports: vec![PortMeasurements {
            port: 80,
            protocol: "HTTP".into(),
            v4: measurement("m4", Some(200), "203.0.113.10", Vec::new()),
            v6: measurement("m6", Some(200), "2001:db8:1::10", Vec::new()),
        }],
        dns_a: Some(measurement("ma", None, "", rec("A", "203.0.113.10"))),
        dns_aaaa: Some(measurement(
            "maaaa",
            None,
            "",
            rec("AAAA", "2001:db8:1::10"),
        )),
        quota: None,
        complete: true,
        asked_at: None,
    }
}

pub fn ipv4_deps() -> deps::Ipv4Deps {
    deps::Ipv4Deps {
        hosts: Probed::ok(crate::parse::hosts::parse(
            Path::new("/etc/hosts"),
            "127.0.0.1 localhost\n127.0.1.1 web1\n::1 localhost ip6-localhost\n",
        )),
        connections: Probed::ok(deps::Connections::default()),
        package_sources: Probed::ok(vec![package_source("deb.debian.org", &["2a04:4e42::644"])]),
    }
}

/// A package source in `/etc/apt/sources.list` line 1 whose host has these AAAA.
pub fn package_source(host: &str, aaaa: &[&str]) -> deps::PackageSource {
    deps::PackageSource {
        at: Place::new(Path::new("/etc/apt/sources.list"), 1),
        uri: format!("http://{host}/debian"),
        host: host.into(),
        aaaa: Probed::ok(
            aaaa.iter()
                .map(|a| a.parse().expect("fixture address"))
                .collect(),
        ),
    }
}

/// The healthy host's netplan file: its addresses and default routes.
pub const NETPLAN: &str = "network:
  version: 2
  ethernets:
    eth0:
      addresses: [203.0.113.10/24, 2001:db8:1::10/64]
      routes:
        - to: default
          via: 203.0.113.1
        - to: default
          via: 2001:db8:1::1
";

/// The sysctl files of a host "hardened" against IPv6:
/// `net.ipv6.conf.all.disable_ipv6 = 1` at /etc/sysctl.d/99-hardening.conf:7.
pub fn ipv6_off_at_boot() -> Probed<Vec<crate::parse::sysctl_conf::SysctlSetting>> {
    Probed::ok(vec![crate::parse::sysctl_conf::SysctlSetting {
        key: "net.ipv6.conf.all.disable_ipv6".into(),
        value: "1".into(),
        at: Place::new(Path::new("/etc/sysctl.d/99-hardening.conf"), 7),
        exclude: false,
        ignore_failure: false,
    }])
}

/// The boot network of a netplan host whose /etc/netplan/10-web1.yaml holds `yaml`.
pub fn netplan(yaml: &str) -> Option<Probed<netconf::BootNetwork>> {
    let files = [
        ("/usr/sbin/netplan", ""),
        ("/etc/netplan/10-web1.yaml", yaml),
    ];
    Some(Probed::ok(boot(&files)))
}

/// The boot network read from these files (`/dev/null` as a file's content makes it a
/// link there: an enabled or masked unit).
pub fn boot(files: &[(&str, &str)]) -> netconf::BootNetwork {
    let mut src = crate::parse::source::MapSource::new();
    for (path, text) in files {
        src = if text.starts_with('/') {
            src.link(*path, *text)
        } else {
            src.with(*path, *text)
        };
    }
    let mut b = crate::parse::netconf::load(&src, &crate::parse::source::Limits::default(), "");
    b.keep_addr_on_down = BTreeMap::from([("all".into(), 0), ("eth0".into(), 0)]);
    b
}

/// A strict but correct packet filter, recorded with `nft -j list ruleset`: policy drop,
/// established/related, loopback, ICMPv6 neighbour discovery and packet-too-big, and
/// TCP 22, 80, 443 accepted.
pub fn strict_firewall() -> crate::facts::firewall::FirewallFacts {
    firewall_from_nft(include_str!(
        "../../tests/fixtures/firewall/nft-strict.json"
    ))
}

/// iptables-save of a host whose IPv4 nat rewrites port 80: `target` is the rule's
/// target (`REDIRECT --to-ports 8080`, `DNAT --to-destination 192.0.2.50:80`).
pub fn nat_v4(target: &str) -> crate::facts::firewall::FirewallFacts {
    use crate::facts::firewall::Source;
    let v4 = format!(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
         -A PREROUTING -p tcp -m tcp --dport 80 -j {target}\nCOMMIT\n"
    );
    let tables =
        crate::parse::iptables::parse(&v4, crate::model::Family::V4, Source::IptablesNft).tables;
    crate::facts::firewall::FirewallFacts {
        backends: crate::probe::firewall::backends(&tables),
        tables,
        ..Default::default()
    }
}

/// Firewall facts from a recorded `nft -j list ruleset`.
pub fn firewall_from_nft(json: &str) -> crate::facts::firewall::FirewallFacts {
    let rs = crate::parse::nft::parse(json).expect("recorded nft JSON");
    crate::facts::firewall::FirewallFacts {
        backends: crate::probe::firewall::backends(&rs.tables),
        tables: rs.tables,
        tools: Vec::new(),
        problems: rs.problems,
        ..Default::default()
    }
}

/// The finding for `id` (and port), panicking with the list when absent.
pub fn find(fs: &[Finding], id: CheckId, port: Option<u16>) -> &Finding {
    fs.iter()
        .find(|f| f.id == id && f.port == port)
        .unwrap_or_else(|| {
            panic!(
                "no finding {id} {port:?} among {:?}",
                fs.iter().map(|f| &f.id).collect::<Vec<_>>()
            )
        })
}

pub fn status(fs: &[Finding], id: CheckId, port: Option<u16>) -> Status {
    find(fs, id, port).status
}

/// The finding for `id` (and port), asserted to have `status`.
#[track_caller]
pub fn expect(fs: &[Finding], id: CheckId, port: Option<u16>, status: Status) -> &Finding {
    let fd = find(fs, id, port);
    assert_eq!(fd.status, status, "{fd:#?}");
    fd
}

/// One way to break a host and the finding it must then give: a row in a table of
/// cases, named after the test it stands for so a failure says which.
pub struct Broken {
    pub name: &'static str,
    pub breaks: fn(&mut Facts),
    pub id: CheckId,
    pub port: Option<u16>,
    pub status: Status,
    /// Parts the summary holds.
    pub summary: &'static [&'static str],
    /// Parts that some evidence line holds, each.
    pub evidence: &'static [&'static str],
}

/// Asserts every row of `cases` on `host`.
#[track_caller]
pub fn assert_broken(cases: &[Broken], host: fn() -> Facts) {
    for case in cases {
        case.assert(host);
    }
}

impl Broken {
    /// Breaks `host`, evaluates it with `options()` and asserts the finding's status,
    /// summary and evidence.
    #[track_caller]
    pub fn assert(&self, host: fn() -> Facts) {
        let mut f = host();
        (self.breaks)(&mut f);
        let fs = crate::checks::evaluate(&f, &options());
        let fd = find(&fs, self.id, self.port);
        assert_eq!(fd.status, self.status, "{}: {fd:#?}", self.name);
        assert_says(self.name, fd, [self.summary, self.evidence, &[]]);
    }
}

/// Asserts that `fd` (of the table row `name`) says each part: `[summary, evidence,
/// explanation]` hold parts of the summary, of some evidence line each, of the
/// explanation.
#[track_caller]
pub fn assert_says(name: &str, fd: &Finding, parts: [&[&str]; 3]) {
    let [summary, evidence, explanation] = parts;
    let texts: [(&[&str], Vec<&str>); 3] = [
        (summary, vec![fd.summary.as_str()]),
        (evidence, fd.evidence.iter().map(String::as_str).collect()),
        (explanation, vec![fd.explanation.as_str()]),
    ];
    for (parts, lines) in texts {
        for part in parts {
            let said = lines.iter().any(|l| l.contains(part));
            assert!(said, "{name}: {part:?} not in {fd:#?}");
        }
    }
}

/// A host, the question asked, and what the finding of one check then says: a row of
/// a table of cases, named after the test it stands for so a failure says which.
pub struct Case {
    pub name: &'static str,
    pub host: fn() -> Facts,
    pub opts: fn() -> Options,
    pub status: Status,
    pub summary: &'static [&'static str],
    pub evidence: &'static [&'static str],
    pub explanation: &'static [&'static str],
    /// Parts of the fixes' commands, each in some command.
    pub commands: &'static [&'static str],
    /// The first fix's first command, exactly.
    pub first_command: Option<&'static str>,
}

/// A row that asserts nothing beyond a passing status: the base of `..CASE` rows.
pub const CASE: Case = Case {
    name: "",
    host: healthy,
    opts: options,
    status: Status::Pass,
    summary: &[],
    evidence: &[],
    explanation: &[],
    commands: &[],
    first_command: None,
};

/// Asserts every row of `cases` on the finding of `id` (`judged_clean`: the report's
/// fixes hold only this host's values).
#[track_caller]
pub fn assert_cases(cases: &[Case], id: CheckId) {
    for case in cases {
        let fd = judged_clean(&(case.host)(), &(case.opts)(), id);
        assert_eq!(fd.status, case.status, "{}: {fd:#?}", case.name);
        assert_says(
            case.name,
            &fd,
            [case.summary, case.evidence, case.explanation],
        );
        let commands: Vec<&String> = fd.fixes.iter().flat_map(|x| &x.commands).collect();
        for part in case.commands {
            let said = commands.iter().any(|c| c.contains(part));
            assert!(said, "{}: {part:?} not in {commands:#?}", case.name);
        }
        if let Some(cmd) = case.first_command {
            assert_eq!(fix_line(&fd, 0), cmd, "{}", case.name);
        }
    }
}

/// Line `n` of the first fix's commands, panicking with the finding when there is none.
#[track_caller]
pub fn fix_line(fd: &Finding, n: usize) -> &str {
    let line = fd.fixes.first().and_then(|x| x.commands.get(n));
    line.unwrap_or_else(|| panic!("no fix command {n} in {fd:#?}"))
}

/// The fix of `fd` whose title holds `part`, panicking with the finding when none does.
#[track_caller]
pub fn fix_titled<'a>(fd: &'a Finding, part: &str) -> &'a crate::model::Fix {
    let fix = fd.fixes.iter().find(|x| x.title.contains(part));
    fix.unwrap_or_else(|| panic!("no fix titled {part:?} in {fd:#?}"))
}

/// Asserts that `text` holds `part`, showing the text when it does not.
#[track_caller]
pub fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in {text:?}");
}

/// Asserts that one of `lines` holds `part`, showing them all when none does.
#[track_caller]
pub fn assert_line(lines: &[String], part: &str) {
    assert!(
        lines.iter().any(|l| l.contains(part)),
        "{part:?} not in {lines:#?}"
    );
}

/// Asserts that `fd` names `cause` as the check that explains it, showing it when not.
#[track_caller]
pub fn assert_cause(fd: &Finding, cause: CheckId) {
    assert_eq!(fd.caused_by.map(|c| c.check), Some(cause), "{fd:#?}");
}

/// Asserts that every finding passes or is skipped, and the verdict names no check.
#[track_caller]
pub fn assert_healthy(fs: &[Finding]) {
    let problems: Vec<String> = fs
        .iter()
        .filter(|f| !matches!(f.status, Status::Pass | Status::Skip))
        .map(|f| format!("{} {:?}: {}", f.id, f.status, f.summary))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(crate::verdict::verdict(fs).check, None);
}

/// Drops every route of a family (no default route left).
pub fn drop_routes(f: &mut Facts, family: Family) {
    if let Ok(r) = f.routes.result.as_mut() {
        r.retain(|r| r.family != family);
    }
}

pub fn eth0(f: &mut Facts) -> &mut Link {
    f.links
        .result
        .as_mut()
        .expect("links")
        .iter_mut()
        .find(|l| l.name == "eth0")
        .expect("eth0")
}

/// The healthy host with the ISP stage run (`healthy()` leaves it `--offline`, so the
/// other stages' tests and snapshots do not depend on it).
pub fn healthy_online() -> Facts {
    let mut f = healthy();
    f.isp = Probed::ok(healthy_isp());
    f
}

/// What the internet sees of the healthy host: both families leave and come back, the
/// echo service sees the host's own addresses, every address answers the same.
pub fn healthy_isp() -> crate::facts::isp::IspFacts {
    use crate::facts::isp::*;
    let page = |status: u16| http_answer(status, None);
    let egress = |t: &str| EgressProbe {
        target: t.into(),
        addr: Some(t.parse().expect("socket address")),
        family: Family::from_v6(t.starts_with('[')),
        tcp_ms: Probed::ok(12.5),
        icmp_ms: Probed::ok(11.0),
        full_size_icmp_ms: Probed::ok(11.4),
    };
    let start = "http://shop.example/.well-known/acme-challenge/0123456789abcdef".to_string();
    IspFacts {
        egress: vec![
            egress("198.51.100.10:8180"),
            egress("[2001:db8:2::10]:8180"),
        ],
        echo: vec![
            EchoProbe {
                family: Family::V4,
                url: "http://198.51.100.10:8180/".into(),
                seen: Probed::ok(ip("203.0.113.10")),
                server: Some(ip("198.51.100.10")),
            },
            EchoProbe {
                family: Family::V6,
                url: "http://[2001:db8:2::10]:8180/".into(),
                seen: Probed::ok(ip("2001:db8:1::10")),
                server: Some(ip("2001:db8:2::10")),
            },
        ],
        inbound: ["203.0.113.10", "2001:db8:1::10"]
            .iter()
            .map(|a| InboundProbe {
                family: Family::of(ip(a)),
                port: 80,
                url: "http://echo/port/80".into(),
                answer: Probed::ok(InboundAnswer {
                    ip: ip(a),
                    reachable: true,
                }),
            })
            .collect(),
        http: ["203.0.113.10", "2001:db8:1::10"]
            .iter()
            .map(|a| HttpProbe {
                port: 80,
                ip: ip(a),
                tls: false,
                path: "/".into(),
                response: Probed::ok(page(200)),
            })
            .collect(),
        smtp: Vec::new(),
        acme: Some(AcmeFacts {
            start: start.clone(),
            hops: ["203.0.113.10", "2001:db8:1::10"]
                .iter()
                .map(|a| AcmeHop {
                    url: start.clone(),
                    family: Family::of(ip(a)),
                    ip: Some(ip(a)),
                    response: Probed::ok(page(404)),
                })
                .collect(),
        }),
        resources: Some(Probed::ok(ResourceFacts {
            pages: vec!["http://shop.example/ over IPv4 from 203.0.113.10".into()],
            refs: Vec::new(),
        })),
        nat64: None,
        redirects: ["203.0.113.10", "2001:db8:1::10"]
            .iter()
            .flat_map(|a| {
                let hop = |url: &str, status| RedirectHop {
                    url: url.into(),
                    ip: Some(ip(a)),
                    response: Probed::ok(page(status)),
                };
                [
                    redirect_chain(Family::of(ip(a)), vec![hop("http://shop.example/", 200)]),
                    redirect_chain(Family::of(ip(a)), vec![hop(&start, 404)]),
                ]
            })
            .collect(),
        site_names: Vec::new(),
        detours: Vec::new(),
    }
}

/// A redirect chain on port 80 over `family` made of `hops`.
pub fn redirect_chain(
    family: Family,
    hops: Vec<crate::facts::isp::RedirectHop>,
) -> crate::facts::isp::RedirectChain {
    crate::facts::isp::RedirectChain {
        port: 80,
        start: hops.first().map(|h| h.url.clone()).unwrap_or_default(),
        family,
        hops,
        cut: None,
    }
}

/// `judged_clean`'s finding, asserted to have `status`.
#[track_caller]
pub fn judged_as(f: &Facts, o: &Options, id: CheckId, status: Status) -> Finding {
    let fd = judged_clean(f, o, id);
    assert_eq!(fd.status, status, "{fd:#?}");
    fd
}

/// The finding for `id` (and port) when `f` is evaluated with `o`, asserted to have
/// `status`.
#[track_caller]
pub fn judge(f: &Facts, o: &Options, id: CheckId, port: Option<u16>, status: Status) -> Finding {
    expect(&crate::checks::evaluate(f, o), id, port, status).clone()
}

/// The finding of `id` (not per port), after checking that the whole report's fixes
/// hold only this host's values (`report::fix_problems`).
pub fn judged_clean(f: &Facts, o: &Options, id: CheckId) -> Finding {
    let r = crate::engine::report_from_facts(f, o, "2026-11-30T00:00:00Z".into(), 1);
    let ifaces: Vec<String> = f.links().iter().map(|l| l.name.clone()).collect();
    let problems = crate::report::fix_problems(&r, &ifaces);
    assert!(problems.is_empty(), "{problems:#?}");
    find(&crate::checks::evaluate(f, o), id, None).clone()
}

/// An HTTP answer of `status`, redirecting to `location` when given.
pub fn http_answer(status: u16, location: Option<&str>) -> crate::facts::isp::HttpResponse {
    crate::facts::isp::HttpResponse {
        status,
        location: location.map(str::to_string),
        server: Some("nginx".into()),
        body_len: 51,
        body_truncated: false,
        body_sha256: "ab".repeat(32),
        content_sketch: Vec::new(),
        cert: None,
        protocol: Some(crate::facts::isp::HttpProtocol::Http1),
    }
}

/// `dns.geo`'s queries of `servers` (named ns1.example), without a client subnet and for
/// every region of the assets, each answered `a`/`aaaa` with `scope` echoed (`None`: the
/// server ignores the option).
pub fn geo_answers(
    servers: &[&str],
    scope: Option<u8>,
    a: &[&str],
    aaaa: &[&str],
) -> Vec<GeoQuery> {
    let answer = |ips: &[&str], scope| {
        let answer = match records(ips).result {
            Ok(a) if !ips.is_empty() => a,
            _ => DnsAnswer::NoData,
        };
        Probed::ok(GeoAnswer { answer, scope })
    };
    let mut out = Vec::new();
    for s in servers {
        let server = SocketAddr::new(ip(s), 53);
        out.push(GeoQuery {
            server,
            name: "ns1.example".into(),
            region: None,
            subnet: None,
            a: answer(a, None),
            aaaa: answer(aaaa, None),
        });
        for r in crate::assets::geo_regions() {
            for net in [r.v4, r.v6] {
                out.push(GeoQuery {
                    server,
                    name: "ns1.example".into(),
                    region: Some(r.name.clone()),
                    subnet: Some(net),
                    a: answer(a, scope),
                    aaaa: answer(aaaa, scope),
                });
            }
        }
    }
    out
}

// ------------------------------------------------------------------- outgoing mail

pub const MAIL_V4: &str = "203.0.113.10";
pub const MAIL_V6: &str = "2001:db8:1::10";
/// A SLAAC address with the temporary flag, as the kernel prefers for new connections.
pub const TEMP: &str = "2001:db8:1:0:a1b2:c3d4:e5f6:1234";

pub fn mail_ptr(ip_: &str, name: Option<&str>) -> PtrFacts {
    PtrFacts {
        ip: ip(ip_),
        names: Probed::ok(name.map(|n| vec![n.to_string()]).unwrap_or_default()),
        forward: name
            .map(|n| vec![(n.to_string(), vec![ip(ip_)])])
            .unwrap_or_default(),
    }
}

pub fn spf_txt(record: &str) -> SpfLookup {
    SpfLookup {
        query: SpfQuery::Txt("shop.example".into()),
        answer: Probed::ok(SpfAnswer::Txt(vec![record.into()])),
    }
}

pub fn mail_egress_probe(family: Family, ok: bool) -> MailEgressProbe {
    let a = family.pick("192.0.2.25:25", "[2001:db8:25::25]:25");
    MailEgressProbe {
        target: "mx.receiver.example:25".into(),
        family,
        addr: Some(a.parse().expect("addr")),
        banner: if ok {
            Probed::ok(vec!["220 mx.receiver.example ESMTP".into()])
        } else {
            Probed::err(ProbeErrorKind::Timeout, "greeting: timed out")
        },
    }
}

pub fn postfix_mta(main_cf: &str) -> Mta {
    Mta {
        kind: MtaKind::Postfix,
        pid: 900,
        settings: Ok(crate::parse::postfix::settings(
            main_cf,
            Path::new("/etc/postfix/main.cf"),
            "web1",
        )),
    }
}

pub fn mail_source_of(family: Family, kernel: &str) -> MailSource {
    MailSource {
        family,
        towards: ip(family.pick("192.0.2.25", "2001:db8:25::25")),
        towards_name: "mx.receiver.example".into(),
        kernel: Probed::ok(ip(kernel)),
    }
}

/// The healthy host running Postfix: both addresses have PTRs, SPF admits both, no
/// listing, port 25 open over both families.
pub fn mail_host() -> Facts {
    let mut f = healthy();
    f.mail = Some(Probed::ok(MailFacts {
        mtas: vec![postfix_mta(
            "myhostname = shop.example\ninet_protocols = all\n",
        )],
        sources: vec![
            mail_source_of(Family::V4, MAIL_V4),
            mail_source_of(Family::V6, MAIL_V6),
        ],
        ptr: vec![
            mail_ptr(MAIL_V4, Some("shop.example")),
            mail_ptr(MAIL_V6, Some("shop.example")),
        ],
        spf_dns: vec![spf_txt("v=spf1 ip4:203.0.113.10 ip6:2001:db8:1::/64 -all")],
        blocklists: vec![DnsblProbe {
            zone: "bl.example".into(),
            ip: ip(MAIL_V6),
            per_64: false,
            query: "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example"
                .into(),
            answer: Probed::ok(vec![]),
        }],
        egress: vec![
            mail_egress_probe(Family::V4, true),
            mail_egress_probe(Family::V6, true),
        ],
    }));
    f
}

pub fn mail_of(f: &mut Facts) -> &mut MailFacts {
    f.mail
        .as_mut()
        .and_then(|p| p.result.as_mut().ok())
        .expect("mail facts")
}

/// The kernel picks a temporary SLAAC address without PTR for IPv6.
pub fn temporary_source(f: &mut Facts) {
    let mut a = addr(TEMP, 64);
    a.temporary = true;
    a.permanent = false;
    eth0(f).addrs.push(a);
    // dns.reverse looks it up too, as the DNS probe does for every public address.
    f.dns.ptr.push(mail_ptr(TEMP, None));
    let m = mail_of(f);
    m.sources[1] = mail_source_of(Family::V6, TEMP);
    m.ptr.push(mail_ptr(TEMP, None));
}

/// Firewall facts from `iptables-save` text per family, as `source` would list them.
pub fn with_save(
    v4: &str,
    v6: &str,
    source: crate::facts::firewall::Source,
) -> crate::facts::firewall::FirewallFacts {
    use crate::parse::iptables;
    let mut tables = iptables::parse(v4, Family::V4, source).tables;
    tables.extend(iptables::parse(v6, Family::V6, source).tables);
    crate::facts::firewall::FirewallFacts {
        backends: crate::probe::firewall::backends(&tables),
        tables,
        ..Default::default()
    }
}
