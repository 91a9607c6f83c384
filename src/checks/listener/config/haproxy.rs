//! HAProxy: the `bind` lines of the frontends (and `listen` sections) take the port over
//! both families, and the connections of both families reach the same backends.

use super::port::{Port, config_problems, covers};
use crate::facts::Place;
use crate::facts::servers::{
    HaproxyBind, HaproxyConfig, HaproxyInstance, HaproxySection, HaproxySectionKind,
};
use crate::model::{ByFamily, Family, Finding};

pub(super) fn check(p: &Port) -> Finding {
    p.with_instance(&p.web.haproxy, "HAProxy", |h| {
        p.with_config(&h.config, "HAProxy's", |cfg| judge(p, h, cfg))
    })
}

fn judge(p: &Port, h: &HaproxyInstance, cfg: &HaproxyConfig) -> Finding {
    let (port, s) = (p.port, p.subject());
    // The `-f` arguments it was started with: the evidence and every fix name them.
    let cfg_arg = h.config_paths.join(" -f ");
    let cfg_arg = cfg_arg.as_str();
    let mut evidence = vec![format!("HAProxy pid {} with -f {cfg_arg}", h.pid)];
    evidence.extend(config_problems(&cfg.problems));
    let binds: Vec<(&HaproxySection, &HaproxyBind)> = cfg
        .sections
        .iter()
        .filter(|sec| {
            matches!(
                sec.kind,
                HaproxySectionKind::Frontend | HaproxySectionKind::Listen
            )
        })
        .flat_map(|sec| sec.binds.iter().map(move |b| (sec, b)))
        .filter(|(_, b)| b.endpoints.iter().any(|e| covers(e.ports, port)))
        .collect();
    evidence.extend(
        binds
            .iter()
            .map(|(sec, b)| format!("{}: {} (in {})", b.at, b.raw, section_label(sec))),
    );
    evidence.extend(p.others("haproxy"));
    let Some(&(first_sec, first)) = binds.first() else {
        return s
            .skip(format!("no HAProxy bind line takes port {port}"))
            .evidence_all(evidence);
    };
    let serves_bind = |b: &HaproxyBind| {
        p.serves_any(
            b.endpoints
                .iter()
                .filter(|e| covers(e.ports, port))
                .map(|e| e.families),
        )
    };
    // Per family, the first section whose bind takes it: the kernel hands a connection
    // to the one socket that matches, and one port has one socket per family.
    let by_family = ByFamily::new(|fam| {
        binds
            .iter()
            .find(|(_, b)| *serves_bind(b).get(fam))
            .copied()
    });
    let serves = ByFamily {
        v4: by_family.v4.is_some(),
        v6: by_family.v6.is_some(),
    };
    if let Some(missing) = p.missing(serves) {
        let (sec, at) = by_family
            .get(missing.other())
            .map_or((first_sec, first), |x| x);
        let bind = missing_bind(at, port, missing);
        let (file, line) = (at.at.file.display().to_string(), at.at.line.to_string());
        return s
            .fail(format!(
                "HAProxy {} binds port {port} over {} only (`{}` at {}): add `{bind}`",
                section_label(sec),
                missing.other().name(),
                at.raw,
                at.at
            ))
            .evidence_all(evidence)
            .explain(
                "config_haproxy_bind",
                &[("port", &port.to_string()), ("family", missing.name())],
            )
            .fix_then(
                "haproxy_add_bind",
                "haproxy_reload",
                &[
                    ("file", &file),
                    ("line", &line),
                    ("bind", &bind),
                    ("family", missing.name()),
                    ("cfg", cfg_arg),
                ],
            );
    }
    if let (Some((s4, b4)), Some((s6, b6))) = (by_family.v4, by_family.v6)
        && routes(s4) != routes(s6)
    {
        // The IPv4 side is taken as the site: the usual story is that IPv4 works.
        let bind = missing_bind(b4, port, Family::V6);
        return s
                .fail(format!(
                    "HAProxy takes port {port} in two sections: IPv4 clients reach {} (`{}` at {}), IPv6 clients {} (`{}` at {})",
                    section_label(s4),
                    b4.raw,
                    b4.at,
                    section_label(s6),
                    b6.raw,
                    b6.at
                ))
                .evidence_all(evidence)
                .explain("config_haproxy_split", &[("port", &port.to_string())])
                .fix_then(
                    "haproxy_join_binds",
                    "haproxy_reload",
                    &[
                        ("v6file", &b6.at.file.display().to_string()),
                        ("v6line", &b6.at.line.to_string()),
                        ("file", &b4.at.file.display().to_string()),
                        ("line", &b4.at.line.to_string()),
                        ("bind", &bind),
                        ("cfg", cfg_arg),
                    ],
                );
    }
    s.pass(format!(
        "HAProxy {} binds port {port} over both families (`{}` at {})",
        section_label(first_sec),
        first.raw,
        first.at
    ))
    .evidence_all(evidence)
}

/// The backends a section hands its connections to.
fn routes(sec: &HaproxySection) -> (Option<&str>, Vec<&str>) {
    if sec.kind == HaproxySectionKind::Listen {
        return (sec.name.as_deref(), Vec::new());
    }
    (
        sec.default_backend.as_ref().map(|b| b.backend.as_str()),
        sec.use_backends
            .iter()
            .map(|b| b.backend.as_str())
            .collect(),
    )
}

fn section_label(sec: &HaproxySection) -> String {
    let kind = match sec.kind {
        HaproxySectionKind::Listen => "listen",
        _ => "frontend",
    };
    let backend = sec
        .default_backend
        .as_ref()
        .map(|b| format!(", backend {}", b.backend))
        .unwrap_or_default();
    format!(
        "{kind} {}{backend}",
        sec.name.as_deref().unwrap_or("(unnamed)")
    )
}

/// The bind line to add for the missing family, keeping the options (ssl, crt...) of
/// the existing one.
fn missing_bind(existing: &HaproxyBind, port: u16, missing: Family) -> String {
    let opts: Vec<&str> = existing
        .raw
        .split_whitespace()
        .skip(2)
        .filter(|w| *w != "v4v6" && *w != "v6only")
        .collect();
    let addr = match missing {
        Family::V6 => format!(":::{port} v6only"),
        Family::V4 => format!("0.0.0.0:{port}"),
    };
    std::iter::once("bind")
        .chain(std::iter::once(addr.as_str()))
        .chain(opts)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where HAProxy's configuration first binds `port`.
pub(super) fn place_on(h: &HaproxyInstance, port: u16) -> Option<Place> {
    let cfg = h.config.as_ref().ok()?;
    cfg.sections
        .iter()
        .flat_map(|s| &s.binds)
        .find(|b| b.endpoints.iter().any(|e| covers(e.ports, port)))
        .map(|b| b.at.clone())
}
