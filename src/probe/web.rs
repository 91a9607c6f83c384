//! Running web servers and their configuration (nginx is read; others are named).

use crate::facts::{NginxInstance, ProbeError, WebServers};
use crate::parse::nginx::{self, FsSource, Limits};
use crate::sanitize::clean;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// Web servers whose configuration dsdoctor does not read (yet), by process name.
const OTHER_SERVERS: &[&str] = &[
    "apache2", "httpd", "caddy", "lighttpd", "haproxy", "traefik", "envoy",
];

pub fn web_servers() -> Result<WebServers, ProbeError> {
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always),
    );
    let mut out = WebServers::default();
    let our_netns = std::fs::read_link("/proc/self/ns/net").ok();
    for (pid, p) in sys.processes() {
        // Another network namespace (a container, a test lab) has its own sockets and
        // its own web server: its configuration says nothing about this host's ports.
        // Without permission to read the link, the process is kept.
        if let (Some(ours), Ok(theirs)) = (
            &our_netns,
            std::fs::read_link(format!("/proc/{pid}/ns/net")),
        ) {
            if *ours != theirs {
                continue;
            }
        }
        let name = p.name().to_string_lossy();
        let cmd: Vec<String> = p
            .cmd()
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let joined = cmd.join(" ");
        if name == "nginx" && joined.starts_with("nginx: master process") {
            let (config_path, _prefix) = nginx::master_config_path(&cmd);
            let limits = Limits::default();
            let config = Ok(nginx::parse_config(
                &FsSource::new(&limits),
                &config_path,
                &limits,
            ));
            out.nginx.push(NginxInstance {
                pid: pid.as_u32(),
                config_path: clean(&config_path.to_string_lossy()),
                config,
            });
        } else if OTHER_SERVERS.contains(&name.as_ref()) {
            // Only the parent of a worker pool is interesting.
            let parent_same = p
                .parent()
                .and_then(|pp| sys.process(pp))
                .is_some_and(|pp| pp.name() == p.name());
            if !parent_same {
                out.others.push((clean(&name), pid.as_u32()));
            }
        }
    }
    out.nginx.sort_by_key(|n| n.pid);
    out.others.sort();
    Ok(out)
}
