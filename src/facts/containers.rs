//! Facts about container runtimes (Docker, Podman's Docker-compatible API): the
//! containers, the ports they publish on the host, their addresses, the sockets that
//! listen inside their network namespaces, the Docker daemon's settings that decide how
//! a published port reaches a container over each family, and the `docker-proxy`
//! processes. Filled by `probe::containers`; the parsers are in `parse::containers`.

use crate::facts::{Listener, ProbeError};
use crate::model::Family;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// Everything the containers probe found. A host without a runtime socket and without
/// `daemon.json` has an empty part (no runtime), which is a fact, not an error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerFacts {
    /// Each runtime socket that exists, with what its API answered.
    pub runtimes: Vec<Runtime>,
    /// `/etc/docker/daemon.json`; `None` when the file does not exist.
    pub daemon: Option<Result<DaemonConfig, String>>,
    /// The `docker-proxy` processes with what their command lines say.
    pub proxies: Vec<DockerProxy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Docker,
    Podman,
}

impl RuntimeKind {
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::Docker => "Docker",
            RuntimeKind::Podman => "Podman",
        }
    }
}

/// One runtime's API socket and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runtime {
    pub kind: RuntimeKind,
    /// The unix socket asked (`/var/run/docker.sock`).
    pub socket: PathBuf,
    /// `GET /version`'s `Version` (`20.10.24+dfsg1`, `27.3.1`, Podman's `5.2.2`).
    pub version: Option<String>,
    /// The running containers; an error when the socket could not be asked (permission:
    /// root or the docker group is needed).
    pub containers: Result<Vec<Container>, ProbeError>,
}

impl Runtime {
    /// The major version, when the runtime said one (`20` of `20.10.24+dfsg1`).
    pub fn major(&self) -> Option<u32> {
        self.version
            .as_deref()
            .and_then(|v| v.split(['.', '+', '-']).next())
            .and_then(|m| m.parse().ok())
    }
}

/// A running container as the runtime's API describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// The first 12 hex digits of its id.
    pub id: String,
    /// Its name without the leading `/`.
    pub name: String,
    pub image: String,
    /// Published ports (`Ports` of `GET /containers/json`).
    pub ports: Vec<Published>,
    /// Its networks with the addresses it has on each.
    pub networks: Vec<ContainerNetwork>,
    /// `State.Pid` of `GET /containers/{id}/json`: a process in its network namespace.
    pub pid: Option<u32>,
    /// The TCP sockets listening in its network namespace; `None` when not looked at
    /// (no PID, or host networking: the host's own sockets are the container's).
    pub listeners: Option<Result<Vec<Listener>, ProbeError>>,
    /// Runs in the host's network namespace (`--network host`): it publishes nothing,
    /// its sockets are the host's.
    #[serde(default)]
    pub host_network: bool,
}

impl Container {
    /// The container's address of a family on its first network that has one.
    pub fn address(&self, family: Family) -> Option<IpAddr> {
        self.networks.iter().find_map(|n| match family {
            Family::V4 => n.ipv4.map(IpAddr::V4),
            Family::V6 => n.ipv6.map(IpAddr::V6),
        })
    }
}

/// One port mapping: host address and port to the container's port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The host address it is published on; `None` for an empty `IP` (every address of
    /// both families, as Podman and older APIs write it).
    pub host_ip: Option<IpAddr>,
    /// The host port; `None` for an exposed port that is not published.
    pub host_port: Option<u16>,
    pub container_port: u16,
    /// `tcp`, `udp`, `sctp`.
    pub proto: String,
}

impl Published {
    /// Whether connections of a family to the host port are meant to reach it: `0.0.0.0`
    /// is IPv4 only, `::` IPv6 only (Docker lists the two as two mappings), empty both.
    pub fn takes(&self, family: Family) -> bool {
        match self.host_ip {
            None => true,
            Some(ip) => Family::of(ip) == family,
        }
    }

    /// `0.0.0.0:8080->80/tcp`, as `docker ps` shows it.
    pub fn describe(&self) -> String {
        let host = match (self.host_ip, self.host_port) {
            (Some(ip), Some(p)) => format!("{}:{p}->", crate::net::bracketed(ip)),
            (None, Some(p)) => format!("{p}->"),
            _ => String::new(),
        };
        format!("{host}{}/{}", self.container_port, self.proto)
    }
}

/// A network a container is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNetwork {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    /// `GlobalIPv6Address`: present only on a network with IPv6 enabled.
    pub ipv6: Option<Ipv6Addr>,
}

/// The settings of `/etc/docker/daemon.json` that decide the families of published
/// ports; `None`: not written (Docker's default applies).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DaemonConfig {
    pub file: PathBuf,
    /// IPv6 on the default bridge.
    pub ipv6: Option<bool>,
    /// Docker writes ip6tables rules (DNAT for published ports); default off before
    /// Docker 27, on since.
    pub ip6tables: Option<bool>,
    pub iptables: Option<bool>,
    /// `docker-proxy` for published ports; default on.
    pub userland_proxy: Option<bool>,
    pub fixed_cidr_v6: Option<String>,
    /// Keys that were there but not of the expected type, for the evidence.
    pub problems: Vec<String>,
}

/// A `docker-proxy` process: one published host address and port, forwarded to a
/// container's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerProxy {
    pub pid: u32,
    pub proto: String,
    pub host_ip: Option<IpAddr>,
    pub host_port: Option<u16>,
    pub container_ip: Option<IpAddr>,
    pub container_port: Option<u16>,
}

impl ContainerFacts {
    /// Every container of every runtime that answered, with its runtime.
    pub fn containers(&self) -> impl Iterator<Item = (&Runtime, &Container)> {
        self.runtimes.iter().flat_map(|r| {
            r.containers
                .as_ref()
                .map(|c| c.as_slice())
                .unwrap_or(&[])
                .iter()
                .map(move |c| (r, c))
        })
    }

    /// The TCP publications of a host port, with their container and runtime.
    pub fn published_on(&self, port: u16) -> Vec<(&Runtime, &Container, &Published)> {
        self.containers()
            .flat_map(|(r, c)| {
                c.ports
                    .iter()
                    .filter(move |p| p.host_port == Some(port) && p.proto == "tcp")
                    .map(move |p| (r, c, p))
            })
            .collect()
    }

    /// The container that owns an address (a `docker-proxy` target).
    pub fn container_at(&self, ip: IpAddr) -> Option<(&Runtime, &Container)> {
        self.containers().find(|(_, c)| {
            c.networks
                .iter()
                .any(|n| n.ipv4.map(IpAddr::V4) == Some(ip) || n.ipv6.map(IpAddr::V6) == Some(ip))
        })
    }

    /// The Docker daemon's settings, when `daemon.json` was read.
    pub fn daemon(&self) -> Option<&DaemonConfig> {
        self.daemon.as_ref().and_then(|d| d.as_ref().ok())
    }
}
