//! Explanations, lessons and fix-command templates live in `assets/checks.toml` as data,
//! compiled into the binary so it runs from a single file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One file per area, merged: each stage's texts can be edited on their own.
const FILES: &[(&str, &str)] = &[
    ("checks.toml", include_str!("../assets/checks.toml")),
    ("containers.toml", include_str!("../assets/containers.toml")),
    ("firewall.toml", include_str!("../assets/firewall.toml")),
    ("isp.toml", include_str!("../assets/isp.toml")),
    ("mail.toml", include_str!("../assets/mail.toml")),
    ("persist.toml", include_str!("../assets/persist.toml")),
];

#[derive(Debug, Deserialize)]
pub struct CheckText {
    /// One line: what the check establishes (the contract's catalogue, `--list-checks`).
    pub establishes: String,
    /// Why it matters for clients of the site (shown when nothing is wrong).
    pub about: String,
}

#[derive(Debug, Deserialize)]
struct FixTemplate {
    title: String,
    commands: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct Catalogue {
    #[serde(default)]
    check: BTreeMap<String, CheckText>,
    #[serde(default)]
    explain: BTreeMap<String, String>,
    #[serde(default)]
    fix: BTreeMap<String, FixTemplate>,
    /// Pieces of configuration files that fix commands are built from (a netplan
    /// `routes:` entry, an ifupdown stanza line), filled like fixes.
    #[serde(default)]
    snippet: BTreeMap<String, String>,
    /// The mail checks' defaults (`assets/mail.toml`).
    #[serde(default)]
    mail: Option<MailData>,
}

/// The receivers and blocklists the mail checks use unless the command line names
/// others (`--mail-egress`, `--dnsbl`).
#[derive(Debug, Deserialize, Default)]
pub struct MailData {
    /// `HOST:PORT` of receiving mail servers.
    pub receivers: Vec<String>,
    pub dnsbl: Vec<Dnsbl>,
}

/// A DNS blocklist zone and how it lists IPv6.
#[derive(Debug, Deserialize, Clone)]
pub struct Dnsbl {
    pub zone: String,
    /// The list takes IPv6 lookups at all.
    pub ipv6: bool,
    /// The list lists IPv6 by /64: its network address is looked up too.
    #[serde(default)]
    pub per_64: bool,
}

/// A compiled-in asset file that does not parse: a defect of this build.
#[derive(Debug, thiserror::Error)]
#[error("assets/{file}: {source}")]
struct AssetError {
    file: &'static str,
    #[source]
    source: toml::de::Error,
}

fn parse_all() -> Result<Catalogue, AssetError> {
    let mut all = Catalogue::default();
    for (name, text) in FILES {
        let c: Catalogue =
            toml::from_str(text).map_err(|source| AssetError { file: name, source })?;
        all.check.extend(c.check);
        all.explain.extend(c.explain);
        all.fix.extend(c.fix);
        all.snippet.extend(c.snippet);
        if c.mail.is_some() {
            all.mail = c.mail;
        }
    }
    Ok(all)
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        // The file is compiled in and parsed by a unit test, so failure here is a build
        // defect, not a runtime condition: an empty catalogue keeps the tool running.
        parse_all().unwrap_or_else(|e| {
            eprintln!("dsdoctor: internal error in {e}");
            Catalogue::default()
        })
    })
}

/// The mail checks' default receivers and blocklists.
pub fn mail_data() -> &'static MailData {
    static EMPTY: MailData = MailData {
        receivers: Vec::new(),
        dnsbl: Vec::new(),
    };
    catalogue().mail.as_ref().unwrap_or(&EMPTY)
}

pub fn check_text(id: &str) -> Option<&'static CheckText> {
    catalogue().check.get(id)
}

/// The check's general description, used as the explanation of a passing check.
pub fn about(id: &str) -> String {
    check_text(id).map(|c| c.about.clone()).unwrap_or_default()
}

/// An explanation by key, with `{name}` placeholders filled from `vars`.
/// Every explanation template (for tests over the whole catalogue).
#[cfg(test)]
pub fn all_explanations() -> impl Iterator<Item = &'static str> {
    catalogue().explain.values().map(String::as_str)
}

/// An explanation that exists only for some cases (a hint for one web server): `None`
/// where the assets have none for `key`.
pub fn explain_if_any(key: &str, vars: &[(&str, &str)]) -> Option<String> {
    catalogue().explain.get(key).map(|t| fill(t, vars))
}

pub fn explain(key: &str, vars: &[(&str, &str)]) -> String {
    catalogue()
        .explain
        .get(key)
        .map(|t| fill(t, vars))
        .unwrap_or_else(|| format!("(missing explanation {key})"))
}

/// A fix by key: its title and commands, with `{name}` placeholders filled from `vars`.
/// A command line whose placeholders are not all filled is a template bug, so it is
/// dropped rather than shown half-formed to someone who may paste it into a root shell.
pub fn fix(key: &str, vars: &[(&str, &str)]) -> (String, Vec<String>) {
    match catalogue().fix.get(key) {
        Some(t) => (
            fill(&t.title, vars),
            t.commands
                .iter()
                .map(|c| fill(c, vars))
                .filter(|c| !has_placeholder(c))
                .collect(),
        ),
        None => (format!("(missing fix {key})"), Vec::new()),
    }
}

/// A configuration snippet by key, with `{name}` placeholders filled from `vars`; its
/// line ends are kept.
pub fn snippet(key: &str, vars: &[(&str, &str)]) -> String {
    catalogue()
        .snippet
        .get(key)
        .map(|t| {
            let mut out = t.clone();
            for (k, v) in vars {
                out = out.replace(&format!("{{{k}}}"), v);
            }
            out
        })
        .unwrap_or_default()
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.trim_end().to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

fn has_placeholder(s: &str) -> bool {
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let tail = &rest[start + 1..];
        match tail.find('}') {
            Some(end) => {
                let name = &tail[..end];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    return true;
                }
                rest = &tail[end + 1..];
            }
            None => return false,
        }
    }
    false
}

/// A region (continent) whose clients `dns.geo` impersonates with EDNS Client Subnet:
/// one client network per family, and where each comes from (`assets/geo_subnets.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct GeoRegion {
    pub name: String,
    pub v4: ipnet::IpNet,
    pub v6: ipnet::IpNet,
    #[allow(dead_code)] // read by people and by the asset test, not by the probe
    pub source: String,
}

#[derive(Debug, Deserialize, Default)]
struct GeoRegions {
    #[serde(default)]
    region: Vec<GeoRegion>,
}

const GEO_TOML: &str = include_str!("../assets/geo_subnets.toml");

/// The regions `dns.geo` asks for, in the file's order.
pub fn geo_regions() -> &'static [GeoRegion] {
    static G: OnceLock<GeoRegions> = OnceLock::new();
    &G.get_or_init(|| {
        // Compiled in and parsed by a unit test: a failure is a build defect.
        toml::from_str(GEO_TOML).unwrap_or_else(|e| {
            eprintln!("dsdoctor: internal error in assets/geo_subnets.toml: {e}");
            GeoRegions::default()
        })
    })
    .region
}

const LESSONS_TOML: &str = include_str!("../assets/lessons.toml");

#[derive(Debug, Deserialize)]
pub struct Lesson {
    pub title: String,
    pub text: String,
}

#[derive(Debug, Deserialize, Default)]
struct Lessons {
    #[serde(default, rename = "for")]
    map: BTreeMap<String, String>,
    #[serde(default)]
    lesson: BTreeMap<String, Lesson>,
}

fn lessons() -> &'static Lessons {
    static L: OnceLock<Lessons> = OnceLock::new();
    L.get_or_init(|| {
        toml::from_str(LESSONS_TOML).unwrap_or_else(|e| {
            eprintln!("dsdoctor: internal error in assets/lessons.toml: {e}");
            Lessons::default()
        })
    })
}

/// The lesson for a check: by its identifier, else by its stage.
pub fn lesson(check_id: &str) -> Option<&'static Lesson> {
    let l = lessons();
    let stage = check_id.split('.').next().unwrap_or(check_id);
    l.map
        .get(check_id)
        .or_else(|| l.map.get(stage))
        .and_then(|k| l.lesson.get(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_covers_every_contract_check() {
        let cat = parse_all().expect("assets parse");
        for id in crate::model::CheckId::ALL {
            assert!(
                cat.check.contains_key(id.as_str()),
                "assets lack check text for {id}"
            );
        }
    }

    #[test]
    fn every_check_has_a_lesson_and_every_lesson_exists() {
        let l: Lessons = toml::from_str(LESSONS_TOML).expect("lessons parse");
        for key in l.map.values() {
            assert!(
                l.lesson.contains_key(key),
                "lesson {key} is referenced but missing"
            );
        }
        for id in crate::model::CheckId::ALL {
            assert!(lesson(id.as_str()).is_some(), "no lesson for {id}");
        }
    }

    #[test]
    fn geo_regions_cover_the_continents_with_sources() {
        let g: GeoRegions = toml::from_str(GEO_TOML).expect("geo_subnets.toml parses");
        assert!(g.region.len() >= 6, "a region per inhabited continent");
        for r in &g.region {
            assert!(r.v4.addr().is_ipv4() && r.v6.addr().is_ipv6(), "{}", r.name);
            assert_eq!(r.v4.trunc(), r.v4, "{}: host bits set in {}", r.name, r.v4);
            assert_eq!(r.v6.trunc(), r.v6, "{}: host bits set in {}", r.name, r.v6);
            assert!(
                r.source.len() > 20,
                "{}: say where the networks come from",
                r.name
            );
            for net in [r.v4, r.v6] {
                assert!(
                    crate::net::reachable_by_clients(net.addr(), &[]),
                    "{}: {net} is not public address space",
                    r.name
                );
            }
        }
        assert_eq!(geo_regions().len(), g.region.len());
    }

    #[test]
    fn fill_and_drop_unfilled() {
        assert_eq!(
            fill("ip route add default via {gw}", &[("gw", "fe80::1")]),
            "ip route add default via fe80::1"
        );
        assert!(has_placeholder("x {gw} y"));
        assert!(!has_placeholder("awk '{print $1}'"));
        assert!(!has_placeholder("server { listen 80; }"));
    }
}
