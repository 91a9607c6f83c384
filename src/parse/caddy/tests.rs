use super::*;
use crate::parse::test_support::ip;
use crate::testutil::{env, strings};

#[test]
fn command_lines() {
    assert_eq!(
        invocation(
            &strings(&[
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
            &strings(&["caddy", "run", "--config=conf/caddy.json"]),
            Some(Path::new("/srv"))
        ),
        Some((PathBuf::from("/srv/conf/caddy.json"), None))
    );
    assert_eq!(
        invocation(
            &strings(&[
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
        invocation(&strings(&["caddy", "run"]), Some(Path::new("/home/web"))),
        Some((
            PathBuf::from("/home/web/Caddyfile"),
            Some("caddyfile".into())
        ))
    );
    assert_eq!(
        invocation(&strings(&["caddy", "file-server", "--listen", ":80"]), None),
        None
    );
    assert_eq!(invocation(&strings(&["caddy"]), None), None);
    assert_eq!(
        invocation(&strings(&["caddy", "run", "--config"]), None).map(|c| c.0),
        Some(PathBuf::from("/etc/caddy/Caddyfile"))
    );
}

#[test]
fn admin_endpoints() {
    let set = |admin: Option<&str>, admin_off| CaddySettings {
        admin: admin.map(str::to_owned),
        admin_off,
        ..CaddySettings::default()
    };
    let caddy_admin = env(&[("CADDY_ADMIN", "127.0.0.1:3000")]);
    for (settings, env, want) in [
        (set(None, false), &BTreeMap::new(), Some("localhost:2019")),
        (set(None, true), &BTreeMap::new(), None),
        (set(None, false), &caddy_admin, Some("127.0.0.1:3000")),
        (
            set(Some("[::1]:2019"), false),
            &caddy_admin,
            Some("[::1]:2019"),
        ),
    ] {
        assert_eq!(admin_endpoint(&settings, env).as_deref(), want);
    }
}

#[test]
fn network_addresses() {
    use Families::*;
    let host = || BindAddr::Host("localhost".into());
    // Go binds `0.0.0.0` with network tcp as a dual-stack socket.
    for (written, addr, ports, families) in [
        (":443", BindAddr::Unspecified, Some((443, 443)), Both),
        ("0.0.0.0", ip("0.0.0.0"), None, Both),
        ("0.0.0.0:80", ip("0.0.0.0"), Some((80, 80)), Both),
        ("tcp4/0.0.0.0", ip("0.0.0.0"), None, Ipv4),
        ("tcp6/[::]", ip("::"), None, Ipv6),
        ("[::]", ip("::"), None, Both),
        ("::", ip("::"), None, Both),
        ("127.0.0.1", ip("127.0.0.1"), None, Ipv4),
        ("[::1]:8080", ip("::1"), Some((8080, 8080)), Ipv6),
        ("localhost:80", host(), Some((80, 80)), OfResolvedName),
        ("tcp4/localhost", host(), None, Ipv4),
        (
            "udp/:443-444",
            BindAddr::Unspecified,
            Some((443, 444)),
            Both,
        ),
        (":0", BindAddr::Unspecified, Some((0, 0)), Both),
        (
            "unix//run/caddy.sock",
            BindAddr::Other("/run/caddy.sock".into()),
            None,
            NotIp,
        ),
    ] {
        let l = listen_addr(written).unwrap();
        let got = (l.addr, l.ports.map(|p| (p.first, p.last)), l.families);
        assert_eq!(got, (addr, ports, families), "{written}");
    }
    assert_eq!(
        listen_addr("udp/:443").unwrap().prefix.as_deref(),
        Some("udp")
    );
    assert_eq!(listen_addr(":443").unwrap().prefix, None);
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
