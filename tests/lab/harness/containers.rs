//! A container behind Docker's bridge, made without Docker (no engine runs on this kind
//! of machine): the lab's container namespace (`Lab::add_container`, joined by a veth to
//! the bridge `docker0` in srv), addresses as Docker's default bridge gives them (172.17.0.0/16, and
//! fd00:d0c::/64 with IPv6), the iptables/ip6tables rules Docker writes for a published
//! port (`tests/fixtures/containers/`, each citing the moby code that writes it), the
//! real `docker-proxy` from Debian's docker.io where the userland proxy applies, and
//! `tests/support/docker_api.py` answering Docker's API on a unix socket that dsdoctor
//! finds through `DOCKER_HOST`, with the real PID of the program in the namespace.
//!
//! ```text
//!   srv                                            <srv>-ctr ("web")
//!   docker0 172.17.0.1/16, fd00:d0c::1/64          eth0 172.17.0.2/16, fd00:d0c::2/64
//!      └── vethctr ----------------------------------┘   listener on :80
//! ```
//!
//! The namespace is created by the lab and deleted at teardown with the others.

use super::*;
use std::path::{Path, PathBuf};

/// The host port published to the container's port 80.
pub const PUBLISHED: u16 = 8080;

/// What the lab's Docker looks like.
pub struct Docker<'a> {
    /// `GET /version`'s answer (`20.10.24+dfsg1`, `27.3.1`).
    pub version: &'a str,
    /// `/etc/docker/daemon.json` as dsdoctor reads it (`{}`: Docker's defaults).
    pub daemon_json: &'a str,
    /// The host addresses of the mappings the API lists (`"0.0.0.0"`, `"::"`).
    pub mappings: &'a [&'a str],
    /// The container has an IPv6 address on the bridge.
    pub container_v6: bool,
    /// Docker wrote the IPv6 rules (ip6tables on, container with IPv6).
    pub v6_rules: bool,
    /// docker-proxy runs for these host addresses (the userland proxy is on).
    pub proxies: &'a [&'a str],
    /// The address the program in the container listens on (`::` takes both families).
    pub inside: &'a str,
}

impl Lab {
    /// Build the container (`Lab::add_container`) and what Docker would have made
    /// around it; returns the API socket.
    pub fn start_docker(&mut self, d: &Docker) -> PathBuf {
        self.add_container(d.container_v6);
        let ctr = self.ns(Ns::Ctr).to_string();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/containers");
        let v4 = fixtures.join("docker-port.v4.rules").display().to_string();
        // No `-w`: iptables-restore takes the next word as its optional wait time.
        self.exec_ok(Ns::Srv, &["iptables-restore", &v4]);
        if d.v6_rules {
            let v6 = fixtures
                .join("docker-27-port.v6.rules")
                .display()
                .to_string();
            self.exec_ok(Ns::Srv, &["ip6tables-restore", &v6]);
        }

        // The program in the container.
        let ready = self.dir().join("ctr-web.ready");
        let v6only = if d.inside == "::" { "0" } else { "default" };
        let mut argv: Vec<String> = vec!["ip".into(), "netns".into(), "exec".into(), ctr.clone()];
        argv.extend(support_command(
            "listener.py",
            &[
                &ready.display().to_string(),
                d.inside,
                "80",
                v6only,
                "served by container web\n",
            ],
        ));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        let pid = self.spawn_ready(Ns::Srv, "ctr-web", &refs, &ready);

        for (i, host_ip) in d.proxies.iter().enumerate() {
            let label = format!("docker-proxy-{i}");
            let port = PUBLISHED.to_string();
            // docker-proxy reports its start on fd 3 to the daemon and closes it: without
            // an fd 3 of its own it would close its listening socket instead.
            self.spawn(
                Ns::Srv,
                &label,
                &[
                    "sh",
                    "-c",
                    "exec \"$0\" \"$@\" 3>/dev/null",
                    "/usr/sbin/docker-proxy",
                    "-proto",
                    "tcp",
                    "-host-ip",
                    host_ip,
                    "-host-port",
                    &port,
                    "-container-ip",
                    CTR_V4,
                    "-container-port",
                    "80",
                ],
            );
            let want = format!(
                "{}:{PUBLISHED}",
                if host_ip.contains(':') {
                    format!("[{host_ip}]")
                } else {
                    host_ip.to_string()
                }
            );
            self.wait_ready(&label, |lab| {
                let ls = lab.ss_listen(Ns::Srv);
                if ls.iter().any(|l| l.contains(&want)) {
                    Ok(())
                } else {
                    Err(format!("{want} not listening: {ls:?}"))
                }
            });
        }

        self.write_boot_etc("docker/daemon.json", d.daemon_json, 0o644);
        let list = serde_json::json!([{
            "Id": "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f",
            "Names": ["/web"],
            "Image": "nginx:alpine",
            "ImageID": "sha256:0f2ab1c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f",
            "Command": "/docker-entrypoint.sh nginx -g 'daemon off;'",
            "Created": 1764460800,
            "State": "running",
            "Status": "Up 5 minutes",
            "Ports": d.mappings.iter().map(|ip| serde_json::json!({
                "IP": ip, "PrivatePort": 80, "PublicPort": PUBLISHED, "Type": "tcp"
            })).collect::<Vec<_>>(),
            "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {"bridge": {
                "NetworkID": "9c5e0a6f0b1d",
                "Gateway": "172.17.0.1",
                "IPAddress": CTR_V4,
                "IPPrefixLen": 16,
                "IPv6Gateway": if d.container_v6 { "fd00:d0c::1" } else { "" },
                "GlobalIPv6Address": if d.container_v6 { CTR_V6 } else { "" },
                "GlobalIPv6PrefixLen": if d.container_v6 { 64 } else { 0 },
                "MacAddress": "02:42:ac:11:00:02"
            }}}
        }]);
        let list_path = self.dir().join("containers.json");
        write_file(&list_path, &list.to_string());
        let sock = self.dir().join("docker.sock");
        let pid_s = pid.to_string();
        self.start_support(
            Ns::Srv,
            "docker-api",
            "docker_api.py",
            &[
                &sock.display().to_string(),
                &list_path.display().to_string(),
                d.version,
                &pid_s,
            ],
        );
        sock
    }

    /// `dsdoctor check -p 8080` in srv with `DOCKER_HOST` naming the lab's API socket.
    pub fn check_with_docker(&self, sock: &Path) -> CheckRun {
        self.check_with_docker_as(RunAs::Root, sock)
    }

    /// Where `check_with_docker` saves the facts of a run as root.
    pub fn docker_facts(&self) -> PathBuf {
        self.dir().join("docker-facts.json")
    }

    /// `check_with_docker` as `user`; a run as root also saves its facts
    /// ([`Lab::docker_facts`]), so a replay can be compared with it.
    pub fn check_with_docker_as(&self, user: RunAs, sock: &Path) -> CheckRun {
        let port = PUBLISHED.to_string();
        let facts = self.docker_facts().display().to_string();
        let mut extra = vec!["-p", port.as_str()];
        if user == RunAs::Root {
            extra.extend(["--save-facts", facts.as_str()]);
        }
        let args = Self::check_args(&extra);
        let host = format!("DOCKER_HOST=unix://{}", sock.display());
        let (code, stdout, stderr) = self.run_in_srv(user, &["env", &host, DSDOCTOR], &args);
        let run = CheckRun::parse(&format!("{args:?}"), code, stdout, stderr);
        self.assert_fixes_concrete(&run);
        validate_report(&run);
        run
    }
}
