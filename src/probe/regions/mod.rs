//! `isp.regions`' facts: vantage points of a Globalping-compatible measurement network
//! (`--regions N`, `--globalping-url`) fetch the site over IPv4, the same probes again
//! over IPv6 (the first measurement's id as their location), and resolve its A and AAAA.
//!
//! The realities of a shared public API, each bounded: one total deadline (30 s,
//! whatever `--timeout` says: the contract), polling at most twice a second per
//! measurement, a `429` reported with its `Retry-After` and the quota (`GET /limits`)
//! and never retried in a loop, a `422` (no probe fits, typically none with IPv6)
//! reported for the measurement it refused. Results stream to the caller as they are
//! polled, so the wizard can fill its table while the probes answer.

pub mod api;

use crate::facts::regions::*;
use crate::facts::{ProbeErrorKind, Probed};
use crate::options::Options;
use crate::parse::globalping;
use api::{Api, Reply};
use futures::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// The whole measurement's limit (contract: "up to 30 s, whatever `--timeout` says").
pub const DEADLINE: Duration = Duration::from_secs(30);
/// The API asks for at most two polls a second per measurement.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// The environment variable holding the API token (contract).
pub const TOKEN_ENV: &str = "GLOBALPING_TOKEN";
/// The continents probes are spread over (Globalping's `ContinentCode`s, without
/// Antarctica, which has no probes).
const CONTINENTS: [&str; 6] = ["EU", "NA", "AS", "SA", "OC", "AF"];

/// Which question a measurement asks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ask {
    /// `http` to the port at `ports[index]`, over IPv6 or not.
    Http {
        index: usize,
        v6: bool,
    },
    Dns {
        aaaa: bool,
    },
}

/// A measurement being had: its id once created, its last poll.
struct Slot {
    ask: Ask,
    state: Result<Measurement, ApiFailure>,
    next_poll: Instant,
}

impl Slot {
    fn done(&self) -> bool {
        self.state.as_ref().map_or(true, |m| m.finished)
    }
}

fn failure(kind: ApiFailureKind, message: impl Into<String>) -> ApiFailure {
    ApiFailure {
        kind,
        message: message.into(),
        retry_after_s: None,
    }
}

/// The web ports of the site: every port but the mail ports, with the protocol the
/// API is to speak there.
pub fn web_ports(opts: &Options) -> Vec<(u16, &'static str)> {
    opts.target
        .ports
        .iter()
        .filter(|p| !crate::options::is_mail_port(**p))
        .map(|&p| {
            let tls = crate::probe::isp::is_tls_port(p);
            (p, if tls { "HTTPS" } else { "HTTP" })
        })
        .collect()
}

/// Ask the measurement network; `progress` gets the facts after every poll round.
pub async fn gather(opts: &Options, progress: impl Fn(RegionsFacts)) -> Probed<RegionsFacts> {
    let start = Instant::now();
    // --offline first: every ISP check says so when it is the reason.
    if opts.offline {
        return Probed::err(ProbeErrorKind::NotRun, "not asked (--offline)");
    }
    if opts.regions == 0 {
        return Probed::err(ProbeErrorKind::NotRun, "not asked (--regions 0)");
    }
    let token = std::env::var(TOKEN_ENV).ok();
    let Some(api) = Api::new(&opts.globalping_url, token, opts.resolvers.clone()) else {
        return Probed::err(
            ProbeErrorKind::Failed,
            format!(
                "--globalping-url {} is not an HTTP(S) URL",
                crate::sanitize::clean(&opts.globalping_url)
            ),
        );
    };
    let facts = measure(&api, opts, start + DEADLINE, &progress).await;
    Probed {
        result: Ok(facts),
        ms: start.elapsed().as_millis() as u64,
    }
}

async fn measure(
    api: &Api,
    opts: &Options,
    deadline: Instant,
    progress: &impl Fn(RegionsFacts),
) -> RegionsFacts {
    let ports = web_ports(opts);
    let mut facts = RegionsFacts {
        api: opts.globalping_url.clone(),
        asked: opts.regions,
        token: api.has_token(),
        complete: true,
        asked_at: Some(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()),
        ..RegionsFacts::default()
    };
    if ports.is_empty() {
        return facts;
    }
    let domain = &opts.target.domain;
    let spread: Vec<Value> = CONTINENTS.iter().map(|c| json!({"continent": c})).collect();
    let first = Ask::Http {
        index: 0,
        v6: false,
    };
    let body = request_body(first, domain, &ports, json!(spread), Some(opts.regions));
    let created = create(api, body, deadline).await;
    let mut slots = vec![Slot {
        ask: first,
        state: created.clone(),
        next_poll: Instant::now(),
    }];
    let mut asks: Vec<Ask> = Vec::new();
    for index in 0..ports.len() {
        for v6 in [false, true] {
            if (index, v6) != (0, false) {
                asks.push(Ask::Http { index, v6 });
            }
        }
    }
    asks.extend([Ask::Dns { aaaa: false }, Ask::Dns { aaaa: true }]);
    match &created {
        Ok(m) => {
            // The same probes for every other question: the first measurement's id.
            let same = json!(m.id);
            let made = join_all(asks.iter().map(|a| {
                let body = request_body(*a, domain, &ports, same.clone(), None);
                create(api, body, deadline)
            }))
            .await;
            for (ask, state) in asks.into_iter().zip(made) {
                slots.push(Slot {
                    ask,
                    state,
                    next_poll: Instant::now(),
                });
            }
        }
        Err(e) => {
            for ask in asks {
                slots.push(Slot {
                    ask,
                    state: Err(failure(
                        ApiFailureKind::NotAsked,
                        format!(
                            "not asked: the first measurement was refused ({})",
                            e.message
                        ),
                    )),
                    next_poll: Instant::now(),
                });
            }
        }
    }
    if slots.iter().any(|s| {
        s.state
            .as_ref()
            .err()
            .is_some_and(|e| e.kind == ApiFailureKind::RateLimited)
    }) {
        facts.quota = quota(api, deadline).await;
    }
    poll_all(api, &mut slots, deadline, &ports, &facts, progress).await;
    assemble(&mut facts, &ports, &slots, true);
    facts
}

/// Poll every unfinished measurement, each at most every `POLL_EVERY`, until all are
/// final or the deadline comes; what is still running then is `Stalled`.
async fn poll_all(
    api: &Api,
    slots: &mut [Slot],
    deadline: Instant,
    ports: &[(u16, &'static str)],
    facts: &RegionsFacts,
    progress: &impl Fn(RegionsFacts),
) {
    loop {
        let Some(next) = slots
            .iter()
            .filter(|s| !s.done())
            .map(|s| s.next_poll)
            .min()
        else {
            return;
        };
        if next >= deadline {
            break;
        }
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        let due: Vec<usize> = (0..slots.len())
            .filter(|&i| !slots[i].done() && slots[i].next_poll <= now)
            .collect();
        let polls = due.iter().map(|&i| {
            let id = slots[i]
                .state
                .as_ref()
                .map(|m| m.id.clone())
                .unwrap_or_default();
            async move { (i, poll(api, &id, deadline).await) }
        });
        for (i, outcome) in join_all(polls).await {
            let slot = &mut slots[i];
            match outcome {
                Polled::Got(m) => slot.state = Ok(m),
                Polled::Wait(s) => slot.next_poll = now + s.max(POLL_EVERY),
                Polled::Failed(f) => slot.state = Err(f),
            }
            if slot.next_poll <= now {
                slot.next_poll = now + POLL_EVERY;
            }
        }
        let mut snapshot = facts.clone();
        assemble(&mut snapshot, ports, slots, false);
        progress(snapshot);
    }
    for slot in slots.iter_mut().filter(|s| !s.done()) {
        let (answered, total) = match &slot.state {
            Ok(m) => (
                m.results
                    .iter()
                    .filter(|r| r.status != TestStatus::InProgress)
                    .count(),
                m.results.len(),
            ),
            Err(_) => (0, 0),
        };
        slot.state = Err(failure(
            ApiFailureKind::Stalled,
            format!(
                "still in progress after {} s ({answered} of {total} probes had answered)",
                DEADLINE.as_secs()
            ),
        ));
    }
}

/// The facts as the slots stand: per port both families, and the DNS answers.
fn assemble(
    facts: &mut RegionsFacts,
    ports: &[(u16, &'static str)],
    slots: &[Slot],
    complete: bool,
) {
    let take = |ask: Ask| -> Measured {
        slots
            .iter()
            .find(|s| s.ask == ask)
            .map(|s| s.state.clone())
            .unwrap_or_else(|| Err(failure(ApiFailureKind::NotAsked, "not asked")))
    };
    facts.ports = ports
        .iter()
        .enumerate()
        .map(|(index, (port, protocol))| PortMeasurements {
            port: *port,
            protocol: protocol.to_string(),
            v4: take(Ask::Http { index, v6: false }),
            v6: take(Ask::Http { index, v6: true }),
        })
        .collect();
    facts.dns_a = Some(take(Ask::Dns { aaaa: false }));
    facts.dns_aaaa = Some(take(Ask::Dns { aaaa: true }));
    facts.complete = complete;
}

/// The body of `POST /measurements` (the contract's subset of Globalping's
/// `MeasurementRequest`).
fn request_body(
    ask: Ask,
    domain: &str,
    ports: &[(u16, &'static str)],
    locations: Value,
    limit: Option<u16>,
) -> Vec<u8> {
    let mut body = match ask {
        Ask::Http { index, v6 } => {
            let (port, protocol) = ports[index];
            json!({
                "type": "http",
                "target": domain,
                "locations": locations,
                "measurementOptions": {
                    "ipVersion": if v6 { 6 } else { 4 },
                    "protocol": protocol,
                    "port": port,
                    "request": {"host": domain, "path": "/", "method": "GET"},
                },
            })
        }
        Ask::Dns { aaaa } => json!({
            "type": "dns",
            "target": domain,
            "locations": locations,
            "measurementOptions": {"query": {"type": if aaaa { "AAAA" } else { "A" }}},
        }),
    };
    if let (Some(n), Some(obj)) = (limit, body.as_object_mut()) {
        obj.insert("limit".into(), json!(n));
    }
    body.to_string().into_bytes()
}

/// `POST /measurements`: the new measurement (not yet polled), or why not.
async fn create(api: &Api, body: Vec<u8>, deadline: Instant) -> Result<Measurement, ApiFailure> {
    let reply = api
        .request("/measurements", Some(body), deadline)
        .await
        .map_err(|e| failure(ApiFailureKind::Failed, e.message))?;
    match reply.status {
        200..=299 => globalping::created(&reply.body)
            .map(|(id, _)| Measurement {
                id,
                finished: false,
                results: Vec::new(),
            })
            .map_err(|e| failure(ApiFailureKind::Failed, e)),
        _ => Err(refusal(&reply)),
    }
}

/// A 4xx/5xx answer in words.
fn refusal(reply: &Reply) -> ApiFailure {
    let said = globalping::error_message(&reply.body);
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    match reply.status {
        429 => ApiFailure {
            kind: ApiFailureKind::RateLimited,
            message: format!("rate limit reached (429){said}"),
            retry_after_s: reply.retry_after_s,
        },
        422 => failure(
            ApiFailureKind::NoProbes,
            format!("no probe fits (422){said}"),
        ),
        s => failure(
            ApiFailureKind::Failed,
            format!("the API answered {s}{said}"),
        ),
    }
}

enum Polled {
    Got(Measurement),
    /// Rate limited while polling: wait that long before the next poll.
    Wait(Duration),
    Failed(ApiFailure),
}

async fn poll(api: &Api, id: &str, deadline: Instant) -> Polled {
    let reply = match api
        .request(&format!("/measurements/{id}"), None, deadline)
        .await
    {
        Ok(r) => r,
        Err(e) if e.kind == ProbeErrorKind::Timeout => {
            // The deadline came during the poll: the caller names it stalled.
            return Polled::Wait(DEADLINE);
        }
        Err(e) => return Polled::Failed(failure(ApiFailureKind::Failed, e.message)),
    };
    match reply.status {
        200..=299 => match globalping::measurement(id, &reply.body) {
            Ok(m) => Polled::Got(m),
            Err(e) => Polled::Failed(failure(ApiFailureKind::Failed, e)),
        },
        // Slowed down while polling: wait as asked (the deadline still ends it).
        429 => Polled::Wait(Duration::from_secs(
            reply.retry_after_s.unwrap_or(1).min(60),
        )),
        _ => Polled::Failed(refusal(&reply)),
    }
}

/// `GET /limits`, for the report of a refusal.
async fn quota(api: &Api, deadline: Instant) -> Option<Quota> {
    let soon = deadline.min(Instant::now() + Duration::from_secs(5));
    let reply = api.request("/limits", None, soon).await.ok()?;
    (reply.status == 200)
        .then(|| globalping::limits(&reply.body).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_spreads_over_continents_and_the_rest_reuse_its_probes() {
        let ports = [(80, "HTTP"), (443, "HTTPS")];
        let spread: Vec<Value> = CONTINENTS.iter().map(|c| json!({"continent": c})).collect();
        let first: Value = serde_json::from_slice(&request_body(
            Ask::Http {
                index: 1,
                v6: false,
            },
            "shop.example",
            &ports,
            json!(spread),
            Some(8),
        ))
        .unwrap();
        assert_eq!(first["limit"], 8);
        assert_eq!(first["locations"][0]["continent"], "EU");
        assert_eq!(first["measurementOptions"]["protocol"], "HTTPS");
        assert_eq!(first["measurementOptions"]["port"], 443);
        assert_eq!(first["measurementOptions"]["ipVersion"], 4);
        assert_eq!(
            first["measurementOptions"]["request"]["host"],
            "shop.example"
        );
        let again: Value = serde_json::from_slice(&request_body(
            Ask::Dns { aaaa: true },
            "shop.example",
            &ports,
            json!("m-1"),
            None,
        ))
        .unwrap();
        assert_eq!(again["locations"], "m-1");
        assert_eq!(again["measurementOptions"]["query"]["type"], "AAAA");
        assert!(again.get("limit").is_none());
    }
}
