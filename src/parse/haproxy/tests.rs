use super::*;
use crate::parse::source::{ConfigSource, FsSource, Limits, MapSource};
use crate::parse::test_support::{
    fixture, fixtures, hostile_dir, input_with_fixtures, ip, opened_sockets, refuses_hostile,
    ss_name,
};
use crate::testutil::{assert_mentions, env, is_inert, paths, strings};

fn parse(src: &dyn ConfigSource, paths: &[PathBuf]) -> HaproxyConfig {
    parse_config(
        &Input::new(src, &BTreeMap::new(), &Limits::default()),
        paths,
    )
}

fn one(text: &str) -> HaproxyConfig {
    let main = PathBuf::from("/etc/haproxy/haproxy.cfg");
    parse(&MapSource::new().with(&main, text), &[main])
}

fn fs(paths: &[PathBuf]) -> HaproxyConfig {
    parse(&FsSource::default(), paths)
}

#[test]
fn debian_default_configuration() {
    let cfg = fs(&[fixtures().join("debian12/haproxy.cfg")]);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    // Debian ships `global` and `defaults` only: no frontend listens until one is added.
    assert_eq!(cfg.sections.len(), 1);
    let d = &cfg.sections[0];
    assert_eq!(
        (d.kind, d.name.clone(), d.at.line, d.last_line),
        (HaproxySectionKind::Defaults, None, 20, 34)
    );
    assert_eq!(d.mode.as_deref(), Some("http"));
    assert!(d.binds.is_empty());
}

#[test]
fn every_bind_form_against_the_sockets_haproxy_opened() {
    let dir = fixtures().join("haproxy-oracle");
    let cfg = fs(&[dir.join("binds.cfg")]);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let check = fixture("haproxy-oracle/check.txt");
    assert!(check.contains("binds.cfg: valid") && check.contains("haproxy.cfg: valid"));
    let front = &cfg.sections[1];
    assert_eq!(front.kind, HaproxySectionKind::Frontend);
    for only in [false, true] {
        // haproxy, started on binds.cfg in an empty network namespace with
        // net.ipv6.bindv6only at 0 and at 1 (record-sockets.sh), opened these.
        let opened = opened_sockets(&dir.join(format!("binds.sockets-bindv6only-{}", only as u8)));
        let mut ours: Vec<String> = front
            .binds
            .iter()
            .flat_map(|b| &b.endpoints)
            .flat_map(|e| {
                let ports = e.ports.map_or(0..=0, |p| p.first..=p.last);
                ports.map(move |p| ss_name(e, p, only))
            })
            .collect();
        ours.sort();
        assert_eq!(opened, ours, "bindv6only={only}");
    }
    let fams: Vec<Families> = front
        .binds
        .iter()
        .flat_map(|b| b.endpoints.iter().map(|e| e.families))
        .collect();
    use Families::*;
    assert_eq!(
        fams,
        vec![
            Ipv4,                 // :8001
            Ipv4,                 // *:8002
            BothUnlessBindv6only, // :::8003
            Both,                 // :::8004 v4v6
            Ipv6,                 // :::8005 v6only
            Ipv4,                 // 0.0.0.0:8006
            BothUnlessBindv6only, // ipv6@:8007
            Ipv4,                 // ipv4@:8008
            Ipv4,                 // :8009 of `:8009,:::8010 v6only`
            Ipv6,                 // :::8010 v6only
            BothUnlessBindv6only, // [::]:8011
            Ipv4,                 // 127.0.0.1:8012-8013
            Ipv6,                 // ipv6@[::1]:8014
            Ipv6,                 // ::1:8015
            Both,                 // "[::]:8016" v4v6
        ]
    );
    assert_eq!(front.binds[6].endpoints[0].prefix.as_deref(), Some("ipv6"));
    assert_eq!(front.binds[8].endpoints.len(), 2);
    assert_eq!(front.binds[0].at.line, 10);
    assert_eq!(front.binds[0].raw, "bind :8001");
    assert_eq!(
        front
            .default_backend
            .as_ref()
            .map(|b| (b.backend.as_str(), b.at.line)),
        Some(("b", 24))
    );
}

#[test]
fn sections_backends_and_tls() {
    let cfg = one(concat!(
        "global\n",
        "  bind :1\n",
        "frontend www\n",
        "  mode http\n",
        "  bind :::443 v4v6 ssl crt /etc/haproxy/certs/ alpn h2\n",
        "  use_backend api if { path_beg /api }\n",
        "  use_backend static unless is_dynamic\n",
        "  default_backend app\n",
        "\n",
        "backend app\n",
        "  server a 127.0.0.1:8080\n",
        "listen stats\n",
        "  bind 198.51.100.10:8404\n",
        "peers mypeers\n",
        "  bind :10000\n",
    ));
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let kinds: Vec<_> = cfg
        .sections
        .iter()
        .map(|s| (s.kind, s.name.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (HaproxySectionKind::Frontend, Some("www".into())),
            (HaproxySectionKind::Backend, Some("app".into())),
            (HaproxySectionKind::Listen, Some("stats".into())),
        ]
    );
    let www = &cfg.sections[0];
    assert_eq!((www.at.line, www.last_line), (3, 8));
    let b = &www.binds[0];
    assert!(b.ssl && b.v4v6 && !b.v6only);
    assert_eq!(b.crt, vec!["/etc/haproxy/certs/"]);
    assert_eq!(b.endpoints[0].families, Families::Both);
    assert_eq!(www.use_backends.len(), 2);
    assert_eq!(
        www.use_backends[0].condition.as_deref(),
        Some("if { path_beg /api }")
    );
    assert_eq!(www.default_backend.as_ref().map(|d| d.at.line), Some(8));
    assert_eq!(
        cfg.sections[2].binds[0].endpoints[0].families,
        Families::Ipv4
    );
}

#[test]
fn endpoint_forms() {
    use Families::*;
    let other = |s: &str| BindAddr::Other(s.into());
    let host = || BindAddr::Host("localhost".into());
    for (written, addr, families) in [
        ("unix@/run/x.sock", other("unix@/run/x.sock"), NotIp),
        ("/run/haproxy.sock", other("/run/haproxy.sock"), NotIp),
        ("fd@${FD}", other("fd@${FD}"), NotIp),
        ("abns@x", other("abns@x"), NotIp),
        ("ipv4@localhost:80", host(), Ipv4),
        ("ipv6@localhost:80", host(), Ipv6),
        ("localhost:80", host(), OfResolvedName),
        ("quic4@:443", ip("0.0.0.0"), Ipv4),
        ("[::ffff:192.0.2.1]:80", ip("::ffff:192.0.2.1"), Ipv4),
        ("::1:80", ip("::1"), Ipv6),
    ] {
        let e = endpoint(written, false, false).unwrap();
        assert_eq!((e.addr, e.families), (addr, families), "{written}");
    }
    let r = endpoint(":8000-8010", false, false).unwrap();
    assert_eq!(r.ports.map(|p| (p.first, p.last)), Some((8000, 8010)));
    assert_eq!(endpoint("unix@/x", false, false).unwrap().ports, None);
    for bad in [
        "",
        ":",
        "80",
        ":0",
        ":65536",
        ":9-8",
        "[::1",
        "[::1]",
        "bogus@:80",
        "ipv4@[::1]:80",
        "ipv6@1.2.3.4:80",
    ] {
        assert!(endpoint(bad, false, false).is_err(), "{bad}");
    }
    let cfg = one("frontend f\n bind\n bind :x\n bind ipv4@::1:80\n");
    assert_eq!(cfg.problems.len(), 3, "{:?}", cfg.problems);
    assert_mentions(&cfg.problems, "haproxy.cfg:3: bind: invalid port 'x'");
}

#[test]
fn quoting_escapes_variables_and_comments() {
    let env = env(&[("PORT", "8443")]);
    let src = MapSource::new().with(
        "/h/a.cfg",
        concat!(
            "frontend \"my front\"  # comment\n",
            "  bind \"[::]:${PORT}\" v4v6\n",
            "  bind \":${UNSET-8080}\"\n",
            "  bind ':${PORT}'\n",
            "  bind \\:81\\#x\n",
            "  bind :82 # v4v6\n",
            "  bind \"$PORT\n",
            "  bind \"\\x3a83\"\n",
        ),
    );
    let cfg = parse_config(
        &Input::new(&src, &env, &Limits::default()),
        &[PathBuf::from("/h/a.cfg")],
    );
    let f = &cfg.sections[0];
    assert_eq!(f.name.as_deref(), Some("my front"));
    let ports: Vec<u16> = f
        .binds
        .iter()
        .filter_map(|b| b.endpoints[0].ports)
        .map(|p| p.first)
        .collect();
    // Single quotes keep `${PORT}` literal, and `\#` is a `#`, not a comment: invalid
    // ports both.
    assert_eq!(ports, vec![8443, 8080, 82, 83]);
    assert!(!f.binds[2].v4v6);
    assert_mentions(&cfg.problems, "a.cfg:5: bind: invalid port '81#x'");
    assert_mentions(&cfg.problems, "a.cfg:4: bind: invalid port '${PORT}'");
    assert_mentions(&cfg.problems, "a.cfg:7: unmatched quote");
}

#[test]
fn conditional_blocks_are_read_and_noted() {
    let cfg = one(concat!(
        "frontend f\n",
        ".if defined(V6)\n",
        "  bind :::80 v6only\n",
        ".else\n",
        "  bind :80\n",
        ".endif\n",
        "  bind :81\n",
        ".endif\n",
        ".if 1\n",
    ));
    let b = &cfg.sections[0].binds;
    assert_eq!(b[0].conditions[0].text, ".if defined(V6)");
    assert_eq!(b[1].conditions[0].text, ".else");
    assert!(b[2].conditions.is_empty());
    assert_mentions(&cfg.problems, "haproxy.cfg:8: .endif without .if");
    assert_mentions(&cfg.problems, "haproxy.cfg:9: .if without .endif");
}

#[test]
fn command_lines_files_and_directories() {
    assert_eq!(
        config_paths(
            &strings(&[
                "/usr/sbin/haproxy",
                "-Ws",
                "-f",
                "/etc/haproxy/haproxy.cfg",
                "-p",
                "/run/haproxy.pid",
                "-S",
                "/run/haproxy-master.sock"
            ]),
            None
        ),
        vec![PathBuf::from("/etc/haproxy/haproxy.cfg")]
    );
    assert_eq!(
        config_paths(
            &strings(&[
                "haproxy", "-f", "a.cfg", "-C", "/srv", "-f", "conf.d", "--", "x.cfg", "-f"
            ]),
            Some(Path::new("/home"))
        ),
        paths(&["/srv/a.cfg", "/srv/conf.d", "/srv/x.cfg", "/srv/-f"])
    );
    assert_eq!(
        config_paths(
            &strings(&["haproxy", "-f", "rel.cfg"]),
            Some(Path::new("/run/x"))
        ),
        vec![PathBuf::from("/run/x/rel.cfg")]
    );
    assert_eq!(
        config_paths(&strings(&["haproxy"]), None),
        vec![PathBuf::from("/etc/haproxy/haproxy.cfg")]
    );
    assert_eq!(config_paths(&strings(&["haproxy", "-f"]), None).len(), 1);

    let src = MapSource::new()
        .with("/e/haproxy.cfg", "frontend a\n bind :1\n")
        .with("/e/conf.d/20-b.cfg", "frontend b\n bind :2\n")
        .with("/e/conf.d/10-c.cfg", "frontend c\n bind :3\n")
        .with("/e/conf.d/.hidden.cfg", "frontend h\n bind :4\n")
        .with("/e/conf.d/README", "frontend r\n bind :5\n")
        .with("/e/conf.d/sub/x.cfg", "frontend s\n bind :6\n")
        .with("/e/tail.cfg", "  bind :7\n");
    let cfg = parse(
        &src,
        &paths(&[
            "/e/haproxy.cfg",
            "/e/conf.d",
            "/e/tail.cfg",
            "/e/missing.cfg",
        ]),
    );
    let names: Vec<&str> = cfg
        .sections
        .iter()
        .filter_map(|s| s.name.as_deref())
        .collect();
    // A section ends with its file: tail.cfg's bind belongs to no section.
    assert_eq!(names, vec!["a", "c", "b"]);
    assert_eq!(cfg.sections[0].binds.len(), 1);
    assert_mentions(&cfg.problems, "/e/missing.cfg: no such file");
}

#[test]
fn hostile_input_is_bounded() {
    let dir = hostile_dir(".cfg");
    let d = dir.path();
    refuses_hostile(
        ".cfg",
        |c: &HaproxyConfig| &c.problems,
        || fs(&[d.join("fifo.cfg"), d.join("big.cfg"), d.to_path_buf()]),
    );

    // The same file named many times is read again, but bounded by the byte budget.
    let src = MapSource::new().with(
        "/x.cfg",
        format!("frontend f\n{}", " bind :80\n".repeat(10_000)),
    );
    let paths = vec![PathBuf::from("/x.cfg"); 10_000];
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let cfg = parse_config(&Input::new(&src, &BTreeMap::new(), &limits), &paths);
    assert_mentions(&cfg.problems, "bytes of configuration");

    let cfg = one(&format!("frontend f\n bind {}\n", "a ".repeat(1000)));
    assert_mentions(&cfg.problems, "too many words");
    let cfg = one(&format!("frontend f\n bind {}\n", ":80,".repeat(100_000)));
    assert!(cfg.sections[0].binds.is_empty() || cfg.sections[0].binds[0].endpoints.len() <= 256);
    let cfg = one(&".if x\n".repeat(1000));
    assert_mentions(&cfg.problems, "nested too deep");
    let cfg = one("frontend \u{1b}[2J\u{7}\n bind \u{1b}]52;c;AAAA\u{7}:80\n");
    assert!(is_inert(cfg.sections[0].name.as_deref().unwrap()));
    assert!(cfg.problems.iter().all(|p| is_inert(p)));
}

proptest::proptest! {
    #![proptest_config(crate::testutil::inputs::config())]

    #[test]
    fn fuzz_haproxy_parser_never_panics(
        input in input_with_fixtures("haproxy", 60, &["debian12/haproxy.cfg"]),
        p in crate::testutil::inputs::soup(vec!["80", ":", "[", "\"", " "], 4),
        words in proptest::collection::vec(crate::testutil::inputs::soup_of("haproxy", 3), 0..8),
    ) {
        let env = env(&[("P", &p)]);
        let src = MapSource::new().with("/f/h.cfg", String::from_utf8_lossy(&input).into_owned());
        let cfg = parse_config(&Input::new(&src, &env, &Limits::default()), &[PathBuf::from("/f/h.cfg")]);
        for s in &cfg.sections {
            for b in &s.binds {
                assert!(is_inert(&b.raw), "{:?}", b.raw);
            }
        }
        let _ = config_paths(&words, Some(Path::new("/")));
    }
}
