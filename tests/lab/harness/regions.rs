//! The measurement network of `isp.regions`, inside the lab: "probe" namespaces attached
//! to the router (`net`), each with its own place (continent, country, city, network),
//! and a Globalping-compatible API (tests/support/globalping.py) in `cli` that runs each
//! measurement for real from them (curl, dig, ping through `ip netns exec`).
//!
//! ```text
//!   probe i (dsd-...-p<i>)  eth0 198.18.<i>.10/24, 2001:db8:10<i>::10/64 ---- net: gp<i> .1 / ::1
//! ```
//!
//! The probes resolve through the lab's resolver (their own `/etc/netns/<probe>/resolv.conf`)
//! and reach srv through the router as any client does. Everything is made inside the
//! lab's namespaces and removed with them (the namespaces and `/etc/netns` directories are
//! recorded in the lab's teardown lists).

use super::process::{cmd, write_file};
use super::topology::*;

/// The API's port on `CLI_V4`.
pub const GLOBALPING_PORT: u16 = 8190;

/// One vantage point: its place, as the API reports it, and whether it has IPv6.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    pub continent: &'static str,
    pub country: &'static str,
    pub city: &'static str,
    pub asn: u32,
    pub network: &'static str,
    pub ipv6: bool,
}

/// Eight places on six continents (networks made up for the lab).
pub const WORLD: [ProbeSpec; 8] = [
    spec("EU", "DE", "Frankfurt", 64501, "Lab Telekom"),
    spec("EU", "FR", "Paris", 64502, "Lab Fibre"),
    spec("NA", "US", "Ashburn", 64503, "Lab Cloud"),
    spec("NA", "CA", "Toronto", 64504, "Lab Cable"),
    spec("AS", "JP", "Tokyo", 64505, "Lab Mobile"),
    spec("SA", "BR", "Sao Paulo", 64506, "Lab Net"),
    spec("OC", "AU", "Sydney", 64507, "Lab Broadband"),
    spec("AF", "ZA", "Johannesburg", 64508, "Lab Wireless"),
];

const fn spec(
    continent: &'static str,
    country: &'static str,
    city: &'static str,
    asn: u32,
    network: &'static str,
) -> ProbeSpec {
    ProbeSpec {
        continent,
        country,
        city,
        asn,
        network,
        ipv6: true,
    }
}

/// How the lab's API behaves (globalping.py's MODE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMode {
    Normal,
    /// Every new measurement refused with 429 and `Retry-After`.
    RateLimited,
    /// Measurements over IPv6 refused with 422 (no IPv6-capable probe).
    NoIpv6Probes,
    /// Measurements accepted but never finished.
    Stalled,
}

impl ApiMode {
    fn arg(self) -> &'static str {
        match self {
            ApiMode::Normal => "normal",
            ApiMode::RateLimited => "429",
            ApiMode::NoIpv6Probes => "422-v6",
            ApiMode::Stalled => "stall",
        }
    }
}

/// A probe's addresses: IPv4 and IPv6, and the router's side of its link.
pub fn probe_addrs(i: usize) -> (String, String, String, String) {
    (
        format!("198.18.{i}.10"),
        format!("2001:db8:10{i}::10"),
        format!("198.18.{i}.1"),
        format!("2001:db8:10{i}::1"),
    )
}

impl Lab {
    /// The name of probe namespace `i`.
    pub fn probe_ns(&self, i: usize) -> String {
        let srv = self.ns(Ns::Srv);
        format!("{}-p{i}", srv.strip_suffix("-srv").unwrap_or(srv))
    }

    /// Make the probe namespaces and start the API in `cli` (label `globalping`).
    pub fn start_measurement_network(&mut self, probes: &[ProbeSpec], mode: ApiMode) {
        let mut listing = Vec::new();
        for (i, p) in probes.iter().enumerate() {
            let name = self.probe_ns(i);
            let (v4, v6, gw4, gw6) = probe_addrs(i);
            self.add_netns(name.clone());
            let peer = format!("gp{i}");
            let net = self.ns(Ns::Net).to_string();
            self.must(cmd(
                "ip",
                &[
                    "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", &peer,
                    "netns", &net,
                ],
            ));
            for args in [
                vec!["addr", "add", &format!("{gw4}/24"), "dev", &peer],
                vec!["addr", "add", &format!("{gw6}/64"), "dev", &peer, "nodad"],
                vec!["link", "set", &peer, "up"],
            ] {
                let a: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
                self.ip(Ns::Net, &a);
            }
            let mut cmds: Vec<Vec<String>> = vec![
                vec!["link".into(), "set".into(), "lo".into(), "up".into()],
                vec![
                    "addr".into(),
                    "add".into(),
                    format!("{v4}/24"),
                    "dev".into(),
                    "eth0".into(),
                ],
                vec!["link".into(), "set".into(), "eth0".into(), "up".into()],
                vec![
                    "route".into(),
                    "add".into(),
                    "default".into(),
                    "via".into(),
                    gw4.clone(),
                ],
            ];
            if p.ipv6 {
                cmds.push(vec![
                    "addr".into(),
                    "add".into(),
                    format!("{v6}/64"),
                    "dev".into(),
                    "eth0".into(),
                    "nodad".into(),
                ]);
                cmds.push(vec![
                    "route".into(),
                    "add".into(),
                    "default".into(),
                    "via".into(),
                    gw6.clone(),
                ]);
            }
            for c in cmds {
                let mut full: Vec<&str> = vec!["-n", &name];
                full.extend(c.iter().map(String::as_str));
                self.must(cmd("ip", &full));
            }
            // Its own resolv.conf: the lab's resolver, as srv has.
            let etc = std::path::Path::new("/etc/netns").join(&name);
            std::fs::create_dir_all(&etc)
                .unwrap_or_else(|e| panic!("lab: mkdir {}: {e}", etc.display()));
            self.etc_dirs.push(etc.clone());
            write_file(
                &etc.join("resolv.conf"),
                &format!("nameserver {RESOLVER_V4}\n"),
            );
            listing.push(serde_json::json!({
                "ns": name, "continent": p.continent, "country": p.country, "city": p.city,
                "asn": p.asn, "network": p.network, "ipv6": p.ipv6,
            }));
        }
        let file = self.dir().join("probes.json");
        write_file(&file, &serde_json::Value::Array(listing).to_string());
        let port = GLOBALPING_PORT.to_string();
        let file = file.display().to_string();
        self.start_support(
            Ns::Cli,
            "globalping",
            "globalping.py",
            &[CLI_V4, &port, &file, mode.arg()],
        );
    }

    /// The arguments that point dsdoctor at the lab's API and ask `n` probes.
    pub fn regions_args(n: u16) -> Vec<String> {
        vec![
            "--regions".into(),
            n.to_string(),
            "--globalping-url".into(),
            format!("http://{CLI_V4}:{GLOBALPING_PORT}/v1"),
        ]
    }

    /// Probe `i`'s IPv6 path to srv is black-holed at the router: its packets to srv's
    /// address are dropped without a word (a regional ISP with broken IPv6 routing).
    pub fn blackhole_probe_v6(&mut self, i: usize) {
        let (_, v6, _, _) = probe_addrs(i);
        let rule = format!("ip6 saddr {v6} ip6 daddr {SRV_V6} drop");
        self.nft(
            Ns::Net,
            &super::firewall::nft_chain("ip6", "labregion", "forward", &[&rule]),
        );
    }

    /// The API's request log: (seconds, method, path, status, with a token).
    pub fn api_requests(&self) -> Vec<(f64, String, String, u16, bool)> {
        std::fs::read_to_string(self.dir().join("globalping.out"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() != 6 || f[0] != "REQ" {
                    return None;
                }
                Some((
                    f[1].parse().ok()?,
                    f[2].to_string(),
                    f[3].to_string(),
                    f[4].parse().ok()?,
                    f[5] == "auth=1",
                ))
            })
            .collect()
    }
}
