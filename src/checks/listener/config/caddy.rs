//! Caddy: the site that serves the domain is bound to both families. The admin
//! endpoint's JSON is what runs, so it decides when Caddy answered; the Caddyfile names
//! the line to change.

use super::port::{Port, covers, name_matches};
use crate::facts::Place;
use crate::facts::servers::{CaddyBind, CaddyInstance, CaddyJson, CaddySite, Caddyfile, Families};
use crate::model::Finding;

/// One site, or one server of the JSON, as far as sockets go.
struct Site<'a> {
    label: String,
    hosts: Vec<&'a str>,
    /// The `bind` (or `default_bind`) line that confines it, in a Caddyfile.
    bind: Option<&'a CaddyBind>,
    families: Vec<Families>,
}

pub(super) fn check(p: &Port) -> Finding {
    p.with_instance(&p.web.caddy, "Caddy", |c| judge(p, c))
}

fn judge(p: &Port, c: &CaddyInstance) -> Finding {
    let (port, s) = (p.port, p.subject());
    let file = c.caddyfile.as_ref().and_then(|r| r.as_ref().ok());
    let json = c
        .running
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(|j| (j, "running configuration"))
        .or_else(|| {
            c.file_json
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|j| (j, "JSON configuration"))
        });
    let config = c.config_path.as_deref().unwrap_or("(none)");
    let mut evidence = vec![format!("Caddy pid {} with {config}", c.pid)];
    if let Some(Err(e)) = &c.running {
        evidence.push(format!("admin endpoint: {e}"));
    }
    let sites = match (json, file) {
        (Some((j, what)), _) => {
            evidence.push(format!(
                "judged from the {what} (admin endpoint {})",
                c.admin.as_deref().unwrap_or("off")
            ));
            json_sites(j, port, file)
        }
        (None, Some(cf)) => file_sites(cf, port),
        (None, None) => {
            return s
                .skip("Caddy's configuration could not be read")
                .evidence_all(evidence);
        }
    };
    evidence.extend(p.others("caddy"));
    let domain = &p.c.opts.target.domain;
    let site = sites
        .iter()
        .find(|st| st.hosts.iter().any(|h| name_matches(h, domain)))
        .or_else(|| sites.iter().find(|st| st.hosts.is_empty()))
        .or_else(|| sites.first());
    let Some(site) = site else {
        return s
            .skip(format!("no Caddy site is served on port {port}"))
            .evidence_all(evidence);
    };
    let serves = p.serves_any(site.families.iter().copied());
    let Some(missing) = p.missing(serves) else {
        return s
            .pass(format!(
                "Caddy serves {} on port {port} over both families",
                site.label
            ))
            .evidence_all(evidence);
    };
    let instead = sites
        .iter()
        .find(|o| *p.serves_any(o.families.iter().copied()).get(missing))
        .map(|o| format!("; {} clients get {} instead", missing.name(), o.label))
        .unwrap_or_default();
    let confined = site
        .bind
        .map(|b| format!(" (`{}` at {})", b.raw, b.at))
        .unwrap_or_default();
    let mut f = s
        .fail(format!(
            "Caddy serves {} on port {port} over {} only{confined}{instead}",
            site.label,
            missing.other().name()
        ))
        .evidence_all(evidence)
        .explain(
            "config_caddy_bind",
            &[("port", &port.to_string()), ("family", missing.name())],
        );
    if let (Some(b), Some(path)) = (site.bind, &c.config_path) {
        f = f.fix(
            "caddy_drop_bind",
            &[
                ("file", &b.at.file.display().to_string()),
                ("line", &b.at.line.to_string()),
                ("config", path),
                ("family", missing.name()),
            ],
        );
    }
    f
}

fn file_sites(cf: &Caddyfile, port: u16) -> Vec<Site<'_>> {
    cf.sites
        .iter()
        .filter(|st| st.addresses.iter().any(|a| a.serving_port == port))
        .map(|st| {
            let bind = st.binds.last().or(cf.global.default_bind.last());
            Site {
                label: site_label(st),
                hosts: st
                    .addresses
                    .iter()
                    .filter(|a| !a.host.is_empty())
                    .map(|a| a.host.as_str())
                    .collect(),
                bind,
                families: bind_families(st, &cf.global.default_bind, port),
            }
        })
        .collect()
}

/// A site's addresses; none written means Go's dual-stack wildcard.
fn bind_families(st: &CaddySite, default_bind: &[CaddyBind], port: u16) -> Vec<Families> {
    let binds = if st.binds.is_empty() {
        default_bind
    } else {
        &st.binds
    };
    if binds.is_empty() {
        return vec![Families::Both];
    }
    binds
        .iter()
        .flat_map(|b| &b.addrs)
        .filter(|e| covers(e.ports, port))
        .map(|e| e.families)
        .collect()
}

fn site_label(st: &CaddySite) -> String {
    let addrs: Vec<&str> = st.addresses.iter().map(|a| a.raw.as_str()).collect();
    format!("site {} at {}", addrs.join(", "), st.at)
}

/// The servers of the JSON on `port`; their lines come from the Caddyfile when one
/// names the same hosts.
fn json_sites<'a>(j: &'a CaddyJson, port: u16, file: Option<&'a Caddyfile>) -> Vec<Site<'a>> {
    let written = file.map(|cf| file_sites(cf, port)).unwrap_or_default();
    j.servers
        .iter()
        .filter(|sv| sv.listen.iter().any(|e| covers(e.ports, port)))
        .map(|sv| {
            let hosts: Vec<&str> = sv.hosts.iter().map(String::as_str).collect();
            let bind = written
                .iter()
                .find(|w| w.hosts.iter().any(|h| hosts.contains(h)))
                .and_then(|w| w.bind);
            Site {
                label: format!("server {} ({})", sv.name, hosts.join(" ")),
                hosts,
                bind,
                families: sv
                    .listen
                    .iter()
                    .filter(|e| covers(e.ports, port))
                    .map(|e| e.families)
                    .collect(),
            }
        })
        .collect()
}

/// Where Caddy's Caddyfile first serves a site on `port`.
pub(super) fn place_on(c: &CaddyInstance, port: u16) -> Option<Place> {
    let cf = c.caddyfile.as_ref()?.as_ref().ok()?;
    cf.sites
        .iter()
        .find(|st| st.addresses.iter().any(|a| a.serving_port == port))
        .map(|st| st.at.clone())
}
