//! Ports a container runtime publishes (Docker, Podman): where a family's connections
//! to a host port really go. A DNAT rule in the nat table sends them to the container's
//! address before the host's sockets are looked at; `docker-proxy` (Docker's userland
//! proxy) listens on the host and connects to the container itself. What the runtime's
//! API says is published, with the daemon's settings (`ip6tables`, `userland-proxy`),
//! decides which family has which path; the sockets inside the container's network
//! namespace decide whether it listens there.

use crate::checks::subject::Subject;
use crate::facts::containers::{Container, ContainerFacts, Published, Runtime, RuntimeKind};
use crate::facts::{Facts, Listener};
use crate::model::{Family, Finding};
use std::net::{IpAddr, SocketAddr};

/// Processes that hold a published port on the host for a container: Docker's
/// userland proxy and rootless Podman's port forwarder. Their sockets count as the
/// host's; the container behind them is named.
pub const PROXIES: &[&str] = &["docker-proxy", "rootlessport"];

/// Why a port published for a family reaches no container over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unforwarded {
    /// Docker writes no ip6tables rules (`ip6tables` off, the default before 27).
    NoIp6tables,
    /// The container has no address of the family on any network.
    NoAddress,
    /// `"iptables": false`: Docker writes no rules at all.
    NoIptables,
}

/// The way a family's connections to a host port take to a container.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// No container publishes the port.
    NotPublished,
    /// The kernel rewrites them to the container.
    Dnat {
        rt: &'a Runtime,
        c: &'a Container,
        p: &'a Published,
        target: SocketAddr,
    },
    /// Published for the family, but no rule carries it there.
    Unforwarded {
        rt: &'a Runtime,
        c: &'a Container,
        p: &'a Published,
        why: Unforwarded,
    },
    /// Published on the other family's address only (`0.0.0.0:8080->80/tcp`).
    OtherFamilyOnly {
        rt: &'a Runtime,
        c: &'a Container,
        p: &'a Published,
    },
}

/// The container facts, when the probe ran and found something.
pub fn facts(f: &Facts) -> Option<&ContainerFacts> {
    f.containers.as_ref().and_then(|p| p.value())
}

/// A runtime socket that exists but did not answer (permission: root or the docker
/// group), with its error.
pub fn refused(f: &Facts) -> Option<(String, &crate::facts::ProbeError)> {
    facts(f)?.runtimes.iter().find_map(|r| {
        r.containers
            .as_ref()
            .err()
            .map(|e| (r.socket.display().to_string(), e))
    })
}

/// Where the family's connections to `port` go, by what the runtimes publish.
pub fn path(f: &Facts, port: u16, family: Family) -> Path<'_> {
    let Some(cf) = facts(f) else {
        return Path::NotPublished;
    };
    let pubs = cf.published_on(port);
    let Some(&(rt, c, p)) = pubs.first() else {
        return Path::NotPublished;
    };
    let mut first_unforwarded = None;
    for &(rt, c, p) in pubs.iter().filter(|(_, _, p)| p.takes(family)) {
        match dnat_target(cf, rt, c, family) {
            Ok(ip) => {
                return Path::Dnat {
                    rt,
                    c,
                    p,
                    target: SocketAddr::new(ip, p.container_port),
                };
            }
            Err(why) => {
                first_unforwarded.get_or_insert(Path::Unforwarded { rt, c, p, why });
            }
        }
    }
    first_unforwarded.unwrap_or(Path::OtherFamilyOnly { rt, c, p })
}

/// Whether the runtime writes a DNAT rule of the family for the container, and to
/// which of its addresses.
fn dnat_target(
    cf: &ContainerFacts,
    rt: &Runtime,
    c: &Container,
    family: Family,
) -> Result<IpAddr, Unforwarded> {
    let daemon = cf.daemon();
    if rt.kind == RuntimeKind::Docker {
        if daemon.and_then(|d| d.iptables) == Some(false) {
            return Err(Unforwarded::NoIptables);
        }
        // moby 27.0 turned `ip6tables` on by default (daemon/config: DefaultIP6Tables);
        // a version the API did not give is taken as current.
        let ip6tables = daemon
            .and_then(|d| d.ip6tables)
            .unwrap_or(rt.major().is_none_or(|m| m >= 27));
        if family == Family::V6 && !ip6tables {
            return Err(Unforwarded::NoIp6tables);
        }
    }
    c.address(family).ok_or(Unforwarded::NoAddress)
}

/// `web (Docker)`.
pub fn named(rt: &Runtime, c: &Container) -> String {
    format!("{} ({})", c.name, rt.kind.name())
}

/// Evidence lines: the container and what it publishes.
pub fn evidence(rt: &Runtime, c: &Container) -> Vec<String> {
    let ports: Vec<String> = c.ports.iter().map(Published::describe).collect();
    let addrs: Vec<String> = c
        .networks
        .iter()
        .map(|n| {
            let v4 = n.ipv4.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
            let v6 = n.ipv6.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
            format!("{}: {v4} {v6}", n.name)
        })
        .collect();
    vec![
        format!(
            "{} {} {}: container {} ({}, id {}) publishes {}",
            rt.kind.name(),
            rt.version.as_deref().unwrap_or("(version unknown)"),
            rt.socket.display(),
            c.name,
            c.image,
            c.id,
            if ports.is_empty() {
                "nothing".into()
            } else {
                ports.join(", ")
            }
        ),
        format!("networks: {}", addrs.join("; ")),
    ]
}

fn daemon_evidence(cf: &ContainerFacts) -> Option<String> {
    let show = |v: Option<bool>| v.map_or("unset".to_string(), |b| b.to_string());
    match &cf.daemon {
        None => Some("/etc/docker/daemon.json: absent (Docker's defaults apply)".into()),
        Some(Err(e)) => Some(format!("daemon.json unreadable: {e}")),
        Some(Ok(d)) => Some(format!(
            "{}: ipv6 {}, ip6tables {}, userland-proxy {}, fixed-cidr-v6 {}",
            d.file.display(),
            show(d.ipv6),
            show(d.ip6tables),
            show(d.userland_proxy),
            d.fixed_cidr_v6.as_deref().unwrap_or("unset")
        )),
    }
}

/// Whether a socket inside the container takes the family's connections to `target`.
fn listens(ls: &[Listener], target: SocketAddr, family: Family) -> Option<&Listener> {
    ls.iter().find(|l| {
        l.port == target.port() && l.accepts(family) && (l.is_wildcard() || l.ip == target.ip())
    })
}

/// What hands a family's connections to a container.
pub enum Via {
    /// A DNAT rule in the nat table.
    Dnat,
    /// A proxy's host socket, described (`docker-proxy (pid 900) on [::]:8080`).
    Proxy(String),
}

/// The finding of a family whose connections are handed to a container at `target`.
pub fn reached(
    s: Subject,
    f: &Facts,
    rt: &Runtime,
    c: &Container,
    target: SocketAddr,
    family: Family,
    via: &Via,
) -> Finding {
    let how = match via {
        Via::Dnat => "sent by a DNAT rule to".to_string(),
        Via::Proxy(socket) => format!("taken by {socket} and handed to"),
    };
    let fam = family.name();
    let port = s.port.unwrap_or(0).to_string();
    let cport = target.port().to_string();
    let at = format!("{}:{}", crate::net::bracketed(target.ip()), target.port());
    let mut ev = evidence(rt, c);
    // The container's own family decides which of its sockets is reached.
    let inside = Family::of(target.ip());
    let fd = match &c.listeners {
        None => {
            return s
                .skip(format!(
                    "{fam} clients are {how} container {} at {at}; the runtime named no process of it, so its sockets were not looked at",
                    named(rt, c)
                ))
                .evidence_all(ev);
        }
        Some(Err(e)) => {
            return s
                .unread(f, &format!("look inside container {}", c.name), e)
                .evidence_all(ev);
        }
        Some(Ok(ls)) => {
            ev.extend(ls.iter().filter(|l| l.port == target.port()).map(|l| {
                format!(
                    "in {}: {}:{} LISTEN",
                    c.name,
                    crate::net::bracketed(l.ip),
                    l.port
                )
            }));
            match listens(ls, target, inside) {
                Some(l) => s.pass(format!(
                    "{fam} clients are {how} container {} at {at}, where a socket listens on {}:{}",
                    named(rt, c),
                    crate::net::bracketed(l.ip),
                    l.port
                )),
                None => s
                    .fail(format!(
                        "{fam} clients are {how} container {} at {at}, where nothing listens over {}",
                        named(rt, c),
                        inside.name()
                    ))
                    .explain(
                        "container_not_listening",
                        &[
                            ("container", &c.name),
                            ("container_port", &cport),
                            ("family", inside.name()),
                        ],
                    ),
            }
        }
    };
    let fd = match via {
        Via::Dnat => fd.explain_first(
            "container_dnat",
            &[
                ("runtime", rt.kind.name()),
                ("port", &port),
                ("family", fam),
            ],
        ),
        Via::Proxy(_) => fd.explain_first("container_proxy", &[]),
    };
    fd.evidence_all(ev)
}

/// The finding of a family published on the host port but carried to no container.
pub fn unforwarded(
    s: Subject,
    f: &Facts,
    rt: &Runtime,
    c: &Container,
    p: &Published,
    why: Unforwarded,
    family: Family,
) -> Finding {
    let port = s.port.unwrap_or(0);
    let fam = family.name();
    let reason = match why {
        Unforwarded::NoIp6tables => {
            "Docker writes its DNAT rules for IPv4 only (ip6tables is off)".to_string()
        }
        Unforwarded::NoAddress => format!("container {} has no {fam} address", c.name),
        Unforwarded::NoIptables => "Docker writes no DNAT rules (\"iptables\": false)".to_string(),
    };
    let fd = s.fail(format!(
        "{fam} clients of port {port} are refused: it is published to container {} as {}, but {reason} and no proxy listens for {fam}",
        named(rt, c),
        p.describe()
    ));
    let vars_port = port.to_string();
    let vars = [
        ("port", vars_port.as_str()),
        ("container", c.name.as_str()),
        ("family", fam),
    ];
    let fd = match why {
        Unforwarded::NoIp6tables => fd.explain("container_v4_dnat_only", &vars),
        Unforwarded::NoAddress => fd.explain("container_no_address", &vars),
        Unforwarded::NoIptables => fd.explain("container_no_rules", &vars),
    };
    with_fixes(fd, f, rt, c, p, family, Some(why)).evidence_all(evidence(rt, c))
}

/// The finding of a family left out by the mapping itself (`0.0.0.0:8080->80/tcp`).
pub fn other_family_only(
    s: Subject,
    f: &Facts,
    rt: &Runtime,
    c: &Container,
    p: &Published,
    family: Family,
) -> Finding {
    let port = s.port.unwrap_or(0);
    let fam = family.name();
    let fd = s
        .fail(format!(
            "{fam} clients of port {port} are refused: container {} publishes it as {} only",
            named(rt, c),
            p.describe()
        ))
        .explain(
            "container_v4_only_publish",
            &[
                ("port", &port.to_string()),
                ("mapping", &p.describe()),
                ("family", fam),
                ("container_port", &p.container_port.to_string()),
            ],
        );
    with_fixes(fd, f, rt, c, p, family, None).evidence_all(evidence(rt, c))
}

/// The other family reaches a container (`to`: its runtime, itself, the mapping and
/// the address the DNAT rule writes) while this one reaches a program of the host.
pub fn split(
    s: Subject,
    f: &Facts,
    owner: &str,
    to: (&Runtime, &Container, &Published, SocketAddr),
    family: Family,
) -> Finding {
    let (rt, c, p, target) = to;
    let port = s.port.unwrap_or(0);
    let at = format!("{}:{}", crate::net::bracketed(target.ip()), target.port());
    let fd = s
        .fail(format!(
            "{} clients of port {port} reach {owner} on this host, while {} clients are sent to container {} at {at}",
            family.name(),
            family.other().name(),
            named(rt, c)
        ))
        .explain(
            "container_split",
            &[
                ("family", family.name()),
                ("other", family.other().name()),
                ("port", &port.to_string()),
                ("owner", owner),
                ("container", &c.name),
                ("target", &at),
            ],
        );
    with_fixes(fd, f, rt, c, p, family, None).evidence_all(evidence(rt, c))
}

/// The fixes that fit the runtime and the cause, with this host's values only.
pub fn with_fixes(
    fd: Finding,
    f: &Facts,
    rt: &Runtime,
    c: &Container,
    p: &Published,
    family: Family,
    why: Option<Unforwarded>,
) -> Finding {
    let cf = facts(f);
    let file = cf
        .and_then(|cf| cf.daemon())
        .map(|d| d.file.display().to_string())
        .unwrap_or_else(|| "/etc/docker/daemon.json".into());
    let port = p.host_port.unwrap_or(0).to_string();
    let cport = p.container_port.to_string();
    let network = c
        .networks
        .first()
        .map(|n| n.name.clone())
        .unwrap_or_else(|| "bridge".into());
    let vars = [
        ("file", file.as_str()),
        ("container", c.name.as_str()),
        ("port", port.as_str()),
        ("container_port", cport.as_str()),
        ("network", network.as_str()),
    ];
    let mut fd = fd;
    if let Some(d) = cf.and_then(daemon_evidence) {
        fd = fd.evidence(d);
    }
    if rt.kind == RuntimeKind::Podman {
        return fd
            .explain_also("container_podman", &[])
            .fix("podman_network_ipv6", &vars);
    }
    match why {
        Some(Unforwarded::NoIp6tables) => {
            let has_v6 = c.address(Family::V6).is_some();
            let key = if has_v6 {
                "docker_daemon_ip6tables"
            } else {
                "docker_daemon_ipv6"
            };
            fd = fd.fix(key, &vars);
            if !has_v6 && network != "bridge" {
                fd = fd.fix("docker_network_ipv6", &vars);
            }
        }
        Some(Unforwarded::NoAddress) if family == Family::V6 => {
            fd = if network == "bridge" {
                fd.fix("docker_daemon_ipv6", &vars)
            } else {
                fd.fix("docker_network_ipv6", &vars)
            };
            fd = fd.fix("docker_userland_proxy", &vars);
        }
        // Without rules only the userland proxy can carry a published port.
        Some(Unforwarded::NoIptables) => fd = fd.fix("docker_userland_proxy", &vars),
        _ => fd = fd.fix("container_publish_both", &vars),
    }
    fd
}

/// The container behind a proxy's host socket: from the proxy's own command line
/// (`-container-ip`), else from the runtime's publication of the port.
pub fn behind_proxy<'a>(
    f: &'a Facts,
    l: &Listener,
) -> Option<(&'a Runtime, &'a Container, SocketAddr)> {
    let cf = facts(f)?;
    if let Some(px) = cf.proxies.iter().find(|px| Some(px.pid) == l.pid)
        && let (Some(ip), Some(cport)) = (px.container_ip, px.container_port)
        && let Some((rt, c)) = cf.container_at(ip)
    {
        return Some((rt, c, SocketAddr::new(ip, cport)));
    }
    let family = Family::of(l.ip);
    cf.published_on(l.port)
        .into_iter()
        .find(|(_, _, p)| p.takes(family) || p.host_ip.is_some_and(|ip| ip.is_unspecified()))
        .and_then(|(rt, c, p)| {
            // docker-proxy connects to the container's IPv4 address whatever the
            // client's family (moby's portmapper hands it the IPv4 one).
            let ip = c.address(Family::V4).or_else(|| c.address(Family::V6))?;
            Some((rt, c, SocketAddr::new(ip, p.container_port)))
        })
}
