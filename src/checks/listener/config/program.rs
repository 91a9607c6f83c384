//! Any other program: the runtime settings on its command line and in its environment
//! (Java, Node.js, gunicorn, uvicorn) when they confine it to one family, otherwise
//! the sockets it opened itself (a program that sets IPV6_V6ONLY, or binds `0.0.0.0`).

use super::port::Port;
use crate::facts::servers::{Families, HintSource, Runtime, RuntimeHints};
use crate::model::{ByFamily, Finding};

pub(super) fn check(p: &Port, process: &str) -> Finding {
    let (port, s) = (p.port, p.subject());
    let pid = p.pid.unwrap_or(0);
    let hints = p
        .web
        .runtimes
        .iter()
        .flatten()
        .find(|h| Some(h.pid) == p.pid);
    let who = match hints {
        Some(h) => format!("{} (pid {pid})", h.command),
        None => format!("{process} (pid {pid})"),
    };
    let own: Vec<_> = p.sockets.iter().filter(|l| l.pid == p.pid).collect();
    let mut evidence: Vec<String> = own
        .iter()
        .map(|l| match l.v6only {
            Some(v) => format!("socket [{}]:{port} IPV6_V6ONLY={}", l.ip, u8::from(v)),
            None => format!("socket {}:{port}", l.ip),
        })
        .collect();
    if let Some(h) = hints {
        evidence.extend(
            h.hints
                .iter()
                .map(|x| format!("{}: {}", source(x.source), x.text)),
        );
        if h.environ_unreadable {
            evidence.push("its environment could not be read (needs root)".into());
        }
    }
    evidence.extend(p.others(""));
    let serves = ByFamily::new(|fam| own.iter().any(|l| l.accepts(fam)));
    let Some(missing) = p.missing(serves) else {
        return s
            .pass(format!("{who} listens on port {port} over both families"))
            .evidence_all(evidence);
    };
    let confining = hints.and_then(|h| {
        h.hints
            .iter()
            .find(|x| x.families == Some(missing.other().pick(Families::Ipv4, Families::Ipv6)))
            .map(|x| (h, x))
    });
    if let Some((h, x)) = confining {
        return s
            .fail(format!(
                "{who} listens on port {port} over {} only: `{}` ({}) confines it",
                missing.other().name(),
                x.text,
                source(x.source)
            ))
            .evidence_all(evidence)
            .explain(
                "config_runtime",
                &[("setting", &x.text), ("family", missing.name())],
            )
            .fix(
                fix_key(h, p),
                &[
                    ("command", &h.command),
                    ("port", &port.to_string()),
                    ("key", &x.key),
                    ("setting", &x.text),
                ],
            );
    }
    let v6only_itself = own
        .iter()
        .any(|l| l.ip.is_ipv6() && l.is_wildcard() && l.v6only == Some(true))
        && p.c.facts.sysctl.value().and_then(|s| s.bindv6only) != Some(1);
    let (how, explain) = if v6only_itself {
        (
            format!("it sets IPV6_V6ONLY on [::]:{port} itself"),
            "config_program_v6only",
        )
    } else {
        (
            format!("it binds no {} address", missing.name()),
            "config_program_binds",
        )
    };
    s.fail(format!(
        "{who} listens on port {port} over {} only: {how}",
        missing.other().name()
    ))
    .evidence_all(evidence)
    .explain(
        explain,
        &[("port", &port.to_string()), ("family", missing.name())],
    )
}

fn source(s: HintSource) -> &'static str {
    match s {
        HintSource::Cmdline => "command line",
        HintSource::Environ => "environment",
    }
}

/// The runtime's own way to bind both families; gunicorn needs a second socket where
/// the kernel makes IPv6 sockets IPv6-only.
fn fix_key(h: &RuntimeHints, p: &Port) -> &'static str {
    match h.runtime {
        Runtime::Java => "runtime_java",
        Runtime::Node => "runtime_node",
        Runtime::Gunicorn if p.c.facts.sysctl.value().and_then(|s| s.bindv6only) == Some(1) => {
            "runtime_gunicorn_v6only"
        }
        Runtime::Gunicorn => "runtime_gunicorn",
        Runtime::Uvicorn => "runtime_uvicorn",
        Runtime::Python => "runtime_python",
    }
}
