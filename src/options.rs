//! What one diagnosis is asked to do: the target plus the probe settings.

use crate::model::{Expect, Target};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
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
            .filter(|p| matches!(p, 25 | 465 | 587))
            .collect()
    }
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
