//! `iptables-save` / `ip6tables-save` output → [`Ruleset`]. Pure; never panics. An option
//! it does not evaluate becomes [`Match::Unknown`] with the option's text, so the walk
//! says "uncertain" rather than guessing.

use crate::facts::firewall::{
    AddrItem, AddrKind, Chain, Hook, Match, NatTo, Rule, Ruleset, SetKey, Source, Table,
    TableFamily, Verdict, ct,
};
use crate::model::Family;
use crate::parse::nft::{icmp_type_num, proto_num, service_port};
use ipnet::IpNet;
use std::net::IpAddr;

const MAX_PROBLEMS: usize = 20;

/// The hook and priority of a built-in chain (`filter INPUT` → input, 0).
fn builtin_hook(table: &str, chain: &str) -> Option<(&'static str, i32)> {
    let hook = match chain {
        "PREROUTING" => "prerouting",
        "INPUT" => "input",
        "FORWARD" => "forward",
        "OUTPUT" => "output",
        "POSTROUTING" => "postrouting",
        _ => return None,
    };
    let prio = match (table, hook) {
        ("raw", _) => -300,
        ("mangle", _) => -150,
        ("nat", "prerouting") => -100,
        ("nat", "input") => 100,
        ("nat", "output") => -100,
        ("nat", _) => 100,
        ("filter", _) => 0,
        ("security", _) => 50,
        _ => return None,
    };
    Some((hook, prio))
}

/// Parse one save output of `iptables-save` (IPv4) or `ip6tables-save` (IPv6).
pub fn parse(text: &str, family: Family, source: Source) -> Ruleset {
    let mut rs = Ruleset::default();
    let fam = TableFamily::of(family);
    let mut current: Option<Table> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n as u64 + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('*') {
            if let Some(t) = current.take() {
                rs.tables.push(t);
            }
            current = Some(Table {
                family: fam,
                name: name.trim().to_string(),
                source,
                chains: Vec::new(),
                sets: Vec::new(),
            });
            continue;
        }
        if line == "COMMIT" {
            if let Some(t) = current.take() {
                rs.tables.push(t);
            }
            continue;
        }
        let Some(table) = current.as_mut() else {
            note(&mut rs, format!("line {line_no}: outside a table: {line}"));
            continue;
        };
        if let Some(decl) = line.strip_prefix(':') {
            let mut parts = decl.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            let policy = parts.next().unwrap_or("-");
            let hook = builtin_hook(&table.name, &name).map(|(h, p)| Hook {
                hook: h.to_string(),
                priority: p,
                kind: if table.name == "nat" { "nat" } else { "filter" }.to_string(),
                policy: if policy == "DROP" {
                    Verdict::Drop
                } else {
                    Verdict::Accept
                },
                device: None,
            });
            if !table.chains.iter().any(|c| c.name == name) {
                table.chains.push(Chain {
                    name,
                    hook,
                    rules: Vec::new(),
                });
            }
            continue;
        }
        let toks = tokenize(line);
        let (chain, rule) = match toks.first().map(String::as_str) {
            Some("-A" | "--append") if toks.len() >= 2 => {
                let rule = parse_rule(&toks[2..], family, line_no, line);
                (toks[1].clone(), rule)
            }
            _ => {
                note(&mut rs, format!("line {line_no}: not understood: {line}"));
                continue;
            }
        };
        match table.chains.iter_mut().find(|c| c.name == chain) {
            Some(c) => c.rules.push(rule),
            None => {
                // A rule for an undeclared chain: keep it in a new user chain.
                table.chains.push(Chain {
                    name: chain,
                    hook: None,
                    rules: vec![rule],
                });
            }
        }
    }
    if let Some(t) = current.take() {
        note(&mut rs, format!("table {} has no COMMIT", t.name));
        rs.tables.push(t);
    }
    rs
}

fn note(rs: &mut Ruleset, s: String) {
    if rs.problems.len() < MAX_PROBLEMS {
        rs.problems.push(s);
    }
}

/// Split like a shell: whitespace, double quotes with backslash escapes.
fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_tok = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                in_tok = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_tok {
                    out.push(std::mem::take(&mut cur));
                    in_tok = false;
                }
            }
            c => {
                cur.push(c);
                in_tok = true;
            }
        }
    }
    if in_tok {
        out.push(cur);
    }
    out
}

fn is_opt(t: &str) -> bool {
    t == "!"
        || (t.starts_with('-') && t.len() > 1 && !t[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn parse_rule(toks: &[String], family: Family, line_no: u64, line: &str) -> Rule {
    let mut matches = Vec::new();
    let mut verdict = Verdict::Continue;
    let mut proto: Option<u8> = None;
    let mut module = String::new();
    let mut neg = false;
    let mut i = 0;
    // Arguments of the option at `i` (up to the next option).
    let args_of = |i: usize| -> Vec<String> {
        toks[i + 1..]
            .iter()
            .take_while(|t| !is_opt(t))
            .cloned()
            .collect()
    };
    while i < toks.len() {
        let opt = toks[i].as_str();
        if opt == "!" {
            neg = true;
            i += 1;
            continue;
        }
        let args = args_of(i);
        let arg = args.first().cloned().unwrap_or_default();
        let mut consumed = 1 + args.len();
        let unknown = |m: &mut Vec<Match>| {
            let mut s = if module.is_empty() {
                String::new()
            } else {
                format!("-m {module} ")
            };
            s.push_str(opt);
            for a in &args {
                s.push(' ');
                s.push_str(a);
            }
            m.push(Match::Unknown(s));
        };
        match opt {
            "-c" | "--set-counters" => consumed = 1 + args.len().min(2),
            "-p" | "--protocol" => {
                if arg != "all" && arg != "0" {
                    match proto_num(&arg) {
                        Some(p) => {
                            proto = Some(p);
                            matches.push(Match::L4proto {
                                protos: vec![p],
                                neg,
                            });
                        }
                        None => unknown(&mut matches),
                    }
                }
            }
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => match addrs(&arg) {
                Some(items) => matches.push(Match::Addr {
                    dst: opt.starts_with("-d") || opt.starts_with("--d"),
                    family,
                    items,
                    neg,
                }),
                None => unknown(&mut matches),
            },
            "-i" | "--in-interface" | "-o" | "--out-interface" => matches.push(Match::Iface {
                input: opt == "-i" || opt == "--in-interface",
                names: vec![arg.clone()],
                neg,
            }),
            "-m" | "--match" => {
                module = arg.clone();
                consumed = 2;
                if module == "rpfilter" {
                    // Holds when the reverse path is fine; `--invert` flips it.
                    matches.push(Match::RpfMissing { neg: true });
                }
            }
            "-j" | "--jump" => {
                // Its options are options of their own (`-j CT --notrack`).
                verdict = target(&arg, &toks[(i + 2).min(toks.len())..]);
                // Target options follow the target; they are part of it.
                consumed = toks.len() - i;
            }
            "-g" | "--goto" => verdict = Verdict::Goto(arg.clone()),
            "--dport" | "--destination-port" | "--sport" | "--source-port" => match ports(&arg) {
                Some(r) => matches.push(Match::Port {
                    dst: opt.contains('d'),
                    proto,
                    ranges: r,
                    neg,
                }),
                None => unknown(&mut matches),
            },
            "--dports" | "--destination-ports" | "--sports" | "--source-ports" | "--ports" => {
                match ports(&arg) {
                    Some(r) => matches.push(Match::Port {
                        dst: !opt.contains("-s"),
                        proto,
                        ranges: r,
                        neg,
                    }),
                    None => unknown(&mut matches),
                }
            }
            "--syn" => matches.push(Match::TcpFlags {
                mask: 0x17,
                value: 0x02,
                neg,
            }),
            "--tcp-flags" if args.len() >= 2 => {
                match (flags(&args[0]), flags(&args[1])) {
                    (Some(mask), Some(value)) => matches.push(Match::TcpFlags { mask, value, neg }),
                    _ => unknown(&mut matches),
                }
                consumed = 3;
            }
            "--ctstate" | "--state" => {
                let mut states = 0u8;
                let mut ok = true;
                for s in arg.split(',') {
                    match ct::from_name(s) {
                        Some(b) => states |= b,
                        None => ok = false,
                    }
                }
                if ok {
                    matches.push(Match::CtState { states, neg });
                } else {
                    unknown(&mut matches);
                }
            }
            "--ctstatus" => matches.push(Match::CtStatus {
                names: arg.split(',').map(|s| s.to_ascii_lowercase()).collect(),
                neg,
            }),
            "--ctorigsrc" | "--ctorigdst" | "--ctreplsrc" | "--ctrepldst" => match addrs(&arg) {
                Some(items) => matches.push(Match::CtAddr {
                    reply_dir: opt.starts_with("--ctrepl"),
                    dst: opt.ends_with("dst"),
                    family: Some(family),
                    items,
                    neg,
                }),
                None => unknown(&mut matches),
            },
            "--ctorigsrcport" | "--ctorigdstport" | "--ctreplsrcport" | "--ctrepldstport" => {
                match ports(&arg) {
                    Some(ranges) => matches.push(Match::CtPort {
                        reply_dir: opt.starts_with("--ctrepl"),
                        dst: opt.ends_with("dstport"),
                        ranges,
                        neg,
                    }),
                    None => unknown(&mut matches),
                }
            }
            "--ctdir" => match arg.to_ascii_uppercase().as_str() {
                "ORIGINAL" | "REPLY" => matches.push(Match::CtDir {
                    reply: arg.eq_ignore_ascii_case("reply"),
                    neg,
                }),
                _ => unknown(&mut matches),
            },
            // The connection's protocol is the packet's.
            "--ctproto" => match proto_num(&arg) {
                Some(p) => matches.push(Match::L4proto {
                    protos: vec![p],
                    neg,
                }),
                None => unknown(&mut matches),
            },
            "--icmp-type" | "--icmpv6-type" => {
                let icmp_family = Family::from_v6(opt == "--icmpv6-type");
                let name = arg.split('/').next().unwrap_or_default();
                if arg != "any" {
                    match icmp_type_num(name, icmp_family) {
                        Some(t) => matches.push(Match::IcmpType {
                            family: icmp_family,
                            types: vec![t],
                            neg,
                        }),
                        None => unknown(&mut matches),
                    }
                }
            }
            "--src-type" | "--dst-type" => matches.push(Match::AddrType {
                dst: opt == "--dst-type",
                kinds: arg.split(',').map(AddrKind::from_name).collect(),
                neg,
            }),
            "--pkt-type" => matches.push(Match::AddrType {
                dst: true,
                kinds: vec![match arg.as_str() {
                    "host" => AddrKind::Local,
                    other => AddrKind::from_name(other),
                }],
                neg,
            }),
            "--limit" | "--limit-burst" if module == "limit" => {
                if opt == "--limit" {
                    matches.push(Match::Limit);
                }
            }
            "--hl-eq" | "--hl-lt" | "--hl-gt" | "--ttl-eq" | "--ttl-lt" | "--ttl-gt" => {
                match arg.parse::<u8>() {
                    Ok(value) => matches.push(Match::HopLimit {
                        op: opt.rsplit('-').next().unwrap_or("eq").to_string(),
                        value,
                        neg,
                    }),
                    Err(_) => unknown(&mut matches),
                }
            }
            "--rt-type" | "--rt-segsleft" | "--rt-len" | "--fragid" | "--fraglen"
            | "--fragfirst" | "--fragmore" | "--fraglast" | "--fragres" | "-f" | "--fragment" => {
                matches.push(Match::ExtHeader {
                    name: opt.trim_start_matches('-').to_string(),
                    neg,
                })
            }
            // `-m set --match-set NAME src,dst`: the ipset, looked up by name (the probe
            // reads the sets with `ipset save`).
            "--match-set" if module == "set" && args.len() >= 2 => {
                matches.push(Match::Set {
                    name: args[0].clone(),
                    keys: args[1]
                        .split(',')
                        .map(|f| match f {
                            "src" => SetKey::Src,
                            "dst" => SetKey::Dst,
                            other => SetKey::Other(other.to_string()),
                        })
                        .collect(),
                    neg,
                });
                consumed = 3;
            }
            "--hashlimit-upto" => matches.push(Match::Limit),
            "--hashlimit-above" => matches.push(Match::RecentSeen { neg }),
            "--rcheck" | "--update" if module == "recent" => {
                matches.push(Match::RecentSeen { neg })
            }
            "--invert" if module == "rpfilter" => {
                if let Some(Match::RpfMissing { neg }) = matches
                    .iter_mut()
                    .rev()
                    .find(|m| matches!(m, Match::RpfMissing { .. }))
                {
                    *neg = false;
                }
            }
            // Options that only tune another option of the same module.
            "--return-nomatch" | "--update-counters" | "--update-subcounters"
                if module == "set" => {}
            "--comment"
            | "--set"
            | "--remove"
            | "--name"
            | "--seconds"
            | "--hitcount"
            | "--rttl"
            | "--rsource"
            | "--rdest"
            | "--mask"
            | "--reap"
            | "--loose"
            | "--validmark"
            | "--accept-local"
            | "--limit-iface-in"
            | "--limit-iface-out"
            | "--hashlimit-burst"
            | "--hashlimit-mode"
            | "--hashlimit-name"
            | "--hashlimit-htable-expire"
            | "--hashlimit-srcmask"
            | "--hashlimit-dstmask"
            | "--hashlimit-htable-size"
            | "--hashlimit-htable-max"
            | "--hashlimit-htable-gcinterval" => {}
            _ => unknown(&mut matches),
        }
        neg = false;
        i += consumed.max(1);
    }
    Rule {
        handle: line_no,
        text: line.to_string(),
        matches,
        verdict,
    }
}

fn target(name: &str, opts: &[String]) -> Verdict {
    match name {
        "NOTRACK" => Verdict::Notrack,
        "CT" if opts.iter().any(|o| o == "--notrack") => Verdict::Notrack,
        "ACCEPT" => Verdict::Accept,
        "DROP" => Verdict::Drop,
        "REJECT" => Verdict::Reject,
        "RETURN" => Verdict::Return,
        "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "CT" | "TRACE" | "SET" | "TCPMSS"
        | "DSCP" | "TOS" | "TTL" | "HL" | "CLASSIFY" | "AUDIT" | "CHECKSUM" | "SECMARK"
        | "CONNSECMARK" | "IDLETIMER" | "LED" => Verdict::Continue,
        "SNAT" | "MASQUERADE" => Verdict::Snat,
        // The destination changes: the packet may leave the input path (a container).
        "DNAT" => match opt_value(opts, "--to-destination").and_then(|v| NatTo::parse(&v)) {
            Some(to) => Verdict::Dnat(to),
            None => Verdict::Unknown(format!(
                "target DNAT without a destination dsdoctor reads: {}",
                opts.join(" ")
            )),
        },
        "REDIRECT" => match opt_value(opts, "--to-ports") {
            None => Verdict::Redirect(None),
            Some(p) => match p.split('-').next().and_then(|p| p.parse().ok()) {
                Some(port) => Verdict::Redirect(Some(port)),
                None => Verdict::Unknown(format!("target REDIRECT --to-ports {p}")),
            },
        },
        "NETMAP" => Verdict::Unknown(format!(
            "target {name}: the connection is redirected and filtered elsewhere"
        )),
        "NFQUEUE" | "QUEUE" | "TPROXY" | "SYNPROXY" | "TARPIT" | "TEE" => {
            Verdict::Unknown(format!("target {name}"))
        }
        chain => Verdict::Jump(chain.to_string()),
    }
}

/// The argument of a target's option (`--to-destination 172.17.0.2:80`).
fn opt_value(opts: &[String], name: &str) -> Option<String> {
    let i = opts.iter().position(|o| o == name)?;
    opts.get(i + 1).cloned()
}

fn addrs(s: &str) -> Option<Vec<AddrItem>> {
    s.split(',')
        .map(|one| {
            if let Some((a, b)) = one.split_once('/') {
                let ip: IpAddr = a.parse().ok()?;
                let len: u8 = match b.parse::<u8>() {
                    Ok(l) => l,
                    Err(_) => {
                        // Dotted netmask.
                        let m: std::net::Ipv4Addr = b.parse().ok()?;
                        u32::from(m).count_ones() as u8
                    }
                };
                IpNet::new(ip, len).ok().map(AddrItem::Net)
            } else {
                let ip: IpAddr = one.parse().ok()?;
                Some(AddrItem::Net(IpNet::from(ip)))
            }
        })
        .collect()
}

fn port_one(s: &str) -> Option<u16> {
    service_port(s)
}

fn ports(s: &str) -> Option<Vec<(u16, u16)>> {
    s.split(',')
        .map(|p| match p.split_once(':') {
            Some((a, b)) => {
                let lo = if a.is_empty() { 0 } else { port_one(a)? };
                let hi = if b.is_empty() { 65535 } else { port_one(b)? };
                Some((lo.min(hi), lo.max(hi)))
            }
            None => {
                let v = port_one(p)?;
                Some((v, v))
            }
        })
        .collect()
}

fn flags(s: &str) -> Option<u8> {
    let mut out = 0u8;
    for f in s.split(',') {
        out |= match f {
            "FIN" => 0x01,
            "SYN" => 0x02,
            "RST" => 0x04,
            "PSH" => 0x08,
            "ACK" => 0x10,
            "URG" => 0x20,
            "ALL" => 0x3f,
            "NONE" => 0,
            _ => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule `-A INPUT {args}`, parsed alone in the filter table of iptables-nft.
    fn input_rule(args: &str) -> Rule {
        let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {args}\nCOMMIT\n");
        let mut rs = parse(&text, Family::V4, Source::IptablesNft);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        rs.tables.remove(0).chains.remove(0).rules.remove(0)
    }

    /// The conntrack match's tuple options, as iptables-save prints them.
    #[test]
    fn parses_conntrack_tuples() {
        let r = input_rule(
            "-p tcp -m conntrack --ctorigdst 203.0.113.10/32 ! --ctorigdstport 8080:8090 \
             --ctreplsrc 172.17.0.0/16 --ctdir REPLY --ctproto tcp -j DROP",
        );
        let net = |s: &str| AddrItem::Net(s.parse().unwrap());
        assert_eq!(
            r.matches[1..],
            [
                Match::CtAddr {
                    reply_dir: false,
                    dst: true,
                    family: Some(Family::V4),
                    items: vec![net("203.0.113.10/32")],
                    neg: false
                },
                Match::CtPort {
                    reply_dir: false,
                    dst: true,
                    ranges: vec![(8080, 8090)],
                    neg: true
                },
                Match::CtAddr {
                    reply_dir: true,
                    dst: false,
                    family: Some(Family::V4),
                    items: vec![net("172.17.0.0/16")],
                    neg: false
                },
                Match::CtDir {
                    reply: true,
                    neg: false
                },
                Match::L4proto {
                    protos: vec![6],
                    neg: false
                },
            ]
        );
        // Values it cannot read stay unknown rules, with their text.
        let r = input_rule("-m conntrack --ctorigdstport http-x --ctdir SIDEWAYS -j DROP");
        assert!(
            matches!(&r.matches[..], [Match::Unknown(a), Match::Unknown(b)]
                if a.contains("--ctorigdstport http-x") && b.contains("SIDEWAYS")),
            "{:?}",
            r.matches
        );
    }

    #[test]
    fn parses_nat_targets() {
        let t = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
            -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\n\
            -A PREROUTING -p tcp --dport 8081 -j DNAT --to-destination 172.17.0.3\n\
            -A PREROUTING -p tcp --dport 8082 -j DNAT --to-destination [fd00::2]:80\n\
            -A PREROUTING -p tcp --dport 8083 -j DNAT --to-destination 10.0.0.1-10.0.0.9:80-90\n\
            -A PREROUTING -p tcp --dport 8084 -j REDIRECT --to-ports 80\n\
            -A PREROUTING -p tcp --dport 8085 -j REDIRECT\n\
            -A PREROUTING -p tcp --dport 8086 -j DNAT --to-destination nowhere\n\
            -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n\
            -A POSTROUTING -j SNAT --to-source 192.0.2.1\nCOMMIT\n";
        let rs = parse(t, Family::V4, Source::IptablesNft);
        let pre: Vec<&Verdict> = rs.tables[0].chains[0]
            .rules
            .iter()
            .map(|r| &r.verdict)
            .collect();
        let to = |a: &str, p: Option<u16>| {
            Verdict::Dnat(NatTo {
                addr: Some(a.parse().unwrap()),
                port: p,
            })
        };
        assert_eq!(pre[0], &to("172.17.0.2", Some(80)));
        assert_eq!(pre[1], &to("172.17.0.3", None));
        assert_eq!(pre[2], &to("fd00::2", Some(80)));
        assert_eq!(pre[3], &to("10.0.0.1", Some(80)));
        assert_eq!(pre[4], &Verdict::Redirect(Some(80)));
        assert_eq!(pre[5], &Verdict::Redirect(None));
        assert!(matches!(pre[6], Verdict::Unknown(_)));
        let post = &rs.tables[0].chains[1].rules;
        assert!(post.iter().all(|r| r.verdict == Verdict::Snat));
    }

    #[test]
    fn parses_a_save_file() {
        let t = "# Generated by ip6tables-save\n*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:f2b-sshd - [0:0]\n\
            -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
            -A INPUT -p tcp -m multiport --dports 22,80:81 -j f2b-sshd\n\
            -A INPUT ! -i lo -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT\n\
            -A INPUT -m comment --comment \"a \\\"quoted\\\" one\" -j LOG --log-prefix \"x y\"\n\
            -A f2b-sshd -s 2001:db8::5/128 -j REJECT --reject-with icmp6-port-unreachable\n\
            -A f2b-sshd -j RETURN\nCOMMIT\n";
        let rs = parse(t, Family::V6, Source::IptablesLegacy);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        let tb = &rs.tables[0];
        assert_eq!(tb.name, "filter");
        let input = &tb.chains[0];
        assert_eq!(input.hook.as_ref().unwrap().policy, Verdict::Drop);
        assert_eq!(input.rules.len(), 4);
        assert_eq!(
            input.rules[0].matches,
            vec![Match::CtState {
                states: ct::RELATED | ct::ESTABLISHED,
                neg: false
            }]
        );
        assert_eq!(input.rules[1].verdict, Verdict::Jump("f2b-sshd".into()));
        assert!(
            matches!(&input.rules[1].matches[1], Match::Port { ranges, proto: Some(6), .. } if ranges == &vec![(22, 22), (80, 81)])
        );
        assert!(matches!(
            &input.rules[2].matches[0],
            Match::Iface { neg: true, .. }
        ));
        assert_eq!(input.rules[3].verdict, Verdict::Continue);
        assert!(input.rules[3].matches.is_empty());
        assert_eq!(input.rules[1].handle, 7);
        assert_eq!(tb.chains[2].rules[1].verdict, Verdict::Return);
    }

    #[test]
    fn unknown_options_are_kept() {
        let r = input_rule("-m set --match-set bad src --packets-gt 3 -j DROP");
        assert!(
            matches!(&r.matches[1], Match::Unknown(s) if s.contains("packets-gt")),
            "{r:?}"
        );
    }

    #[test]
    fn ipset_matches_name_the_set() {
        let r = input_rule(
            "-p tcp -m set ! --match-set office src,dst --return-nomatch ! --update-counters -j DROP",
        );
        assert_eq!(
            r.matches[1],
            Match::Set {
                name: "office".into(),
                keys: vec![SetKey::Src, SetKey::Dst],
                neg: true
            }
        );
        assert_eq!(r.matches.len(), 2, "{r:?}");
        assert_eq!(r.verdict, Verdict::Drop);
    }
}
