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
    /// `--mail-egress`: receivers for the port-25 probe; empty means the defaults in
    /// `assets/mail.toml`. Absent from older recordings.
    #[serde(default)]
    pub mail_egress: Vec<String>,
    /// `--dnsbl`: blocklist zones; empty means the defaults in `assets/mail.toml`.
    #[serde(default)]
    pub dnsbl: Vec<String>,
    /// `--regions N`: vantage points of the measurement network to ask; 0 is off.
    /// Absent from older recordings.
    #[serde(default)]
    pub regions: u16,
    /// `--globalping-url`: the measurement network's API.
    #[serde(default = "default_globalping_url")]
    pub globalping_url: String,
}

/// `--globalping-url` default (contract).
pub const DEFAULT_GLOBALPING_URL: &str = "https://api.globalping.io/v1";

fn default_globalping_url() -> String {
    DEFAULT_GLOBALPING_URL.to_string()
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
            mail_egress: Vec::new(),
            dnsbl: Vec::new(),
            regions: 0,
            globalping_url: default_globalping_url(),
        }
    }

    /// Whether two runs diagnose the same thing: everything but `--regions`, which only
    /// says whether the world is asked this time (a run that asks keeps the earlier
    /// run's other facts, and a run that does not keeps the earlier answer).
    pub fn same_diagnosis(&self, other: &Options) -> bool {
        Options {
            regions: 0,
            ..self.clone()
        } == Options {
            regions: 0,
            ..other.clone()
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

/// Whether output is coloured (`--color`). Colour never carries meaning on its own (the
/// tags and glyphs do), so turning it off loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Colour on a terminal, unless `NO_COLOR` is set to a non-empty value (no-color.org).
    #[default]
    Auto,
    Always,
    Never,
}

impl Color {
    /// For output going to a terminal (`terminal`) or not, with the environment's
    /// `NO_COLOR`.
    pub fn enabled(self, terminal: bool) -> bool {
        self.decide(terminal, std::env::var_os("NO_COLOR").as_deref())
    }

    /// `enabled` with the environment given: an explicit `always` or `never` wins over
    /// `NO_COLOR`, as the user asked for it on this very command line.
    pub fn decide(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_follows_the_terminal_no_color_and_the_choice() {
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        // (choice, stdout is a terminal, NO_COLOR, coloured)
        for (choice, tty, env, want) in [
            (Color::Auto, true, None, true),
            (Color::Auto, false, None, false),
            (Color::Auto, true, set, false),
            // An empty NO_COLOR does not count (no-color.org).
            (Color::Auto, true, empty, true),
            (Color::Always, false, set, true),
            (Color::Never, true, None, false),
        ] {
            assert_eq!(
                choice.decide(tty, env),
                want,
                "{choice:?} tty={tty} {env:?}"
            );
        }
    }
}
