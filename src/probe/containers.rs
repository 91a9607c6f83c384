//! Container runtimes over their unix-socket API (Docker, Podman's Docker-compatible
//! service), `/etc/docker/daemon.json`, the `docker-proxy` processes, and the sockets
//! listening inside each running container's network namespace.
//!
//! The API is asked with hyper's HTTP/1 connection API over `tokio::net::UnixStream`,
//! one connection per request, every answer bounded in size and the whole under the
//! run's timeout. A socket that does not exist means no such runtime (not an error);
//! one that refuses this user says what is needed (root or the `docker` group).

use crate::facts::containers::{ContainerFacts, DockerProxy, Runtime, RuntimeKind};
use crate::facts::{Listener, ProbeError, ProbeErrorKind};
use crate::parse::containers as parse;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// Largest API answer read (a host with hundreds of containers answers a few hundred KiB).
const MAX_ANSWER: usize = 4 << 20;
/// Largest `daemon.json` read.
const MAX_DAEMON_JSON: u64 = 1 << 20;
/// Containers whose details and sockets are looked at.
const MAX_INSPECTED: usize = 128;

/// Everything the part holds. Never fails as a whole: each runtime carries its own error.
pub async fn gather(limit: Duration) -> ContainerFacts {
    let deadline = Instant::now() + limit;
    let mut runtimes = Vec::new();
    for (kind, socket) in sockets() {
        runtimes.push(ask_runtime(kind, socket, deadline).await);
    }
    let daemon = tokio::task::spawn_blocking(read_daemon_json)
        .await
        .ok()
        .flatten();
    let proxies = tokio::task::spawn_blocking(docker_proxies)
        .await
        .unwrap_or_default();
    // The sockets inside the containers: each namespace is entered by a thread of its own.
    let pids: Vec<(usize, usize, u32)> = runtimes
        .iter()
        .enumerate()
        .flat_map(|(r, rt)| {
            rt.containers
                .as_ref()
                .map(|cs| cs.as_slice())
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.host_network)
                .filter_map(move |(i, c)| c.pid.map(|p| (r, i, p)))
        })
        .take(MAX_INSPECTED)
        .collect();
    let left = deadline.saturating_duration_since(Instant::now());
    let found = super::blocking(left, "container sockets", move || {
        Ok(pids
            .into_iter()
            .map(|(r, i, pid)| (r, i, listeners_in(pid)))
            .collect::<Vec<_>>())
    })
    .await;
    match found.result {
        Ok(found) => {
            for (r, i, l) in found {
                if let Ok(cs) = runtimes[r].containers.as_mut()
                    && let Some(c) = cs.get_mut(i)
                {
                    c.listeners = Some(l);
                }
            }
        }
        Err(e) => {
            for c in runtimes
                .iter_mut()
                .filter_map(|r| r.containers.as_mut().ok())
                .flatten()
                .filter(|c| c.pid.is_some() && !c.host_network)
            {
                c.listeners = Some(Err(e.clone()));
            }
        }
    }
    ContainerFacts {
        runtimes,
        daemon,
        proxies,
    }
}

/// The path of a `unix://` URL (`DOCKER_HOST`, `CONTAINER_HOST`); `None` for TCP or ssh.
fn unix_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("unix://")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// The sockets to ask, as the clients find them: `DOCKER_HOST` replaces Docker's
/// default as the docker CLI does; Podman's root and rootless sockets and
/// `CONTAINER_HOST`. Only sockets that exist, each once.
fn sockets() -> Vec<(RuntimeKind, PathBuf)> {
    let env = |k: &str| std::env::var(k).ok();
    let docker = match env("DOCKER_HOST") {
        Some(h) => unix_path(&h).into_iter().collect::<Vec<_>>(),
        None => vec![PathBuf::from("/var/run/docker.sock")],
    };
    let mut podman: Vec<PathBuf> = env("CONTAINER_HOST")
        .and_then(|h| unix_path(&h))
        .into_iter()
        .collect();
    podman.push(PathBuf::from("/run/podman/podman.sock"));
    if let Some(x) = env("XDG_RUNTIME_DIR") {
        podman.push(Path::new(&x).join("podman/podman.sock"));
    }
    let mut out: Vec<(RuntimeKind, PathBuf)> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    let all = docker
        .into_iter()
        .map(|p| (RuntimeKind::Docker, p))
        .chain(podman.into_iter().map(|p| (RuntimeKind::Podman, p)));
    for (kind, p) in all {
        use std::os::unix::fs::FileTypeExt;
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.file_type().is_socket() {
            continue;
        }
        // /var/run is /run: Docker's socket and a Podman socket linked to it are one.
        let real = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        out.push((kind, p));
    }
    out
}

async fn ask_runtime(kind: RuntimeKind, socket: PathBuf, deadline: Instant) -> Runtime {
    let version = get(&socket, "/version", deadline)
        .await
        .ok()
        .and_then(|b| parse::version(&b));
    // Podman's compatible service answers Docker's paths; its /version says Podman in
    // `Components`, which is not needed: the socket's path said which runtime it is.
    let containers = match get(&socket, "/containers/json", deadline).await {
        Ok(body) => parse::containers(&body).map_err(|e| {
            ProbeError::new(ProbeErrorKind::Failed, format!("{}: {e}", socket.display()))
        }),
        Err(e) => Err(e),
    };
    let containers = match containers {
        Ok(mut cs) => {
            for c in cs.iter_mut().take(MAX_INSPECTED) {
                let path = format!("/containers/{}/json", c.id);
                if c.id.chars().all(|ch| ch.is_ascii_hexdigit()) && !c.id.is_empty() {
                    c.pid = get(&socket, &path, deadline)
                        .await
                        .ok()
                        .and_then(|b| parse::inspect_pid(&b));
                }
            }
            Ok(cs)
        }
        Err(e) => Err(e),
    };
    Runtime {
        kind,
        socket,
        version,
        containers,
    }
}

/// One `GET` over a new connection to the socket, the answer bounded.
async fn get(socket: &Path, path: &str, deadline: Instant) -> Result<Vec<u8>, ProbeError> {
    let what = socket.display().to_string();
    let work = async {
        let stream = tokio::net::UnixStream::connect(socket).await.map_err(|e| {
            super::io_error_needing(
                &format!("connect {what}"),
                &e,
                "asking the container runtime needs root or the docker group",
            )
        })?;
        let failed = |e: hyper::Error| {
            ProbeError::new(ProbeErrorKind::Failed, format!("{what} {path}: {e}"))
        };
        let (mut send, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(64 * 1024)
            .handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(failed)?;
        let _task = super::ConnTask::drive(conn);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, "docker")
            .body(Empty::<Bytes>::new())
            .map_err(|e| ProbeError::new(ProbeErrorKind::Failed, format!("{path}: {e}")))?;
        let response = send.send_request(request).await.map_err(failed)?;
        let status = response.status();
        let mut body = response.into_body();
        let mut out: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(failed)?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > MAX_ANSWER {
                    return Err(ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!("{what} {path}: answer larger than {MAX_ANSWER} bytes"),
                    ));
                }
                out.extend_from_slice(&data);
            }
        }
        if !status.is_success() {
            return Err(ProbeError::new(
                ProbeErrorKind::Failed,
                format!("{what} {path}: HTTP {}", status.as_u16()),
            ));
        }
        Ok(out)
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(ProbeError::new(
            ProbeErrorKind::Timeout,
            format!("{what} {path}: no answer in time"),
        )),
    }
}

fn read_daemon_json() -> Option<Result<crate::facts::containers::DaemonConfig, String>> {
    let file = Path::new("/etc/docker/daemon.json");
    let f = match std::fs::File::open(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{}: {e}", file.display()))),
        Ok(f) => f,
    };
    let mut text = String::new();
    if let Err(e) = f.take(MAX_DAEMON_JSON).read_to_string(&mut text) {
        return Some(Err(format!("{}: {e}", file.display())));
    }
    Some(parse::daemon_json(file, &text))
}

/// The `docker-proxy` processes with their arguments.
fn docker_proxies() -> Vec<DockerProxy> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "docker-proxy")
        })
        .take(4096)
        .map(|pid| parse::docker_proxy(pid, &super::procfs::cmdline(pid)))
        .collect()
}

/// The listening TCP sockets in the network namespace of `pid`: a thread of its own
/// enters the namespace (setns acts on the calling thread only, and a thread of the
/// async runtime must never change namespace), dumps the sockets with sock_diag
/// there, and ends.
fn listeners_in(pid: u32) -> Result<Vec<Listener>, ProbeError> {
    let ns = format!("/proc/{pid}/ns/net");
    let file = std::fs::File::open(&ns).map_err(|e| {
        super::io_error_needing(
            &format!("open {ns}"),
            &e,
            "entering a container's network namespace needs root",
        )
    })?;
    let thread = std::thread::Builder::new()
        .name("dsdoctor-netns".into())
        .spawn(move || {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                let kind = if e == nix::errno::Errno::EPERM {
                    ProbeErrorKind::Permission
                } else {
                    ProbeErrorKind::Failed
                };
                ProbeError::new(
                    kind,
                    format!(
                        "setns into {ns}: {e} (entering a container's network namespace needs root)"
                    ),
                )
            })?;
            super::listeners::dump_listeners()
        })
        .map_err(|e| super::io_error("start a thread", &e))?;
    thread.join().unwrap_or_else(|_| {
        Err(ProbeError::new(
            ProbeErrorKind::Failed,
            "the namespace thread panicked",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_urls_only() {
        assert_eq!(
            unix_path("unix:///run/user/1000/podman/podman.sock"),
            Some(PathBuf::from("/run/user/1000/podman/podman.sock"))
        );
        assert_eq!(unix_path("tcp://10.0.0.1:2375"), None);
        assert_eq!(unix_path("unix://"), None);
    }

    /// The sockets of this test's own network namespace, seen by the namespace thread
    /// through `/proc/self`: the thread's setns into its own namespace changes nothing,
    /// so a socket this test opens must be among them.
    #[test]
    fn own_namespace_through_setns() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        match listeners_in(std::process::id()) {
            Ok(found) => assert!(found.iter().any(|s| s.port == port), "{found:?}"),
            // Without CAP_SYS_ADMIN setns refuses even one's own namespace.
            Err(e) => assert_eq!(e.kind, ProbeErrorKind::Permission, "{e:?}"),
        }
    }

    /// A real unix-socket server answering as Docker's API does: the probe reads the
    /// list, the details and the version, and refuses an oversized answer.
    #[tokio::test]
    async fn asks_a_docker_compatible_socket() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = std::env::temp_dir().join(format!("dsdoctor-api-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("docker.sock");
        let _ = std::fs::remove_file(&sock);
        let server = tokio::net::UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = server.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    let body = if req.starts_with("GET /version") {
                        r#"{"Version":"20.10.24+dfsg1"}"#.to_string()
                    } else if req.starts_with("GET /containers/json") {
                        crate::parse::containers::LIST_20_10.to_string()
                    } else {
                        r#"{"State":{"Pid":4321}}"#.to_string()
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(body.as_bytes()).await;
                });
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        let r = ask_runtime(RuntimeKind::Docker, sock.clone(), deadline).await;
        assert_eq!(r.major(), Some(20));
        let cs = r.containers.unwrap();
        assert_eq!(cs[0].name, "web");
        assert_eq!(cs[0].pid, Some(4321));
        let _ = std::fs::remove_file(&sock);
        let missing = get(&dir.join("none.sock"), "/version", deadline).await;
        assert_eq!(missing.unwrap_err().kind, ProbeErrorKind::Missing);
    }
}
