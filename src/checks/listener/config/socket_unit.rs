//! systemd socket units: a listening socket owned by PID 1 belongs to the `.socket`
//! unit whose `ListenStream=` takes the port; `BindIPv6Only=` decides the families of
//! its IPv6 wildcard addresses.

use super::port::{Port, covers};
use crate::facts::servers::{SocketUnit, UnitListen};
use crate::model::{Family, Finding};

pub(super) fn check(p: &Port) -> Finding {
    let (port, s) = (p.port, p.subject());
    let units = match &p.web.socket_units {
        Some(u) => u,
        None => return s.skip("the systemd socket units were not read"),
    };
    let found = units.units.iter().filter(|u| !u.masked).find_map(|u| {
        let ls: Vec<&UnitListen> = u
            .listens
            .iter()
            .filter(|l| covers(l.endpoint.ports, port))
            .collect();
        (!ls.is_empty()).then_some((u, ls))
    });
    let Some((unit, listens)) = found else {
        return s
            .skip(format!(
                "PID 1 owns port {port}, but no .socket unit's ListenStream= takes it"
            ))
            .evidence_all(units.problems.iter().take(5).cloned());
    };
    let mut evidence = vec![format!("{} from {}", unit.name, describe(unit))];
    evidence.extend(
        listens
            .iter()
            .map(|l| format!("{}: ListenStream={}", l.at, l.endpoint.raw)),
    );
    if let Some(b) = &unit.bind_ipv6_only {
        evidence.push(format!("{}: BindIPv6Only={}", b.at, b.value));
    }
    evidence.extend(p.others(""));
    let serves = p.serves_any(listens.iter().map(|l| l.endpoint.families));
    let first = listens[0];
    let Some(missing) = p.missing(serves) else {
        return s
            .pass(format!(
                "{} listens on port {port} over both families (ListenStream={} at {})",
                unit.name, first.endpoint.raw, first.at
            ))
            .evidence_all(evidence);
    };
    let (key, explain) = match missing {
        Family::V6 => ("socket_unit_listen_v6", "config_socket_unit_v4"),
        Family::V4 => ("socket_unit_bind_both", "config_socket_unit_v6"),
    };
    s.fail(format!(
        "{} listens on port {port} over {} only (ListenStream={} at {}): add a drop-in with `systemctl edit {}`",
        unit.name,
        missing.other().name(),
        first.endpoint.raw,
        first.at,
        unit.name
    ))
    .evidence_all(evidence)
    .explain(explain, &[("port", &port.to_string()), ("unit", &unit.name)])
    .fix(key, &[("unit", &unit.name), ("port", &port.to_string())])
}

fn describe(u: &SocketUnit) -> String {
    let mut files = vec![u.file.display().to_string()];
    files.extend(u.dropins.iter().map(|d| d.display().to_string()));
    files.join(", ")
}
