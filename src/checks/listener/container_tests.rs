//! Fixture tests of ports a container publishes: the healthy host with a Docker
//! container on port 8080, broken one way per test (issue 14's failure classes).

use crate::checks::evaluate;
use crate::checks::fixtures::*;
use crate::facts::containers::*;
use crate::facts::*;
use crate::model::{CheckId, Finding, Status};
use crate::options::Options;

const PORT: u16 = 8080;

fn opts() -> Options {
    let mut o = options();
    o.target.ports = vec![PORT];
    o
}

/// Container `web` (nginx image) on the default bridge, publishing 8080 -> 80 on the
/// mappings given, with `v6` its IPv6 address if any, listening inside on `inside`.
fn web(mappings: &[&str], v6: Option<&str>, inside: Vec<Listener>) -> Container {
    Container {
        id: "3f2a9c1d8e7b".into(),
        name: "web".into(),
        image: "nginx:alpine".into(),
        ports: mappings
            .iter()
            .map(|ip| Published {
                host_ip: if ip.is_empty() { None } else { ip.parse().ok() },
                host_port: Some(PORT),
                container_port: 80,
                proto: "tcp".into(),
            })
            .collect(),
        networks: vec![ContainerNetwork {
            name: "bridge".into(),
            ipv4: Some("172.17.0.2".parse().unwrap()),
            ipv6: v6.map(|a| a.parse().unwrap()),
        }],
        pid: Some(4242),
        listeners: Some(Ok(inside)),
        host_network: false,
    }
}

fn docker(version: &str, c: Container, daemon: Option<DaemonConfig>) -> ContainerFacts {
    ContainerFacts {
        runtimes: vec![Runtime {
            kind: RuntimeKind::Docker,
            socket: "/var/run/docker.sock".into(),
            version: Some(version.into()),
            containers: Ok(vec![c]),
        }],
        daemon: daemon.map(Ok),
        proxies: Vec::new(),
    }
}

fn daemon(ipv6: Option<bool>, ip6tables: Option<bool>, proxy: Option<bool>) -> DaemonConfig {
    DaemonConfig {
        file: "/etc/docker/daemon.json".into(),
        ipv6,
        ip6tables,
        userland_proxy: proxy,
        ..Default::default()
    }
}

fn run(c: ContainerFacts, host: Vec<Listener>) -> Vec<Finding> {
    let mut f = healthy();
    f.listeners = Probed::ok(host);
    f.containers = Some(Probed::ok(c));
    // Every fix holds this host's values only, as `report::fix_problems` lints them.
    let r = crate::engine::report_from_facts(&f, &opts(), "2026-11-30T00:00:00Z".into(), 12);
    let links: Vec<String> = f.links().iter().map(|l| l.name.clone()).collect();
    let problems = crate::report::fix_problems(&r, &links);
    assert!(problems.is_empty(), "{problems:#?}");
    evaluate(&f, &opts())
}

fn dual_inside() -> Vec<Listener> {
    vec![listener("::", 80, Some(false))]
}

/// Docker `version` with userland-proxy off in daemon.json, publishing port 8080 on
/// both families to a container without an IPv6 address.
fn proxy_off_without_ipv6(version: &str) -> Vec<Finding> {
    let c = web(&["0.0.0.0", "::"], None, dual_inside());
    let daemon = daemon(None, None, Some(false));
    run(docker(version, c, Some(daemon)), Vec::new())
}

/// The port's IPv6 finding, asserted to fail while IPv4 passes.
#[track_caller]
fn only_ipv6_fails(fs: &[Finding]) -> &Finding {
    expect(fs, CheckId::ListenerIpv4, Some(PORT), Status::Pass);
    expect(fs, CheckId::ListenerIpv6, Some(PORT), Status::Fail)
}

fn titles(fd: &Finding) -> String {
    fd.fixes
        .iter()
        .map(|x| x.title.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Docker 27 with IPv6 on the bridge: both families are rewritten to the container,
/// which listens on both; nothing of the host listens on 8080. The healthy twin.
#[test]
fn published_on_both_families_passes_and_names_the_container() {
    let c = web(&["0.0.0.0", "::"], Some("fd00:d0c::2"), dual_inside());
    let fs = run(docker("27.3.1", c, None), Vec::new());
    let l4 = expect(&fs, CheckId::ListenerIpv4, Some(PORT), Status::Pass);
    assert_has(&l4.summary, "container web (Docker) at 172.17.0.2:80");
    let l6 = expect(&fs, CheckId::ListenerIpv6, Some(PORT), Status::Pass);
    assert_has(&l6.summary, "[fd00:d0c::2]:80");
    assert_line(&l6.evidence, "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp");
    let cfg = expect(&fs, CheckId::ListenerConfig, Some(PORT), Status::Pass);
    assert_has(
        &cfg.summary,
        "container web (Docker) publishes port 8080 to both families",
    );
}

/// Docker 20.10 (Debian 12) without daemon.json and userland-proxy off: IPv4 DNAT only,
/// IPv6 clients get nothing; the fix is daemon.json's IPv6 keys and a restart.
#[test]
fn ipv4_dnat_only_fails_ipv6_with_the_daemon_fix() {
    let fs = proxy_off_without_ipv6("20.10.24+dfsg1");
    let l6 = only_ipv6_fails(&fs);
    assert_has(&l6.summary, "ip6tables is off");
    assert_has(&l6.summary, "container web (Docker)");
    assert_has(&titles(l6), "IPv6 and ip6tables in /etc/docker/daemon.json");
    assert!(
        l6.fixes
            .iter()
            .any(|x| x.commands.iter().any(|c| c == "systemctl restart docker"))
    );
    assert_has(&l6.explanation, "before Docker 27");
    let cfg = expect(&fs, CheckId::ListenerConfig, Some(PORT), Status::Fail);
    assert_has(&cfg.summary, "[::]:8080->80/tcp");
}

/// Docker 27 (ip6tables on) with userland-proxy off and a container without IPv6:
/// no IPv6 destination, no proxy.
#[test]
fn userland_proxy_off_with_ipv4_only_container_fails_ipv6() {
    let fs = proxy_off_without_ipv6("27.3.1");
    let l6 = only_ipv6_fails(&fs);
    assert_has(&l6.summary, "container web has no IPv6 address");
    assert_has(&titles(l6), "docker-proxy carry the connections");
    assert_has(&titles(l6), "IPv6 and ip6tables");
}

/// `-p 0.0.0.0:8080:80`: IPv4 only by the mapping itself.
#[test]
fn published_on_0000_only_fails_ipv6_with_the_publish_fix() {
    let c = web(&["0.0.0.0"], Some("fd00:d0c::2"), dual_inside());
    let fs = run(docker("27.3.1", c, None), Vec::new());
    let l6 = only_ipv6_fails(&fs);
    assert_has(&l6.summary, "publishes it as 0.0.0.0:8080->80/tcp only");
    let cmds = l6
        .fixes
        .iter()
        .flat_map(|x| x.commands.clone())
        .collect::<Vec<_>>();
    assert_line(&cmds, "-p [::]:8080:80");
    assert_line(&cmds, "docker port web");
}

/// An empty host address (mailcow's `HTTP_BIND=`) is every address of both families.
#[test]
fn empty_host_address_takes_both_families() {
    let c = web(&[""], Some("fd00:d0c::2"), dual_inside());
    let fs = run(docker("27.3.1", c, None), Vec::new());
    expect(&fs, CheckId::ListenerIpv4, Some(PORT), Status::Pass);
    expect(&fs, CheckId::ListenerIpv6, Some(PORT), Status::Pass);
}

/// The DNAT reaches the container, but its program binds IPv4 only inside.
#[test]
fn container_listening_on_ipv4_only_fails_ipv6() {
    let c = web(
        &["0.0.0.0", "::"],
        Some("fd00:d0c::2"),
        vec![listener("0.0.0.0", 80, None)],
    );
    let fs = run(docker("27.3.1", c, None), Vec::new());
    let l6 = only_ipv6_fails(&fs);
    assert_has(&l6.summary, "where nothing listens over IPv6");
    assert_has(&l6.explanation, "DNAT rule");
}

/// docker-proxy's sockets count as the host's, and the container behind them is named:
/// Docker 20.10 with the userland proxy carries IPv6 to the container's IPv4 address.
#[test]
fn docker_proxy_counts_as_the_hosts_and_names_the_container() {
    let c = web(
        &["0.0.0.0", "::"],
        None,
        vec![listener("0.0.0.0", 80, None)],
    );
    let mut cf = docker("20.10.24+dfsg1", c, None);
    cf.proxies = vec![DockerProxy {
        pid: 900,
        proto: "tcp".into(),
        host_ip: Some("::".parse().unwrap()),
        host_port: Some(PORT),
        container_ip: Some("172.17.0.2".parse().unwrap()),
        container_port: Some(80),
    }];
    let host = vec![
        owned("0.0.0.0", PORT, None, 899, "docker-proxy"),
        owned("::", PORT, Some(true), 900, "docker-proxy"),
    ];
    let fs = run(cf, host);
    expect(&fs, CheckId::ListenerIpv4, Some(PORT), Status::Pass);
    let l6 = expect(&fs, CheckId::ListenerIpv6, Some(PORT), Status::Pass);
    assert_has(&l6.summary, "docker-proxy (pid 900)");
    assert_has(&l6.explanation, "Docker's userland proxy");
    assert_has(&l6.summary, "container web (Docker) at 172.17.0.2:80");
    expect(&fs, CheckId::ListenerConfig, Some(PORT), Status::Pass);
}

/// IPv4 goes to the container, IPv6 to the host's own nginx on [::]:8080.
#[test]
fn other_family_reaching_a_host_program_is_a_split() {
    let c = web(&["0.0.0.0"], None, dual_inside());
    let host = vec![listener("::", PORT, Some(true))];
    let fs = run(
        docker("20.10.24+dfsg1", c, Some(daemon(None, None, Some(false)))),
        host,
    );
    let l6 = only_ipv6_fails(&fs);
    assert_has(
        &l6.summary,
        "reach nginx (pid 812) on this host, while IPv4 clients are sent to container web",
    );
}

/// Without root the container's namespace cannot be entered: said, not guessed.
#[test]
fn unprivileged_run_says_what_needs_root() {
    let mut c = web(&["0.0.0.0", "::"], Some("fd00:d0c::2"), Vec::new());
    c.listeners = Some(Err(ProbeError::new(
        ProbeErrorKind::Permission,
        "open /proc/4242/ns/net: Permission denied (entering a container's network namespace needs root)",
    )));
    let fs = run(docker("27.3.1", c, None), Vec::new());
    let l4 = find_port(&fs, CheckId::ListenerIpv4);
    assert_ne!(l4.status, Status::Pass);
    assert_line(&l4.evidence, "needs root");
}

/// Podman's compatible API: the fix is netavark's network with IPv6.
#[test]
fn podman_gets_the_podman_fix() {
    let c = web(&["0.0.0.0"], None, dual_inside());
    let mut cf = docker("5.2.2", c, None);
    cf.runtimes[0].kind = RuntimeKind::Podman;
    let fs = run(cf, Vec::new());
    let l6 = expect(&fs, CheckId::ListenerIpv6, Some(PORT), Status::Fail);
    assert_has(&titles(l6), "Podman");
}

fn find_port(fs: &[Finding], id: CheckId) -> &Finding {
    fs.iter()
        .find(|x| x.id == id && x.port == Some(PORT))
        .expect("finding")
}

/// A runtime socket that refuses this user: nothing of the host listens, so the port
/// may be a container's; the check says what is needed instead of "nothing listens".
#[test]
fn refused_runtime_socket_is_not_nothing_listens() {
    let mut cf = docker("27.3.1", web(&["0.0.0.0", "::"], None, dual_inside()), None);
    cf.runtimes[0].containers = Err(ProbeError::new(
        ProbeErrorKind::Permission,
        "connect /var/run/docker.sock: Permission denied (os error 13) (asking the container runtime needs root or the docker group)",
    ));
    let fs = run(cf, Vec::new());
    let l4 = expect(&fs, CheckId::ListenerIpv4, Some(PORT), Status::Error);
    assert_has(
        &l4.summary,
        "could not ask the container runtime at /var/run/docker.sock",
    );
    assert_has(&l4.summary, "needs root or the docker group");
}

/// Docker 20.10 with IPv6 on the bridge but ip6tables left off: the container has an
/// IPv6 address, yet no rule rewrites to it; the fix is the one missing key.
#[test]
fn ipv6_bridge_without_ip6tables_wants_only_ip6tables() {
    let c = web(&["0.0.0.0", "::"], Some("fd00:d0c::2"), dual_inside());
    let d = daemon(Some(true), None, Some(false));
    let fs = run(docker("20.10.24+dfsg1", c, Some(d)), Vec::new());
    let l6 = expect(&fs, CheckId::ListenerIpv6, Some(PORT), Status::Fail);
    assert_has(&l6.summary, "ip6tables is off");
    assert_has(
        &titles(l6),
        "\"ip6tables\": true in /etc/docker/daemon.json",
    );
    assert_line(
        &l6.evidence,
        "ipv6 true, ip6tables unset, userland-proxy false",
    );
}

/// `"iptables": false` with `userland-proxy: false`: no rule and no proxy for either
/// family; the explanation says why, not "no IPv6 address".
#[test]
fn no_rules_and_no_proxy_fails_both_families() {
    let c = web(&["0.0.0.0", "::"], Some("fd00:d0c::2"), dual_inside());
    let mut d = daemon(None, None, Some(false));
    d.iptables = Some(false);
    let fs = run(docker("27.3.1", c, Some(d)), Vec::new());
    for id in [CheckId::ListenerIpv4, CheckId::ListenerIpv6] {
        let fd = expect(&fs, id, Some(PORT), Status::Fail);
        assert_has(&fd.summary, "Docker writes no DNAT rules");
        assert_has(&fd.explanation, "\"iptables\": false");
        assert_has(&titles(fd), "docker-proxy carry");
    }
}
