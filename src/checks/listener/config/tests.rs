//! `listener.config` for every owner of the port's sockets, from facts the parsers make
//! of configuration text: one test per decision.

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::servers::*;
use crate::facts::*;
use crate::model::{CheckId, Finding, Status};
use crate::parse::nginx::{Limits, MapSource};
use crate::parse::source::Input;
use crate::parse::{apache, haproxy, runtime, systemd_socket};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Both families' sockets on `port`, as a dual-stack server opens them.
fn dual(port: u16, pid: u32, process: &str) -> Vec<Listener> {
    vec![owned("::", port, Some(false), pid, process)]
}

/// `listener.config` on `port`, asserted to have `status` and every explanation its
/// assets name.
#[track_caller]
fn run(f: &Facts, port: u16, status: Status) -> Finding {
    let mut o = options();
    o.target.ports = vec![port];
    let fs = evaluate(f, &o);
    let fd = crate::checks::fixtures::find(&fs, CheckId::ListenerConfig, Some(port)).clone();
    assert_status(&fd, status);
    fd
}

fn host(sockets: Vec<Listener>, web: impl FnOnce(&mut WebServers)) -> Facts {
    let mut f = healthy();
    f.listeners = Probed::ok(sockets);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx.clear();
        w.runtimes = Some(Vec::new());
        web(w);
    }
    f
}

type Parser<X, T> = fn(&Input<'_>, &X) -> T;

/// `parse` over `src`, with no environment and the default limits.
fn parsed<X: ?Sized, T>(parse: Parser<X, T>, src: &MapSource, what: &X) -> T {
    parse(&Input::new(src, &BTreeMap::new(), &Limits::default()), what)
}

fn haproxy_on(cfg: &str) -> HaproxyInstance {
    let src = MapSource::new().with("/etc/haproxy/haproxy.cfg", cfg);
    let paths = vec![PathBuf::from("/etc/haproxy/haproxy.cfg")];
    HaproxyInstance {
        pid: 600,
        config_paths: vec!["/etc/haproxy/haproxy.cfg".into()],
        config: Ok(parsed(haproxy::parse_config, &src, &paths)),
    }
}

fn caddy_on(caddyfile: &str) -> CaddyInstance {
    let src = MapSource::new().with("/etc/caddy/Caddyfile", caddyfile);
    let cf = parsed(
        crate::parse::caddy::caddyfile::parse_config,
        &src,
        Path::new("/etc/caddy/Caddyfile"),
    );
    CaddyInstance {
        pid: 500,
        config_path: Some("/etc/caddy/Caddyfile".into()),
        adapter: Some("caddyfile".into()),
        caddyfile: Some(Ok(cf)),
        file_json: None,
        running: None,
        admin: None,
    }
}

fn units(name: &str, text: &str) -> SocketUnits {
    let src = MapSource::new().with(format!("/etc/systemd/system/{name}"), text);
    systemd_socket::read_units(
        &src,
        &[PathBuf::from("/etc/systemd/system")],
        &Limits::default(),
    )
}

fn assert_status(fd: &Finding, status: Status) {
    assert_eq!(fd.status, status, "{fd:#?}");
    assert!(!fd.explanation.contains("(missing"), "{fd:#?}");
}

const DEBIAN_PORTS: &str = "LoadModule ssl_module mod_ssl.so\n";
const SHOP_VHOST: &str = "<VirtualHost *:80>\n    ServerName shop.example\n</VirtualHost>\n";

#[test]
fn apache_dual_stack_listen_passes() {
    let f = host(dual(80, 700, "apache2"), |w| {
        w.apache = vec![apache_on(&format!("{DEBIAN_PORTS}Listen 80"), SHOP_VHOST)];
    });
    let fd = run(&f, 80, Status::Pass);
    assert_has(&fd.summary, "shop.example");
}

#[test]
fn apache_ipv4_only_listen_names_file_line_and_debian_reload() {
    let f = host(vec![owned("0.0.0.0", 80, None, 700, "apache2")], |w| {
        w.apache = vec![apache_on("ServerName x\nListen 0.0.0.0:80", SHOP_VHOST)];
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "/etc/apache2/apache2.conf:2");
    assert_has(&fd.summary, "Listen [::]:80");
    assert_eq!(
        fd.fixes[0].commands,
        [
            "sed -i '2a\\Listen [::]:80' /etc/apache2/apache2.conf",
            "apache2ctl configtest && systemctl reload apache2"
        ]
    );
}

/// `Listen [::]:80` on a build without v4-mapped addresses (the socket says
/// IPV6_V6ONLY): IPv4 is missing.
#[test]
fn apache_ipv6_only_socket_wants_ipv4_listen() {
    let f = host(vec![owned("::", 80, Some(true), 700, "httpd")], |w| {
        w.apache = vec![apache_on("Listen [::]:80", SHOP_VHOST)];
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "Listen 0.0.0.0:80");
}

/// Both sockets exist, but the site's virtual host names its IPv4 address: IPv6 clients
/// get the first `*:443` one, another site.
#[test]
fn apache_ip_based_vhost_leaves_ipv6_on_another_site() {
    let site = "<VirtualHost *:443>\n    ServerName other.example\n</VirtualHost>\n\
                <VirtualHost 203.0.113.10:443>\n    ServerName shop.example\n</VirtualHost>\n";
    let f = host(dual(443, 700, "apache2"), |w| {
        w.apache = vec![apache_on("Listen 443", site)];
    });
    let fd = run(&f, 443, Status::Fail);
    assert_has(
        &fd.summary,
        "IPv6 clients on port 443 get <VirtualHost *:443> (other.example)",
    );
    assert_has(&fd.summary, "/etc/apache2/sites-enabled/shop.conf:4");
    assert_eq!(
        fd.fixes[0].commands[0],
        "sed -i '4s/<VirtualHost [^>]*>/<VirtualHost *:443>/' /etc/apache2/sites-enabled/shop.conf"
    );
}

#[test]
fn haproxy_v4v6_bind_passes_and_ipv4_bind_fails_with_line() {
    let cfg = |bind: &str| {
        format!(
            "frontend web\n    bind {bind}\n    default_backend app\nbackend app\n    server a 127.0.0.1:8080\n"
        )
    };
    let f = host(dual(80, 600, "haproxy"), |w| {
        w.haproxy = vec![haproxy_on(&cfg(":::80 v4v6"))]
    });
    run(&f, 80, Status::Pass);
    let f = host(vec![owned("0.0.0.0", 80, None, 600, "haproxy")], |w| {
        w.haproxy = vec![haproxy_on(&cfg("0.0.0.0:80"))]
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "/etc/haproxy/haproxy.cfg:2");
    assert_eq!(
        fd.fixes[0].commands,
        [
            "sed -i '2a\\    bind :::80 v6only' /etc/haproxy/haproxy.cfg",
            "haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl reload haproxy"
        ]
    );
    let f = host(vec![owned("::", 80, Some(true), 600, "haproxy")], |w| {
        w.haproxy = vec![haproxy_on(&cfg(":::80 v6only"))]
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "bind 0.0.0.0:80");
}

#[test]
fn haproxy_frontends_per_family_with_other_backends_fail() {
    let cfg = "frontend v4\n    bind 0.0.0.0:80\n    default_backend shop\n\
               frontend v6\n    bind :::80 v6only\n    default_backend old\n\
               backend shop\nbackend old\n";
    let f = host(
        vec![
            owned("0.0.0.0", 80, None, 600, "haproxy"),
            owned("::", 80, Some(true), 600, "haproxy"),
        ],
        |w| w.haproxy = vec![haproxy_on(cfg)],
    );
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "IPv6 clients frontend v6, backend old");
    assert_eq!(
        fd.fixes[0].commands[0],
        "sed -i '5s/^/#/' /etc/haproxy/haproxy.cfg"
    );
}

#[test]
fn caddy_site_bound_to_one_family() {
    let ok = "http://shop.example {\n    respond \"hi\"\n}\n";
    let f = host(dual(80, 500, "caddy"), |w| w.caddy = vec![caddy_on(ok)]);
    run(&f, 80, Status::Pass);
    let v4 = "http://shop.example {\n    bind tcp4/0.0.0.0\n    respond \"hi\"\n}\n:80 {\n    respond \"other\"\n}\n";
    let f = host(
        vec![
            owned("0.0.0.0", 80, None, 500, "caddy"),
            owned("::", 80, Some(false), 500, "caddy"),
        ],
        |w| w.caddy = vec![caddy_on(v4)],
    );
    let fd = run(&f, 80, Status::Fail);
    assert_has(
        &fd.summary,
        "over IPv4 only (`bind tcp4/0.0.0.0` at /etc/caddy/Caddyfile:2); IPv6 clients get site :80",
    );
    assert_eq!(fd.fixes[0].commands[0], "sed -i '2d' /etc/caddy/Caddyfile");
    let v6 = "http://shop.example {\n    bind tcp6/[::]\n}\n";
    let f = host(vec![owned("::", 80, Some(true), 500, "caddy")], |w| {
        w.caddy = vec![caddy_on(v6)]
    });
    assert_has(&run(&f, 80, Status::Fail).summary, "over IPv6 only");
}

/// The running JSON decides when the admin endpoint answered, though the Caddyfile says
/// otherwise (changed since the last reload).
#[test]
fn caddy_running_configuration_wins() {
    let f = host(vec![owned("0.0.0.0", 80, None, 500, "caddy")], |w| {
        let mut c = caddy_on("http://shop.example {\n}\n");
        c.running = Some(crate::parse::caddy::json::parse(
            r#"{"apps":{"http":{"servers":{"srv0":{"listen":["tcp4/0.0.0.0:80"],"routes":[{"match":[{"host":["shop.example"]}]}]}}}}}"#,
        ));
        w.caddy = vec![c];
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "server srv0");
}

#[test]
fn socket_unit_by_bind_ipv6_only() {
    let pid1 = |sockets: Vec<Listener>| {
        sockets
            .into_iter()
            .map(|l| Listener {
                pid: Some(1),
                process: Some("systemd".into()),
                ..l
            })
            .collect::<Vec<_>>()
    };
    let unit = |extra: &str| units("ssh.socket", &format!("[Socket]\nListenStream=22\n{extra}"));
    let f = host(pid1(dual(22, 1, "systemd")), |w| {
        w.socket_units = Some(unit(""))
    });
    let fd = run(&f, 22, Status::Pass);
    assert_has(&fd.summary, "ssh.socket");
    let f = host(pid1(vec![listener("::", 22, Some(true))]), |w| {
        w.socket_units = Some(unit("BindIPv6Only=ipv6-only\n"))
    });
    let fd = run(&f, 22, Status::Fail);
    assert_has(&fd.summary, "systemctl edit ssh.socket");
    assert_has(&fd.fixes[0].commands[1], "BindIPv6Only=both");
    let f = host(pid1(vec![listener("0.0.0.0", 22, None)]), |w| {
        w.socket_units = Some(units("ssh.socket", "[Socket]\nListenStream=0.0.0.0:22\n"))
    });
    let fd = run(&f, 22, Status::Fail);
    assert_has(&fd.summary, "/etc/systemd/system/ssh.socket:2");
    assert_has(&fd.fixes[0].commands[1], "ListenStream=[::]:22");
}

#[test]
fn runtime_hints_name_the_setting_and_the_runtime_fix() {
    /// Command line, environment, what the fix's command contains.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &["node", "server.js"],
            &[("HOST", "0.0.0.0")],
            "HOST=:: node server.js",
        ),
        (
            &[
                "/usr/bin/python3",
                "/usr/bin/gunicorn",
                "--bind",
                "0.0.0.0:8080",
                "app:app",
            ],
            &[],
            "--bind [::]:8080",
        ),
        (
            &["uvicorn", "main:app", "--host", "0.0.0.0"],
            &[],
            "--host :: --port 8080",
        ),
    ];
    for (cmd, env, fix) in cases {
        let cmd: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let hints = runtime::hints(900, &cmd, Some(&env)).expect("a runtime");
        let f = host(vec![owned("0.0.0.0", 8080, None, 900, "node")], |w| {
            w.runtimes = Some(vec![hints])
        });
        let fd = run(&f, 8080, Status::Fail);
        assert_has(&fd.summary, "confines it");
        assert_has(&fd.fixes[0].commands[0], fix);
    }
}

#[test]
fn java_prefer_ipv4_stack_is_named() {
    let cmd: Vec<String> = ["java", "-Djava.net.preferIPv4Stack=true", "-jar", "app.jar"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let hints = runtime::hints(901, &cmd, None).expect("java");
    let f = host(vec![owned("0.0.0.0", 8080, None, 901, "java")], |w| {
        w.runtimes = Some(vec![hints])
    });
    let fd = run(&f, 8080, Status::Fail);
    assert_has(&fd.summary, "-Djava.net.preferIPv4Stack=true");
}

/// No setting explains it: the program set IPV6_V6ONLY on its socket itself.
#[test]
fn program_setting_v6only_itself_is_named() {
    let f = host(vec![owned("::", 8080, Some(true), 902, "python3")], |_| {});
    let fd = run(&f, 8080, Status::Fail);
    assert_has(&fd.summary, "python3 (pid 902)");
    assert_has(&fd.summary, "sets IPV6_V6ONLY on [::]:8080 itself");
    let f = host(dual(8080, 902, "python3"), |_| {});
    run(&f, 8080, Status::Pass);
}

/// HAProxy in front of Apache: HAProxy owns port 80 and is judged; Apache's own Listen
/// 80 is mentioned, not judged.
#[test]
fn haproxy_in_front_of_apache_is_judged_by_the_owner() {
    let cfg = "frontend web\n    bind 0.0.0.0:80\n    default_backend app\nbackend app\n";
    let f = host(vec![owned("0.0.0.0", 80, None, 600, "haproxy")], |w| {
        w.haproxy = vec![haproxy_on(cfg)];
        w.apache = vec![apache_on("Listen 80", SHOP_VHOST)];
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "HAProxy frontend web");
    assert!(
        fd.evidence
            .iter()
            .any(|e| e.contains("apache (pid 700) at /etc/apache2/apache2.conf:1")),
        "{fd:#?}"
    );
}

/// A snapshot from before the other servers were read: what it holds is judged.
#[test]
fn older_snapshot_judges_programs_and_says_what_it_lacks_for_servers() {
    // A program's own sockets are in every recording: judged all the same.
    let mut f = host(vec![owned("::", 8080, Some(true), 902, "python3")], |_| {});
    if let Ok(w) = f.web.result.as_mut() {
        w.runtimes = None;
    }
    let fd = run(&f, 8080, Status::Fail);
    assert!(fd.summary.contains("sets IPV6_V6ONLY"), "{fd:#?}");
    // A server's configuration is not in a recording made before it was read.
    let mut f = host(vec![owned("0.0.0.0", 80, None, 700, "apache2")], |_| {});
    if let Ok(w) = f.web.result.as_mut() {
        w.runtimes = None;
    }
    let fd = run(&f, 80, Status::Skip);
    assert!(fd.summary.contains("recording was made before"), "{fd:#?}");
}

/// RHEL's layout: `/usr/sbin/httpd` reads `/etc/httpd/conf/httpd.conf` and is tested
/// and reloaded with its own commands.
#[test]
fn apache_on_rhel_is_reloaded_as_httpd() {
    let src = MapSource::new().with("/etc/httpd/conf/httpd.conf", "Listen 0.0.0.0:80\n");
    let inv = apache::invocation(&["/usr/sbin/httpd".into(), "-DFOREGROUND".into()]);
    let f = host(vec![owned("0.0.0.0", 80, None, 700, "httpd")], |w| {
        w.apache = vec![ApacheInstance {
            pid: 700,
            how: "test".into(),
            config: Ok(parsed(apache::parse_config, &src, &inv)),
        }];
    });
    let fd = run(&f, 80, Status::Fail);
    assert_has(&fd.summary, "/etc/httpd/conf/httpd.conf:1");
    assert_eq!(
        fd.fixes[0].commands[1],
        "apachectl configtest && systemctl reload httpd"
    );
}

/// `Listen [::]:80` on a build with v4-mapped addresses (Debian's): the socket says
/// IPV6_V6ONLY is off, so both families are served; no false alarm.
#[test]
fn apache_ipv6_wildcard_with_v4_mapped_passes() {
    let f = host(dual(80, 700, "apache2"), |w| {
        w.apache = vec![apache_on("Listen [::]:80", SHOP_VHOST)];
    });
    run(&f, 80, Status::Pass);
}

/// Unprivileged, the owner of the sockets is not visible and two nginx run (one in a
/// container's network namespace, which only root can tell apart): judging either one's
/// configuration would be a guess, so the check says it cannot tell.
#[test]
fn two_nginx_and_an_invisible_owner_is_not_a_guess() {
    let mut sock = listener("0.0.0.0", 80, None);
    sock.pid = None;
    sock.process = None;
    let f = host(vec![sock], |w| {
        w.nginx = vec![nginx(SITE), {
            let mut other = nginx("server {\n    listen 80;\n    server_name shop.example;\n}\n");
            other.pid = 9000;
            other
        }];
    });
    let fd = run(&f, 80, Status::Skip);
    assert!(
        fd.summary.contains("2 nginx run (pids 812, 9000)"),
        "{fd:#?}"
    );
    assert!(fd.summary.contains("cannot be told"), "{fd:#?}");
    // With one nginx, it is that one's configuration.
    let mut sock = listener("0.0.0.0", 80, None);
    sock.pid = None;
    sock.process = None;
    let one = host(vec![sock], |w| w.nginx = vec![nginx(SITE)]);
    run(&one, 80, Status::Pass);
}
