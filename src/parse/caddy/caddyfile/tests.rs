use super::*;
use crate::facts::servers::{BindAddr, Endpoint, Families};
use crate::parse::caddy::json;
use crate::parse::source::{ConfigSource, FsSource, Limits, MapSource};
use crate::parse::test_support::{
    fixture, fixtures, hostile_dir, input_with_fixtures, opened_sockets, refuses_hostile, ss_name,
};
use crate::testutil::{assert_mentions, env, is_inert};
use std::collections::BTreeSet;

fn parse(src: &dyn ConfigSource, path: &Path) -> Caddyfile {
    parse_config(&Input::new(src, &BTreeMap::new(), &Limits::default()), path)
}

fn one(text: &str) -> Caddyfile {
    let main = Path::new("/etc/caddy/Caddyfile");
    parse(&MapSource::new().with(main, text), main)
}

fn fs(path: &Path) -> Caddyfile {
    parse(&FsSource::default(), path)
}

/// A listen address as Caddy writes it in its JSON: `[network/]host:port`, no host for
/// every address.
fn caddy_form(l: &Endpoint, port: u16) -> String {
    let net = match l.prefix.as_deref() {
        None | Some("tcp") => String::new(),
        Some(n) => format!("{n}/"),
    };
    let host = match &l.addr {
        BindAddr::Unspecified => String::new(),
        BindAddr::V4(ip) => ip.to_string(),
        BindAddr::V6(ip) => format!("[{ip}]"),
        BindAddr::Host(h) | BindAddr::Other(h) => h.clone(),
    };
    format!("{net}{host}:{}", l.ports.map_or(port, |p| p.first))
}

/// (listen address, host) pairs: what our reading of the Caddyfile says each site is
/// served on...
fn ours(cfg: &Caddyfile) -> BTreeSet<(String, String)> {
    let every = listen_addr("").unwrap();
    let mut out = BTreeSet::new();
    for site in &cfg.sites {
        let binds: Vec<&Endpoint> = if !site.binds.is_empty() {
            site.binds.iter().flat_map(|b| &b.addrs).collect()
        } else if !cfg.global.default_bind.is_empty() {
            cfg.global
                .default_bind
                .iter()
                .flat_map(|b| &b.addrs)
                .collect()
        } else {
            vec![&every]
        };
        for a in &site.addresses {
            for b in &binds {
                out.insert((caddy_form(b, a.serving_port), a.host.clone()));
            }
        }
    }
    out
}

/// ... and what `caddy adapt` made of it (read by our JSON parser).
fn theirs(adapted: &str) -> BTreeSet<(String, String)> {
    let cfg = json::parse(adapted).unwrap();
    let mut out = BTreeSet::new();
    for s in &cfg.servers {
        for l in &s.listen {
            let hosts = if s.hosts.is_empty() {
                vec![String::new()]
            } else {
                s.hosts.clone()
            };
            for h in hosts {
                out.insert((l.raw.clone(), h));
            }
        }
    }
    out
}

#[test]
fn debian_default_caddyfile() {
    let path = fixtures().join("debian12/Caddyfile");
    let cfg = fs(&path);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    assert_eq!(cfg.sites.len(), 1);
    let s = &cfg.sites[0];
    assert_eq!((s.at.line, s.close_line), (11, 23));
    assert_eq!(s.addresses[0].host, "");
    assert_eq!(s.addresses[0].port, Some(80));
    assert!(s.binds.is_empty());
    assert_eq!(ours(&cfg), theirs(&fixture("caddy-oracle/debian12.json")));
}

#[test]
fn own_caddyfiles_against_caddy_adapt() {
    for case in ["binds", "features"] {
        let dir = fixtures().join("caddy-oracle");
        let cfg = fs(&dir.join(format!("{case}.Caddyfile")));
        assert!(cfg.problems.is_empty(), "{case}: {:?}", cfg.problems);
        let adapted = fixture(&format!("caddy-oracle/{case}.json"));
        assert_eq!(ours(&cfg), theirs(&adapted), "{case}");
    }
}

#[test]
fn binds_against_the_sockets_caddy_opened() {
    let dir = fixtures().join("caddy-oracle");
    let cfg = fs(&dir.join("binds.Caddyfile"));
    assert!(cfg.global.settings.admin_off);
    assert_eq!(cfg.global.auto_https.as_deref(), Some("off"));
    // Caddy, started on binds.Caddyfile in an empty network namespace (record.sh),
    // opened these; `*:PORT` is an IPv6 wildcard socket with IPV6_V6ONLY off.
    let every = listen_addr("").unwrap();
    let mut ss: Vec<String> = Vec::new();
    for site in &cfg.sites {
        let binds: Vec<&Endpoint> = if site.binds.is_empty() {
            vec![&every]
        } else {
            site.binds.iter().flat_map(|b| &b.addrs).collect()
        };
        let port = site.addresses[0].serving_port;
        ss.extend(binds.into_iter().map(|b| ss_name(b, port, false)));
    }
    ss.sort();
    ss.dedup();
    assert_eq!(opened_sockets(&dir.join("binds.sockets")), ss);
    let b = &cfg.sites[1].binds[0];
    assert_eq!((b.at.line, b.raw.as_str()), (10, "bind 0.0.0.0"));
    assert_eq!(b.addrs[0].families, Families::Both);
    let two = &cfg.sites[6];
    assert_eq!(two.addresses.len(), 2);
    assert_eq!(two.addresses[1].host, "www.example.com");
}

#[test]
fn features_file_lines_and_globals() {
    let cfg = fs(&fixtures().join("caddy-oracle/features.Caddyfile"));
    let settings = &cfg.global.settings;
    assert_eq!(settings.admin.as_deref(), Some("127.0.0.1:2020"));
    assert_eq!(
        (settings.http_port, settings.https_port),
        (Some(8080), Some(8443))
    );
    assert_eq!(cfg.global.default_bind[0].addrs[0].families, Families::Ipv4);
    let hosts: Vec<(String, u16)> = cfg
        .sites
        .iter()
        .flat_map(|s| s.addresses.iter().map(|a| (a.host.clone(), a.serving_port)))
        .collect();
    assert_eq!(
        hosts,
        [
            ("example.com", 8443),
            ("www.example.com", 8443),
            ("plain.example", 8080),
            ("tls.example", 9443),
            ("", 9080),
            ("a.example", 8443),
            ("b.example", 8443),
        ]
        .map(|(h, p)| (h.to_owned(), p))
        .to_vec()
    );
    // The address continued after a comma, the closing brace's line, the imported file.
    let tls = &cfg.sites[2];
    assert_eq!((tls.at.line, tls.close_line), (23, 29));
    assert_eq!(tls.binds[0].addrs.len(), 2);
    assert!(cfg.sites[3].at.file.ends_with("sites/a.caddy"));
    assert_eq!(cfg.files.len(), 3);
}

#[test]
fn single_site_without_braces_env_and_snippets() {
    let env = env(&[("SITE", "shop.example")]);
    let src = MapSource::new().with(
        "/c/Caddyfile",
        "(b) {\n\tbind {args.0} \n}\n{$SITE}:8443 {$NONE:www.shop.example}\nimport b 127.0.0.1\nrespond \"x\"\n",
    );
    let cfg = parse_config(
        &Input::new(&src, &env, &Limits::default()),
        Path::new("/c/Caddyfile"),
    );
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let s = &cfg.sites[0];
    assert_eq!(s.addresses.len(), 2);
    assert_eq!(
        (s.addresses[0].host.as_str(), s.addresses[0].port),
        ("shop.example", Some(8443))
    );
    assert_eq!(s.addresses[1].serving_port, 443);
    assert_eq!(s.binds[0].addrs[0].families, Families::Ipv4);
    assert_eq!((s.at.line, s.close_line), (4, 6));
}

#[test]
fn quoting_comments_and_errors() {
    let cfg = one(concat!(
        "# comment {\n",
        "\"quoted.example\" `raw.example` {\n",
        "\trespond \"}\" # {\n",
        "\tbind \"[::1]\" \\\n",
        "\t\t127.0.0.1\n",
        "}\n",
        "ftp://bad.example {\n",
        "}\n",
        "later.example\n",
        "{\n",
        "}\n",
        "unterminated.example {\n",
        "\trespond x\n",
    ));
    let s = &cfg.sites[0];
    assert_eq!(s.addresses.len(), 2);
    assert_eq!(s.binds[0].addrs.len(), 2);
    assert_eq!(s.close_line, 6);
    assert_mentions(
        &cfg.problems,
        "Caddyfile:7: site address ftp://bad.example: unsupported scheme",
    );
    assert_mentions(&cfg.problems, "Caddyfile:12: unterminated block");
    // `later.example` alone on its line, then `{` on the next: Caddy 2.6.2 takes that
    // brace as the site's block (`caddy adapt` agrees), and so do we.
    assert_eq!(cfg.sites[2].addresses[0].host, "later.example");
    assert_eq!((cfg.sites[2].at.line, cfg.sites[2].close_line), (9, 11));
    assert_eq!(cfg.problems.len(), 2, "{:?}", cfg.problems);
    let cfg = one("a.example {\n}\nb.example\nc.example {\n}\n{\n}\n");
    assert_mentions(
        &cfg.problems,
        "Caddyfile:3: site address b.example without a block",
    );
    assert_mentions(&cfg.problems, "Caddyfile:6: a block with no site address");
    let cfg = one("a.example {\n\tbind :x\n}\n\"unterminated\n");
    assert_mentions(&cfg.problems, "Caddyfile:2: bind: invalid port 'x'");
    assert_mentions(&cfg.problems, "Caddyfile:4: unterminated quoted string");
}

#[test]
fn site_addresses() {
    let a = |s: &str| site_address(s, 80, 443).unwrap();
    assert_eq!(a(":80").serving_port, 80);
    assert_eq!(a("example.com").serving_port, 443);
    assert_eq!(a("http://example.com").serving_port, 80);
    assert_eq!(a("https://example.com").serving_port, 443);
    assert_eq!(a("http://").host, "");
    assert_eq!(a("example.com:8080/path").serving_port, 8080);
    let v6 = a("[::1]:8080");
    assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(8080)));
    assert_eq!(a("*.example.com").host, "*.example.com");
    assert_eq!(
        site_address("example.com", 8080, 8443)
            .unwrap()
            .serving_port,
        8443
    );
    for bad in ["x:y", "[::1", "gopher://x", "x:99999"] {
        assert!(site_address(bad, 80, 443).is_err(), "{bad}");
    }
}

#[test]
fn hostile_imports_are_bounded() {
    let src = MapSource::new()
        .with("/c/Caddyfile", "import a\n")
        .with("/c/a", "import Caddyfile\nx.example {\n}\n");
    let cfg = parse(&src, Path::new("/c/Caddyfile"));
    assert_mentions(&cfg.problems, "include cycle");
    assert_eq!(cfg.sites.len(), 1);

    let cfg = one("(s) {\n\timport s\n}\na.example {\n\timport s\n}\n");
    assert_mentions(&cfg.problems, "snippet imports nested deeper than 16");

    // Snippets doubling at each level.
    let mut text = String::from("(s0) {\n\tbind 127.0.0.1\n}\n");
    for i in 1..40 {
        text.push_str(&format!(
            "(s{i}) {{\n\timport s{}\n\timport s{}\n}}\n",
            i - 1,
            i - 1
        ));
    }
    text.push_str("a.example {\n\timport s39\n}\n");
    let start = std::time::Instant::now();
    let cfg = one(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(!cfg.problems.is_empty());

    let dir = hostile_dir("");
    let main = dir.path().join("Caddyfile");
    std::fs::write(
        &main,
        "import fifo\nimport big\n\u{1b}[2Jevil.example {\n}\n",
    )
    .unwrap();
    let cfg = refuses_hostile("", |c: &Caddyfile| &c.problems, || fs(&main));
    assert!(is_inert(&cfg.sites[0].addresses[0].host));
}

proptest::proptest! {
    #![proptest_config(crate::testutil::inputs::config())]

    #[test]
    fn fuzz_caddyfile_parser_never_panics(
        main in input_with_fixtures("caddyfile", 60, &["debian12/Caddyfile"]),
        imported in crate::testutil::inputs::soup_of("caddyfile", 30),
        x in crate::testutil::inputs::soup(vec!["{", "}", " ", "\n", ":80", "\""], 4),
    ) {
        let env = env(&[("X", &x)]);
        let src = MapSource::new()
            .with("/f/Caddyfile", String::from_utf8_lossy(&main).into_owned())
            .with("/f/a", imported);
        let cfg = parse_config(&Input::new(&src, &env, &Limits::default()), Path::new("/f/Caddyfile"));
        for s in &cfg.sites {
            assert!(s.addresses.iter().all(|a| is_inert(&a.raw)));
        }
    }
}
