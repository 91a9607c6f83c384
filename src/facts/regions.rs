//! What vantage points of a Globalping-compatible measurement network saw of the site
//! (`isp.regions`): per port, the same probes fetching it over IPv4 and over IPv6, and
//! resolving its A and AAAA records. Everything here came from the API: bounded and
//! cleaned by `parse::globalping` before it is stored.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One run's measurements.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RegionsFacts {
    /// The API's base URL (`--globalping-url`).
    pub api: String,
    /// How many probes were asked for (`--regions N`).
    pub asked: u16,
    /// Whether a token (`GLOBALPING_TOKEN`) was sent.
    pub token: bool,
    /// Per port of the site that speaks HTTP(S).
    pub ports: Vec<PortMeasurements>,
    /// The same probes resolving the domain's A and AAAA records.
    pub dns_a: Option<Measured>,
    pub dns_aaaa: Option<Measured>,
    /// `GET /v1/limits`, asked when the API refused for the rate limit.
    pub quota: Option<Quota>,
    /// Every measurement has ended (finished, failed, or the deadline came): false while
    /// results still stream in.
    pub complete: bool,
    /// When the probes were asked (RFC 3339, UTC): a `watch` run that does not ask again
    /// repeats this answer, and the evidence and the textfile say when it was measured
    /// (absent from older snapshots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_at: Option<String>,
}

/// Both families' measurement of one port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortMeasurements {
    pub port: u16,
    /// `HTTPS` or `HTTP`.
    pub protocol: String,
    pub v4: Measured,
    pub v6: Measured,
}

/// A measurement, or why there is none.
pub type Measured = Result<Measurement, ApiFailure>;

/// A measurement as last polled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub id: String,
    /// The measurement's `status` was no longer `in-progress` at the last poll.
    pub finished: bool,
    pub results: Vec<ProbeResult>,
}

/// One probe's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub probe: ProbePlace,
    pub status: TestStatus,
    /// HTTP status code (`http`).
    pub status_code: Option<u16>,
    /// The address the probe connected to (`http`).
    pub resolved: Option<IpAddr>,
    /// `timings.total` in milliseconds (`http`, `dns`).
    pub total_ms: Option<u64>,
    /// The start of `rawOutput` (the error of a failed test), one line, cleaned.
    pub output: String,
    /// `answers[]` of a `dns` test: type and value.
    pub answers: Vec<(String, String)>,
}

/// Where a probe is: the API's location fields, cleaned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct ProbePlace {
    pub continent: String,
    pub country: String,
    pub city: String,
    pub asn: Option<u32>,
    pub network: String,
}

impl ProbePlace {
    /// `EU DE Frankfurt AS3320 (Deutsche Telekom AG)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} {}", self.continent, self.country, self.city);
        if let Some(asn) = self.asn {
            s.push_str(&format!(" AS{asn}"));
        }
        if !self.network.is_empty() {
            s.push_str(&format!(" ({})", self.network));
        }
        s
    }
}

/// A test's `result.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    InProgress,
    Finished,
    Failed,
    /// The probe was gone when asked again (only with an earlier measurement's id).
    Offline,
}

/// Why a measurement could not be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub kind: ApiFailureKind,
    pub message: String,
    /// `Retry-After` of a 429, in seconds.
    pub retry_after_s: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiFailureKind {
    /// `429`: the rate limit or the credits are used up.
    RateLimited,
    /// `422`: no probe fits (over IPv6: none of them has IPv6).
    NoProbes,
    /// Still in progress when the total deadline came.
    Stalled,
    /// The API could not be reached or answered something else.
    Failed,
    /// Not asked: an earlier request already failed in a way that stops the rest.
    NotAsked,
}

/// `GET /v1/limits`: the measurement rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the limit resets.
    pub reset_s: u64,
    /// `ip` or `user`.
    pub kind: String,
    /// Remaining credits (authenticated requests only).
    pub credits: Option<u64>,
}
