//! The answers of a Globalping-compatible measurement API, read into `facts::regions`.
//! The shapes are those of Globalping's published OpenAPI specification,
//! jsdelivr/globalping `public/v1/components/schemas.yaml` (`CreateMeasurementResponse`,
//! `MeasurementResponse`, `MeasurementResultItem`, `ProbeLocation`,
//! `FinishedHttpTestResult`, `FinishedSimpleDnsTestResult`, `Limits`) and
//! `responses.yaml` (the `error` object of 422 and 429), limited to the contract's subset.
//!
//! The API is outside: every answer is bounded (bytes, results, answers, text lengths),
//! every string cleaned, and a field of the wrong type is taken as absent, never a panic.

use super::json_fields::{elements, parsed};
use crate::facts::regions::{Measurement, ProbePlace, ProbeResult, Quota, TestStatus};
use crate::sanitize::clean;
use serde_json::Value;

/// Longest answer read (a measurement of 64 probes with their raw output fits).
pub const MAX_ANSWER: usize = 2 * 1024 * 1024;
/// Most results kept of one measurement.
pub const MAX_RESULTS: usize = 128;
/// Most DNS answers kept per probe.
const MAX_ANSWERS: usize = 16;
/// Longest text kept of a field (a city, a network, the raw output's first line).
const MAX_TEXT: usize = 120;

fn json(body: &[u8]) -> Result<Value, String> {
    if body.len() > MAX_ANSWER {
        return Err(format!("answer longer than {MAX_ANSWER} bytes"));
    }
    serde_json::from_slice(body).map_err(|e| format!("not JSON: {}", clean(&e.to_string())))
}

/// A string field, cleaned and cut to `MAX_TEXT` characters.
fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(|s| clean(s).chars().take(MAX_TEXT).collect())
        .unwrap_or_default()
}

fn uint(v: &Value, key: &str) -> Option<u64> {
    let f = v.get(key)?;
    f.as_u64().or_else(|| {
        f.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(|x| x as u64)
    })
}

/// `202 {"id": ID, "probesCount": N}`: the measurement's id.
pub fn created(body: &[u8]) -> Result<(String, u64), String> {
    let v = json(body)?;
    let id = text(&v, "id");
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("the answer names no usable measurement id".into());
    }
    Ok((id, uint(&v, "probesCount").unwrap_or(0)))
}

/// `{"error": {"type": T, "message": M}}` of a refusal, as `T: M`; empty when absent.
pub fn error_message(body: &[u8]) -> String {
    let Ok(v) = json(body) else {
        return String::new();
    };
    let Some(e) = v.get("error") else {
        return String::new();
    };
    match (text(e, "type"), text(e, "message")) {
        (t, m) if t.is_empty() => m,
        (t, m) if m.is_empty() => t,
        (t, m) => format!("{t}: {m}"),
    }
}

/// `GET /measurements/{id}`: the status and the results so far.
pub fn measurement(id: &str, body: &[u8]) -> Result<Measurement, String> {
    let v = json(body)?;
    let status = v.get("status").and_then(Value::as_str).unwrap_or("");
    if status.is_empty() {
        return Err("the answer has no measurement status".into());
    }
    let results = elements(v.get("results"))
        .iter()
        .take(MAX_RESULTS)
        .map(result)
        .collect();
    Ok(Measurement {
        id: id.to_string(),
        finished: status != "in-progress",
        results,
    })
}

fn result(item: &Value) -> ProbeResult {
    let p = item.get("probe").unwrap_or(&Value::Null);
    let probe = ProbePlace {
        continent: text(p, "continent"),
        country: text(p, "country"),
        city: text(p, "city"),
        asn: uint(p, "asn").and_then(|a| u32::try_from(a).ok()),
        network: text(p, "network"),
    };
    let r = item.get("result").unwrap_or(&Value::Null);
    let status = match r.get("status").and_then(Value::as_str) {
        Some("finished") => TestStatus::Finished,
        Some("failed") => TestStatus::Failed,
        Some("offline") => TestStatus::Offline,
        Some("in-progress") => TestStatus::InProgress,
        // Anything else is final per the specification ("any value other than
        // in-progress is final") and carries no result we can read.
        _ => TestStatus::Failed,
    };
    let output = r
        .get("rawOutput")
        .and_then(Value::as_str)
        .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|l| clean(l).chars().take(MAX_TEXT).collect())
        .unwrap_or_default();
    let timings = r.get("timings").unwrap_or(&Value::Null);
    let answers = elements(r.get("answers"))
        .iter()
        .take(MAX_ANSWERS)
        .map(|x| (text(x, "type"), text(x, "value")))
        .collect();
    ProbeResult {
        probe,
        status,
        status_code: uint(r, "statusCode").and_then(|c| u16::try_from(c).ok()),
        resolved: parsed(r.get("resolvedAddress")),
        total_ms: uint(timings, "total"),
        output,
        answers,
    }
}

/// `GET /limits`: the measurement rate limit and any credits.
pub fn limits(body: &[u8]) -> Result<Quota, String> {
    let v = json(body)?;
    let create = v
        .get("rateLimit")
        .and_then(|r| r.get("measurements"))
        .and_then(|m| m.get("create"))
        .ok_or("the answer has no measurement rate limit")?;
    Ok(Quota {
        limit: uint(create, "limit").unwrap_or(0),
        remaining: uint(create, "remaining").unwrap_or(0),
        reset_s: uint(create, "reset").unwrap_or(0),
        kind: text(create, "type"),
        credits: v.get("credits").and_then(|c| uint(c, "remaining")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A measurement as the specification's example `getHttpMeasurementResponse` has it,
    /// shortened.
    const HTTP: &str = r#"{"id":"abc123","type":"http","status":"finished",
      "createdAt":"2026-11-30T02:00:00Z","updatedAt":"2026-11-30T02:00:01Z",
      "target":"shop.example","probesCount":1,
      "results":[{"probe":{"continent":"EU","region":"Western Europe","country":"DE",
        "state":null,"city":"Frankfurt","asn":3320,"network":"Deutsche Telekom AG",
        "latitude":50.1,"longitude":8.6,"tags":[],"resolvers":["private"]},
       "result":{"status":"finished","rawHeaders":"","rawBody":null,"truncated":false,
        "headers":{},"statusCode":200,"statusCodeName":"OK",
        "resolvedAddress":"2001:db8:1::10",
        "timings":{"total":42,"dns":1,"tcp":10,"tls":null,"firstByte":20,"download":1},
        "tls":null,"rawOutput":"HTTP/1.1 200\n"}}]}"#;

    #[test]
    fn reads_an_http_measurement() {
        let m = measurement("abc123", HTTP.as_bytes()).unwrap();
        assert!(m.finished);
        let r = &m.results[0];
        assert_eq!(
            r.probe.describe(),
            "EU DE Frankfurt AS3320 (Deutsche Telekom AG)"
        );
        assert_eq!(r.status, TestStatus::Finished);
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.resolved, Some("2001:db8:1::10".parse().unwrap()));
        assert_eq!(r.total_ms, Some(42));
        assert_eq!(r.output, "HTTP/1.1 200");
    }

    #[test]
    fn reads_dns_answers_limits_and_errors() {
        let dns = br#"{"status":"in-progress","results":[{"probe":{"continent":"AS"},
          "result":{"status":"finished","statusCode":0,"statusCodeName":"NOERROR",
          "resolver":"192.0.2.53","timings":{"total":3},"rawOutput":"",
          "answers":[{"name":"shop.example.","type":"AAAA","ttl":300,"class":"IN","value":"2001:db8::1"}]}}]}"#;
        let m = measurement("x", dns).unwrap();
        assert!(!m.finished);
        assert_eq!(
            m.results[0].answers,
            vec![("AAAA".into(), "2001:db8::1".into())]
        );
        let q = limits(br#"{"rateLimit":{"measurements":{"create":{"type":"ip","limit":250,"remaining":0,"reset":1800}}}}"#).unwrap();
        assert_eq!(
            (q.limit, q.remaining, q.reset_s, q.kind.as_str()),
            (250, 0, 1800, "ip")
        );
        assert_eq!(
            error_message(
                br#"{"error":{"type":"no_probes_found","message":"No suitable probes found."}}"#
            ),
            "no_probes_found: No suitable probes found."
        );
        assert_eq!(
            created(br#"{"id":"a-1","probesCount":4}"#).unwrap(),
            ("a-1".into(), 4)
        );
        assert!(created(br#"{"id":"../x"}"#).is_err());
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_globalping_answers(body in crate::testutil::inputs::input("globalping", 60)) {
            use crate::testutil::is_inert;
            if let Ok(m) = measurement("id", &body) {
                assert!(m.results.len() <= MAX_RESULTS);
                for r in &m.results {
                    assert!(is_inert(&r.output) && is_inert(&r.probe.describe()));
                    assert!(r.answers.iter().all(|(t, v)| is_inert(t) && is_inert(v)));
                }
            }
            if let Ok((id, _)) = created(&body) {
                assert!(is_inert(&id));
            }
            assert!(is_inert(&error_message(&body)));
            if let Ok(q) = limits(&body) {
                assert!(is_inert(&q.kind));
            }
        }
    }
}
