//! Ports Docker publishes to a container (issue 14, the containers part): a container
//! namespace behind srv's docker0, the rules Docker 20.10 and 27 write, docker-proxy
//! where the userland proxy applies, and a Docker-compatible API on a unix socket
//! (`harness::containers`). Each row first asks the kernel (a connection from cli over
//! each family to srv's published port), then dsdoctor, which must agree and name the
//! container and the fix. The first row is the healthy twin of the others.

use crate::harness::*;

const P: Option<u16> = Some(PUBLISHED);

/// Docker 27 with IPv6 on the default bridge and ip6tables (its default), the userland
/// proxy off, and a program in the container on `[::]`: the rows change what they break.
const DOCKER_27_V6: Docker = Docker {
    version: "27.3.1",
    daemon_json: r#"{"ipv6": true, "fixed-cidr-v6": "fd00:d0c::/64", "userland-proxy": false}"#,
    mappings: &["0.0.0.0", "::"],
    container_v6: true,
    v6_rules: true,
    proxies: &[],
    inside: "::",
};

/// Docker 20.10 (Debian 12): no IPv6 on the bridge, no ip6tables rules.
const DOCKER_20_10: Docker = Docker {
    version: "20.10.24+dfsg1",
    daemon_json: "{}",
    mappings: &["0.0.0.0", "::"],
    container_v6: false,
    v6_rules: false,
    proxies: &[],
    inside: "::",
};

/// The outline of every row: build the container, ask the kernel whether a client
/// reaches the published port over (IPv4, IPv6), then run dsdoctor as root, whose
/// saved facts must replay to the same findings. IPv4 reaches the container in every
/// row.
fn run_row(name: &str, docker: &Docker, kernel_says: (bool, bool)) -> CheckRun {
    let mut lab = Lab::new(name);
    let sock = lab.start_docker(docker);
    assert_eq!(
        kernel(&lab),
        kernel_says,
        "the kernel's answer (IPv4, IPv6)"
    );
    let run = lab.check_with_docker(&sock);
    run.assert_status(CheckId::ListenerIpv4, P, Status::Pass);
    assert_replay_equals_live(&lab, &run);
    run
}

/// The IPv6 listener finding on the published port is `status` and says each of `says`.
fn assert_ipv6(run: &CheckRun, status: Status, says: &[&str]) {
    run.assert_finding(CheckId::ListenerIpv6, P, status, says);
}

/// That finding's `part` says each of `says`.
fn assert_ipv6_says(run: &CheckRun, part: Part, says: &[&str]) {
    run.assert_says(CheckId::ListenerIpv6, P, part, says);
}

/// Replaying the saved facts (the containers part included) gives the live findings.
fn assert_replay_equals_live(lab: &Lab, live: &CheckRun) {
    let replayed = lab.replay(&lab.docker_facts());
    assert_eq!(
        replayed.report.checks, live.report.checks,
        "replay: findings differ"
    );
}

/// The kernel's answer for each family: does a client reach the published port?
fn kernel(lab: &Lab) -> (bool, bool) {
    (
        lab.tcp_connects(Ns::Cli, SRV_V4, PUBLISHED),
        lab.tcp_connects(Ns::Cli, SRV_V6, PUBLISHED),
    )
}

/// Docker 27 with IPv6 on the default bridge and ip6tables (its default): both families
/// are rewritten to the container, which listens on both. The healthy twin.
#[test]
fn published_on_both_families_passes_and_names_the_container() {
    let run = run_row("ctr-both", &DOCKER_27_V6, (true, true));
    run.assert_says(
        CheckId::ListenerIpv4,
        P,
        Part::Summary,
        &["container web (Docker) at 172.17.0.2:80"],
    );
    run.assert_finding(
        CheckId::ListenerIpv6,
        P,
        Status::Pass,
        &["[fd00:d0c::2]:80", "DNAT"],
    );
    run.assert_finding(
        CheckId::ListenerConfig,
        P,
        Status::Pass,
        &["publishes port 8080 to both families"],
    );
}

/// Docker 20.10 (Debian 12) with userland-proxy off: IPv4 DNAT only; IPv6 clients get
/// nothing, and the fix is daemon.json's IPv6 keys with a restart.
#[test]
fn ipv4_dnat_only_fails_ipv6_with_the_docker_fixes() {
    let docker = Docker {
        daemon_json: r#"{"userland-proxy": false}"#,
        ..DOCKER_20_10
    };
    let run = run_row("ctr-v4-dnat", &docker, (true, false));
    assert_ipv6(
        &run,
        Status::Fail,
        &["container web (Docker)", "ip6tables is off"],
    );
    assert_ipv6_says(
        &run,
        Part::Fixes,
        &["\"ip6tables\": true", "systemctl restart docker"],
    );
    run.assert_status(CheckId::ListenerConfig, P, Status::Fail);
}

/// Docker 27 (ip6tables on by default) with userland-proxy off and a container on a
/// bridge without IPv6: no IPv6 destination and no proxy.
#[test]
fn userland_proxy_off_with_an_ipv4_only_container_fails_ipv6() {
    let docker = Docker {
        version: "27.3.1",
        daemon_json: r#"{"userland-proxy": false}"#,
        ..DOCKER_20_10
    };
    let run = run_row("ctr-no-proxy", &docker, (true, false));
    assert_ipv6(&run, Status::Fail, &["container web has no IPv6 address"]);
    assert_ipv6_says(&run, Part::Fixes, &["userland-proxy", "\"ipv6\": true"]);
}

/// `-p 0.0.0.0:8080:80` with Docker 27's defaults: the real docker-proxy listens on
/// 0.0.0.0:8080 only (its sockets count as the host's), IPv6 clients are refused.
#[test]
fn published_on_0000_only_fails_ipv6_and_names_docker_proxys_container() {
    let docker = Docker {
        version: "27.3.1",
        mappings: &["0.0.0.0"],
        proxies: &["0.0.0.0"],
        inside: "0.0.0.0",
        ..DOCKER_20_10
    };
    let run = run_row("ctr-v4-only", &docker, (true, false));
    assert_ipv6(
        &run,
        Status::Fail,
        &["publishes it as 0.0.0.0:8080->80/tcp only"],
    );
    run.assert_says(
        CheckId::ListenerIpv6,
        P,
        Part::Fixes,
        &["-p [::]:8080:80", "docker port web"],
    );
    assert_ipv6_says(&run, Part::Evidence, &["docker-proxy"]);
}

/// Docker 20.10's defaults (Debian 12): IPv4 DNAT only, but the userland proxy is on,
/// so the real docker-proxy takes IPv6 clients on [::]:8080 and connects them to the
/// container's IPv4 address. Its sockets count as the host's, and the container behind
/// them is named: no false alarm.
#[test]
fn docker_proxy_carries_ipv6_to_the_container_and_is_named() {
    let docker = Docker {
        proxies: &["0.0.0.0", "::"],
        inside: "0.0.0.0",
        ..DOCKER_20_10
    };
    // IPv4 by DNAT, IPv6 through docker-proxy.
    let run = run_row("ctr-proxy", &docker, (true, true));
    assert_ipv6(
        &run,
        Status::Pass,
        &[
            "docker-proxy (pid",
            "container web (Docker) at 172.17.0.2:80",
        ],
    );
    run.assert_status(CheckId::ListenerConfig, P, Status::Pass);
}

/// Docker 27 rewrites IPv6 to the container's IPv6 address, but the program inside
/// binds 0.0.0.0 only: the sockets read inside the container's namespace say so.
#[test]
fn container_listening_on_ipv4_only_fails_ipv6_from_its_own_sockets() {
    let docker = Docker {
        inside: "0.0.0.0",
        ..DOCKER_27_V6
    };
    let run = run_row("ctr-inside-v4", &docker, (true, false));
    run.assert_finding(
        CheckId::ListenerIpv6,
        P,
        Status::Fail,
        &["[fd00:d0c::2]:80, where nothing listens over IPv6"],
    );
    assert_ipv6_says(&run, Part::Evidence, &["in web: 0.0.0.0:80 LISTEN"]);
}

/// Run as nobody: the API socket refuses, the container's namespace cannot be entered.
/// Nothing of the host listens on the port, so dsdoctor says what it needs instead of
/// "nothing listens".
#[test]
fn unprivileged_run_says_the_runtime_needs_root_or_the_docker_group() {
    let mut lab = Lab::new("ctr-nobody");
    let sock = lab.start_docker(&DOCKER_27_V6);
    assert_eq!(kernel(&lab), (true, true));
    let run = lab.check_with_docker_as(RunAs::Nobody, &sock);
    for id in [CheckId::ListenerIpv4, CheckId::ListenerIpv6] {
        run.assert_status_in(id, P, &[Status::Error, Status::Skip]);
        run.assert_says(
            id,
            P,
            Part::Summary,
            &["container runtime", "needs root or the docker group"],
        );
    }
}

/// `-p 0.0.0.0:8080:80` with userland-proxy off while a program of the host listens on
/// [::]:8080: IPv4 clients get the container, IPv6 clients the host's program. Both
/// connect, so only the answers tell: two different services.
#[test]
fn ipv6_reaching_a_host_program_while_ipv4_goes_to_the_container_is_a_split() {
    let mut lab = Lab::new("ctr-split");
    let sock = lab.start_docker(&Docker {
        daemon_json: r#"{"userland-proxy": false}"#,
        mappings: &["0.0.0.0"],
        inside: "0.0.0.0",
        ..DOCKER_20_10
    });
    lab.start_listener("::", PUBLISHED, Some(true), "served by the host\n");
    let v4 = lab
        .http_get(Ns::Cli, SRV_V4, PUBLISHED)
        .expect("IPv4 answers");
    let v6 = lab
        .http_get(Ns::Cli, SRV_V6, PUBLISHED)
        .expect("IPv6 answers");
    assert!(v4.contains("served by container web"), "{v4}");
    assert!(v6.contains("served by the host"), "{v6}");
    let run = lab.check_with_docker(&sock);
    run.assert_status(CheckId::ListenerIpv4, P, Status::Pass);
    assert_ipv6(
        &run,
        Status::Fail,
        &["on this host, while IPv4 clients are sent to container web (Docker) at 172.17.0.2:80"],
    );
    assert_replay_equals_live(&lab, &run);
}
