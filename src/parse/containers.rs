//! The container runtime's answers and settings, read as data: Docker Engine API's
//! `GET /containers/json` (its `ContainerSummary`: `Id`, `Names`, `Image`, `Ports` with
//! `IP`/`PrivatePort`/`PublicPort`/`Type`, `NetworkSettings.Networks` with `IPAddress` and
//! `GlobalIPv6Address`, `HostConfig.NetworkMode`), `GET /containers/{id}/json`
//! (`State.Pid`), `GET /version` (`Version`), Podman's compatible API answering the
//! same shapes; `/etc/docker/daemon.json`; and `docker-proxy`'s command line
//! (`-proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2
//! -container-port 80`, as moby's `portmapper` starts it).
//!
//! Everything here comes from outside: sizes are bounded, strings cleaned, and
//! whatever does not have the expected type is left out, never a panic.

use super::json_fields::{elements, members, parsed};
use crate::facts::containers::{Container, ContainerNetwork, DaemonConfig, DockerProxy, Published};
use crate::sanitize::clean;
use serde_json::Value;
use std::path::Path;

/// Containers kept from one answer.
pub const MAX_CONTAINERS: usize = 512;
/// Port mappings kept per container.
const MAX_PORTS: usize = 256;
/// Networks kept per container.
const MAX_NETWORKS: usize = 32;
/// Longest name, image or id kept.
const MAX_TEXT: usize = 128;

fn text(v: Option<&Value>) -> String {
    let s = v.and_then(Value::as_str).unwrap_or("");
    clean(&s.chars().take(MAX_TEXT).collect::<String>())
}

fn port(v: Option<&Value>) -> Option<u16> {
    v.and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
}

/// `GET /containers/json`: the running containers.
pub fn containers(body: &[u8]) -> Result<Vec<Container>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(list) = v.as_array() else {
        return Err("not a list of containers".into());
    };
    Ok(list
        .iter()
        .filter(|c| c.is_object())
        .take(MAX_CONTAINERS)
        .map(container)
        .collect())
}

fn container(c: &Value) -> Container {
    let id: String = text(c.get("Id")).chars().take(12).collect();
    let name = elements(c.get("Names"))
        .first()
        .map(|n| text(Some(n)).trim_start_matches('/').to_string())
        .unwrap_or_default();
    let ports = elements(c.get("Ports"))
        .iter()
        .filter_map(|p| {
            Some(Published {
                // Docker writes "" for an exposed, unpublished port; Podman may leave the
                // key out for "every address".
                host_ip: parsed(p.get("IP")),
                host_port: port(p.get("PublicPort")).filter(|p| *p != 0),
                container_port: port(p.get("PrivatePort"))?,
                proto: {
                    let t = text(p.get("Type")).to_ascii_lowercase();
                    if t.is_empty() { "tcp".into() } else { t }
                },
            })
        })
        .take(MAX_PORTS)
        .collect();
    let networks = members(c.pointer("/NetworkSettings/Networks"))
        .take(MAX_NETWORKS)
        .map(|(name, n)| ContainerNetwork {
            name: clean(&name.chars().take(MAX_TEXT).collect::<String>()),
            ipv4: parsed(n.get("IPAddress")),
            ipv6: parsed(n.get("GlobalIPv6Address")),
        })
        .collect();
    let host_network = c
        .pointer("/HostConfig/NetworkMode")
        .and_then(Value::as_str)
        .is_some_and(|m| m == "host");
    Container {
        id,
        name,
        image: text(c.get("Image")),
        ports,
        networks,
        pid: None,
        listeners: None,
        host_network,
    }
}

/// `GET /containers/{id}/json`: the PID of the container's first process (0 when it
/// does not run).
pub fn inspect_pid(body: &[u8]) -> Option<u32> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.pointer("/State/Pid")
        .and_then(Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p > 0)
}

/// `GET /version`: the engine's version.
pub fn version(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let s = text(v.get("Version"));
    (!s.is_empty()).then_some(s)
}

/// `/etc/docker/daemon.json`, read leniently: a key of another type is a problem noted,
/// not a failure; only text that is no JSON object at all is an error.
pub fn daemon_json(file: &Path, body: &str) -> Result<DaemonConfig, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(o) = v.as_object() else {
        return Err("not a JSON object".into());
    };
    let mut problems = Vec::new();
    let mut flag = |key: &str| match o.get(key) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            problems.push(clean(&format!(
                "{key}: expected true or false, found {}",
                other.to_string().chars().take(40).collect::<String>()
            )));
            None
        }
    };
    let ipv6 = flag("ipv6");
    let ip6tables = flag("ip6tables");
    let iptables = flag("iptables");
    let userland_proxy = flag("userland-proxy");
    let fixed_cidr_v6 = o
        .get("fixed-cidr-v6")
        .and_then(Value::as_str)
        .map(|s| text(Some(&Value::String(s.to_string()))));
    Ok(DaemonConfig {
        file: file.to_path_buf(),
        ipv6,
        ip6tables,
        iptables,
        userland_proxy,
        fixed_cidr_v6,
        problems,
    })
}

/// `docker-proxy`'s arguments (Go's flag syntax: `-name value`, `--name value`,
/// `-name=value`).
pub fn docker_proxy(pid: u32, args: &[String]) -> DockerProxy {
    let mut out = DockerProxy {
        pid,
        proto: "tcp".into(),
        host_ip: None,
        host_port: None,
        container_ip: None,
        container_port: None,
    };
    let mut it = args.iter().skip(1).take(64);
    while let Some(a) = it.next() {
        let flag = a.trim_start_matches('-');
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let known = matches!(
            name,
            "proto" | "host-ip" | "host-port" | "container-ip" | "container-port"
        );
        if !known {
            continue;
        }
        let Some(value) = value.or_else(|| it.next().cloned()) else {
            break;
        };
        match name {
            "proto" => out.proto = clean(&value.chars().take(8).collect::<String>()),
            "host-ip" => out.host_ip = value.parse().ok(),
            "host-port" => out.host_port = value.parse().ok(),
            "container-ip" => out.container_ip = value.parse().ok(),
            _ => out.container_port = value.parse().ok(),
        }
    }
    out
}

/// A `docker ps` of Docker 20.10 on Debian 12: the default bridge without IPv6, one
/// port published on both families (the API lists 0.0.0.0 and :: as two mappings).
#[cfg(test)]
pub const LIST_20_10: &str = r#"[{"Id":"3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f","Names":["/web"],"Image":"nginx:alpine","State":"running","Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":443,"Type":"tcp"}],"HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.2","GlobalIPv6Address":"","Gateway":"172.17.0.1"}}}}]"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    #[test]
    fn docker_list_gives_ports_and_addresses() {
        let c = containers(LIST_20_10.as_bytes()).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id, "3f2a9c1d8e7b");
        assert_eq!(c[0].name, "web");
        assert_eq!(c[0].ports.len(), 3);
        assert_eq!(c[0].ports[0].describe(), "0.0.0.0:8080->80/tcp");
        assert_eq!(c[0].ports[1].describe(), "[::]:8080->80/tcp");
        assert_eq!(c[0].ports[2].host_port, None);
        assert_eq!(c[0].networks[0].ipv4.unwrap().to_string(), "172.17.0.2");
        assert_eq!(c[0].networks[0].ipv6, None);
        assert!(!c[0].host_network);
    }

    #[test]
    fn inspect_and_version() {
        assert_eq!(
            inspect_pid(br#"{"State":{"Pid":4242,"Running":true}}"#),
            Some(4242)
        );
        assert_eq!(inspect_pid(br#"{"State":{"Pid":0}}"#), None);
        assert_eq!(
            version(br#"{"Version":"27.3.1","ApiVersion":"1.47"}"#).as_deref(),
            Some("27.3.1")
        );
    }

    #[test]
    fn daemon_json_is_read_leniently() {
        let d = daemon_json(
            Path::new("/etc/docker/daemon.json"),
            r#"{"ipv6": true, "ip6tables": "yes", "userland-proxy": false, "fixed-cidr-v6": "fd00:d0c::/64", "log-driver": "journald"}"#,
        )
        .unwrap();
        assert_eq!(d.ipv6, Some(true));
        assert_eq!(d.ip6tables, None);
        assert_eq!(d.userland_proxy, Some(false));
        assert_eq!(d.fixed_cidr_v6.as_deref(), Some("fd00:d0c::/64"));
        assert_eq!(d.problems.len(), 1);
        assert!(daemon_json(Path::new("x"), "[1]").is_err());
    }

    #[test]
    fn docker_proxy_command_line() {
        let args: Vec<String> = "/usr/bin/docker-proxy -proto tcp -host-ip :: -host-port 8080 -container-ip 172.17.0.2 -container-port=80"
            .split(' ')
            .map(String::from)
            .collect();
        let p = docker_proxy(7, &args);
        assert_eq!(p.host_ip, Some("::".parse().unwrap()));
        assert_eq!(p.host_port, Some(8080));
        assert_eq!(p.container_ip, Some("172.17.0.2".parse().unwrap()));
        assert_eq!(p.container_port, Some(80));
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_container_list_never_panics_and_keeps_names_inert(body in inputs::mutated(vec![LIST_20_10])) {
            if let Ok(cs) = containers(&body) {
                for c in cs {
                    assert!(is_inert(&c.name) && is_inert(&c.image) && is_inert(&c.id));
                    assert!(c.ports.len() <= MAX_PORTS);
                    for n in &c.networks {
                        assert!(is_inert(&n.name));
                    }
                }
            }
            let _ = inspect_pid(&body);
            if let Some(v) = version(&body) {
                assert!(is_inert(&v));
            }
            let text = String::from_utf8_lossy(&body);
            if let Ok(d) = daemon_json(Path::new("/etc/docker/daemon.json"), &text) {
                for p in d.problems.iter().chain(d.fixed_cidr_v6.iter()) {
                    assert!(is_inert(p));
                }
            }
            let args: Vec<String> = text.split(' ').map(String::from).collect();
            assert!(is_inert(&docker_proxy(1, &args).proto));
        }
    }
}
