use super::*;

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn command_lines() {
    assert_eq!(
        invocation(
            &v(&[
                "/usr/bin/caddy",
                "run",
                "--environ",
                "--config",
                "/etc/caddy/Caddyfile"
            ]),
            None
        ),
        Some((
            PathBuf::from("/etc/caddy/Caddyfile"),
            Some("caddyfile".into())
        ))
    );
    assert_eq!(
        invocation(
            &v(&["caddy", "run", "--config=conf/caddy.json"]),
            Some(Path::new("/srv"))
        ),
        Some((PathBuf::from("/srv/conf/caddy.json"), None))
    );
    assert_eq!(
        invocation(
            &v(&[
                "caddy",
                "start",
                "--config",
                "/x/site.conf",
                "--adapter",
                "caddyfile"
            ]),
            None
        ),
        Some((PathBuf::from("/x/site.conf"), Some("caddyfile".into())))
    );
    // Without --config, Caddy loads the Caddyfile of its working directory.
    assert_eq!(
        invocation(&v(&["caddy", "run"]), Some(Path::new("/home/web"))),
        Some((
            PathBuf::from("/home/web/Caddyfile"),
            Some("caddyfile".into())
        ))
    );
    assert_eq!(
        invocation(&v(&["caddy", "file-server", "--listen", ":80"]), None),
        None
    );
    assert_eq!(invocation(&v(&["caddy"]), None), None);
    assert_eq!(
        invocation(&v(&["caddy", "run", "--config"]), None).map(|c| c.0),
        Some(PathBuf::from("/etc/caddy/Caddyfile"))
    );
}

#[test]
fn admin_endpoints() {
    let mut env = BTreeMap::new();
    assert_eq!(
        admin_endpoint(None, false, &env).as_deref(),
        Some("localhost:2019")
    );
    assert_eq!(admin_endpoint(None, true, &env), None);
    env.insert("CADDY_ADMIN".to_owned(), "127.0.0.1:3000".to_owned());
    assert_eq!(
        admin_endpoint(None, false, &env).as_deref(),
        Some("127.0.0.1:3000")
    );
    assert_eq!(
        admin_endpoint(Some("[::1]:2019"), false, &env).as_deref(),
        Some("[::1]:2019")
    );
}

#[test]
fn network_addresses() {
    let l = |s: &str| listen_addr(s).unwrap();
    let all = l(":443");
    assert_eq!(
        (all.addr, all.port_first, all.families),
        (BindAddr::Unspecified, Some(443), Families::Both)
    );
    // Go binds 0.0.0.0 with network tcp as a dual-stack socket.
    assert_eq!(l("0.0.0.0").families, Families::Both);
    assert_eq!(l("0.0.0.0:80").port_first, Some(80));
    assert_eq!(l("tcp4/0.0.0.0").families, Families::Ipv4);
    assert_eq!(l("tcp6/[::]").families, Families::Ipv6);
    assert_eq!(l("[::]").families, Families::Both);
    assert_eq!(l("::").families, Families::Both);
    assert_eq!(l("127.0.0.1").families, Families::Ipv4);
    assert_eq!(l("[::1]:8080").families, Families::Ipv6);
    assert_eq!(l("localhost:80").families, Families::OfResolvedName);
    assert_eq!(l("tcp4/localhost").families, Families::Ipv4);
    let u = l("unix//run/caddy.sock");
    assert_eq!((u.network.as_str(), u.families), ("unix", Families::NotIp));
    assert_eq!(u.addr, BindAddr::Other("/run/caddy.sock".into()));
    let r = l("udp/:443-444");
    assert_eq!(
        (r.network.as_str(), r.port_first, r.port_last),
        ("udp", Some(443), Some(444))
    );
    for bad in [
        "[::1",
        ":x",
        ":70000",
        ":9-8",
        "tcp4/[::1]",
        "tcp6/1.2.3.4",
        "[::1]x",
    ] {
        assert!(listen_addr(bad).is_err(), "{bad}");
    }
}
