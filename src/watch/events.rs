//! What changed between two runs (pure, unit-tested).

use crate::facts::Facts;
use crate::model::CheckId;
use crate::model::{Report, Status};
use crate::net::reachable_by_clients;
use crate::options::Options;
use crate::sanitize::clean;
use serde::Serialize;
use std::collections::BTreeSet;

/// The facts whose change an operator wants to hear about even when no check changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyFacts {
    pub host_ipv6: Vec<String>,
    pub a: Vec<String>,
    pub aaaa: Vec<String>,
    /// `addr:port (process)` of every listening socket.
    pub listeners: BTreeSet<String>,
}

fn answer(p: &crate::facts::Probed<crate::facts::DnsAnswer>) -> Vec<String> {
    match &p.result {
        Ok(a) => {
            let mut v: Vec<String> = a.ips().iter().map(|i| i.to_string()).collect();
            v.sort();
            v
        }
        Err(_) => vec!["(no answer)".into()],
    }
}

impl KeyFacts {
    pub fn from_facts(f: &Facts, o: &Options) -> KeyFacts {
        let mut host_ipv6: Vec<String> = f
            .addrs()
            .filter(|(_, a)| a.ip.is_ipv6() && reachable_by_clients(a.ip, &o.assume_public))
            .map(|(_, a)| a.ip.to_string())
            .collect();
        host_ipv6.sort();
        let listeners = f
            .listeners
            .value()
            .into_iter()
            .flatten()
            .map(|l| {
                let who = l
                    .process
                    .as_deref()
                    .map(|p| format!(" ({})", clean(p)))
                    .unwrap_or_default();
                format!("{}:{}{who}", crate::net::bracketed(l.ip), l.port)
            })
            .collect();
        KeyFacts {
            host_ipv6,
            a: answer(&f.dns.a),
            aaaa: answer(&f.dns.aaaa),
            listeners,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub time: String,
    pub domain: String,
    /// `check` or `fact`.
    pub kind: &'static str,
    pub id: String,
    pub port: Option<u16>,
    pub from: String,
    pub to: String,
    pub summary: String,
}

impl Event {
    pub fn line(&self) -> String {
        let port = self.port.map(|p| format!(" :{p}")).unwrap_or_default();
        let summary = if self.summary.is_empty() {
            String::new()
        } else {
            format!(" ({})", clean(&self.summary))
        };
        format!(
            "{} change {} {}{port}: {} -> {}{summary}",
            self.time,
            self.kind,
            self.id,
            clean(&self.from),
            clean(&self.to)
        )
    }
}

pub fn run_line(time: &str, n: u64, r: &Report) -> String {
    let count = |s: Status| r.checks.iter().filter(|c| c.status == s).count();
    let verdict = match &r.verdict.check {
        Some(c) => format!("{} {c}", r.verdict.status.as_str().to_uppercase()),
        None => r.verdict.status.as_str().to_uppercase(),
    };
    format!(
        "{time} run {n} {verdict} (pass {}, warn {}, fail {}, error {}, skip {}) {} ms",
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Error),
        count(Status::Skip),
        r.duration_ms
    )
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

pub fn diff(
    time: &str,
    domain: &str,
    old: &Report,
    old_keys: &KeyFacts,
    new: &Report,
    new_keys: &KeyFacts,
) -> Vec<Event> {
    let ev = |kind, id: &str, port, from: String, to: String, summary: String| Event {
        time: time.to_string(),
        domain: domain.to_string(),
        kind,
        id: id.to_string(),
        port,
        from,
        to,
        summary,
    };
    let mut out = Vec::new();
    for (id, a, b) in [
        ("host.ipv6", &old_keys.host_ipv6, &new_keys.host_ipv6),
        (CheckId::DnsA.as_str(), &old_keys.a, &new_keys.a),
        (CheckId::DnsAaaa.as_str(), &old_keys.aaaa, &new_keys.aaaa),
    ] {
        if a != b {
            out.push(ev("fact", id, None, list(a), list(b), String::new()));
        }
    }
    for gone in old_keys.listeners.difference(&new_keys.listeners) {
        out.push(ev(
            "fact",
            "listener",
            None,
            gone.clone(),
            "gone".into(),
            String::new(),
        ));
    }
    for came in new_keys.listeners.difference(&old_keys.listeners) {
        out.push(ev(
            "fact",
            "listener",
            None,
            "none".into(),
            came.clone(),
            String::new(),
        ));
    }
    for c in &new.checks {
        let before = old
            .checks
            .iter()
            .find(|o| o.id == c.id && o.port == c.port)
            .map(|o| o.status);
        match before {
            Some(b) if b == c.status => {}
            _ => out.push(ev(
                "check",
                c.id.as_str(),
                c.port,
                before
                    .map(|b| b.as_str().to_string())
                    .unwrap_or_else(|| "none".into()),
                c.status.as_str().to_string(),
                c.summary.clone(),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::engine::report_from_facts;

    fn report(f: &Facts) -> Report {
        report_from_facts(f, &fixtures::options(), "t".into(), 1)
    }

    /// The events of a change from `a` to `b`.
    fn changes(domain: &str, a: &Facts, b: &Facts) -> Vec<Event> {
        let o = fixtures::options();
        diff(
            "t",
            domain,
            &report(a),
            &KeyFacts::from_facts(a, &o),
            &report(b),
            &KeyFacts::from_facts(b, &o),
        )
    }

    #[test]
    fn aaaa_change_is_one_fact_event_and_the_checks_it_moves() {
        let a = fixtures::healthy();
        let mut b = fixtures::healthy();
        b.dns.aaaa = fixtures::records(&["2001:db8:1::99"]);
        let evs = changes("shop.example", &a, &b);
        let facts: Vec<_> = evs.iter().filter(|e| e.kind == "fact").collect();
        assert_eq!(facts.len(), 1, "{evs:#?}");
        assert_eq!(
            (
                facts[0].id.as_str(),
                facts[0].from.as_str(),
                facts[0].to.as_str()
            ),
            (
                CheckId::DnsAaaa.as_str(),
                "2001:db8:1::10",
                "2001:db8:1::99"
            )
        );
        assert!(evs.iter().any(|e| e.kind == "check"
            && e.id == CheckId::DnsAaaaTarget.as_str()
            && e.from == "pass"
            && e.to == "fail"));
        assert!(
            evs[0]
                .line()
                .contains("change fact dns.aaaa: 2001:db8:1::10 -> 2001:db8:1::99")
        );
    }

    #[test]
    fn no_change_no_event() {
        let o = fixtures::options();
        let a = fixtures::healthy();
        let k = KeyFacts::from_facts(&a, &o);
        assert!(diff("t", "d", &report(&a), &k, &report(&a), &k).is_empty());
    }

    #[test]
    fn listener_going_and_host_address_lost() {
        let a = fixtures::healthy();
        let mut b = fixtures::healthy();
        b.listeners = crate::facts::Probed::ok(vec![fixtures::listener("0.0.0.0", 80, None)]);
        fixtures::eth0(&mut b).addrs.retain(|x| x.ip.is_ipv4());
        let evs = changes("d", &a, &b);
        assert!(
            evs.iter()
                .any(|e| e.id == "listener" && e.from == "[::]:80 (nginx)" && e.to == "gone"),
            "{evs:#?}"
        );
        assert!(evs.iter().any(|e| e.id == "host.ipv6" && e.to == "none"));
    }

    #[test]
    fn run_line_names_the_verdict() {
        let mut f = fixtures::healthy();
        f.dns.aaaa = fixtures::records(&["2001:db8:1::99"]);
        let l = run_line("2026-11-23T18:00:00Z", 3, &report(&f));
        assert!(
            l.starts_with("2026-11-23T18:00:00Z run 3 FAIL dns.aaaa_target (pass "),
            "{l}"
        );
    }
}
