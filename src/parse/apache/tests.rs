use super::*;
use crate::parse::source::{ConfigSource, FsSource, Limits, MapSource};
use crate::parse::test_support::{
    fixture, fixtures, hostile_dir, input_with_fixtures, ip, opened_sockets, refuses_hostile,
    ss_name, written_families,
};
use crate::testutil::{assert_mentions, env, is_inert, strings};

fn inv(root: &str, conf: &str) -> Invocation {
    Invocation {
        server_root: PathBuf::from(root),
        config: PathBuf::from(root).join(conf),
        defines: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
        how: String::new(),
    }
}

fn parse_in(
    src: &dyn ConfigSource,
    inv: &Invocation,
    env: &BTreeMap<String, String>,
) -> ApacheConfig {
    parse_config(&Input::new(src, env, &Limits::default()), inv)
}

fn parse(src: &MapSource, root: &str, conf: &str) -> ApacheConfig {
    parse_in(src, &inv(root, conf), &BTreeMap::new())
}

fn one(text: &str) -> ApacheConfig {
    parse(
        &MapSource::new().with("/etc/apache2/apache2.conf", text),
        "/etc/apache2",
        "apache2.conf",
    )
}

fn fs_parse(root: &Path, env: &BTreeMap<String, String>) -> ApacheConfig {
    let i = Invocation {
        server_root: root.to_path_buf(),
        config: root.join("apache2.conf"),
        ..inv("/", "x")
    };
    parse_in(&FsSource::default(), &i, env)
}

/// The port of a `Listen`, which always has one.
fn listen_port(l: &ApacheListen) -> u16 {
    l.endpoint.ports.map_or(0, |p| p.first)
}

/// What `apache2 -t -D DUMP_INCLUDES -D DUMP_VHOSTS` printed (see
/// `tests/fixtures/servers/apache-oracle/record.sh`): the files in the order httpd
/// read them, and each (address:port, name, file:line) of its virtual host table.
struct Oracle {
    files: Vec<String>,
    vhosts: BTreeSet<(String, String, String)>,
}

fn oracle(dump: &str) -> Oracle {
    let root = fixtures().join("apache-oracle").display().to_string();
    let debian = fixtures().join("debian12").display().to_string();
    let dump = fixture(&format!("apache-oracle/{dump}.dump"))
        .replace("@ROOT@", &root)
        .replace("@DEBIAN@", &debian);
    let mut files = Vec::new();
    let mut vhosts = BTreeSet::new();
    let mut header = String::new();
    let mut in_vhosts = false;
    for line in dump.lines() {
        let t = line.trim();
        if t == "VirtualHost configuration:" {
            in_vhosts = true;
            continue;
        }
        if !in_vhosts {
            // `(*) FILE` for the main file, `(LINE) FILE` for each include.
            if let Some((_, path)) = t.split_once(") ").filter(|_| t.starts_with('(')) {
                files.push(path.to_owned());
            }
            continue;
        }
        if let Some(addr) = t.strip_suffix(" is a NameVirtualHost") {
            header = addr.trim().to_owned();
            continue;
        }
        let Some((head, place)) = t.rsplit_once(" (") else {
            continue;
        };
        let place = place.trim_end_matches(')').to_owned();
        if !line.starts_with(' ') {
            // `ADDR   NAME (FILE:LINE)`: the one virtual host on that address.
            let mut w = head.split_whitespace();
            if let (Some(addr), Some(name)) = (w.next(), w.next()) {
                vhosts.insert((addr.to_owned(), name.to_owned(), place));
            }
        } else if let Some((_, name)) = head
            .strip_prefix("port ")
            .and_then(|r| r.split_once(" namevhost "))
        {
            // `port P namevhost NAME (FILE:LINE)` under `ADDR is a NameVirtualHost`.
            vhosts.insert((header.clone(), name.to_owned(), place));
        }
    }
    Oracle { files, vhosts }
}

/// Our virtual hosts as httpd's table keys them: `addr:port` per address (`*` for
/// `_default_`, `*` for a port of any), the name, `file:line`. `unnamed` stands in for
/// the name httpd derives from the host's own name when a vhost has no ServerName.
fn ours(cfg: &ApacheConfig, unnamed: &str) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for vh in &cfg.vhosts {
        let name = vh
            .server_name
            .as_ref()
            .map_or(unnamed.to_owned(), |n| n.value.clone());
        for a in vh.addrs.iter().map(|a| &a.endpoint) {
            let host = match &a.addr {
                BindAddr::Unspecified => "*".to_owned(),
                BindAddr::V6(ip) => format!("[{ip}]"),
                BindAddr::V4(ip) => ip.to_string(),
                BindAddr::Host(h) | BindAddr::Other(h) => h.clone(),
            };
            let port = a.ports.map_or("*".to_owned(), |p| p.first.to_string());
            out.insert((format!("{host}:{port}"), name.clone(), vh.at.to_string()));
        }
    }
    out
}

#[test]
fn debian_default_tree_as_httpd_reads_it() {
    let root = fixtures().join("debian12/apache2");
    let env = envvars(&fixture("debian12/apache2/envvars"));
    let cfg = fs_parse(&root, &env);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let o = oracle("debian12");
    let files: Vec<String> = cfg.files.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(files, o.files);
    // httpd names the unnamed default vhost after the host's address (127.0.0.1 here):
    // we keep "no ServerName", and the check falls back to the main server's name.
    assert_eq!(ours(&cfg, "127.0.0.1"), o.vhosts);
    assert_eq!(cfg.vhosts[0].server_name, None);
    assert_eq!(cfg.vhosts[0].close_line, 29);

    // ports.conf: `Listen 80` (both families), and `Listen 443` twice, under the
    // IfModule sections of the two TLS modules, neither of them loaded by default.
    let l: Vec<(u16, usize, Families, Vec<Option<bool>>)> = cfg
        .listens
        .iter()
        .map(|l| {
            (
                listen_port(l),
                l.at.line,
                l.endpoint.families,
                l.conditions.iter().map(|c| c.holds).collect(),
            )
        })
        .collect();
    assert_eq!(
        l,
        vec![
            (80, 5, Families::Both, vec![]),
            (443, 8, Families::Both, vec![None]),
            (443, 12, Families::Both, vec![None]),
        ]
    );
    assert_eq!(cfg.listens[1].conditions[0].text, "IfModule ssl_module");
    assert!(cfg.listens[0].at.file.ends_with("ports.conf"));
    assert!(cfg.modules.contains(&"mpm_event_module".to_owned()));
    // The envvars values fill `${APACHE_LOG_DIR}` and the rest: nothing stays literal.
    assert!(cfg.undefined_vars.is_empty(), "{:?}", cfg.undefined_vars);
    assert_eq!(cfg.server_root, root);
}

#[test]
fn debian_envvars_values() {
    let env = envvars(&fixture("debian12/apache2/envvars"));
    assert_eq!(env["APACHE_RUN_USER"], "www-data");
    assert_eq!(env["APACHE_LOG_DIR"], "/var/log/apache2");
    assert_eq!(env["APACHE_PID_FILE"], "/var/run/apache2/apache2.pid");
    assert_eq!(env["LANG"], "C");
}

#[test]
fn own_configurations_against_httpd() {
    for case in ["mixed", "ipbased"] {
        let root = fixtures().join("apache-oracle").join(case);
        let cfg = fs_parse(&root, &BTreeMap::new());
        let o = oracle(case);
        let files: Vec<String> = cfg.files.iter().map(|f| f.display().to_string()).collect();
        assert_eq!(files, o.files, "{case}");
        assert_eq!(ours(&cfg, "?"), o.vhosts, "{case}");
    }
}

#[test]
fn mixed_case_listens_and_what_httpd_opened() {
    let root = fixtures().join("apache-oracle/mixed");
    let cfg = fs_parse(&root, &BTreeMap::new());
    assert_eq!(cfg.undefined_vars, vec!["UNDEFINED_THING"]);
    // No problems: the missing optional includes are silent, as in httpd, and the
    // hidden file in the included directory is read, as httpd does.
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    use Families::*;
    assert_eq!(
        written_families(cfg.listens.iter().map(|l| &l.endpoint)),
        [
            ("8080", Both),
            ("0.0.0.0:8081", Ipv4),
            ("[::]:8082", BothIfV4Mapped),
            ("127.0.0.1:8083", Ipv4),
            ("[::1]:8443", Ipv6),
            ("*:8085", Both),
            ("8084", Both),
            ("8086", Both),
            ("8087", Both),
        ]
    );
    assert_eq!(cfg.listens[3].protocol.as_deref(), Some("http"));
    // httpd, started on this configuration in an empty network namespace
    // (record-sockets.sh), opened these sockets. `ss` writes an IPv6 wildcard socket
    // with IPV6_V6ONLY off as `*`: so `Listen 80` and `Listen [::]:8082` both take IPv4
    // too on Debian's build (IPv4-mapped addresses enabled), `0.0.0.0:8081` does not.
    let mut ours: Vec<String> = cfg
        .listens
        .iter()
        .map(|l| ss_name(&l.endpoint, listen_port(l), false))
        .collect();
    ours.sort();
    assert_eq!(opened_sockets(&root.with_extension("sockets")), ours);
    // Conditions: `IfDefine !NOPE` holds (NOPE is not defined), `IfModule
    // mpm_event_module` holds (loaded), `IfModule !mod_mpm_event.c` is unknown to us: the
    // MPM's source is `event.c`, so httpd took the negation as true (it listened on
    // 8087); a name no LoadModule gave may be compiled in, so we do not decide it.
    let holds: Vec<Option<bool>> = cfg.listens[6..]
        .iter()
        .map(|l| l.conditions[0].holds)
        .collect();
    assert_eq!(holds, vec![Some(true), Some(true), None]);
    // The port-less `<VirtualHost 127.0.0.1>` takes the main ServerName's port.
    let noport = cfg.vhosts.iter().find(|v| {
        v.server_name
            .as_ref()
            .is_some_and(|n| n.value == "noport.example")
    });
    assert_eq!(
        noport.map(|v| v.addrs[0].endpoint.ports),
        Some(Some(Ports::one(8080)))
    );
    // The continued ServerAlias line.
    assert_eq!(
        cfg.vhosts[0]
            .aliases
            .iter()
            .map(|a| (a.value.as_str(), a.at.line))
            .collect::<Vec<_>>(),
        vec![("www.shop.example", 3), ("static.shop.example", 3)]
    );
}

#[test]
fn ip_based_vhost_leaves_ipv6_to_another_site() {
    let root = fixtures().join("apache-oracle/ipbased");
    let cfg = fs_parse(&root, &BTreeMap::new());
    assert_eq!(cfg.listens[0].endpoint.families, Families::Both);
    let shop = &cfg.vhosts[1];
    assert_eq!(
        shop.server_name.as_ref().map(|n| n.value.as_str()),
        Some("shop.example")
    );
    let https = Some(Ports::one(443));
    assert_eq!(
        (
            shop.addrs[0].endpoint.families,
            shop.addrs[0].endpoint.ports
        ),
        (Families::Ipv4, https)
    );
    assert!(shop.at.file.ends_with("vhosts/10-shop.conf"));
    // The first `*:443` vhost is the one IPv6 clients get.
    let first_any = cfg.vhosts.iter().find(|v| {
        v.addrs
            .iter()
            .any(|a| a.endpoint.families == Families::Both && a.endpoint.ports == https)
    });
    assert_eq!(
        first_any
            .and_then(|v| v.server_name.as_ref())
            .map(|n| n.value.as_str()),
        Some("other.example")
    );
}

#[test]
fn listen_forms() {
    use Families::*;
    for (written, addr, port, families) in [
        ("80", BindAddr::Unspecified, 80, Both),
        ("*:80", BindAddr::Unspecified, 80, Both),
        ("0.0.0.0:81", ip("0.0.0.0"), 81, Ipv4),
        ("198.51.100.10:82", ip("198.51.100.10"), 82, Ipv4),
        ("[::]:83", ip("::"), 83, BothIfV4Mapped),
        ("[2001:db8::1]:443", ip("2001:db8::1"), 443, Ipv6),
        ("[fe80::1%eth0]:443", ip("fe80::1"), 443, Ipv6),
        ("[::ffff:192.0.2.1]:84", ip("::ffff:192.0.2.1"), 84, Ipv4),
        (
            "example.org:85",
            BindAddr::Host("example.org".into()),
            85,
            OfResolvedName,
        ),
    ] {
        let e = listen_addr(written).unwrap();
        assert_eq!(
            (e.addr, e.ports, e.families),
            (addr, Some(Ports::one(port)), families),
            "{written}"
        );
    }
    for bad in ["", "0", "65536", "1.2.3.4", "[::1]", "[::1", "x:", "[::1]x"] {
        assert!(listen_addr(bad).is_err(), "{bad}");
    }
    let cfg = one("Listen [2001:db8::1]:443 https\nListen\nListen 1.2.3.4\n");
    assert_eq!(cfg.listens[0].protocol.as_deref(), Some("https"));
    assert_eq!(cfg.listens[0].raw, "Listen [2001:db8::1]:443 https");
    assert_eq!(cfg.problems.len(), 2, "{:?}", cfg.problems);
    assert_mentions(&cfg.problems, "apache2.conf:3: Listen 1.2.3.4: port must");
}

#[test]
fn vhost_addresses() {
    use Families::*;
    for (written, addr, port, families) in [
        ("*", BindAddr::Unspecified, None, Both),
        ("*:*", BindAddr::Unspecified, None, Both),
        ("*:80", BindAddr::Unspecified, Some(80), Both),
        ("_default_:443", BindAddr::Unspecified, Some(443), Both),
        ("198.51.100.10:443", ip("198.51.100.10"), Some(443), Ipv4),
        ("[2001:db8::1]:443", ip("2001:db8::1"), Some(443), Ipv6),
        ("[::]:443", ip("::"), Some(443), Both),
        ("0.0.0.0:443", ip("0.0.0.0"), Some(443), Both),
        (
            "shop.example:80",
            BindAddr::Host("shop.example".into()),
            Some(80),
            OfResolvedName,
        ),
    ] {
        let e = vhost_addr(written, None).endpoint;
        assert_eq!(
            (e.addr, e.ports, e.families),
            (addr, port.map(Ports::one), families),
            "{written}"
        );
    }
    assert!(vhost_addr("_default_:443", None).default);
    let main_port = vhost_addr("10.0.0.1", Some(8080));
    assert_eq!(main_port.endpoint.ports, Some(Ports::one(8080)));
}

#[test]
fn names_namevirtualhost_and_tls() {
    let cfg = one(concat!(
        "ServerName main.example\n",
        "NameVirtualHost *:443\n",
        "<VirtualHost 198.51.100.10:443 [2001:db8::10]:443>\n",
        "  ServerName shop.example:443\n",
        "  ServerAlias www.shop.example *.shop.example\n",
        "  SSLEngine on\n",
        "  SSLCertificateFile /etc/ssl/shop.pem\n",
        "  <Directory /srv>\n",
        "    ServerName ignored-no\n",
        "  </Directory>\n",
        "</VirtualHost>\n",
        "ServerAlias outside.example\n",
    ));
    assert_eq!(cfg.server_name.as_ref().map(|n| n.at.line), Some(1));
    assert_eq!(cfg.name_virtual_hosts[0].value, "*:443");
    let vh = &cfg.vhosts[0];
    assert_eq!((vh.at.line, vh.close_line), (3, 11));
    assert_eq!(vh.addrs.len(), 2);
    // A ServerName inside a section of the vhost still belongs to the vhost (httpd
    // rejects it in <Directory>; the last one read is kept).
    assert_eq!(
        vh.server_name.as_ref().map(|n| n.value.as_str()),
        Some("ignored-no")
    );
    assert_eq!(vh.aliases.len(), 2);
    assert!(vh.ssl);
    assert_eq!(vh.certificate.as_deref(), Some("/etc/ssl/shop.pem"));
    assert_mentions(&cfg.problems, "apache2.conf:12: ServerAlias only");
}

#[test]
fn rhel_layout_and_conf_d() {
    let httpd_conf = "ServerRoot \"/etc/httpd\"\nListen 80\nInclude conf.modules.d/*.conf\n\
                      IncludeOptional conf.d/*.conf\n";
    let src = MapSource::new()
        .with("/etc/httpd/conf/httpd.conf", httpd_conf)
        .with(
            "/etc/httpd/conf.modules.d/00-ssl.conf",
            "LoadModule ssl_module modules/mod_ssl.so\n",
        )
        .with(
            "/etc/httpd/conf.d/ssl.conf",
            "<IfModule mod_ssl.c>\nListen 443 https\n</IfModule>\n<VirtualHost _default_:443>\nSSLEngine on\n</VirtualHost>\n",
        )
        .with("/etc/httpd/conf.d/README", "Listen 9999\n");
    let i = invocation(&strings(&["/usr/sbin/httpd", "-DFOREGROUND"]));
    assert_eq!(i.config, PathBuf::from("/etc/httpd/conf/httpd.conf"));
    assert_eq!(i.defines, vec!["FOREGROUND"]);
    let cfg = parse_in(&src, &i, &BTreeMap::new());
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    assert_eq!(cfg.listens.len(), 2);
    // mod_ssl.c is the source of the ssl_module just loaded.
    assert_eq!(cfg.listens[1].conditions[0].holds, Some(true));
    assert!(cfg.vhosts[0].ssl && cfg.vhosts[0].addrs[0].default);
    assert_eq!(cfg.defines, vec!["FOREGROUND"]);
}

#[test]
fn command_lines() {
    let i = invocation(&strings(&["/usr/sbin/apache2", "-k", "start"]));
    assert_eq!(
        (i.server_root.clone(), i.config.clone()),
        (
            PathBuf::from("/etc/apache2"),
            PathBuf::from("/etc/apache2/apache2.conf")
        )
    );
    let i = invocation(&strings(&[
        "/usr/sbin/apache2",
        "-d",
        "/etc/apache2-shop",
        "-k",
        "start",
        "-DSSL",
        "-D",
        "X",
        "-C",
        "Listen 8080",
        "-c",
        "Listen 9090",
    ]));
    assert_eq!(i.config, PathBuf::from("/etc/apache2-shop/apache2.conf"));
    assert_eq!(i.defines, vec!["SSL", "X"]);
    assert_eq!((i.before.len(), i.after.len()), (1, 1));
    assert!(i.how.contains("-d /etc/apache2-shop"), "{}", i.how);
    let i = invocation(&strings(&["/opt/web/bin/httpd", "-f", "/srv/web.conf"]));
    assert_eq!(
        (i.server_root.clone(), i.config.clone()),
        (PathBuf::from("/opt/web"), PathBuf::from("/srv/web.conf"))
    );
    let i = invocation(&strings(&[
        "/usr/local/apache2/bin/httpd",
        "-f",
        "conf/../x.conf",
    ]));
    assert_eq!(i.config, PathBuf::from("/usr/local/apache2/x.conf"));
    let i = invocation(&strings(&["httpd", "-d"]));
    assert_eq!(i.config, PathBuf::from("/etc/httpd/conf/httpd.conf"));
    assert_eq!(
        invocation(&[]).config,
        PathBuf::from("/etc/apache2/apache2.conf")
    );

    // -C before the file, -c after it.
    let src = MapSource::new().with("/etc/apache2/apache2.conf", "Listen 80\n");
    let mut i = invocation(&strings(&["apache2", "-C", "Listen 81", "-c", "Listen 82"]));
    i.defines.clear();
    let cfg = parse_in(&src, &i, &BTreeMap::new());
    let ports: Vec<u16> = cfg.listens.iter().map(listen_port).collect();
    assert_eq!(ports, vec![81, 80, 82]);
}

#[test]
fn includes_globs_directories_and_server_root() {
    // Each included file listens on a port of its own: the ports say what was read, in
    // which order.
    let listening = [
        ("/srv/a/conf/y/site-b.conf", 2),
        ("/srv/a/conf/x/site-a.conf", 1),
        ("/srv/a/conf/x/other.conf", 99),
        ("/srv/a/conf/.h/site-c.conf", 98),
        ("/srv/a/conf/file/site-d.conf", 97),
        ("/srv/b/extra/b.conf", 4),
        ("/srv/b/extra/a/z.conf", 3),
        ("/srv/b/extra/.dot", 5),
    ];
    let src = MapSource::new()
        .with(
            "/srv/a/apache2.conf",
            "Include conf/*/site-*.conf\nServerRoot /srv/b\nInclude extra\n\
             IncludeOptional none/*.conf\nInclude none/*.conf\nInclude missing.conf\n\
             IncludeOptional missing.conf\nInclude nodir/*/x.conf\n",
        )
        .with_files(listening.map(|(path, port)| (path, format!("Listen {port}\n"))))
        .with("/srv/b/none/keep", "");
    let cfg = parse(&src, "/srv/a", "apache2.conf");
    let ports: Vec<u16> = cfg.listens.iter().map(listen_port).collect();
    // conf/file/ is a directory too, so it matches `*`; `.h` does not (leading dot).
    assert_eq!(ports, vec![97, 1, 2, 5, 3, 4]);
    assert_eq!(cfg.problems.len(), 3, "{:?}", cfg.problems);
    assert_mentions(
        &cfg.problems,
        "apache2.conf:5: no matches for the wildcard '*.conf'",
    );
    assert_mentions(&cfg.problems, "/srv/b/missing.conf: no such file");
    assert_mentions(&cfg.problems, "could not open directory /srv/b/nodir");
    assert_eq!(cfg.server_root, PathBuf::from("/srv/b"));
}

#[test]
fn define_variables_and_conditions() {
    let env = env(&[("PORT", "8443"), ("SITE", "from-env.example")]);
    let src = MapSource::new().with(
        "/etc/apache2/apache2.conf",
        "Define SITE shop.example\nDefine TLS\nListen ${PORT}\n<IfDefine TLS>\n\
         <VirtualHost *:${PORT}>\nServerName ${SITE}\nServerAlias ${NOPE} ${A\n</VirtualHost>\n\
         </IfDefine>\nUnDefine TLS\n<IfDefine TLS>\nListen 1\n</IfDefine>\n\
         <IfModule !nothing_module>\nListen 2\n</IfModule>\n<IfVersion >= 2.4>\nListen 3\n</IfVersion>\n",
    );
    let cfg = parse_in(&src, &inv("/etc/apache2", "apache2.conf"), &env);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    assert_eq!(listen_port(&cfg.listens[0]), 8443);
    let vh = &cfg.vhosts[0];
    // A Define wins over the environment.
    assert_eq!(vh.server_name.as_ref().unwrap().value, "shop.example");
    assert_eq!(vh.addrs[0].endpoint.ports, Some(Ports::one(8443)));
    assert_eq!(vh.aliases[0].value, "${NOPE}");
    assert_eq!(vh.aliases[1].value, "${A");
    assert_eq!(vh.conditions[0].holds, Some(true));
    assert_eq!(cfg.undefined_vars, vec!["NOPE"]);
    let holds: Vec<Option<bool>> = cfg.listens[1..]
        .iter()
        .map(|l| l.conditions[0].holds)
        .collect();
    assert_eq!(holds, vec![Some(false), None, None]);
    assert_eq!(cfg.listens[3].conditions[0].text, "IfVersion >= 2.4");
    assert_eq!(cfg.defines, vec!["SITE"]);
}

#[test]
fn syntax_lines_quotes_and_sections() {
    let cfg = one(concat!(
        "# Listen 1\n",
        "   # Listen 2\n",
        "Listen \\\n",
        "  3\n",
        "<VirtualHost \"*:80\">\r\n",
        "  ServerName 'quoted name'\n",
        "  ServerAlias \"a \\\"b\\\"\" c#d\n",
        "</virtualhost>\n",
        "<Macro VHost $name>\n",
        "<VirtualHost *:80>\n",
        "ServerName $name\n",
        "</VirtualHost>\n",
        "</Macro>\n",
        "Use VHost x.example\n",
        "<Directory /x>\n",
        "</Location>\n",
        "<VirtualHost *:81\n",
        "</Nope>\n",
    ));
    assert_eq!(cfg.listens.len(), 1);
    assert_eq!(
        (listen_port(&cfg.listens[0]), cfg.listens[0].at.line),
        (3, 3)
    );
    assert_eq!(cfg.vhosts.len(), 1);
    let vh = &cfg.vhosts[0];
    assert_eq!(vh.server_name.as_ref().unwrap().value, "quoted name");
    assert_eq!(
        vh.aliases
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>(),
        vec!["a \"b\"", "c#d"]
    );
    for p in [
        "apache2.conf:14: mod_macro's Use",
        "apache2.conf:16: expected </Directory> but saw </Location>",
        "apache2.conf:17: <VirtualHost> directive missing closing '>'",
        "apache2.conf:18: </Nope> without matching",
    ] {
        assert_mentions(&cfg.problems, p);
    }
}

#[test]
fn unclosed_and_nested_vhosts() {
    let cfg = one("<VirtualHost *:80>\n<VirtualHost *:81>\nServerName in\n");
    assert_mentions(&cfg.problems, "cannot occur within <VirtualHost>");
    assert_mentions(&cfg.problems, "<VirtualHost> was not closed");
    assert_eq!(cfg.vhosts.len(), 2);
    // Sections do not carry over into an included file's end.
    let src = MapSource::new()
        .with(
            "/etc/apache2/apache2.conf",
            "Include a.conf\n</VirtualHost>\n",
        )
        .with("/etc/apache2/a.conf", "<VirtualHost *:80>\n");
    let cfg = parse(&src, "/etc/apache2", "apache2.conf");
    assert_mentions(&cfg.problems, "a.conf:1: <VirtualHost> was not closed");
    assert_mentions(&cfg.problems, "apache2.conf:2: </VirtualHost> without");
    assert_eq!(cfg.vhosts[0].close_line, 1);
}

#[test]
fn hostile_includes_are_bounded() {
    // A cycle through a glob and a directory.
    let src = MapSource::new()
        .with("/c/apache2.conf", "Include sub\n")
        .with("/c/sub/a.conf", "Include *.conf\nListen 80\n");
    let cfg = parse(&src, "/c", "apache2.conf");
    assert_mentions(&cfg.problems, "include cycle: /c/apache2.conf");
    assert_eq!(cfg.listens.len(), 1);

    // A bomb: each file includes the next many times.
    let mut src = MapSource::new();
    for i in 0..17 {
        src = src.with(
            format!("/b/{i}.conf"),
            format!("Include {}.conf\n", i + 1).repeat(50),
        );
    }
    let limits = Limits {
        max_total_bytes: 1 << 20,
        ..Limits::default()
    };
    let cfg = parse_config(
        &Input::new(&src, &BTreeMap::new(), &limits),
        &inv("/b", "0.conf"),
    );
    assert_mentions(&cfg.problems, "bytes of configuration");

    // Deep sections, a long line of variables, a huge line.
    let cfg = one(&"<IfModule x>\n".repeat(10_000));
    assert_mentions(&cfg.problems, "nested deeper than 64");
    let text = format!("ServerName {}\n", "${X}".repeat(100_000));
    let src = MapSource::new().with("/etc/apache2/apache2.conf", text);
    let env = env(&[("X", &"y".repeat(10_000))]);
    let cfg = parse_in(&src, &inv("/etc/apache2", "apache2.conf"), &env);
    assert!(cfg.server_name.unwrap().value.len() <= 1 << 20);
    let cfg = one(&format!("Listen {}\\\n", "8".repeat(3 << 20)));
    assert_eq!(cfg.listens.len(), 0);
}

#[test]
fn hostile_files_on_disk() {
    let dir = hostile_dir(".conf");
    let root = dir.path();
    std::fs::write(
        root.join("apache2.conf"),
        "Include fifo.conf\nInclude big.conf\nInclude /dev/zero\nListen 80\n\
         ServerName \u{1b}[2Jevil\u{7}.example\n",
    )
    .unwrap();
    let cfg = refuses_hostile(
        ".conf",
        |c: &ApacheConfig| &c.problems,
        || fs_parse(root, &BTreeMap::new()),
    );
    assert_mentions(&cfg.problems, "/dev/zero: not a regular file");
    assert_eq!(cfg.listens.len(), 1);
    let name = cfg.server_name.unwrap().value;
    assert!(is_inert(&name), "{name:?}");
}

proptest::proptest! {
    #![proptest_config(crate::testutil::inputs::config())]

    #[test]
    fn fuzz_apache_parser_never_panics(
        // Debian's own files, as shipped.
        input in input_with_fixtures("apache", 60, &[
            "debian12/apache2/apache2.conf",
            "debian12/apache2/ports.conf",
            "debian12/apache2/envvars",
        ]),
        other in crate::testutil::inputs::soup_of("apache", 30),
        words in proptest::collection::vec(crate::testutil::inputs::soup_of("apache", 4), 0..6),
    ) {
        let text = String::from_utf8_lossy(&input).into_owned();
        let src = MapSource::new()
            .with("/f/apache2.conf", text)
            .with("/f/a.conf", other.clone())
            .with("/f/d/b.conf", other);
        let cfg = parse(&src, "/f", "apache2.conf");
        for s in cfg
            .problems
            .iter()
            .chain(cfg.listens.iter().map(|l| &l.raw))
        {
            assert!(is_inert(s), "{s:?}");
        }
        let _ = invocation(&words);
        let _ = envvars(&String::from_utf8_lossy(&input));
    }
}
