//! Running servers and their configuration: nginx, Apache httpd, HAProxy and Caddy are
//! read from the files their command line names (Caddy's running configuration from
//! its admin endpoint, on loopback); the systemd socket units from the unit
//! directories; and the runtime hints of every process that owns a listening socket.
//! Other web servers are named only.

use super::procfs;
use crate::facts::servers::{
    ApacheInstance, CaddyInstance, CaddySettings, HaproxyInstance, RuntimeHints, SocketUnits,
};
use crate::facts::{Listener, NginxInstance, ProbeError, ProbeErrorKind, WebServers};
use crate::parse::apache;
use crate::parse::caddy::{self, caddyfile};
use crate::parse::haproxy;
use crate::parse::nginx::{self, FsSource, Limits};
use crate::parse::runtime;
use crate::parse::source::{ConfigSource, Input};
use crate::parse::systemd_socket;
use crate::sanitize::clean;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Web servers whose configuration dsdoctor does not read, by process name; Apache,
/// HAProxy and Caddy are read and named too (`others` keeps every server but nginx).
const OTHER_SERVERS: &[&str] = &[
    "apache2", "httpd", "caddy", "lighttpd", "haproxy", "traefik", "envoy",
];
/// Processes whose runtime hints are read: a host has a few owners of listening sockets.
const MAX_RUNTIME_PIDS: usize = 256;
/// Longest wait for Caddy's admin endpoint, inside the probe's own limit.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Gather the web part: the servers' configuration at once, then, when the listening
/// sockets arrive, the runtime hints of their owners.
pub async fn gather(
    limit: Duration,
    listeners: impl Future<Output = Option<Vec<Listener>>>,
) -> Result<WebServers, ProbeError> {
    let servers = tokio::task::spawn_blocking(web_servers);
    let listeners = listeners.await;
    let (mut out, admins) = servers.await.map_err(|e| {
        ProbeError::new(ProbeErrorKind::Failed, format!("probe task failed: {e}"))
    })??;
    for (caddy, admin) in out.caddy.iter_mut().zip(admins) {
        if let Some((addr, url)) = admin {
            caddy.running = Some(running_caddy(addr, &url, limit.min(ADMIN_TIMEOUT)).await);
        }
    }
    if let Some(listeners) = listeners {
        let hints = tokio::task::spawn_blocking(move || runtime_hints(&listeners))
            .await
            .map_err(|e| {
                ProbeError::new(ProbeErrorKind::Failed, format!("probe task failed: {e}"))
            })?;
        out.runtimes = Some(hints);
    }
    Ok(out)
}

/// Where to ask one Caddy for its running configuration, if anywhere.
type AdminTarget = Option<(SocketAddr, crate::probe::isp::http::Url)>;

fn web_servers() -> Result<(WebServers, Vec<AdminTarget>), ProbeError> {
    let sys = procfs::process_table();
    let mut out = WebServers::default();
    let mut admins = Vec::new();
    let limits = Limits::default();
    let src = FsSource::new(&limits);
    for (pid, p) in procfs::in_our_netns(&sys) {
        let (pid, name, cmd) = procfs::described(pid, p);
        if name == "nginx" && cmd.join(" ").starts_with("nginx: master process") {
            let (config_path, _prefix) = nginx::master_config_path(&cmd);
            let config = Ok(nginx::parse_config(&src, &config_path, &limits));
            out.nginx.push(NginxInstance {
                pid,
                config_path: clean(&config_path.to_string_lossy()),
                config,
            });
            continue;
        }
        if !OTHER_SERVERS.contains(&name.as_ref()) {
            continue;
        }
        // Only the parent of a worker pool is interesting.
        let parent_same = p
            .parent()
            .and_then(|pp| sys.process(pp))
            .is_some_and(|pp| pp.name() == p.name());
        if parent_same {
            continue;
        }
        out.others.push((clean(&name), pid));
        match name.as_ref() {
            "apache2" | "httpd" => out.apache.push(read_apache(&src, &limits, pid, &cmd)),
            "haproxy" => out.haproxy.push(read_haproxy(&src, &limits, pid, &cmd)),
            "caddy" => {
                let (instance, admin) = read_caddy(&src, &limits, pid, &cmd);
                out.caddy.push(instance);
                admins.push(admin);
            }
            _ => {}
        }
    }
    out.others.sort();
    out.socket_units = Some(socket_units(&src, &limits));
    Ok((out, admins))
}

/// An environment for `${VAR}`: the process's own, else (without root) Debian's
/// envvars file beside the configuration, which apache2ctl reads before starting.
fn read_apache(src: &FsSource, limits: &Limits, pid: u32, cmd: &[String]) -> ApacheInstance {
    let inv = apache::invocation(cmd);
    let (env, whence) = match procfs::environ(pid) {
        Some(env) => (env, "the process's environment"),
        None => match src.read(&inv.server_root.join("envvars")) {
            Ok(text) => (
                apache::envvars(&text),
                "envvars (the process's environment needs root)",
            ),
            Err(_) => (
                BTreeMap::new(),
                "no variables (the process's environment needs root)",
            ),
        },
    };
    let config = apache::parse_config(&Input::new(src, &env, limits), &inv);
    ApacheInstance {
        pid,
        how: clean(&format!("{}; ${{VAR}} from {whence}", inv.how)),
        config: Ok(config),
    }
}

fn read_haproxy(src: &FsSource, limits: &Limits, pid: u32, cmd: &[String]) -> HaproxyInstance {
    let cwd = procfs::cwd(pid);
    let paths = haproxy::config_paths(cmd, cwd.as_deref());
    let environ = procfs::environ(pid);
    let env = environ.clone().unwrap_or_default();
    let mut config = haproxy::parse_config(&Input::new(src, &env, limits), &paths);
    if environ.is_none() {
        config.problems.push(format!(
            "the environment of pid {pid} needs root: \"${{VAR}}\" read as empty"
        ));
    }
    if cwd.is_none() {
        config.problems.push(format!(
            "the working directory of pid {pid} needs root: relative -f paths taken from /"
        ));
    }
    HaproxyInstance {
        pid,
        config_paths: paths.iter().map(|p| clean(&p.to_string_lossy())).collect(),
        config: Ok(config),
    }
}

fn read_caddy(
    src: &FsSource,
    limits: &Limits,
    pid: u32,
    cmd: &[String],
) -> (CaddyInstance, AdminTarget) {
    let environ = procfs::environ(pid);
    let env = environ.clone().unwrap_or_default();
    let inv = caddy::invocation(cmd, procfs::cwd(pid).as_deref());
    let mut instance = CaddyInstance {
        pid,
        config_path: inv.as_ref().map(|(p, _)| clean(&p.to_string_lossy())),
        adapter: inv.as_ref().and_then(|(_, a)| a.clone()),
        caddyfile: None,
        file_json: None,
        running: None,
        admin: None,
    };
    let mut settings = CaddySettings::default();
    match &inv {
        Some((path, Some(adapter))) if adapter == "caddyfile" => {
            let mut cf = caddyfile::parse_config(&Input::new(src, &env, limits), path);
            if environ.is_none() {
                cf.problems.push(format!(
                    "the environment of pid {pid} needs root: {{$VAR}} read as empty"
                ));
            }
            settings = cf.global.settings.clone();
            instance.caddyfile = Some(Ok(cf));
        }
        Some((path, None)) => {
            let json = src
                .read(path)
                .map_err(|e| clean(&format!("{}: {}", path.display(), e.describe())))
                .and_then(|text| caddy::json::parse(&text));
            if let Ok(j) = &json {
                settings = j.settings.clone();
            }
            instance.file_json = Some(json);
        }
        // Another adapter (yaml, nginx ...): only the running configuration tells.
        _ => {}
    }
    instance.admin = caddy::admin_endpoint(&settings, &env);
    let target = instance.admin.as_deref().and_then(loopback_target);
    (instance, target)
}

/// Caddy's admin endpoint as something to connect to on loopback; `None` for a unix
/// socket or an address that is not this host's loopback (dsdoctor asks nothing else).
fn loopback_target(admin: &str) -> AdminTarget {
    let admin = admin.strip_prefix("tcp/").unwrap_or(admin);
    if admin.contains('/') {
        return None;
    }
    let (host, port) = if let Some(inner) = admin.strip_prefix('[') {
        let (h, p) = inner.split_once("]:")?;
        (h, p)
    } else {
        admin.rsplit_once(':')?
    };
    let port: u16 = port.parse().ok()?;
    let ip: IpAddr = match host {
        "" | "localhost" | "0.0.0.0" | "::" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h.parse().ok().filter(|ip: &IpAddr| ip.is_loopback())?,
    };
    // Caddy checks the Host header against its listen address: name it as configured.
    let host = if host.is_empty() || host == "0.0.0.0" || host == "::" {
        "localhost"
    } else {
        host
    };
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let url = crate::probe::isp::http::Url::parse(&format!("http://{authority}/config/"))?;
    Some((SocketAddr::new(ip, port), url))
}

async fn running_caddy(
    addr: SocketAddr,
    url: &crate::probe::isp::http::Url,
    limit: Duration,
) -> Result<crate::facts::servers::CaddyJson, String> {
    use crate::probe::isp::http::{MAX_BODY, Request, get};
    let req = Request {
        addr,
        url,
        tls: None,
        any_cert: false,
        accept: "application/json",
        limit,
        keep: MAX_BODY,
        pad: 0,
    };
    let fetched = get(&req)
        .await
        .map_err(|e| clean(&format!("admin endpoint {addr}: {}", e.message)))?;
    if fetched.response.status != 200 {
        return Err(format!(
            "admin endpoint {addr} answered {}",
            fetched.response.status
        ));
    }
    if fetched.response.body_truncated {
        return Err(format!(
            "admin endpoint {addr}: configuration larger than {MAX_BODY} bytes, not read"
        ));
    }
    caddy::json::parse(&String::from_utf8_lossy(&fetched.body))
}

fn socket_units(src: &FsSource, limits: &Limits) -> SocketUnits {
    let dirs: Vec<PathBuf> = systemd_socket::UNIT_DIRS
        .iter()
        .map(PathBuf::from)
        .collect();
    systemd_socket::read_units(src, &dirs, limits)
}

/// The hints of every process that owns a listening socket.
fn runtime_hints(listeners: &[Listener]) -> Vec<RuntimeHints> {
    let pids: BTreeSet<u32> = listeners.iter().filter_map(|l| l.pid).collect();
    pids.into_iter()
        .take(MAX_RUNTIME_PIDS)
        .filter_map(|pid| {
            let cmd = procfs::cmdline(pid);
            runtime::hints(pid, &cmd, procfs::environ(pid).as_ref())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With sockets, unlike `testutil::runtime`.
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn admin_targets_are_loopback_only() {
        let t = |s: &str| loopback_target(s).map(|(a, u)| (a.to_string(), u.host_header()));
        assert_eq!(
            t("localhost:2019"),
            Some(("127.0.0.1:2019".into(), "localhost:2019".into()))
        );
        assert_eq!(
            t(":2019"),
            Some(("127.0.0.1:2019".into(), "localhost:2019".into()))
        );
        assert_eq!(
            t("[::1]:2020"),
            Some(("[::1]:2020".into(), "[::1]:2020".into()))
        );
        assert_eq!(
            t("tcp/127.0.0.2:2019").map(|x| x.0),
            Some("127.0.0.2:2019".into())
        );
        assert_eq!(t("192.0.2.1:2019"), None);
        assert_eq!(t("unix//run/caddy.sock"), None);
        assert_eq!(t("localhost"), None);
        assert_eq!(t("example.com:2019"), None);
    }

    /// A stand-in admin endpoint on loopback answers with Caddy's JSON; the probe reads
    /// it, and an error status or garbage is an error, not a crash.
    #[test]
    fn running_configuration_from_the_admin_endpoint() {
        use std::io::{Read, Write};
        let rt = runtime();
        let json = r#"{"apps":{"http":{"servers":{"srv0":{"listen":[":443"],"routes":[{"match":[{"host":["shop.example"]}]}]}}}}}"#;
        for (status, body, ok) in [
            (200, json, true),
            (403, "{}", false),
            (200, "<html>", false),
        ] {
            let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = server.local_addr().unwrap().port();
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let handle = std::thread::spawn(move || {
                let (mut s, _) = server.accept().unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).unwrap();
                s.write_all(reply.as_bytes()).unwrap();
                String::from_utf8_lossy(&buf[..n]).into_owned()
            });
            let (addr, url) = loopback_target(&format!("localhost:{port}")).unwrap();
            let got = rt.block_on(running_caddy(addr, &url, Duration::from_secs(2)));
            let request = handle.join().unwrap();
            assert!(
                request.starts_with("GET /config/ HTTP/1.1\r\n"),
                "{request}"
            );
            assert!(request.contains(&format!("Host: localhost:{port}\r\n")));
            assert_eq!(got.is_ok(), ok, "{got:?}");
            if ok {
                assert_eq!(got.unwrap().servers[0].hosts, vec!["shop.example"]);
            }
        }
        // Nothing listening: an error within the time limit.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let (addr, url) = loopback_target(&format!("127.0.0.1:{port}")).unwrap();
        assert!(
            rt.block_on(running_caddy(addr, &url, Duration::from_secs(1)))
                .is_err()
        );
    }

    /// Runtime hints come from the owners of listening sockets: this test process is
    /// not a runtime dsdoctor knows, a made-up owner is skipped, and nothing blocks.
    #[test]
    fn runtime_hints_of_socket_owners() {
        let l = |pid: Option<u32>| Listener {
            ip: "0.0.0.0".parse().unwrap(),
            port: 80,
            v6only: None,
            uid: 0,
            inode: 1,
            pid,
            process: None,
        };
        let hints = runtime_hints(&[l(Some(std::process::id())), l(None), l(Some(u32::MAX))]);
        assert!(hints.is_empty(), "{hints:?}");
    }

    /// The whole probe on this machine: whatever runs here, it answers in time.
    #[test]
    fn the_probe_answers_on_this_host() {
        let rt = runtime();
        let out = rt
            .block_on(gather(Duration::from_secs(5), async { Some(Vec::new()) }))
            .unwrap();
        assert!(out.socket_units.is_some());
        assert_eq!(out.runtimes, Some(Vec::new()));
        let none = rt
            .block_on(gather(Duration::from_secs(5), async { None }))
            .unwrap();
        assert_eq!(none.runtimes, None);
    }
}
