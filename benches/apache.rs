//! Speed of reading an Apache httpd configuration of 500 virtual hosts (target: under
//! 20 ms), generated in Debian's layout: `apache2.conf` with its module, port and
//! configuration includes, and one file per site in `sites-enabled/`, each with a `*:80`
//! and a `*:443` virtual host (names, aliases, TLS, sections, variables).
//!
//! `cargo bench --bench apache`. Under `cargo test` it only says how to run it.

#[path = "support/mod.rs"]
mod support;

use dualstack_doctor::{FsSource, Input, Limits, apache_invocation, parse_apache};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use support::{Timing, time_runs};

const SITES: usize = 500;
const RUNS: usize = 50;

fn write(root: &Path) -> std::io::Result<()> {
    for d in ["mods-enabled", "conf-enabled", "sites-enabled"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::fs::write(
        root.join("apache2.conf"),
        "DefaultRuntimeDir ${APACHE_RUN_DIR}\nPidFile ${APACHE_PID_FILE}\nTimeout 300\n\
         User ${APACHE_RUN_USER}\nErrorLog ${APACHE_LOG_DIR}/error.log\n\
         IncludeOptional mods-enabled/*.load\nIncludeOptional mods-enabled/*.conf\n\
         Include ports.conf\n<Directory />\n\tOptions FollowSymLinks\n\tAllowOverride None\n\
         \tRequire all denied\n</Directory>\nIncludeOptional conf-enabled/*.conf\n\
         IncludeOptional sites-enabled/*.conf\n",
    )?;
    std::fs::write(
        root.join("ports.conf"),
        "Listen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n",
    )?;
    for m in [
        "ssl",
        "mpm_event",
        "rewrite",
        "headers",
        "proxy",
        "proxy_http",
    ] {
        std::fs::write(
            root.join(format!("mods-enabled/{m}.load")),
            format!("LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"),
        )?;
    }
    std::fs::write(
        root.join("conf-enabled/security.conf"),
        "ServerTokens Prod\nServerSignature Off\nTraceEnable Off\n",
    )?;
    for i in 0..SITES {
        let site = format!(
            "<VirtualHost *:80>\n\tServerName site{i}.example\n\tServerAlias www.site{i}.example\n\
             \tRewriteEngine on\n\tRewriteRule ^ https://%{{SERVER_NAME}}%{{REQUEST_URI}} [END,R=permanent]\n\
             </VirtualHost>\n\n<IfModule ssl_module>\n<VirtualHost *:443 [2001:db8::{i:x}]:443>\n\
             \tServerName site{i}.example\n\tServerAlias www.site{i}.example static.site{i}.example\n\
             \tDocumentRoot /srv/site{i}/public\n\tErrorLog ${{APACHE_LOG_DIR}}/site{i}-error.log\n\
             \tSSLEngine on\n\tSSLCertificateFile /etc/letsencrypt/live/site{i}.example/fullchain.pem\n\
             \tSSLCertificateKeyFile /etc/letsencrypt/live/site{i}.example/privkey.pem\n\
             \t<Directory /srv/site{i}/public>\n\t\tOptions -Indexes\n\t\tAllowOverride All\n\
             \t\tRequire all granted\n\t</Directory>\n\t<Location /api>\n\t\tProxyPass http://127.0.0.1:{port}/\n\
             \t\tProxyPassReverse http://127.0.0.1:{port}/\n\t</Location>\n\
             \tHeader always set Strict-Transport-Security \"max-age=63072000\"\n\
             </VirtualHost>\n</IfModule>\n",
            port = 8000 + i
        );
        std::fs::write(root.join(format!("sites-enabled/site{i:03}.conf")), site)?;
    }
    Ok(())
}

fn main() {
    if !support::requested("apache", "") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    write(dir.path()).expect("the generated configuration is written");
    let root = dir.path().display().to_string();
    let inv = apache_invocation(&["apache2".into(), "-d".into(), root]);
    let mut env = BTreeMap::new();
    env.insert("APACHE_LOG_DIR".to_owned(), "/var/log/apache2".to_owned());
    let limits = Limits::default();
    let src = FsSource::new(&limits);
    let mut files = 0;
    let Timing { median: med, min } = time_runs(RUNS, || {
        let cfg = parse_apache(&Input::new(&src, &env, &limits), &inv);
        assert_eq!(cfg.vhosts.len(), 2 * SITES);
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        files = cfg.files.len();
    });
    support::table_head(&["what", "median", "min"]);
    println!(
        "| read {SITES} sites ({} virtual hosts, {files} files) from disk and parse them | {med:.2?} | {min:.2?} |",
        2 * SITES
    );
    println!();
    println!(
        "target < 20 ms: {}",
        support::met(med, Duration::from_millis(20))
    );
}
