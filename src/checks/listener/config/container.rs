//! `listener.config` for a port a container runtime publishes: the runtime's port
//! mapping and the daemon's settings are the configuration to change, and the
//! container is named with what it publishes.

use crate::checks::listener::container::{self as pubs, PROXIES, Path};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};

/// `None` when no container publishes the port, or a program of the host that is no
/// proxy owns its sockets (that program's configuration is judged instead).
pub fn check(c: &Ctx, port: u16, owner: Option<&str>) -> Option<Finding> {
    let f = c.facts;
    let cf = pubs::facts(f)?;
    let &(rt, ct, _) = cf.published_on(port).first()?;
    if owner.is_some_and(|o| !PROXIES.contains(&o)) {
        return None;
    }
    let s = Subject::on_port(CheckId::ListenerConfig, port);
    let proxied = |family: Family| {
        f.listeners.value().is_some_and(|ls| {
            ls.iter().any(|l| {
                l.port == port
                    && l.accepts(family)
                    && l.process.as_deref().is_some_and(|p| PROXIES.contains(&p))
            })
        })
    };
    for family in [Family::V4, Family::V6] {
        if crate::checks::host::unexpected(c.opts, s, family).is_some() || proxied(family) {
            continue;
        }
        match pubs::path(f, port, family) {
            Path::Unforwarded { rt, c: ct, p, why } => {
                return Some(pubs::unforwarded(s, f, rt, ct, p, why, family));
            }
            Path::OtherFamilyOnly { rt, c: ct, p } => {
                return Some(pubs::other_family_only(s, f, rt, ct, p, family));
            }
            Path::Dnat { .. } | Path::NotPublished => {}
        }
    }
    let mapped: Vec<String> = ct
        .ports
        .iter()
        .filter(|p| p.host_port == Some(port))
        .map(|p| p.describe())
        .collect();
    Some(
        s.pass(format!(
            "container {} publishes port {port} to both families: {}",
            pubs::named(rt, ct),
            mapped.join(", ")
        ))
        .evidence_all(pubs::evidence(rt, ct)),
    )
}
