//! `isp.regions`: from vantage points on several continents and networks, the site
//! resolves and answers over IPv4 and over IPv6 alike. Names each place (continent,
//! country, city, network) where one family fails while the other works, and whether
//! the failure is DNS (no record of that family there), the connection, or HTTP.

use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::ProbeErrorKind;
use crate::facts::regions::*;
use crate::model::{CheckId, Family, Finding};
use crate::sanitize::clean;

/// Places named in a summary; the evidence has them all.
const NAMED: usize = 3;

pub fn check(c: &Ctx, port: u16) -> Finding {
    let s = Subject::on_port(CheckId::IspRegions, port);
    let Some(probed) = &c.facts.regions else {
        return s.skip("not asked: the recording predates isp.regions");
    };
    let r = match &probed.result {
        Ok(r) => r,
        Err(e) if e.kind == ProbeErrorKind::NotRun => {
            return s.skip(format!("{}; the wizard asks on its w key", e.message));
        }
        Err(e) => {
            return s
                .error(format!(
                    "the measurement network could not be asked: {}",
                    e.message
                ))
                .took(probed.ms);
        }
    };
    let Some(pm) = r.ports.iter().find(|p| p.port == port) else {
        return s.skip("not a web port: the measurement network fetches HTTP(S) only");
    };
    let at = r
        .asked_at
        .as_deref()
        .map(|t| format!(" at {}", clean(t)))
        .unwrap_or_default();
    let mut evidence = vec![format!(
        "asked {} probes of {} ({}token){at}, {} on port {port}",
        r.asked,
        r.api,
        if r.token { "" } else { "no " },
        pm.protocol
    )];
    if let Some(q) = &r.quota {
        evidence.push(quota_line(q));
    }
    let v4 = match &pm.v4 {
        Ok(m) => m,
        Err(f) => return refused(s, f, r, evidence, Family::V4, probed.ms),
    };
    evidence.push(format!("IPv4 measurement {}", v4.id));
    let v6 = match &pm.v6 {
        Ok(m) => m,
        Err(f) if f.kind == ApiFailureKind::NoProbes => {
            let rows = table(v4, None, r);
            let ok = rows.iter().filter(|row| row.v4.works()).count();
            evidence.extend(rows.iter().map(Row::line));
            return s
                .warn(format!(
                    "no probe could fetch the site over IPv6 ({}); IPv4 worked from {ok} of {} places",
                    f.message,
                    rows.len()
                ))
                .evidence_all(evidence)
                .explain("regions_no_ipv6_probe", &[])
                .took(probed.ms);
        }
        Err(f) => return refused(s, f, r, evidence, Family::V6, probed.ms),
    };
    evidence.push(format!("IPv6 measurement {} (the same probes)", v6.id));
    let rows = table(v4, Some(v6), r);
    evidence.extend(rows.iter().map(Row::line));
    let answered: Vec<&Row> = rows.iter().filter(|r| r.answered()).collect();
    // While results stream in (the wizard shows them as they come): how far it got.
    let still = if r.complete {
        String::new()
    } else {
        format!(
            " (still measuring: {} of {} places in)",
            answered.len(),
            rows.len()
        )
    };
    if answered.is_empty() {
        return s
            .skip(format!("no probe has answered yet{still}"))
            .evidence_all(evidence)
            .took(probed.ms);
    }
    let continents = {
        let mut c: Vec<&str> = answered
            .iter()
            .map(|r| r.place.continent.as_str())
            .collect();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    // One family fails where the other works: the finding this check exists for.
    for family in [Family::V6, Family::V4] {
        let failing: Vec<&Row> = answered
            .iter()
            .copied()
            .filter(|r| r.get(family).fails() && r.get(family.other()).works())
            .collect();
        if failing.is_empty() {
            continue;
        }
        let mut names: Vec<String> = failing
            .iter()
            .take(NAMED)
            .map(|r| format!("{} ({})", r.place.describe(), r.cause(family)))
            .collect();
        if failing.len() > NAMED {
            names.push(format!("{} more", failing.len() - NAMED));
        }
        let other_fails = answered
            .iter()
            .any(|r| r.get(family.other()).fails() && r.get(family).works());
        let also = if other_fails {
            format!("; {} fails elsewhere too", family.other().name())
        } else {
            String::new()
        };
        return s
            .fail(format!(
                "{} fails from {} of {} places where {} works: {}{also}{still}",
                family.name(),
                failing.len(),
                answered.len(),
                family.other().name(),
                names.join(", ")
            ))
            .evidence_all(evidence)
            .explain(
                "regions_family_fails",
                &[("family", family.name()), ("record", family.record_type())],
            )
            .took(probed.ms);
    }
    let dark: Vec<&Row> = answered
        .iter()
        .copied()
        .filter(|r| r.v4.fails() && r.v6.fails())
        .collect();
    if !dark.is_empty() {
        let names: Vec<String> = dark
            .iter()
            .take(NAMED)
            .map(|r| r.place.describe())
            .collect();
        let status = if dark.len() == answered.len() {
            Subject::fail
        } else {
            Subject::warn
        };
        return status(
            s,
            format!(
                "neither family reaches port {port} from {} of {} places: {}{still}",
                dark.len(),
                answered.len(),
                names.join(", ")
            ),
        )
        .evidence_all(evidence)
        .explain("regions_dark", &[])
        .took(probed.ms);
    }
    s.pass(format!(
        "{} places on {continents} continent{} fetch the site over IPv4 and IPv6 alike{still}",
        answered.len(),
        if continents == 1 { "" } else { "s" }
    ))
    .evidence_all(evidence)
    .took(probed.ms)
}

/// The API refused or failed a measurement: `error` (the check could not look), with
/// the quota and the wait it asked for.
fn refused(
    s: Subject,
    f: &ApiFailure,
    r: &RegionsFacts,
    mut evidence: Vec<String>,
    family: Family,
    ms: u64,
) -> Finding {
    let mut summary = format!(
        "the measurement network did not measure over {}: {}",
        family.name(),
        f.message
    );
    if let Some(after) = f.retry_after_s {
        summary.push_str(&format!("; retry after {after} s"));
    }
    if let Some(q) = &r.quota {
        summary.push_str(&format!(
            "; {} of {} measurements left, reset in {} s",
            q.remaining, q.limit, q.reset_s
        ));
    }
    evidence.push(format!("{}: {}", family.name(), f.message));
    let key = match f.kind {
        ApiFailureKind::RateLimited if !r.token => "regions_rate_limited_no_token",
        ApiFailureKind::RateLimited => "regions_rate_limited",
        ApiFailureKind::Stalled => "regions_stalled",
        _ => "regions_unavailable",
    };
    s.error(summary)
        .evidence_all(evidence)
        .explain(key, &[])
        .took(ms)
}

fn quota_line(q: &Quota) -> String {
    let credits = q
        .credits
        .map(|c| format!(", {c} credits"))
        .unwrap_or_default();
    format!(
        "quota ({}): {} of {} measurements left, reset in {} s{credits}",
        q.kind, q.remaining, q.limit, q.reset_s
    )
}

/// What one probe saw over one family.
#[derive(Debug, Clone)]
enum Seen {
    /// Not measured (yet, or the probe went offline).
    Unknown(&'static str),
    Answered {
        code: u16,
        addr: Option<std::net::IpAddr>,
        ms: Option<u64>,
    },
    Failed {
        output: String,
        addr: Option<std::net::IpAddr>,
    },
}

impl Seen {
    fn of(r: Option<&ProbeResult>) -> Seen {
        let Some(r) = r else {
            return Seen::Unknown("not measured");
        };
        match (r.status, r.status_code) {
            (TestStatus::InProgress, _) => Seen::Unknown("measuring"),
            (TestStatus::Offline, _) => Seen::Unknown("probe offline"),
            (_, Some(code)) => Seen::Answered {
                code,
                addr: r.resolved,
                ms: r.total_ms,
            },
            _ => Seen::Failed {
                output: r.output.clone(),
                addr: r.resolved,
            },
        }
    }

    /// An answer a browser would show: a success or a redirect.
    fn works(&self) -> bool {
        matches!(self, Seen::Answered { code, .. } if (200..400).contains(code))
    }

    fn fails(&self) -> bool {
        matches!(self, Seen::Failed { .. })
            || matches!(self, Seen::Answered { code, .. } if *code >= 400)
    }

    fn known(&self) -> bool {
        !matches!(self, Seen::Unknown(_))
    }

    fn describe(&self) -> String {
        match self {
            Seen::Unknown(why) => why.to_string(),
            Seen::Answered { code, addr, ms } => {
                let mut s = format!("HTTP {code}");
                if let Some(a) = addr {
                    s.push_str(&format!(" from {a}"));
                }
                if let Some(ms) = ms {
                    s.push_str(&format!(" in {ms} ms"));
                }
                s
            }
            Seen::Failed { output, addr } => {
                let mut s = "failed".to_string();
                if let Some(a) = addr {
                    s.push_str(&format!(" to {a}"));
                }
                if !output.is_empty() {
                    s.push_str(&format!(" ({output})"));
                }
                s
            }
        }
    }
}

/// One place's line of the table.
struct Row {
    place: ProbePlace,
    v4: Seen,
    v6: Seen,
    /// The addresses the probe resolved: A, AAAA (`None`: not measured there).
    a: Option<Vec<String>>,
    aaaa: Option<Vec<String>>,
}

impl Row {
    fn get(&self, family: Family) -> &Seen {
        family.pick(&self.v4, &self.v6)
    }

    /// Both families are known here (a probe that went offline for one is left out).
    fn answered(&self) -> bool {
        self.v4.known() && self.v6.known()
    }

    /// Why `family` fails here: DNS (no record of that family there), the connection,
    /// or HTTP.
    fn cause(&self, family: Family) -> String {
        let records = family.pick(&self.a, &self.aaaa);
        match self.get(family) {
            Seen::Answered { code, .. } => format!("HTTP {code}"),
            _ if records.as_ref().is_some_and(|r| r.is_empty()) => {
                format!("DNS: no {} there", family.record_type())
            }
            Seen::Failed { output, .. } if looks_like_dns(output) => {
                format!("DNS: {output}")
            }
            _ => "connect".to_string(),
        }
    }

    fn line(&self) -> String {
        let names = |r: &Option<Vec<String>>| match r {
            None => "?".to_string(),
            Some(v) if v.is_empty() => "none".to_string(),
            Some(v) => v.join(" "),
        };
        format!(
            "{}: IPv4 {}; IPv6 {}; A {}; AAAA {}",
            self.place.describe(),
            self.v4.describe(),
            self.v6.describe(),
            names(&self.a),
            names(&self.aaaa)
        )
    }
}

/// A failed test whose output says the name did not resolve (Node's resolver errors, as
/// Globalping's probes print them, and curl's).
fn looks_like_dns(output: &str) -> bool {
    let o = output.to_ascii_lowercase();
    [
        "enotfound",
        "enodata",
        "eai_again",
        "resolve",
        "getaddrinfo",
    ]
    .iter()
    .any(|w| o.contains(w))
}

/// The table by place: the first measurement's probes in their order (the API keeps it
/// for measurements that reuse them), sorted by continent, country, city, network.
fn table(v4: &Measurement, v6: Option<&Measurement>, r: &RegionsFacts) -> Vec<Row> {
    let records = |m: &Option<Measured>, i: usize, rtype: &str| -> Option<Vec<String>> {
        let res = m.as_ref()?.as_ref().ok()?.results.get(i)?;
        (res.status == TestStatus::Finished).then(|| {
            res.answers
                .iter()
                .filter(|(t, _)| t == rtype)
                .map(|(_, v)| v.clone())
                .collect()
        })
    };
    let mut rows: Vec<Row> = v4
        .results
        .iter()
        .enumerate()
        .map(|(i, res)| Row {
            place: res.probe.clone(),
            v4: Seen::of(Some(res)),
            v6: match v6 {
                Some(m) => Seen::of(m.results.get(i)),
                None => Seen::Unknown("no IPv6 probe"),
            },
            a: records(&r.dns_a, i, "A"),
            aaaa: records(&r.dns_aaaa, i, "AAAA"),
        })
        .collect();
    rows.sort_by(|x, y| x.place.cmp(&y.place));
    rows
}
