//! The proxy targets the nginx, Apache and HAProxy parsers read (the hosts a web server
//! sends requests on to), in a file of their own beside the parsers' own tests.

use super::addr::target_host;
use super::source::{Input, Limits, MapSource};
use super::{apache, haproxy, nginx};
use crate::facts::servers::{ProxyTarget, TargetHost};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn ip(s: &str) -> TargetHost {
    TargetHost::Ip(s.parse().expect("test address"))
}

fn name(s: &str) -> TargetHost {
    TargetHost::Name(s.into())
}

fn seen(t: &[ProxyTarget]) -> Vec<(String, usize, TargetHost)> {
    t.iter()
        .map(|t| (t.directive.clone(), t.at.line, t.host.clone()))
        .collect()
}

#[test]
fn target_hosts_of_every_form() {
    let cases = [
        ("http://198.51.100.7:8080/app", Some(ip("198.51.100.7"))),
        (
            "https://user:pw@[2001:db8::5]:8443/",
            Some(ip("2001:db8::5")),
        ),
        ("198.51.100.7:9000", Some(ip("198.51.100.7"))),
        ("[2001:db8::5]:80", Some(ip("2001:db8::5"))),
        ("ipv4@198.51.100.7:80", Some(ip("198.51.100.7"))),
        (
            "grpc://Backend.Example:50051",
            Some(name("backend.example")),
        ),
        ("app_servers", Some(name("app_servers"))),
        ("unix:/run/php/php-fpm.sock", None),
        ("unix@/run/x.sock", None),
        ("/run/x.sock", None),
        ("http://$backend", None),
        ("http://%{HTTP_HOST}/", None),
        ("http://bad host/", None),
        ("", None),
    ];
    for (raw, want) in cases {
        assert_eq!(target_host(raw), want, "{raw}");
    }
}

#[test]
fn nginx_proxy_pass_and_upstream_servers_with_line() {
    let conf = "events {}\nhttp {\n  upstream app {\n    server 198.51.100.7:8080 weight=2;\n    server [2001:db8::7]:8080;\n    server unix:/run/app.sock;\n  }\n  server {\n    listen 80;\n    location / { proxy_pass http://app; }\n    location /api { proxy_pass http://198.51.100.8:9000/v1; }\n    location ~ \\.php$ { fastcgi_pass 127.0.0.1:9000; }\n    location /g { grpc_pass grpc://[2001:db8::9]:50051; }\n    location /v { proxy_pass http://$host; }\n  }\n}\nstream {\n  server { listen 5432; proxy_pass 198.51.100.9:5432; }\n}\n";
    let src = MapSource::new().with("/etc/nginx/nginx.conf", conf);
    let cfg = nginx::parse_config(&src, Path::new("/etc/nginx/nginx.conf"), &Limits::default());
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    assert_eq!(
        seen(&cfg.proxy_targets),
        [
            ("server".into(), 4, ip("198.51.100.7")),
            ("server".into(), 5, ip("2001:db8::7")),
            ("proxy_pass".into(), 10, name("app")),
            ("proxy_pass".into(), 11, ip("198.51.100.8")),
            ("fastcgi_pass".into(), 12, ip("127.0.0.1")),
            ("grpc_pass".into(), 13, ip("2001:db8::9")),
            ("proxy_pass".into(), 18, ip("198.51.100.9")),
        ]
    );
    assert_eq!(
        cfg.proxy_targets[3].at.file,
        PathBuf::from("/etc/nginx/nginx.conf")
    );
    // A `server` block is no upstream server: its name is not a target.
    assert!(cfg.servers.iter().all(|s| s.listens.len() == 1));
}

#[test]
fn apache_proxy_pass_forms_and_balancer_members() {
    let conf = "Listen 80\n<VirtualHost *:80>\n  ProxyPass /app http://198.51.100.7:8080/app retry=0\n  ProxyPass /off !\n  ProxyPassMatch \"^/(.*\\.php)$\" \"fcgi://[2001:db8::7]:9000/var/www/$1\"\n  ProxyPass /lb balancer://cluster/\n  <Proxy balancer://cluster>\n    BalancerMember http://198.51.100.8:8080\n    BalancerMember \"http://app.example:8080\"\n  </Proxy>\n  <Location /x>\n    ProxyPass http://198.51.100.9/\n  </Location>\n</VirtualHost>\n";
    let src = MapSource::new().with("/etc/apache2/apache2.conf", conf);
    let inv = apache::invocation(&[
        "/usr/sbin/apache2".into(),
        "-d".into(),
        "/etc/apache2".into(),
    ]);
    let cfg = apache::parse_config(
        &Input::new(&src, &BTreeMap::new(), &Limits::default()),
        &inv,
    );
    assert_eq!(
        seen(&cfg.proxy_targets),
        [
            ("ProxyPass".into(), 3, ip("198.51.100.7")),
            ("ProxyPassMatch".into(), 5, ip("2001:db8::7")),
            ("BalancerMember".into(), 8, ip("198.51.100.8")),
            ("BalancerMember".into(), 9, name("app.example")),
            ("ProxyPass".into(), 12, ip("198.51.100.9")),
        ]
    );
}

#[test]
fn haproxy_servers_of_backends_and_listen_sections() {
    let conf = "global\n  daemon\ndefaults\n  mode http\nfrontend web\n  bind :80\n  default_backend app\nbackend app\n  server a1 198.51.100.7:8080 check\n  server a2 [2001:db8::7]:8080\n  server a3 unix@/run/a.sock\nlisten db\n  bind :5432\n  server d1 db.example:5432\n";
    let main = PathBuf::from("/etc/haproxy/haproxy.cfg");
    let src = MapSource::new().with(&main, conf);
    let cfg = haproxy::parse_config(
        &Input::new(&src, &BTreeMap::new(), &Limits::default()),
        &[main],
    );
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    assert_eq!(
        seen(&cfg.proxy_targets),
        [
            ("server".into(), 9, ip("198.51.100.7")),
            ("server".into(), 10, ip("2001:db8::7")),
            ("server".into(), 14, name("db.example")),
        ]
    );
}
