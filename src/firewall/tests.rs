//! Unit tests of the walk, on rulesets written in nft JSON and iptables-save form.

use super::*;
use crate::facts::firewall::Source;
use crate::parse::{iptables, nft};

pub(super) fn v4() -> IpAddr {
    "203.0.113.10".parse().unwrap()
}
pub(super) fn v6() -> IpAddr {
    "2001:db8:1::10".parse().unwrap()
}

/// The walk of a TCP SYN to `ip`:`port` arriving on eth0.
fn walk(t: &[Table], ip: IpAddr, port: u16) -> Outcome {
    decide(t, &Packet::tcp_syn(ip, port, "eth0"))
}

/// The decision on that SYN.
fn syn(t: &[Table], ip: IpAddr, port: u16) -> Decision {
    walk(t, ip, port).decision
}

/// The decision on an ICMPv6 message of type `ty` to the host's IPv6 address on eth0.
fn icmp6(t: &[Table], ty: u8) -> Decision {
    decide(t, &Packet::icmpv6(ty, v6(), "eth0")).decision
}

/// The connection (the SYN, then its answer) to `ip`:`port` from a client on eth0.
fn connect(c: &Compiled, ip: IpAddr, port: u16) -> Outcome {
    c.decide_connection(&Packet::tcp_syn(ip, port, "eth0"))
}

/// The rule or policy that decided `o` is described with `words`.
pub(super) fn assert_decided_by(o: &Outcome, words: &str) {
    let by = o.decided_by.as_ref().map(RuleRef::describe);
    assert!(
        by.as_deref().is_some_and(|d| d.contains(words)),
        "decided by {by:?}, not {words:?}: {o:#?}"
    );
}

fn save(text: &str, family: Family) -> Vec<Table> {
    iptables::parse(text, family, Source::IptablesLegacy).tables
}

#[test]
fn empty_ruleset_accepts() {
    let o = walk(&[], v4(), 80);
    assert_eq!(o.decision, Decision::Accept);
    assert_eq!(o.base_chains, 0);
}

#[test]
fn ip6tables_drop_on_80() {
    let t = save(
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 80 -j DROP\nCOMMIT\n",
        Family::V6,
    );
    let o = walk(&t, v6(), 80);
    assert_eq!(o.decision, Decision::Drop);
    assert_eq!(o.decided_by.unwrap().handle, Some(3));
    assert_eq!(syn(&t, v6(), 443), Decision::Accept);
    // An ip6tables table does not see IPv4.
    assert_eq!(syn(&t, v4(), 80), Decision::Accept);
}

#[test]
fn policy_drop_with_established_and_port_accept() {
    let t = save(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A INPUT -p tcp -m multiport --dports 22,443 -j ACCEPT\nCOMMIT\n",
        Family::V4,
    );
    let o = walk(&t, v4(), 80);
    assert_eq!(o.decision, Decision::Drop);
    assert_eq!(o.decided_by.as_ref().unwrap().handle, None, "policy");
    assert_decided_by(&o, "policy drop");
    assert_eq!(syn(&t, v4(), 443), Decision::Accept);
    assert_eq!(
        decide(&t, &Packet::tcp_syn(v4(), 80, "lo")).decision,
        Decision::Accept
    );
}

#[test]
fn jump_return_and_goto() {
    let t = save(
        "*filter\n:INPUT DROP [0:0]\n:f2b - [0:0]\n:web - [0:0]\n-A INPUT -p tcp -j f2b\n-A INPUT -g web\n\
         -A f2b -s 198.51.100.7/32 -j REJECT\n-A f2b -j RETURN\n-A web -p tcp --dport 80 -j ACCEPT\nCOMMIT\n",
        Family::V4,
    );
    let o = walk(&t, v4(), 80);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
    crate::testutil::assert_mentions(&o.path, "→ web");
    // goto web then end of web: back to INPUT's caller = policy.
    assert_eq!(syn(&t, v4(), 81), Decision::Drop);
    let mut p = Packet::tcp_syn(v4(), 80, "eth0");
    p.saddr = Some("198.51.100.7".parse().unwrap());
    assert_eq!(decide(&t, &p).decision, Decision::Reject);
}

#[test]
fn unknown_match_that_does_not_matter_is_certain() {
    let t = save(
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -m set --match-set bad src -j DROP\nCOMMIT\n",
        Family::V4,
    );
    assert_eq!(syn(&t, v4(), 80), Decision::Accept);
    let o = walk(&t, v4(), 81);
    assert_eq!(o.decision, Decision::Uncertain);
    assert!(o.decided_by.unwrap().text.contains("match-set"));
}

#[test]
fn unknown_match_both_ways_same_answer() {
    let t = save(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -m set --match-set bad src -j DROP\nCOMMIT\n",
        Family::V4,
    );
    let o = walk(&t, v4(), 80);
    assert_eq!(o.decision, Decision::Drop);
    assert_eq!(o.unevaluated.len(), 1);
}

#[test]
fn accept_in_one_base_chain_then_drop_in_the_next() {
    let j = r#"{"nftables":[
      {"table":{"family":"inet","name":"a","handle":1}},
      {"chain":{"family":"inet","table":"a","name":"in","handle":1,"type":"filter","hook":"input","prio":-10,"policy":"accept"}},
      {"rule":{"family":"inet","table":"a","chain":"in","handle":2,"expr":[{"accept":null}]}},
      {"table":{"family":"ip6","name":"b","handle":2}},
      {"chain":{"family":"ip6","table":"b","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}}
    ]}"#;
    let rs = nft::parse(j).unwrap();
    assert_eq!(syn(&rs.tables, v4(), 80), Decision::Accept);
    let o = walk(&rs.tables, v6(), 80);
    assert_eq!(o.decision, Decision::Drop);
    assert_eq!(o.base_chains, 2);
    assert_decided_by(&o, "nft ip6 b chain in: policy drop");
}

#[test]
fn icmpv6_nd_is_untracked_and_ptb_related() {
    let t = save(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n",
        Family::V6,
    );
    assert_eq!(icmp6(&t, 2), Decision::Accept);
    assert_eq!(icmp6(&t, 135), Decision::Drop);
    let t = save(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p ipv6-icmp -j ACCEPT\nCOMMIT\n",
        Family::V6,
    );
    for ty in [2, 133, 134, 135, 136] {
        assert_eq!(icmp6(&t, ty), Decision::Accept);
    }
}

#[test]
fn loops_are_bounded() {
    let t = save(
        "*filter\n:INPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -j a\nCOMMIT\n",
        Family::V4,
    );
    assert_eq!(syn(&t, v4(), 80), Decision::Uncertain);
    let t = save(
        "*filter\n:INPUT ACCEPT [0:0]\n:a - [0:0]\n-A INPUT -j a\n-A a -g a\nCOMMIT\n",
        Family::V4,
    );
    assert_eq!(syn(&t, v4(), 80), Decision::Uncertain);
}

#[test]
fn netdev_ingress_on_the_device_runs_first() {
    let j = r#"{"nftables":[
      {"table":{"family":"netdev","name":"edge","handle":1}},
      {"chain":{"family":"netdev","table":"edge","name":"in","handle":1,"type":"filter","hook":"ingress","dev":"eth0","prio":-500,"policy":"accept"}},
      {"rule":{"family":"netdev","table":"edge","chain":"in","handle":2,"expr":[{"match":{"op":"==","left":{"meta":{"key":"nfproto"}},"right":"ipv6"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":443}},{"drop":null}]}}
    ]}"#;
    let rs = nft::parse(j).unwrap();
    let o = walk(&rs.tables, v6(), 443);
    assert_eq!(o.decision, Decision::Drop);
    assert_decided_by(&o, "nft netdev edge chain in handle 2");
    assert_eq!(
        decide(&rs.tables, &Packet::tcp_syn(v6(), 443, "eth1")).decision,
        Decision::Accept
    );
    assert_eq!(syn(&rs.tables, v4(), 443), Decision::Accept);
}

/// `ip saddr { 0.0.0.0-255.255.255.255 }` as nft 1.0.6 prints it (`nft -j list ruleset`
/// after loading the rule in a scratch namespace): a bare range, which admits every
/// source. It was once taken as "not every source" and the open port as shut.
#[test]
fn a_range_over_the_whole_space_admits_any_source() {
    let j = r#"{"nftables": [{"table": {"family": "inet", "name": "f", "handle": 1}},
      {"chain": {"family": "inet", "table": "f", "name": "in", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
      {"rule": {"family": "inet", "table": "f", "chain": "in", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"range": ["0.0.0.0", "255.255.255.255"]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "f", "chain": "in", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"range": ["::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "f", "chain": "in", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"set": [{"prefix": {"addr": "0.0.0.0", "len": 1}}, {"range": ["128.0.0.0", "255.255.255.255"]}]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "f", "chain": "in", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"set": [{"prefix": {"addr": "0.0.0.0", "len": 1}}, {"range": ["128.0.0.1", "255.255.255.255"]}]}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8443}}, {"accept": null}]}}
    ]}"#;
    let rs = nft::parse(j).unwrap();
    assert_eq!(syn(&rs.tables, v4(), 80), Decision::Accept);
    assert_eq!(syn(&rs.tables, v6(), 80), Decision::Accept);
    // Pieces that join up cover everyone too; a gap of one address does not.
    assert_eq!(syn(&rs.tables, v4(), 443), Decision::Accept);
    assert_ne!(syn(&rs.tables, v4(), 8443), Decision::Accept);
}

/// Found by the lab's kernel oracle: new connections sent on by
/// `ct state != established,related goto c0` (nft -j prints the list as a bitwise or)
/// were "uncertain" while the kernel admitted them.
#[test]
fn negated_ct_state_list_sends_new_connections_on() {
    let j = r#"{"nftables":[
      {"table":{"family":"ip6","name":"t","handle":1}},
      {"chain":{"family":"ip6","table":"t","name":"c0","handle":1}},
      {"chain":{"family":"ip6","table":"t","name":"input","handle":2,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
      {"rule":{"family":"ip6","table":"t","chain":"c0","handle":3,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"accept":null}]}},
      {"rule":{"family":"ip6","table":"t","chain":"input","handle":4,"expr":[{"match":{"op":"!=","left":{"ct":{"key":"state"}},"right":{"|":["established","related"]}}},{"goto":{"target":"c0"}}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(syn(&t, v6(), 80), Decision::Accept);
    assert_eq!(syn(&t, v6(), 22), Decision::Drop);
    assert!(walk(&t, v6(), 80).unevaluated.is_empty());
}

/// Found by the lab's kernel oracle: `th dport != 25-80 accept` admitted the neighbour
/// solicitations (the kernel compares an ICMPv6 message's checksum with the range),
/// where dsdoctor took the match as false for ICMPv6 and had the next rule reject them.
#[test]
fn th_dport_on_icmpv6_reads_bytes_nobody_knows() {
    let j = r#"{"nftables":[
      {"table":{"family":"inet","name":"t","handle":1}},
      {"chain":{"family":"inet","table":"t","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
      {"rule":{"family":"inet","table":"t","chain":"input","handle":2,"expr":[{"match":{"op":"!=","left":{"payload":{"protocol":"th","field":"dport"}},"right":{"range":[25,80]}}},{"accept":null}]}},
      {"rule":{"family":"inet","table":"t","chain":"input","handle":3,"expr":[{"reject":null}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(icmp6(&t, 135), Decision::Uncertain);
    // A TCP port is read as a port: 22 is outside 25-80, 80 inside.
    assert_eq!(syn(&t, v6(), 22), Decision::Accept);
    assert_eq!(syn(&t, v6(), 80), Decision::Reject);
    // `tcp dport` carries its protocol: it never holds for ICMPv6.
    let j2 = j.replace(r#""protocol":"th""#, r#""protocol":"tcp""#);
    let t2 = nft::parse(&j2).unwrap().tables;
    assert_eq!(icmp6(&t2, 135), Decision::Reject);
}

/// A port exempted from connection tracking before conntrack runs is `untracked` on the
/// input path: a filter that admits `ct state new` drops it (the kernel does; dsdoctor
/// ignored `notrack` and admitted it).
#[test]
fn notrack_before_conntrack_leaves_the_packet_untracked() {
    let j = r#"{"nftables":[
      {"table":{"family":"inet","name":"raw","handle":1}},
      {"chain":{"family":"inet","table":"raw","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":-300,"policy":"accept"}},
      {"rule":{"family":"inet","table":"raw","chain":"pre","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"notrack":null}]}},
      {"table":{"family":"inet","name":"filter","handle":2}},
      {"chain":{"family":"inet","table":"filter","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
      {"rule":{"family":"inet","table":"filter","chain":"input","handle":3,"expr":[{"match":{"op":"==","left":{"ct":{"key":"state"}},"right":"new"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,80]}}},{"accept":null}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(t[0].chains[0].rules[0].verdict, Verdict::Notrack);
    assert_eq!(syn(&t, v4(), 80), Decision::Drop);
    assert_eq!(syn(&t, v4(), 22), Decision::Accept);
    // The same notrack after conntrack (priority 0) changes nothing.
    let late = nft::parse(&j.replace(r#""prio":-300"#, r#""prio":0"#))
        .unwrap()
        .tables;
    assert_eq!(syn(&late, v4(), 80), Decision::Accept);
    // iptables' raw table: -j CT --notrack and -j NOTRACK.
    for target in ["CT --notrack", "NOTRACK"] {
        let text = format!(
            "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A PREROUTING -p tcp -m tcp --dport 80 -j {target}\nCOMMIT\n\
             *filter\n:INPUT DROP [0:0]\n\
             -A INPUT -p tcp -m multiport --dports 22,80 -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n"
        );
        let t = save(&text, Family::V4);
        assert_eq!(syn(&t, v4(), 80), Decision::Drop, "{target}");
        assert_eq!(syn(&t, v4(), 22), Decision::Accept, "{target}");
    }
}

/// A host with a bridge to a container at 172.17.0.2 / fd00:d0c::2, forwarding both
/// families.
pub(super) fn bridge_host() -> HostNet {
    HostNet {
        local: vec![v4(), v6(), "172.17.0.1".parse().unwrap()],
        routes: vec![
            ("0.0.0.0/0".parse().unwrap(), "eth0".into()),
            ("::/0".parse().unwrap(), "eth0".into()),
            ("172.17.0.0/16".parse().unwrap(), "docker0".into()),
            ("fd00:d0c::/64".parse().unwrap(), "docker0".into()),
        ],
        forwarding: (Some(true), Some(true)),
        iface_addrs: vec![("eth0".into(), v4()), ("eth0".into(), v6())],
        // Strict, with the way back symmetric: it drops nothing here.
        rp_filter: [("all".to_string(), 1)].into(),
    }
}

/// An nft ruleset from its text form's pieces, as `nft -j` would list it: an inet nat
/// table that DNATs 8080 per family, a forward chain, an output chain.
fn nat_json(forward_policy: &str, output: &str) -> Vec<Table> {
    let established = r#"{"rule":{"family":"inet","table":"filter","chain":"forward","handle":6,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":["established","related"]}},{"accept":null}]}},"#;
    let j = format!(
        r#"{{"nftables":[
      {{"table":{{"family":"inet","name":"nat","handle":1}}}},
      {{"chain":{{"family":"inet","table":"nat","name":"pre","handle":1,"type":"nat","hook":"prerouting","prio":-100,"policy":"accept"}}}},
      {{"rule":{{"family":"inet","table":"nat","chain":"pre","handle":2,"expr":[{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":8080}}}},{{"dnat":{{"family":"ip","addr":"172.17.0.2","port":80}}}}]}}}},
      {{"rule":{{"family":"inet","table":"nat","chain":"pre","handle":3,"expr":[{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":8080}}}},{{"dnat":{{"family":"ip6","addr":"fd00:d0c::2","port":80}}}}]}}}},
      {{"rule":{{"family":"inet","table":"nat","chain":"pre","handle":4,"expr":[{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":2222}}}},{{"redirect":{{"port":22}}}}]}}}},
      {{"table":{{"family":"inet","name":"filter","handle":2}}}},
      {{"chain":{{"family":"inet","table":"filter","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}}}},
      {{"rule":{{"family":"inet","table":"filter","chain":"input","handle":2,"expr":[{{"match":{{"op":"==","left":{{"payload":{{"protocol":"tcp","field":"dport"}}}},"right":22}}}},{{"accept":null}}]}}}},
      {{"chain":{{"family":"inet","table":"filter","name":"forward","handle":3,"type":"filter","hook":"forward","prio":0,"policy":"{forward_policy}"}}}},
      {established}
      {{"rule":{{"family":"inet","table":"filter","chain":"forward","handle":4,"expr":[{{"match":{{"op":"==","left":{{"meta":{{"key":"oifname"}}}},"right":"docker0"}}}},{{"match":{{"op":"==","left":{{"payload":{{"protocol":"ip","field":"daddr"}}}},"right":"172.17.0.2"}}}},{{"accept":null}}]}}}},
      {{"chain":{{"family":"inet","table":"filter","name":"output","handle":5,"type":"filter","hook":"output","prio":0,"policy":"{output}"}}}}
    ]}}"#
    );
    nft::parse(&j).unwrap().tables
}

#[test]
fn dnat_per_family_in_an_inet_table_then_forward() {
    let t = nat_json("drop", "accept");
    let c = Compiled::new(&t).with_host(bridge_host());
    // IPv4: DNAT to the container, forward admits it by its address, out of docker0.
    let o = connect(&c, v4(), 8080);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
    assert!(o.taken.forward);
    assert_eq!(o.taken.oif.as_deref(), Some("docker0"));
    let (rule, ..) = o.taken.nat.as_ref().unwrap();
    assert_eq!(rule.handle, Some(2));
    assert_eq!(rule.text, "tcp dport 8080 dnat ip to 172.17.0.2:80");
    // IPv6: the ip rule does nothing to it; the ip6 one sends it on, and forward's
    // policy drops it (only the IPv4 address is admitted).
    let o = connect(&c, v6(), 8080);
    assert_eq!(o.decision, Decision::Drop, "{o:#?}");
    assert_eq!(o.taken.nat.as_ref().unwrap().0.handle, Some(3));
    assert_decided_by(&o, "chain forward: policy drop");
    // REDIRECT stays local: input sees port 22.
    let o = connect(&c, v4(), 2222);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
    assert!(!o.taken.forward);
    assert_eq!(o.taken.nat.as_ref().unwrap().2, 22);
    // Without a DNAT, input decides: 8081 is shut by its policy.
    let o = connect(&c, v4(), 8081);
    assert_eq!(o.decision, Decision::Drop);
    assert!(o.taken.nat.is_none() && !o.taken.forward);
    // The input chains alone would shut 8080 (what ufw believes).
    assert!(
        c.decide_input(&Packet::tcp_syn(v4(), 8080, "eth0"))
            .decision
            .shuts()
    );
}

#[test]
fn forward_without_an_established_accept_kills_the_containers_answer() {
    let t: Vec<Table> = nat_json("drop", "accept")
        .into_iter()
        .map(|mut t| {
            for c in &mut t.chains {
                c.rules.retain(|r| r.handle != 6);
            }
            t
        })
        .collect();
    let c = Compiled::new(&t).with_host(bridge_host());
    let o = connect(&c, v4(), 8080);
    // The SYN is admitted by its destination; the answer from 172.17.0.2 comes in on
    // docker0 and meets forward's policy.
    assert_eq!(
        (o.decision, o.taken.leg),
        (Decision::Drop, Leg::Reply),
        "{o:#?}"
    );
    crate::testutil::assert_mentions(&o.path, "the SYN-ACK");
}

#[test]
fn nat_chains_see_only_the_first_packet() {
    let t = nat_json("accept", "accept");
    let c = Compiled::new(&t).with_host(bridge_host());
    let mut later = Packet::tcp_established(v4(), 8080, "eth0");
    // A later packet that conntrack did not DNAT is not rewritten by the nat chain: it
    // is judged by input (policy drop, 8080 not open).
    later.ct = ct::ESTABLISHED;
    let o = c.decide(&later);
    assert!(o.taken.nat.is_none(), "{o:#?}");
    assert_eq!(o.decision, Decision::Drop);
}

/// Found by the kernel oracle (docker28-ip6tables): Docker 28 drops, in raw PREROUTING,
/// packets addressed to a container that do not come from its bridge. A published
/// port's later packets reach the container all the same: at raw priority they are still
/// addressed to the host, conntrack rewrites them at the nat hook's priority.
#[test]
fn later_packets_meet_chains_before_dnat_with_the_address_the_client_used() {
    for (text, family) in [
        (
            include_str!("../../tests/fixtures/firewall/oracle/docker28-ip6tables.v4.rules"),
            Family::V4,
        ),
        (
            include_str!("../../tests/fixtures/firewall/oracle/docker28-ip6tables.v6.rules"),
            Family::V6,
        ),
    ] {
        let t = iptables::parse(text, family, Source::IptablesNft).tables;
        let c = Compiled::new(&t).with_host(bridge_host());
        let host = family.pick(v4(), v6());
        let o = connect(&c, host, 8080);
        assert_eq!(o.decision, Decision::Accept, "{family:?}: {o:#?}");
        assert!(o.taken.forward && o.taken.nat.is_some(), "{o:#?}");
        assert_eq!(o.taken.oif.as_deref(), Some("docker0"));
        // Docker's chains shut the container's other ports, and the raw rule still
        // drops what is addressed to the container itself from outside the bridge.
        let ctr: IpAddr = family.pick("172.17.0.2", "fd00:d0c::2").parse().unwrap();
        let mut direct = Packet::tcp_syn(ctr, 80, "eth0");
        direct.daddr_kind = AddrKind::Unicast;
        let o = c.decide_connection(&direct);
        assert_eq!(o.decision, Decision::Drop, "{o:#?}");
        assert_decided_by(&o, "raw");
        let o = connect(&c, host, 443);
        assert_eq!(o.decision, Decision::Drop, "{family:?}");
    }
}

#[test]
fn output_policy_drop_kills_the_syn_ack_of_local_and_forwarded_connections() {
    let t = nat_json("accept", "drop");
    let c = Compiled::new(&t).with_host(bridge_host());
    // Local: port 22 is admitted, its SYN-ACK dies on output.
    let o = connect(&c, v4(), 22);
    assert_eq!(o.decision, Decision::Drop, "{o:#?}");
    assert_eq!(o.taken.leg, Leg::Reply);
    assert_decided_by(&o, "chain output: policy drop");
    // Forwarded: the container's answer crosses forward, not output.
    let o = connect(&c, v4(), 8080);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
}

#[test]
fn reply_reads_rules_from_the_answers_side() {
    // `-o eth0 --sport 80 -j ACCEPT` on OUTPUT is what lets the answer out.
    let t = save(
        "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -o eth0 -p tcp --sport 80 -j ACCEPT\nCOMMIT\n",
        Family::V4,
    );
    let c = Compiled::new(&t);
    assert_eq!(connect(&c, v4(), 80).decision, Decision::Accept);
    let o = connect(&c, v4(), 443);
    assert_eq!((o.decision, o.taken.leg), (Decision::Drop, Leg::Reply));
    // A destination-port rule names the client's ephemeral port, which it does not know.
    let t = save(
        "*filter\n:OUTPUT DROP [0:0]\n-A OUTPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n",
        Family::V4,
    );
    let o = connect(&Compiled::new(&t), v4(), 80);
    assert_eq!(o.decision, Decision::Drop);
}

/// Found by the kernel oracle (seed 77): nft lists `meta l4proto tcp reject with tcp
/// reset` as the reject alone, so an ICMPv6 neighbour solicitation was "rejected".
#[test]
fn reject_with_tcp_reset_never_holds_for_icmpv6() {
    let j = r#"{"nftables":[
      {"table":{"family":"ip6","name":"t","handle":1}},
      {"chain":{"family":"ip6","table":"t","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
      {"rule":{"family":"ip6","table":"t","chain":"in","handle":2,"expr":[{"reject":{"type":"tcp reset"}}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(icmp6(&t, 135), Decision::Accept);
    assert_eq!(syn(&t, v6(), 80), Decision::Reject);
}

/// Found by the kernel oracle (seed 1234): before conntrack (raw priority -300) no packet
/// has a state yet; `ct state` reads `invalid`, or `untracked` after a notrack. A
/// neighbour solicitation becomes untracked only at conntrack, and a SYN new.
#[test]
fn ct_state_before_conntrack_reads_invalid() {
    let j = r#"{"nftables":[
      {"table":{"family":"inet","name":"raw","handle":1}},
      {"chain":{"family":"inet","table":"raw","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":-300,"policy":"accept"}},
      {"rule":{"family":"inet","table":"raw","chain":"pre","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":80}},{"notrack":null}]}},
      {"rule":{"family":"inet","table":"raw","chain":"pre","handle":3,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"untracked"}},{"drop":null}]}},
      {"rule":{"family":"inet","table":"raw","chain":"pre","handle":4,"expr":[{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"new"}},{"drop":null}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(icmp6(&t, 135), Decision::Accept);
    assert_eq!(
        syn(&t, v6(), 80),
        Decision::Drop,
        "notracked, then untracked"
    );
    assert_eq!(syn(&t, v6(), 443), Decision::Accept, "not new yet");
}

/// Docker's chains for `-p 8080:80` with `extra` first in DOCKER-USER (a forward-path
/// rule sees the container's address and port; conntrack keeps the published ones).
fn docker_user(extra: &str, port: u16) -> Outcome {
    let text = format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:DOCKER - [0:0]\n:DOCKER-USER - [0:0]\n\
         -A FORWARD -j DOCKER-USER\n\
         -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         -A FORWARD -o docker0 -j DOCKER\n-A FORWARD -i docker0 ! -o docker0 -j ACCEPT\n\
         -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n\
         {extra}-A DOCKER-USER -j RETURN\nCOMMIT\n\
         *nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n\
         -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
         -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\n\
         -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:80\nCOMMIT\n"
    );
    let t = save(&text, Family::V4);
    connect(&Compiled::new(&t).with_host(bridge_host()), v4(), port)
}

/// `-m conntrack --ctorigdstport` (the exposure fix), `--ctorigdst`, `--ctrepl*` and
/// `--ctdir`: decided, not uncertain, by the connection's tuples.
#[test]
fn conntrack_tuples_see_the_published_port_and_address() {
    assert_eq!(docker_user("", 8080).decision, Decision::Accept);
    // The fix: 8080 as published is shut; 8081, published to the same container
    // port, is not (a `--dport 80` rule could not tell them apart).
    let fix = "-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 8080 -j DROP\n";
    let o = docker_user(fix, 8080);
    assert_eq!(o.decision, Decision::Drop, "{o:#?}");
    assert_decided_by(&o, "--ctorigdstport 8080");
    assert!(o.unevaluated.is_empty(), "{o:#?}");
    assert_eq!(docker_user(fix, 8081).decision, Decision::Accept);
    // Negated, and as a range: everything published but 8081 is shut.
    let but = "-A DOCKER-USER -p tcp -m conntrack ! --ctorigdstport 8081:8081 -j DROP\n";
    assert_eq!(docker_user(but, 8080).decision, Decision::Drop);
    assert_eq!(docker_user(but, 8081).decision, Decision::Accept);
    // The original destination is the host's address; the reply's source the container.
    let by_host = format!("-A DOCKER-USER -m conntrack --ctorigdst {} -j DROP\n", v4());
    assert_eq!(docker_user(&by_host, 8080).decision, Decision::Drop);
    let by_ctr = "-A DOCKER-USER -m conntrack --ctreplsrc 172.17.0.2 --ctreplsrcport 80 -j DROP\n";
    assert_eq!(docker_user(by_ctr, 8080).decision, Decision::Drop);
    let other = "-A DOCKER-USER -m conntrack --ctorigdst 198.51.100.1 -j DROP\n";
    assert_eq!(docker_user(other, 8080).decision, Decision::Accept);
    // The client is the original source: an arbitrary one is in no office range.
    let office = "-A DOCKER-USER -m conntrack ! --ctorigsrc 192.0.2.0/24 -j DROP\n";
    assert_eq!(docker_user(office, 8080).decision, Decision::Drop);
    // Only the answer travels the reply way: a drop of it kills the connection at its
    // SYN-ACK, a drop of the original way at the SYN.
    let o = docker_user("-A DOCKER-USER -m conntrack --ctdir REPLY -j DROP\n", 8080);
    assert_eq!(
        (o.decision, o.taken.leg),
        (Decision::Drop, Leg::Reply),
        "{o:#?}"
    );
    let o = docker_user(
        "-A DOCKER-USER -m conntrack --ctdir ORIGINAL -j DROP\n",
        8080,
    );
    assert_eq!(
        (o.decision, o.taken.leg),
        (Decision::Drop, Leg::Syn),
        "{o:#?}"
    );
}

/// In mangle prerouting a later packet still carries the address the client used, but
/// conntrack's reply tuple already names the container.
#[test]
fn conntrack_tuples_in_mangle_see_the_rewritten_reply() {
    let text = "*mangle\n:PREROUTING ACCEPT [0:0]\n\
        -A PREROUTING -m conntrack --ctstate ESTABLISHED ! --ctreplsrc 172.17.0.2 -j DROP\n\
        -A PREROUTING -m conntrack --ctstate ESTABLISHED ! --ctorigdst 203.0.113.10 -j DROP\n\
        COMMIT\n\
        *nat\n:PREROUTING ACCEPT [0:0]\n\
        -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\nCOMMIT\n";
    let t = save(text, Family::V4);
    let o = connect(&Compiled::new(&t).with_host(bridge_host()), v4(), 8080);
    assert_eq!(o.decision, Decision::Accept, "{o:#?}");
}

/// Before conntrack there is no entry: a `ct original` match does not hold there,
/// negated or not.
#[test]
fn conntrack_tuples_before_conntrack_hold_nothing() {
    let j = r#"{"nftables":[
      {"table":{"family":"inet","name":"raw","handle":1}},
      {"chain":{"family":"inet","table":"raw","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":-300,"policy":"accept"}},
      {"rule":{"family":"inet","table":"raw","chain":"pre","handle":2,"expr":[{"match":{"op":"!=","left":{"ct":{"key":"proto-dst","dir":"original"}},"right":1}},{"drop":null}]}},
      {"table":{"family":"inet","name":"f","handle":2}},
      {"chain":{"family":"inet","table":"f","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
      {"rule":{"family":"inet","table":"f","chain":"in","handle":2,"expr":[{"match":{"op":"==","left":{"ct":{"key":"proto-dst","dir":"original"}},"right":{"set":["0x50 [invalid type]",{"range":["0x1bb [invalid type]","0x1c2 [invalid type]"]}]}}},{"drop":null}]}}
    ]}"#;
    let t = nft::parse(j).unwrap().tables;
    assert_eq!(syn(&t, v4(), 22), Decision::Accept);
    assert_eq!(syn(&t, v4(), 80), Decision::Drop);
    assert_eq!(syn(&t, v6(), 445), Decision::Drop);
    assert_eq!(syn(&t, v6(), 451), Decision::Accept);
}

/// Strict reverse-path filtering with the IPv4 default route out of another interface
/// drops what arrives on eth0 before any rule; loose mode, a route back by eth0, IPv6
/// (no rp_filter) and a client whose own route comes back by eth0 are not dropped.
#[test]
fn strict_rp_filter_drops_what_the_way_back_does_not_take() {
    let t = save("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", Family::V4);
    let other_uplink = |mode: i64| HostNet {
        routes: vec![
            ("0.0.0.0/0".parse().unwrap(), "eth1".into()),
            ("198.51.100.0/24".parse().unwrap(), "eth0".into()),
            ("::/0".parse().unwrap(), "eth1".into()),
        ],
        rp_filter: [("all".to_string(), 0), ("eth0".to_string(), mode)].into(),
        ..bridge_host()
    };
    let c = Compiled::new(&t).with_host(other_uplink(1));
    let o = connect(&c, v4(), 80);
    assert_eq!(o.decision, Decision::Drop, "{o:#?}");
    assert_eq!(o.taken.rp_filtered.as_deref(), Some("eth1"));
    crate::testutil::assert_mentions(&o.path, "reverse-path filter (strict)");
    let mut known = Packet::tcp_syn(v4(), 80, "eth0");
    known.saddr = "198.51.100.7".parse().ok();
    assert_eq!(c.decide(&known).decision, Decision::Accept);
    assert_eq!(connect(&c, v6(), 80).decision, Decision::Accept);
    let c = Compiled::new(&t).with_host(other_uplink(2));
    assert_eq!(connect(&c, v4(), 80).decision, Decision::Accept);
}
