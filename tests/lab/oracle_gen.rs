//! Random nftables rulesets for the oracle (issue 14): tables of the three families,
//! base chains on prerouting and input at several priorities and both policies, regular
//! chains reached by jump and goto (never in a cycle), return, named and anonymous sets,
//! prefixes and ranges, negations, interfaces, and every verdict the input path knows.
//! Half of them also publish ports: a nat table whose DNATs send a port to the lab's
//! container (port 80, where it listens) or to srv's own address, or REDIRECT it to
//! another of srv's ports, with forward and output chains that may shut the forwarded
//! packet or the SYN-ACK.
//!
//! Source addresses are drawn so that "an arbitrary internet address", which dsdoctor
//! evaluates, and the lab's one client, which the kernel sees, fall on the same side of
//! every match: a source list either holds every address of its family (the whole
//! space, as a prefix, a range, or pieces that join up) or leaves out the client's
//! prefixes. Anything else would measure the question's difference, not a bug.

use crate::harness::{CLI_V4, CLI_V6, CTR_V4, CTR_V6, SRV_V4, SRV_V6};

/// A small seeded generator (xorshift64*): the same seed gives the same rulesets.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// IPv4 source lists that leave the client (198.51.100.10) out.
const V4_OTHERS: [&str; 6] = [
    "10.0.0.0/8",
    "192.0.2.0/24",
    "198.51.100.128/25",
    "198.51.100.11-198.51.100.200",
    "203.0.113.66",
    "172.16.0.0-172.31.255.255",
];
/// IPv4 source lists that hold every address.
const V4_ALL: [&str; 3] = [
    "0.0.0.0/0",
    "0.0.0.0-255.255.255.255",
    "0.0.0.0/1, 128.0.0.0/1",
];
const V6_OTHERS: [&str; 5] = [
    "2001:db8:bad::/48",
    "fc00::/7",
    "2001:db8:2::11-2001:db8:2::ffff",
    "2001:db8:1::/64",
    "fe80::/10",
];
const V6_ALL: [&str; 3] = [
    "::/0",
    "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "::/1, 8000::/1",
];

/// The verdicts a generated verdict map hands out.
const MAP_VERDICTS: [&str; 3] = ["accept", "drop", "continue"];

/// Ports the rules name: the probed ones and some that are not.
const RULE_PORTS: [u16; 9] = [22, 25, 80, 443, 3306, 8080, 53, 8443, 5432];

#[derive(Clone, Copy, PartialEq)]
enum Fam {
    Ip,
    Ip6,
    Inet,
}

impl Fam {
    fn name(self) -> &'static str {
        match self {
            Fam::Ip => "ip",
            Fam::Ip6 => "ip6",
            Fam::Inet => "inet",
        }
    }
    fn v4(self) -> bool {
        self != Fam::Ip6
    }
    fn v6(self) -> bool {
        self != Fam::Ip
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    fam: Fam,
    /// Named sets of this table: (name, v6, elements).
    sets: Vec<(String, bool, String)>,
}

impl Gen<'_> {
    fn ports(&mut self) -> String {
        match self.rng.below(4) {
            0 => self.rng.pick(&RULE_PORTS).to_string(),
            1 => {
                let n = 2 + self.rng.below(3);
                let mut ps: Vec<u16> = (0..n).map(|_| *self.rng.pick(&RULE_PORTS)).collect();
                ps.sort_unstable();
                ps.dedup();
                format!("{{ {} }}", join(&ps))
            }
            2 => {
                let a = *self.rng.pick(&RULE_PORTS);
                let b = *self.rng.pick(&RULE_PORTS);
                let (a, b) = (a.min(b), a.max(b));
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            }
            _ => {
                let a = *self.rng.pick(&RULE_PORTS);
                let b = a.saturating_add(1 + self.rng.below(3000) as u16);
                format!("{{ {a}-{b}, {} }}", self.rng.pick(&RULE_PORTS))
            }
        }
    }

    /// A source list of `v6`: (elements, whether it holds the client).
    fn sources(&mut self, v6: bool) -> (String, bool) {
        let all = self.rng.chance(35);
        let pool: &[&str] = match (v6, all) {
            (false, false) => &V4_OTHERS,
            (false, true) => &V4_ALL,
            (true, false) => &V6_OTHERS,
            (true, true) => &V6_ALL,
        };
        let mut items = vec![*self.rng.pick(pool)];
        if !all && self.rng.chance(50) {
            let other = *self.rng.pick(pool);
            if !items.contains(&other) {
                items.push(other);
            }
        }
        (items.join(", "), all)
    }

    /// One match expression, or `None` for a rule without one.
    fn matcher(&mut self) -> Option<String> {
        let neg = if self.rng.chance(25) { "!= " } else { "" };
        Some(match self.rng.below(13) {
            0..=3 => {
                let proto = if self.rng.chance(80) { "tcp" } else { "udp" };
                format!("{proto} dport {neg}{}", self.ports())
            }
            4 | 5 => {
                let v6 = self.pick_v6()?;
                let (items, _) = self.sources(v6);
                let kw = if v6 { "ip6" } else { "ip" };
                if self.rng.chance(50) {
                    let name = format!("src{}", self.sets.len());
                    self.sets.push((name.clone(), v6, items));
                    format!("{kw} saddr {neg}@{name}")
                } else {
                    format!("{kw} saddr {neg}{{ {items} }}")
                }
            }
            6 => {
                let v6 = self.pick_v6()?;
                let (kw, mine, other) = if v6 {
                    ("ip6", SRV_V6, "2001:db8:1::99")
                } else {
                    ("ip", SRV_V4, "203.0.113.99")
                };
                let addr = if self.rng.chance(60) { mine } else { other };
                format!("{kw} daddr {neg}{addr}")
            }
            7 => {
                let name = *self.rng.pick(&["eth0", "lo", "eth*", "docker0"]);
                format!("iifname {neg}\"{name}\"")
            }
            8 => {
                let p = *self.rng.pick(&["tcp", "udp", "icmp"]);
                format!("meta l4proto {neg}{p}")
            }
            9 if self.fam == Fam::Inet => {
                let f = *self.rng.pick(&["ipv4", "ipv6"]);
                format!("meta nfproto {neg}{f}")
            }
            10 => {
                let s = *self.rng.pick(&[
                    "new",
                    "established,related",
                    "invalid",
                    "untracked",
                    "new,untracked",
                ]);
                format!("ct state {neg}{s}")
            }
            11 => {
                // As rulesets write it: with the protocols, since a bare `th dport`
                // reads an ICMP message's checksum (which nobody can predict).
                let p = self.ports();
                format!("meta l4proto {{ tcp, udp }} th dport {neg}{p}")
            }
            _ => return None,
        })
    }

    fn pick_v6(&mut self) -> Option<bool> {
        match (self.fam.v4(), self.fam.v6()) {
            (true, true) => Some(self.rng.chance(50)),
            (true, false) => Some(false),
            (false, true) => Some(true),
            (false, false) => None,
        }
    }

    /// A rule: up to three matches and a verdict. `filter_input` allows reject;
    /// `targets` are the chains it may jump to; `regular` allows return.
    fn rule(&mut self, reject_ok: bool, targets: &[String], regular: bool) -> String {
        let n = self.rng.below(4);
        let mut parts: Vec<String> = (0..n).filter_map(|_| self.matcher()).collect();
        if self.rng.chance(8) {
            // A verdict map keyed on the port or the conntrack state.
            let v = |g: &mut Self| *g.rng.pick(&MAP_VERDICTS);
            let map = if self.rng.chance(50) {
                let a = *self.rng.pick(&RULE_PORTS);
                let b = *self.rng.pick(&RULE_PORTS);
                let (va, vb) = (v(self), v(self));
                if a == b {
                    format!("tcp dport vmap {{ {a} : {va} }}")
                } else {
                    format!("tcp dport vmap {{ {a} : {va}, {b} : {vb} }}")
                }
            } else {
                let (va, vb) = (v(self), v(self));
                format!(
                    "ct state vmap {{ established : {va}, related : {va}, invalid : drop, new : {vb} }}"
                )
            };
            parts.push(map);
            return parts.join(" ");
        }
        let verdict = match self.rng.below(10) {
            0..=2 => "accept".to_string(),
            3 | 4 => "drop".to_string(),
            5 if reject_ok => (*self.rng.pick(&[
                "reject",
                "reject with tcp reset",
                "reject with icmpx type admin-prohibited",
            ]))
            .to_string(),
            6 | 7 if !targets.is_empty() => {
                let kind = if self.rng.chance(70) { "jump" } else { "goto" };
                format!("{kind} {}", self.rng.pick(targets))
            }
            8 if regular => "return".to_string(),
            _ => "counter".to_string(),
        };
        // `reject with tcp reset` needs a TCP match before it.
        if verdict == "reject with tcp reset" {
            parts.insert(0, "meta l4proto tcp".into());
        }
        parts.push(verdict);
        parts.join(" ")
    }
}

/// The named interval sets the rules refer to, as nft declares them in a table.
fn set_declarations(sets: &[(String, bool, String)]) -> String {
    sets.iter()
        .map(|(name, v6, items)| {
            let ty = if *v6 { "ipv6_addr" } else { "ipv4_addr" };
            format!(
                "  set {name} {{\n    type {ty}; flags interval; auto-merge;\n    elements = {{ {items} }}\n  }}\n"
            )
        })
        .collect()
}

fn join<T: ToString>(xs: &[T]) -> String {
    xs.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// One random ruleset (nft syntax) from `rng`.
pub fn ruleset(rng: &mut Rng) -> String {
    let mut out = format!(
        "# Source: generated by tests/lab/oracle_gen.rs (the lab's client is {CLI_V4} and {CLI_V6})\n"
    );
    let tables = 1 + rng.below(2);
    for t in 0..tables {
        let fam = *rng.pick(&[Fam::Inet, Fam::Inet, Fam::Ip, Fam::Ip6]);
        let mut g = Gen {
            rng,
            fam,
            sets: Vec::new(),
        };
        let regular: Vec<String> = (0..g.rng.below(4)).map(|i| format!("c{i}")).collect();
        let hooks: Vec<&str> = (0..1 + g.rng.below(2))
            .map(|_| {
                if g.rng.chance(25) {
                    "prerouting"
                } else {
                    "input"
                }
            })
            .collect();
        // nft refuses reject in a chain that prerouting reaches.
        let reject_in_regular = !hooks.contains(&"prerouting");
        let mut chains = String::new();
        // Regular chains: chain i jumps only to chains after it, so nothing loops.
        for (i, name) in regular.iter().enumerate() {
            let later = &regular[i + 1..];
            let n = 1 + g.rng.below(4);
            let body: Vec<String> = (0..n)
                .map(|_| g.rule(reject_in_regular, later, true))
                .collect();
            chains.push_str(&format!(
                "  chain {name} {{\n    {}\n  }}\n",
                body.join("\n    ")
            ));
        }
        for (b, &hook) in hooks.iter().enumerate() {
            let prio = *g.rng.pick(&[-300i32, -150, -10, 0, 0, 10]);
            let policy = if g.rng.chance(50) { "drop" } else { "accept" };
            let mut body = Vec::new();
            if policy == "drop" && g.rng.chance(85) {
                // What IPv6 needs to reach the host at all, and replies to srv's own
                // traffic (dsdoctor's probes), as working rulesets have.
                body.push("ct state established,related accept".to_string());
                if fam.v6() {
                    body.push(
                        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, packet-too-big } accept"
                            .to_string(),
                    );
                }
                body.push("iifname \"lo\" accept".to_string());
            }
            if hook == "prerouting" && prio == -300 {
                // What a host that exempts a port from conntrack writes.
                body.push(format!("tcp dport {} notrack", g.rng.pick(&RULE_PORTS)));
            }
            let reject_ok = hook == "input";
            for _ in 0..(2 + g.rng.below(6)) {
                let r = g.rule(reject_ok, &regular, false);
                body.push(r);
            }
            chains.push_str(&format!(
                "  chain base{b} {{\n    type filter hook {hook} priority {prio}; policy {policy};\n    {}\n  }}\n",
                body.join("\n    ")
            ));
        }
        let sets = set_declarations(&g.sets);
        out.push_str(&format!(
            "table {} gen{t} {{\n{sets}{chains}}}\n",
            fam.name()
        ));
    }
    if rng.chance(50) {
        out.push_str(&nat_tables(rng));
    }
    out
}

/// Ports a DNAT may publish (srv listens on all of them too: a DNAT that does not match
/// leaves the connection to srv's own listener).
const PUBLISHED: [u16; 4] = [25, 443, 3306, 8080];

/// A nat table that publishes some ports, then maybe a forward chain and an output chain.
fn nat_tables(rng: &mut Rng) -> String {
    let fam = *rng.pick(&[Fam::Inet, Fam::Ip, Fam::Ip6]);
    let mut g = Gen {
        rng,
        fam,
        sets: Vec::new(),
    };
    let mut rules = Vec::new();
    for _ in 0..1 + g.rng.below(3) {
        let port = *g.rng.pick(&PUBLISHED);
        let v6 = g.pick_v6().unwrap_or(false);
        // In an inet table a DNAT names its family.
        let (kw, ctr, own) = match (fam, v6) {
            (Fam::Inet, false) => ("dnat ip to", CTR_V4.to_string(), SRV_V4.to_string()),
            (Fam::Inet, true) => ("dnat ip6 to", format!("[{CTR_V6}]"), format!("[{SRV_V6}]")),
            (_, false) => ("dnat to", CTR_V4.to_string(), SRV_V4.to_string()),
            (_, true) => ("dnat to", format!("[{CTR_V6}]"), format!("[{SRV_V6}]")),
        };
        let target = match g.rng.below(5) {
            0..=2 => format!("{kw} {ctr}:80"),
            3 => format!("{kw} {own}:{}", g.rng.pick(&[22u16, 80])),
            _ => format!("redirect to :{}", g.rng.pick(&[22u16, 80])),
        };
        let m = if g.rng.chance(30) {
            g.matcher().unwrap_or_default()
        } else {
            String::new()
        };
        rules.push(format!("{m} tcp dport {port} {target}"));
    }
    let mut chains = format!(
        "  chain pre {{\n    type nat hook prerouting priority dstnat; policy accept;\n    {}\n  }}\n",
        rules.join("\n    ")
    );
    // A forward chain.
    if g.rng.chance(70) {
        let policy = if g.rng.chance(50) { "drop" } else { "accept" };
        let mut body = Vec::new();
        // A rule on the connection's published port or address as the client sent it
        // (conntrack's original tuple): the forward chain itself sees the container's.
        if g.rng.chance(40) {
            let port = *g.rng.pick(&PUBLISHED);
            let verdict = *g.rng.pick(&["drop", "accept"]);
            body.push(match (g.rng.below(3), fam) {
                (0, Fam::Ip6) => format!("ct original ip6 daddr {SRV_V6} {verdict}"),
                (0, _) => format!("ct original ip daddr {SRV_V4} {verdict}"),
                (1, _) => format!("meta l4proto tcp ct original proto-dst != {port} {verdict}"),
                _ => format!("meta l4proto tcp ct original proto-dst {port} {verdict}"),
            });
        }
        if g.rng.chance(70) {
            body.push("ct state established,related accept".to_string());
        }
        if g.rng.chance(60) {
            body.push("oifname \"docker0\" tcp dport 80 accept".to_string());
        }
        body.push("iifname \"docker0\" accept".to_string());
        for _ in 0..g.rng.below(4) {
            body.push(g.rule(true, &[], false));
        }
        chains.push_str(&format!(
            "  chain fwd {{\n    type filter hook forward priority 0; policy {policy};\n    {}\n  }}\n",
            body.join("\n    ")
        ));
    }
    let sets = set_declarations(&g.sets);
    let mut out = format!("table {} natgen {{\n{sets}{chains}}}\n", fam.name());
    // An output chain: with policy drop the SYN-ACK needs an established accept. ICMP
    // (neighbour discovery above all) and DNS always leave: the walk does not judge
    // srv's own neighbour advertisements, and dsdoctor's probes should not all time out.
    if g.rng.chance(40) {
        let policy = if g.rng.chance(60) { "drop" } else { "accept" };
        let mut body = vec![
            "oifname \"lo\" accept".to_string(),
            "meta l4proto { icmp, ipv6-icmp } accept".to_string(),
            "udp dport 53 accept".to_string(),
        ];
        if g.rng.chance(60) {
            body.push("ct state established,related accept".to_string());
        }
        if g.rng.chance(40) {
            body.push(format!("tcp sport {} drop", g.rng.pick(&RULE_PORTS)));
        }
        if g.rng.chance(40) {
            body.push(format!("tcp sport {} accept", g.rng.pick(&RULE_PORTS)));
        }
        out.push_str(&format!(
            "table inet outgen {{\n  chain out {{\n    type filter hook output priority 0; policy {policy};\n    {}\n  }}\n}}\n",
            body.join("\n    ")
        ));
    }
    out
}

/// IPv4 and IPv6 sources for iptables' `-s` (prefixes only; the same rule as for nft:
/// every address, or none of the client's).
const IPT_V4_OTHERS: [&str; 4] = [
    "10.0.0.0/8",
    "192.0.2.0/24",
    "198.51.100.128/25",
    "203.0.113.66",
];
const IPT_V6_OTHERS: [&str; 3] = ["2001:db8:bad::/48", "fc00::/7", "2001:db8:1::/64"];

/// One random ruleset in iptables-restore form for one family (`v6`), with user chains
/// reached by `-j` and `-g` (never in a cycle), RETURN, multiport lists and ranges,
/// negated sources and interfaces, conntrack states, and REJECT in its several forms.
pub fn iptables_ruleset(rng: &mut Rng, v6: bool) -> String {
    let mut out = format!(
        "# Source: generated by tests/lab/oracle_gen.rs (the lab's client is {CLI_V4} and {CLI_V6})\n*filter\n"
    );
    let policy = if rng.chance(50) { "DROP" } else { "ACCEPT" };
    // Two in five also publish ports (see `ipt_nat`), with a forward chain to pass.
    let nat = rng.chance(40);
    let fwd_policy = if nat && rng.chance(50) {
        "DROP"
    } else {
        "ACCEPT"
    };
    out.push_str(&format!(
        ":INPUT {policy} [0:0]\n:FORWARD {fwd_policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ));
    let users: Vec<String> = (0..rng.below(4)).map(|i| format!("U{i}")).collect();
    for u in &users {
        out.push_str(&format!(":{u} - [0:0]\n"));
    }
    let mut rules = Vec::new();
    if policy == "DROP" && rng.chance(85) {
        rules.push("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_string());
        rules.push("-A INPUT -i lo -j ACCEPT".to_string());
        if v6 {
            for t in [
                "neighbour-solicitation",
                "neighbour-advertisement",
                "router-advertisement",
                "packet-too-big",
            ] {
                rules.push(format!(
                    "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type {t} -j ACCEPT"
                ));
            }
        }
    }
    let rule = |rng: &mut Rng, chain: &str, targets: &[String], user: bool| -> String {
        let mut m: Vec<String> = Vec::new();
        let mut tcp = false;
        for _ in 0..rng.below(4) {
            let neg = if rng.chance(25) { "! " } else { "" };
            match rng.below(8) {
                0 | 1 if !tcp => {
                    tcp = true;
                    m.push("-p tcp".into());
                    match rng.below(3) {
                        0 => m.push(format!("-m tcp {neg}--dport {}", rng.pick(&RULE_PORTS))),
                        1 => {
                            let a = *rng.pick(&RULE_PORTS);
                            let b = *rng.pick(&RULE_PORTS);
                            m.push(format!("-m tcp {neg}--dport {}:{}", a.min(b), a.max(b)));
                        }
                        _ => {
                            let mut ps: Vec<u16> = (0..2 + rng.below(3))
                                .map(|_| *rng.pick(&RULE_PORTS))
                                .collect();
                            ps.sort_unstable();
                            ps.dedup();
                            let list: Vec<String> = ps.iter().map(u16::to_string).collect();
                            m.push(format!("-m multiport {neg}--dports {}", list.join(",")));
                        }
                    }
                }
                2 => {
                    let s = match (v6, rng.chance(30)) {
                        (true, true) => "::/0",
                        (false, true) => "0.0.0.0/0",
                        (true, false) => *rng.pick(&IPT_V6_OTHERS),
                        (false, false) => *rng.pick(&IPT_V4_OTHERS),
                    };
                    m.push(format!("{neg}-s {s}"));
                }
                3 => {
                    let d = if v6 {
                        *rng.pick(&[SRV_V6, "2001:db8:1::99"])
                    } else {
                        *rng.pick(&[SRV_V4, "203.0.113.99"])
                    };
                    m.push(format!("{neg}-d {d}"));
                }
                4 => m.push(format!(
                    "{neg}-i {}",
                    rng.pick(&["eth0", "lo", "eth+", "docker0"])
                )),
                5 => m.push(format!(
                    "-m conntrack {neg}--ctstate {}",
                    rng.pick(&["NEW", "RELATED,ESTABLISHED", "INVALID"])
                )),
                6 => m.push(format!(
                    "-m state {neg}--state {}",
                    rng.pick(&["NEW", "ESTABLISHED"])
                )),
                _ => {}
            }
        }
        let reject = if v6 {
            [
                "REJECT",
                "REJECT --reject-with icmp6-adm-prohibited",
                "REJECT --reject-with tcp-reset",
            ]
        } else {
            [
                "REJECT",
                "REJECT --reject-with icmp-admin-prohibited",
                "REJECT --reject-with tcp-reset",
            ]
        };
        let target = match rng.below(10) {
            0..=2 => "ACCEPT".to_string(),
            3 | 4 => "DROP".to_string(),
            5 => {
                let r = *rng.pick(&reject);
                if r.ends_with("tcp-reset") && !tcp {
                    m.insert(0, "-p tcp".into());
                }
                r.to_string()
            }
            6 | 7 if !targets.is_empty() => {
                let kind = if rng.chance(70) { "-j" } else { "-g" };
                return format!("-A {chain} {} {kind} {}", m.join(" "), rng.pick(targets));
            }
            8 if user => "RETURN".to_string(),
            // (A rule without a target makes iptables-nft's kernel side refuse the
            // ruleset here, so every rule has one.)
            _ if user => "RETURN".to_string(),
            _ => "ACCEPT".to_string(),
        };
        format!("-A {chain} {} -j {target}", m.join(" "))
    };
    for _ in 0..2 + rng.below(6) {
        rules.push(rule(rng, "INPUT", &users, false));
    }
    for (i, u) in users.iter().enumerate() {
        for _ in 0..1 + rng.below(4) {
            rules.push(rule(rng, u, &users[i + 1..], true));
        }
    }
    if nat {
        // DOCKER-USER's way of filtering a published port (conntrack's original tuple).
        if rng.chance(40) {
            let port = *rng.pick(&PUBLISHED);
            let neg = if rng.chance(25) { "! " } else { "" };
            let srv = if v6 { SRV_V6 } else { SRV_V4 };
            let also = if rng.chance(30) {
                format!(" --ctorigdst {srv}")
            } else {
                String::new()
            };
            let verdict = rng.pick(&["DROP", "ACCEPT"]);
            rules.push(format!(
                "-A FORWARD -p tcp -m conntrack {neg}--ctorigdstport {port}{also} -j {verdict}"
            ));
        }
        if rng.chance(70) {
            rules.push("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".into());
        }
        if rng.chance(60) {
            rules.push("-A FORWARD -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT".into());
        }
        if rng.chance(30) {
            let ctr = if v6 { CTR_V6 } else { CTR_V4 };
            rules.push(format!("-A FORWARD -d {ctr} -j DROP"));
        }
        rules.push("-A FORWARD -i docker0 -j ACCEPT".into());
    }
    for r in rules {
        out.push_str(&r.replace("  ", " "));
        out.push('\n');
    }
    out.push_str("COMMIT\n");
    if nat {
        out.push_str(&ipt_nat(rng, v6));
    }
    out
}

/// A nat table the way Docker writes one (`--dst-type LOCAL` jump to DOCKER, a DNAT per
/// published port to the container's port 80), with maybe a REDIRECT to srv's own 22.
fn ipt_nat(rng: &mut Rng, v6: bool) -> String {
    let ctr = if v6 {
        format!("[{CTR_V6}]")
    } else {
        CTR_V4.to_string()
    };
    let mut out = String::from(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n\
         -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A DOCKER -i docker0 -j RETURN\n",
    );
    for _ in 0..1 + rng.below(2) {
        let port = *rng.pick(&PUBLISHED);
        if rng.chance(75) {
            out.push_str(&format!(
                "-A DOCKER ! -i docker0 -p tcp -m tcp --dport {port} -j DNAT --to-destination {ctr}:80\n"
            ));
        } else {
            out.push_str(&format!(
                "-A DOCKER -p tcp -m tcp --dport {port} -j REDIRECT --to-ports 22\n"
            ));
        }
    }
    out.push_str("COMMIT\n");
    out
}
