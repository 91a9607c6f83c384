//! The snapshot format of the facts that hold a `Family`: recorded snapshots carry the
//! boolean `v6` flag, and new ones must read in older builds.

use super::firewall::Match;
use super::isp::EchoProbe;
use super::*;

#[test]
fn a_family_is_the_v6_flag_of_the_snapshot_format() {
    let route = r#"{"v6":true,"dst":null,"gateway":"2001:db8:1::1","dev":"eth0","metric":1024,"protocol":"ra"}"#;
    let r: Route = serde_json::from_str(route).unwrap();
    assert_eq!(r.family, Family::V6);
    assert_eq!(serde_json::to_string(&r).unwrap(), route);

    let m = r#"{"m":"icmp_type","v6":false,"types":[8],"neg":false}"#;
    let parsed: Match = serde_json::from_str(m).unwrap();
    assert_eq!(
        parsed,
        Match::IcmpType {
            family: Family::V4,
            types: vec![8],
            neg: false
        }
    );
    assert_eq!(serde_json::to_string(&parsed).unwrap(), m);

    let echo = EchoProbe {
        family: Family::V4,
        url: "http://echo/".into(),
        seen: Probed::err(ProbeErrorKind::NotRun, "not run"),
        server: None,
    };
    let v = serde_json::to_value(&echo).unwrap();
    assert_eq!(v["v6"], serde_json::json!(false));
    assert!(v.get("family").is_none(), "{v}");
}

#[test]
fn web_facts_of_older_snapshots_still_load() {
    // Written before the servers other than nginx were read.
    let old = r#"{"nginx":[],"others":[["apache2",42]]}"#;
    let w: WebServers = serde_json::from_str(old).unwrap();
    assert_eq!(w.others, vec![("apache2".to_owned(), 42)]);
    assert!(w.apache.is_empty() && w.haproxy.is_empty() && w.caddy.is_empty());
    assert_eq!((w.socket_units, w.runtimes), (None, None));
    // And the new ones round-trip.
    let w = WebServers {
        socket_units: Some(servers::SocketUnits::default()),
        runtimes: Some(Vec::new()),
        ..WebServers::default()
    };
    let text = serde_json::to_string(&w).unwrap();
    assert_eq!(serde_json::from_str::<WebServers>(&text).unwrap(), w);
}
