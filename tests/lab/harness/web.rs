//! Web servers in srv: nginx with a configuration of the lab's own (started, reloaded,
//! stopped by the master's pid), "a service on port N" (tests/support/listener.py), a
//! server whose body never ends; and HTTP/TCP probes from any lab namespace.

use super::process::{
    READY_TIMEOUT, children_of, process_alive, signal, support_command, write_file,
};
use super::topology::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// nginx `server` body that listens on both families (`[::]:80` is IPV6_V6ONLY in nginx).
pub const NGINX_LISTEN_DUAL: &str = "listen 80;\n    listen [::]:80;";
/// nginx `server` body that listens on IPv4 only: the classic cause of "IPv6 doesn't work".
pub const NGINX_LISTEN_V4_ONLY: &str = "listen 80;";
/// What the lab's nginx site answers on `/`.
pub const NGINX_BODY: &str = "shop.lab.example served by the dsdoctor lab nginx\n";

impl Lab {
    // ----- nginx ---------------------------------------------------------------------------

    /// Path of nginx's main configuration (`-c`).
    pub fn nginx_conf_path(&self) -> PathBuf {
        self.dir().join("nginx/nginx.conf")
    }

    /// Path of the site file the main configuration includes (`sites/*.conf`).
    pub fn nginx_site_path(&self) -> PathBuf {
        self.dir().join("nginx/sites/shop.conf")
    }

    /// The site file for a `server` whose listen directives are `server_body`
    /// (e.g. [`NGINX_LISTEN_DUAL`]): they stand on line 3.
    pub fn nginx_site(server_body: &str) -> String {
        format!(
            "# shop.lab.example (written by the dsdoctor test lab)\nserver {{\n    {server_body}\n    server_name {DOMAIN};\n\n    location / {{\n        return 200 \"{}\";\n    }}\n}}\n",
            NGINX_BODY.replace('\n', "\\n")
        )
    }

    fn write_nginx_files(&self, site: &str) {
        let n = self.dir().join("nginx");
        for d in ["", "sites", "tmp", "logs"] {
            let p = n.join(d);
            fs::create_dir_all(&p)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", p.display()));
            let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o755));
        }
        let nd = n.display();
        let main = format!(
            "# dsdoctor lab nginx main configuration (generated)\n\
             worker_processes 1;\n\
             pid {nd}/nginx.pid;\n\
             error_log {nd}/error.log notice;\n\
             \n\
             events {{\n    worker_connections 128;\n}}\n\
             \n\
             http {{\n\
             \x20   default_type text/plain;\n\
             \x20   access_log {nd}/logs/access.log;\n\
             \x20   client_body_temp_path {nd}/tmp/body;\n\
             \x20   proxy_temp_path {nd}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {nd}/tmp/fastcgi;\n\
             \x20   uwsgi_temp_path {nd}/tmp/uwsgi;\n\
             \x20   scgi_temp_path {nd}/tmp/scgi;\n\
             \n\
             \x20   include {nd}/sites/*.conf;\n\
             }}\n"
        );
        write_file(&self.nginx_conf_path(), &main);
        write_file(&self.nginx_site_path(), site);
    }

    /// How many workers nginx's error log says it started, and its `[emerg]`/`[alert]`
    /// lines.
    fn nginx_worker_starts(&self) -> (usize, Vec<String>) {
        let log = fs::read_to_string(self.dir().join("nginx/error.log")).unwrap_or_default();
        let starts = log.matches("start worker process").count();
        let emerg = log
            .lines()
            .filter(|l| l.contains("[emerg]") || l.contains("[alert]"))
            .map(str::to_string)
            .collect();
        (starts, emerg)
    }

    /// Start nginx in srv with a `server` whose listen directives are `server_body`
    /// (e.g. `"listen 80;"` or [`NGINX_LISTEN_DUAL`]); waits until its workers run (all its
    /// sockets are open by then). Returns the master's pid.
    pub fn start_nginx(&mut self, server_body: &str) -> u32 {
        self.start_nginx_raw(&Self::nginx_site(server_body))
    }

    /// Start nginx in srv with `site` as the whole content of `sites/shop.conf`, in the
    /// foreground (`daemon off`: its pid is the master's, and it stops cleanly).
    pub fn start_nginx_raw(&mut self, site: &str) -> u32 {
        assert!(self.pid_of("nginx").is_none(), "lab: nginx already runs");
        self.write_nginx_files(site);
        let n = self.dir().join("nginx");
        let prefix = format!("{}/", n.display());
        let err = format!("{}/error.log", n.display());
        let conf = self.nginx_conf_path().display().to_string();
        let _ = fs::remove_file(&err);
        let pid = self.spawn(
            Ns::Srv,
            "nginx",
            &[
                "nginx",
                "-p",
                &prefix,
                "-e",
                &err,
                "-c",
                &conf,
                "-g",
                "daemon off;",
            ],
        );
        self.wait_nginx_workers(0, &[]);
        pid
    }

    /// Rewrite the site (listen directives `server_body`) and reload nginx (SIGHUP to the
    /// recorded master); waits until new workers run and the old ones are gone.
    pub fn reload_nginx(&mut self, server_body: &str) {
        let master = self
            .pid_of("nginx")
            .expect("lab: reload_nginx needs a running nginx (start_nginx first)");
        self.write_nginx_files(&Self::nginx_site(server_body));
        let old_workers = children_of(master);
        let (before, old_emerg) = self.nginx_worker_starts();
        signal(master, "HUP");
        self.wait_nginx_workers(before, &old_emerg);
        let deadline = Instant::now() + READY_TIMEOUT;
        while old_workers.iter().any(|p| process_alive(*p)) {
            if Instant::now() > deadline {
                panic!("lab: old nginx workers {old_workers:?} still run 10 s after reload");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until nginx started more workers than `before`; a new `[emerg]` line (one not
    /// in `old_emerg`) means it rejected its configuration.
    fn wait_nginx_workers(&mut self, before: usize, old_emerg: &[String]) {
        self.wait_ready("nginx", |lab| {
            let (starts, emerg) = lab.nginx_worker_starts();
            let new_emerg: Vec<&String> = emerg.iter().filter(|l| !old_emerg.contains(l)).collect();
            assert!(
                new_emerg.is_empty(),
                "lab: nginx rejected its configuration: {new_emerg:?}\n{}",
                lab.logs_of("nginx")
            );
            if starts > before {
                Ok(())
            } else {
                Err("no new worker started".to_string())
            }
        });
    }

    /// Stop nginx (SIGTERM to the master, which stops its workers).
    pub fn stop_nginx(&mut self) {
        self.stop("nginx");
    }

    // ----- other servers -------------------------------------------------------------------

    /// Start "a service on port N" in srv: a small TCP listener bound to `addr`
    /// (`"0.0.0.0"`, `"::"`, `"203.0.113.10"`, ...). For IPv6 addresses `v6only` sets
    /// IPV6_V6ONLY explicitly (`None`: the kernel default, net.ipv6.bindv6only). It answers
    /// an HTTP request with 200 and `body`, anything else (or silence for 0.5 s) with
    /// `body`. Returns its pid; label `listener-<addr>-<port>`.
    pub fn start_listener(
        &mut self,
        addr: &str,
        port: u16,
        v6only: Option<bool>,
        body: &str,
    ) -> u32 {
        let label = format!("listener-{}-{}", addr.replace(':', "_"), port);
        let v6 = match v6only {
            None => "default",
            Some(true) => "1",
            Some(false) => "0",
        };
        let port_s = port.to_string();
        self.start_support(Ns::Srv, &label, "listener.py", &[addr, &port_s, v6, body])
    }

    /// A web server in srv on `[::]:port` (both families) whose body never ends:
    /// `slow` sends a byte every 100 ms, otherwise as fast as it can. Label `endless`.
    pub fn start_endless_server(&mut self, port: u16, slow: bool) {
        let port_s = port.to_string();
        let mode = if slow { "slow" } else { "fast" };
        self.start_support(Ns::Srv, "endless", "endless.py", &[&port_s, mode]);
    }

    /// A TCP connection that srv opened and holds: a socat listener in net on
    /// `addr:port` (label `held-listener`) and a socat in srv connected to it (label
    /// `held-client`), neither sending anything; waits until srv sees it established.
    pub fn hold_connection(&mut self, addr: &str, port: u16) {
        let listen = format!("TCP-LISTEN:{port},bind={addr},reuseaddr");
        self.spawn(
            Ns::Net,
            "held-listener",
            &["socat", "-u", &listen, "EXEC:sleep 3600"],
        );
        let target = if addr.contains(':') {
            format!("TCP6:[{addr}]:{port},retry=50,interval=0.1")
        } else {
            format!("TCP4:{addr}:{port},retry=50,interval=0.1")
        };
        self.spawn(
            Ns::Srv,
            "held-client",
            &["socat", "-u", "EXEC:sleep 3600", &target],
        );
        let peer = if addr.contains(':') {
            format!("[{addr}]:{port}")
        } else {
            format!("{addr}:{port}")
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let out = self.exec_ok(
                Ns::Srv,
                &["ss", "-Htn", "state", "established", "dst", &peer],
            );
            if !out.trim().is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "lab: srv's connection to {peer} is not established after 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    // ----- probing from a namespace --------------------------------------------------------

    /// `tests/support/client.py MODE addr port` in `ns`.
    fn client(&self, ns: Ns, mode: &str, addr: &str, port: u16) -> std::process::Output {
        let argv = support_command("client.py", &[mode, addr, &port.to_string()]);
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.exec(ns, &refs)
    }

    /// `GET /` to `addr:port` from `ns` (2 s timeout): the whole response, or the error
    /// (e.g. "ConnectionRefusedError: ...").
    pub fn http_get(&self, ns: Ns, addr: &str, port: u16) -> Result<String, String> {
        let out = self.client(ns, "get", addr, port);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{}{}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Whether a TCP connection from `ns` to `addr:port` is accepted within 2 s.
    pub fn tcp_connects(&self, ns: Ns, addr: &str, port: u16) -> bool {
        self.client(ns, "connect", addr, port).status.success()
    }

    /// Listening TCP sockets in `ns` as `ss -Hltne` prints them (one line each).
    pub fn ss_listen(&self, ns: Ns) -> Vec<String> {
        self.exec_ok(ns, &["ss", "-Hltne"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}
