//! What one diagnosis is asked to do: the target plus the probe settings.

use crate::model::{Expect, Target};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub target: Target,
    /// Explicit DNS servers (`--resolver`); empty means the system's resolv.conf.
    pub resolvers: Vec<SocketAddr>,
    pub echo_urls: Vec<String>,
    pub egress: Vec<String>,
    pub assume_public: Vec<IpNet>,
    #[serde(with = "humantime_serde_ms")]
    pub timeout: Duration,
    pub offline: bool,
}

impl Options {
    pub fn new(domain: &str) -> Self {
        Options {
            target: Target {
                domain: domain.to_string(),
                ports: vec![80, 443],
                expect: Expect::Both,
            },
            resolvers: Vec::new(),
            echo_urls: Vec::new(),
            egress: Vec::new(),
            assume_public: Vec::new(),
            timeout: Duration::from_secs(3),
            offline: false,
        }
    }

    pub fn mail_ports(&self) -> Vec<u16> {
        self.target
            .ports
            .iter()
            .copied()
            .filter(|p| is_mail_port(*p))
            .collect()
    }
}

/// Comma-separated TCP ports as users type them (`80,443`), duplicates dropped; the
/// command line and the wizard's form both read ports so.
pub fn parse_ports(s: &str) -> Result<Vec<u16>, String> {
    let mut out: Vec<u16> = Vec::new();
    for part in s.split(',') {
        let p: u16 = part.trim().parse().map_err(|_| {
            format!(
                "'{}' is not a TCP port (1-65535)",
                crate::sanitize::clean(part)
            )
        })?;
        if p == 0 {
            return Err("port 0 is not a TCP port (1-65535)".into());
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// A DNS name as users type it: letters, digits, hyphens and underscores in labels of
/// 1-63 characters, 253 in all, an optional trailing dot.
pub fn parse_domain(s: &str) -> Result<String, String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    let bad = || format!("'{}' is not a valid domain name", crate::sanitize::clean(s));
    if name.is_empty() || name.len() > 253 || name.parse::<IpAddr>().is_ok() {
        return Err(bad());
    }
    for label in name.split('.') {
        let ok_chars = label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if label.is_empty()
            || label.len() > 63
            || !ok_chars
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(bad());
        }
    }
    Ok(name.to_ascii_lowercase())
}

/// SMTP, submission over implicit TLS, submission.
pub fn is_mail_port(p: u16) -> bool {
    matches!(p, 25 | 465 | 587)
}

/// Durations as integer milliseconds, so recorded options stay readable.
mod humantime_serde_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
