//! Apache httpd: a `Listen` takes the port over both families, and the `<VirtualHost>`
//! that serves the domain matches connections of both families (an IP-based one leaves
//! the other family to whichever virtual host matches it first).

use super::port::{Port, config_problems, covers, name_matches};
use crate::facts::Place;
use crate::facts::servers::{ApacheConfig, ApacheInstance, ApacheListen, VirtualHost};
use crate::model::{ByFamily, Family, Finding};

pub(super) fn check(p: &Port) -> Finding {
    p.with_instance(&p.web.apache, "Apache httpd", |a| {
        p.with_config(&a.config, "Apache's", |cfg| judge(p, a, cfg))
    })
}

fn judge(p: &Port, a: &ApacheInstance, cfg: &ApacheConfig) -> Finding {
    let (port, s) = (p.port, p.subject());
    let mut evidence = vec![format!(
        "Apache httpd pid {} with {} ({})",
        a.pid,
        cfg.main.display(),
        a.how
    )];
    evidence.extend(config_problems(&cfg.problems));
    let listens: Vec<&ApacheListen> = cfg
        .listens
        .iter()
        .filter(|l| covers(l.endpoint.ports, port))
        .collect();
    evidence.extend(listens.iter().map(|l| format!("{}: {}", l.at, l.raw)));
    evidence.extend(p.others("apache"));
    let Some(first) = listens.first() else {
        return s
            .skip(format!("no Listen directive of Apache's takes port {port}"))
            .evidence_all(evidence);
    };
    let serves = p.serves_any(listens.iter().map(|l| l.endpoint.families));
    let vars = Vars::new(p, a, cfg);
    if let Some(missing) = p.missing(serves) {
        let listen = match (missing, &first.protocol) {
            (Family::V6, None) => format!("Listen [::]:{port}"),
            (Family::V6, Some(proto)) => format!("Listen [::]:{port} {proto}"),
            (Family::V4, None) => format!("Listen 0.0.0.0:{port}"),
            (Family::V4, Some(proto)) => format!("Listen 0.0.0.0:{port} {proto}"),
        };
        let (file, line) = (
            first.at.file.display().to_string(),
            first.at.line.to_string(),
        );
        return s
            .fail(format!(
                "Apache httpd listens on port {port} over {} only (`{}` at {}): add `{listen}`",
                missing.other().name(),
                first.raw,
                first.at
            ))
            .evidence_all(evidence)
            .explain(
                "config_apache_listen",
                &[("port", &port.to_string()), ("family", missing.name())],
            )
            .fix_then(
                "apache_add_listen",
                vars.reload,
                &vars.with(&[
                    ("file", &file),
                    ("line", &line),
                    ("listen", &listen),
                    ("family", missing.name()),
                ]),
            );
    }
    let on_port: Vec<&VirtualHost> = cfg
        .vhosts
        .iter()
        .filter(|v| v.addrs.iter().any(|a| covers(a.endpoint.ports, port)))
        .collect();
    let domain = &p.c.opts.target.domain;
    let site = on_port
        .iter()
        .find(|v| names(v, cfg).any(|n| name_matches(n, domain)))
        .or_else(|| on_port.first());
    let Some(site) = site else {
        return s
            .pass(format!(
                "Apache httpd listens on port {port} over both families (`{}` at {}); no virtual host, the main server answers both",
                first.raw, first.at
            ))
            .evidence_all(evidence);
    };
    // The first virtual host that matches is the default for the address and port.
    let serving = ByFamily::new(|fam| on_port.iter().find(|v| matches(p, v, fam)).copied());
    let site_serves = ByFamily::new(|fam| matches(p, site, fam));
    let label = vhost_label(site, cfg);
    for fam in [Family::V6, Family::V4] {
        if !p.c.opts.target.expect.wants(fam) || *site_serves.get(fam) {
            continue;
        }
        let instead = match serving.get(fam) {
            Some(v) => format!("{} at {}", vhost_label(v, cfg), v.at),
            None => "the main server's configuration".to_string(),
        };
        let (file, line) = (site.at.file.display().to_string(), site.at.line.to_string());
        return s
            .fail(format!(
                "Apache httpd serves {label} at {} to {} clients only: {} clients on port {port} get {instead}; write `<VirtualHost *:{port}>`",
                site.at,
                fam.other().name(),
                fam.name()
            ))
            .evidence_all(evidence)
            .explain(
                "config_apache_vhost",
                &[("port", &port.to_string()), ("family", fam.name())],
            )
            .fix_then(
                "apache_vhost_any",
                vars.reload,
                &vars.with(&[
                    ("file", &file),
                    ("line", &line),
                    ("port", &port.to_string()),
                ]),
            );
    }
    s.pass(format!(
        "Apache httpd listens on port {port} over both families (`{}` at {}) and serves {label} at {} on both",
        first.raw, first.at, site.at
    ))
    .evidence_all(evidence)
}

/// The names a virtual host answers to, the main server's when it has none.
fn names<'a>(v: &'a VirtualHost, cfg: &'a ApacheConfig) -> impl Iterator<Item = &'a str> {
    v.server_name
        .as_ref()
        .or(cfg.server_name.as_ref())
        .into_iter()
        .chain(&v.aliases)
        .map(|w| bare_name(&w.value))
}

/// `ServerName https://shop.example:443` names `shop.example`.
fn bare_name(name: &str) -> &str {
    let n = name.split_once("://").map_or(name, |(_, rest)| rest);
    n.rsplit_once(':')
        .filter(|(_, port)| port.parse::<u16>().is_ok())
        .map_or(n, |(host, _)| host)
}

fn vhost_label(v: &VirtualHost, cfg: &ApacheConfig) -> String {
    let addrs: Vec<&str> = v.addrs.iter().map(|a| a.endpoint.raw.as_str()).collect();
    let name = names(v, cfg).next().unwrap_or("(no ServerName)");
    format!("<VirtualHost {}> ({name})", addrs.join(" "))
}

/// Whether connections of `fam` to the port can reach the virtual host.
fn matches(p: &Port, v: &VirtualHost, fam: Family) -> bool {
    v.addrs
        .iter()
        .any(|a| covers(a.endpoint.ports, p.port) && *p.serves(a.endpoint.families).get(fam))
}

/// Where Apache's configuration first listens on `port`.
pub(super) fn place_on(a: &ApacheInstance, port: u16) -> Option<Place> {
    let cfg = a.config.as_ref().ok()?;
    cfg.listens
        .iter()
        .find(|l| covers(l.endpoint.ports, port))
        .map(|l| l.at.clone())
}

/// The values every Apache fix needs: how this installation tests and reloads its
/// configuration.
struct Vars {
    reload: &'static str,
    base: Vec<(&'static str, String)>,
}

impl Vars {
    fn new(p: &Port, a: &ApacheInstance, cfg: &ApacheConfig) -> Vars {
        let main = cfg.main.display().to_string();
        let reload = match main.as_str() {
            "/etc/apache2/apache2.conf" => "apache_reload_debian",
            "/etc/httpd/conf/httpd.conf" => "apache_reload_rhel",
            _ => "apache_reload_here",
        };
        let binary = p
            .sockets
            .iter()
            .find_map(|l| l.process.clone())
            .unwrap_or_else(|| "apache2".into());
        Vars {
            reload,
            base: vec![
                ("main", main),
                ("root", cfg.server_root.display().to_string()),
                ("pid", a.pid.to_string()),
                ("binary", binary),
            ],
        }
    }

    fn with<'a>(&'a self, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        self.base
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(more.iter().copied())
            .collect()
    }
}
