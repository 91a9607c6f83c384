//! nginx: the server block that serves the domain listens on the port over both
//! families.

use super::port::{Port, config_problems, name_matches};
use crate::facts::{NginxInstance, Place};
use crate::model::{ByFamily, Family, Finding};
use crate::parse::nginx::{Listen, ListenAddr, ServerBlock};

pub(super) fn check(p: &Port) -> Finding {
    let (o, port, web, s) = (p.c.opts, p.port, p.web, p.subject());
    let Some(nginx) = p.instance(&web.nginx) else {
        let others = web
            .others
            .iter()
            .map(|(n, p)| format!("{n} (pid {p})"))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = if web.nginx.len() > 1 {
            let pids: Vec<String> = web.nginx.iter().map(|n| n.pid.to_string()).collect();
            format!(
                "{} nginx run (pids {}), and the owner of the sockets on port {port} is not visible (naming it needs root, or CAP_SYS_PTRACE to read other users' /proc/PID/fd): which configuration to read cannot be told",
                web.nginx.len(),
                pids.join(", ")
            )
        } else if p.sockets.is_empty() && others.is_empty() {
            format!(
                "nothing listens on port {port} and no web server dsdoctor reads (nginx, Apache, HAProxy, Caddy) runs: no configuration to read"
            )
        } else if others.is_empty() {
            format!(
                "the owner of the sockets on port {port} is not visible (naming it needs root, or CAP_SYS_PTRACE to read other users' /proc/PID/fd) and no nginx runs: which configuration to read cannot be told"
            )
        } else {
            format!(
                "{others} runs, but the owner of the sockets on port {port} is unknown (naming it needs root, or CAP_SYS_PTRACE to read other users' /proc/PID/fd): which configuration to read cannot be told"
            )
        };
        return s.skip(summary);
    };
    let cfg = match &nginx.config {
        Ok(c) => c,
        Err(e) => {
            return s.error(format!("could not read {}: {e}", nginx.config_path));
        }
    };
    let mut evidence = vec![format!(
        "nginx master pid {} with {}",
        nginx.pid, nginx.config_path
    )];
    evidence.extend(config_problems(&cfg.problems));
    let on_port: Vec<&ServerBlock> = cfg
        .servers
        .iter()
        .filter(|b| !block_listens(b, port).is_empty())
        .collect();
    if on_port.is_empty() {
        return s
            .skip(format!("no nginx server block listens on port {port}"))
            .evidence_all(evidence);
    }
    let domain = &o.target.domain;
    let block = on_port
        .iter()
        .find(|b| b.server_names.iter().any(|n| name_matches(n, domain)))
        .or_else(|| {
            on_port
                .iter()
                .find(|b| block_listens(b, port).iter().any(|l| l.default_server))
        })
        .or_else(|| on_port.first())
        .copied();
    let Some(block) = block else {
        return s.skip("no server block to check").evidence_all(evidence);
    };
    for l in block_listens(block, port) {
        evidence.push(format!("{}: {}", l.at, l.raw));
    }
    evidence.extend(p.others("nginx"));
    for other in on_port.iter().filter(|b| !std::ptr::eq(**b, block)) {
        let serves = block_families(other, port);
        if serves.v4 != serves.v6 {
            evidence.push(format!(
                "also: server block at {} ({}) listens on port {port} over {} only",
                other.at,
                other.server_names.join(" "),
                Family::from_v6(serves.v6).name()
            ));
        }
    }
    let serves = block_families(block, port);
    // IPv6 first: a block without it is the usual gap.
    let missing = [Family::V6, Family::V4]
        .into_iter()
        .find(|&fam| o.target.expect.wants(fam) && !serves.get(fam));
    let where_ = block.at.to_string();
    let names = if block.server_names.is_empty() {
        "(no server_name)".to_string()
    } else {
        block.server_names.join(" ")
    };
    if let Some(missing) = missing {
        let Some(existing) = block_listens(block, port).into_iter().next() else {
            return s.skip("no listen line").evidence_all(evidence);
        };
        let line = missing_line(existing, port, missing);
        let (fam, has) = (missing.name(), missing.other().name());
        let explain = match missing {
            Family::V4 if matches!(existing.addr, ListenAddr::AnyV6) => "config_v6_default_only",
            Family::V4 => "config_no_v4",
            Family::V6 => "config_no_v6",
        };
        return s.fail(format!(
            "nginx server block {names} at {where_} listens on port {port} over {has} only: add `{line}`"
        ))
        .evidence_all(evidence)
        .explain(explain, &[("port", &port.to_string())])
        .fix(
            "nginx_add_listen",
            &[
                ("file", &existing.at.file.display().to_string()),
                ("line", &existing.at.line.to_string()),
                ("listen", &line),
                ("config", &nginx.config_path),
                ("family", fam),
            ],
        );
    }
    s.pass(format!(
        "nginx server block {names} at {where_} listens on port {port} over both families"
    ))
    .evidence_all(evidence)
}

fn block_listens(b: &ServerBlock, port: u16) -> Vec<&Listen> {
    b.listens.iter().filter(|l| l.port == port).collect()
}

/// Per family, whether a block listens on `port` over it.
fn block_families(b: &ServerBlock, port: u16) -> ByFamily<bool> {
    let ls = block_listens(b, port);
    ByFamily {
        v4: ls.iter().any(|l| l.addr.accepts_ipv4(l.ipv6only)),
        v6: ls.iter().any(|l| l.addr.accepts_ipv6()),
    }
}

/// The `listen` line to add so a block serves the missing family, keeping the
/// parameters (ssl, http2...) of the existing line.
fn missing_line(existing: &Listen, port: u16, missing: Family) -> String {
    let params: Vec<&str> = existing
        .raw
        .trim_end_matches(';')
        .split_whitespace()
        .skip(2)
        .filter(|w| {
            !w.starts_with("ipv6only")
                && *w != "default_server"
                && *w != "reuseport"
                && !w.starts_with("backlog")
        })
        .collect();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!(" {}", params.join(" "))
    };
    match missing {
        Family::V4 => format!("listen {port}{params};"),
        Family::V6 => format!("listen [::]:{port}{params};"),
    }
}

/// Where this nginx's configuration first listens on `port`.
pub(super) fn place_on(n: &NginxInstance, port: u16) -> Option<Place> {
    let cfg = n.config.as_ref().ok()?;
    cfg.servers
        .iter()
        .flat_map(|b| block_listens(b, port))
        .map(|l| l.at.clone())
        .next()
}
