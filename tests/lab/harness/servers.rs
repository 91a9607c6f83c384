//! The web servers other than nginx in srv, each from Debian's package with a
//! configuration directory of the lab's own, started in the foreground (its pid is the
//! parent's) and stopped by that pid: Apache httpd, HAProxy and Caddy.

use super::process::write_file;
use super::topology::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What the lab's other servers answer on `/` for the site.
pub const SERVERS_BODY: &str = "shop.lab.example served by the dsdoctor lab\n";
/// Apache's virtual host for the site on port 80, on any address (`{APACHE}` is the
/// configuration directory).
pub const APACHE_SITE: &str = "# shop.lab.example (written by the dsdoctor test lab)\n\
<VirtualHost *:80>\n    ServerName shop.lab.example\n    DocumentRoot {APACHE}/www\n</VirtualHost>\n";

impl Lab {
    /// Apache's configuration directory (`-d`); `apache2.conf` includes `ports.conf`
    /// and `sites/*.conf` as Debian's does.
    pub fn apache_dir(&self) -> PathBuf {
        self.dir().join("apache")
    }

    pub fn haproxy_cfg(&self) -> PathBuf {
        self.dir().join("haproxy/haproxy.cfg")
    }

    pub fn caddyfile(&self) -> PathBuf {
        self.dir().join("caddy/Caddyfile")
    }

    /// Start Apache httpd in srv: `ports` is line 2 of `ports.conf` (`Listen 80`),
    /// `site` the whole `sites/shop.conf` (`{APACHE}` replaced by the directory). Its
    /// document roots `www` and `www-other` say which site answered. Returns its pid.
    pub fn start_apache(&mut self, ports: &str, site: &str) -> u32 {
        let d = self.apache_dir();
        for sub in ["", "sites", "www", "www-other"] {
            make_dir(&d.join(sub));
        }
        let dd = d.display();
        let modules = "/usr/lib/apache2/modules";
        write_file(
            &d.join("apache2.conf"),
            &format!(
                "# dsdoctor lab Apache httpd main configuration (generated)\n\
                 ServerRoot {dd}\nPidFile {dd}/apache.pid\nDefaultRuntimeDir {dd}\n\
                 Mutex file:{dd} default\nErrorLog {dd}/error.log\nLogLevel warn\n\
                 LoadModule mpm_event_module {modules}/mod_mpm_event.so\n\
                 LoadModule authz_core_module {modules}/mod_authz_core.so\n\
                 LoadModule dir_module {modules}/mod_dir.so\n\
                 User nobody\nGroup nogroup\nServerName {DOMAIN}\nDocumentRoot {dd}/www\n\
                 DirectoryIndex index.html\n\
                 <Directory {dd}>\n    Require all granted\n</Directory>\n\
                 Include ports.conf\nIncludeOptional sites/*.conf\n"
            ),
        );
        write_file(
            &d.join("ports.conf"),
            &format!("# ports (written by the dsdoctor test lab)\n{ports}\n"),
        );
        write_file(
            &d.join("sites/shop.conf"),
            &site.replace("{APACHE}", &dd.to_string()),
        );
        write_file(&d.join("www/index.html"), SERVERS_BODY);
        write_file(&d.join("www-other/index.html"), "another site\n");
        let (root, conf) = (dd.to_string(), d.join("apache2.conf").display().to_string());
        let pid = self.spawn(
            Ns::Srv,
            "apache",
            &["apache2", "-d", &root, "-f", &conf, "-DFOREGROUND"],
        );
        // The ports of the `Listen` lines: `Listen 80`, `Listen [::]:80 https`.
        let listen_ports: Vec<u16> = ports
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Listen "))
            .filter_map(|a| {
                a.split_whitespace()
                    .next()?
                    .rsplit(':')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        self.wait_listening("apache", &listen_ports);
        pid
    }

    /// Start HAProxy in srv: `binds` are the `bind` lines of frontend `shop` (from line
    /// 8 of `haproxy.cfg`), whose backend answers [`SERVERS_BODY`] itself. Returns its pid.
    pub fn start_haproxy(&mut self, binds: &str) -> u32 {
        let backend = format!(
            "http-request return status 200 content-type text/plain string \"{}\"",
            SERVERS_BODY.trim_end()
        );
        self.start_haproxy_with(binds, &backend)
    }

    /// Start HAProxy in srv in front of a server of srv's own, `server` (`127.0.0.1:8080`).
    pub fn start_haproxy_to(&mut self, binds: &str, server: &str) -> u32 {
        self.start_haproxy_with(binds, &format!("server app {server}"))
    }

    fn start_haproxy_with(&mut self, binds: &str, backend: &str) -> u32 {
        let cfg = self.haproxy_cfg();
        make_dir(cfg.parent().expect("a directory"));
        write_file(
            &cfg,
            &format!(
                "# dsdoctor lab HAProxy configuration (generated)\n\
                 defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend shop\n    {binds}\n    default_backend shop\n\
                 backend shop\n    {backend}\n"
            ),
        );
        let cfg = cfg.display().to_string();
        let pid = self.spawn(Ns::Srv, "haproxy", &["haproxy", "-db", "-f", &cfg]);
        self.wait_listening("haproxy", &[80]);
        pid
    }

    /// Start Caddy in srv with the site `http://shop.lab.example`, whose line 9 is
    /// `bind` (empty: none), its admin endpoint on srv's own loopback, and its state in
    /// the lab directory. Returns its pid.
    pub fn start_caddy(&mut self, bind: &str) -> u32 {
        let file = self.caddyfile();
        let d = file.parent().expect("a directory").to_path_buf();
        make_dir(&d);
        let dd = d.display();
        write_file(
            &file,
            &format!(
                "# dsdoctor lab Caddy configuration (generated)\n\
                 {{\n\tadmin localhost:2019\n\tauto_https off\n\tstorage file_system {dd}/data\n}}\n\
                 \n\
                 http://{DOMAIN} {{\n\t{bind}\n\trespond \"{}\" 200\n}}\n",
                SERVERS_BODY.trim_end()
            ),
        );
        let home = |k: &str| format!("{k}={dd}");
        let (h, data, conf) = (home("HOME"), home("XDG_DATA_HOME"), home("XDG_CONFIG_HOME"));
        let file = file.display().to_string();
        let pid = self.spawn(
            Ns::Srv,
            "caddy",
            &[
                "env",
                &h,
                &data,
                &conf,
                "caddy",
                "run",
                "--config",
                &file,
                "--adapter",
                "caddyfile",
            ],
        );
        self.wait_listening("caddy", &[80, 2019]);
        pid
    }

    /// Wait until srv has listening sockets on every port of `ports`.
    fn wait_listening(&mut self, label: &str, ports: &[u16]) {
        self.wait_ready(label, |lab| {
            let socks = lab.ss_listen(Ns::Srv);
            let missing: Vec<&u16> = ports
                .iter()
                .filter(|p| !socks.iter().any(|l| l.contains(&format!(":{p} "))))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("not listening on {missing:?}: {socks:?}"))
            }
        });
    }
}

fn make_dir(p: &Path) {
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", p.display()));
    let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
}

impl Lab {
    /// Postfix's configuration directory (`-c`).
    pub fn postfix_dir(&self) -> PathBuf {
        self.dir().join("postfix")
    }

    /// Start Postfix (Debian's package) in srv from a configuration directory of the
    /// lab's own: `main.cf` is the lab's lines (queue and data directories under the
    /// lab, no inet service in `master.cf`: it sends, nothing listens) followed by
    /// `lines` from line 8 on. The master runs in the foreground (`-d`), named by its
    /// `-c DIR` as on a real host, and is stopped by its pid. Returns its pid.
    pub fn start_postfix(&mut self, lines: &str) -> u32 {
        let d = self.postfix_dir();
        for sub in ["", "queue", "data"] {
            make_dir(&d.join(sub));
        }
        let dd = d.display();
        write_file(
            &d.join("main.cf"),
            &format!(
                "# dsdoctor lab Postfix main.cf (generated)\n\
                 compatibility_level = 3.6\nqueue_directory = {dd}/queue\n\
                 data_directory = {dd}/data\nmail_owner = postfix\n\
                 myhostname = {DOMAIN}\nmydestination =\n{lines}\n"
            ),
        );
        write_file(
            &d.join("master.cf"),
            "# dsdoctor lab Postfix master.cf (generated): no inet service\n\
             pickup    unix  n       -       n       60      1       pickup\n\
             cleanup   unix  n       -       n       -       0       cleanup\n\
             qmgr      unix  n       -       n       300     1       qmgr\n",
        );
        let dir = dd.to_string();
        // Creates the queue directories with Postfix's own ownership and modes.
        self.exec_ok(Ns::Srv, &["postfix", "-c", &dir, "check"]);
        let ready = d.join("queue/pid/master.pid");
        self.spawn_ready(
            Ns::Srv,
            "postfix",
            &["/usr/lib/postfix/sbin/master", "-c", &dir, "-d"],
            &ready,
        )
    }
}
