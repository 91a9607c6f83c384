//! The real binary's wizard in a real terminal (tmux), inside a lab namespace whose
//! nginx listens on IPv4 only: the listener stage fails with the fix on screen; after
//! nginx is fixed and reloaded, `r` turns the stage to pass and the wizard moves on;
//! `q` leaves the terminal as it was. Also: SIGHUP (a dropped SSH session) restores it.

use crate::harness::*;
use std::process::Command;
use std::time::{Duration, Instant};

/// The decision tree's line for a stage (the tree is the left column).
fn line_with<'a>(screen: &'a str, stage: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.starts_with("│ ")
            && l.split('│')
                .nth(1)
                .is_some_and(|tree| tree.contains(&format!(" {stage} ")))
    })
}

#[test]
fn wizard_finds_ipv4_only_nginx_and_confirms_the_fix() {
    let mut lab = Lab::new("wizard");
    lab.start_nginx(NGINX_LISTEN_V4_ONLY);
    let tmux = Tmux::new("wizard");
    let exit_file = lab.dir().join("wizard.exit");
    tmux.start(&format!(
        "sh -c '{}; echo exit=$? > {}'",
        lab.wizard_command(),
        exit_file.display()
    ));

    // Guided mode stops at the failing listener stage with the nginx line to add.
    let s = tmux.wait_for("the listener stage to fail", Duration::from_secs(20), |s| {
        line_with(s, "Listener").is_some_and(|l| l.contains('✗') && l.contains('◀'))
            && s.contains("listen [::]:80;")
    });
    assert!(s.contains("listener.ipv6 :80"), "{s}");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the wizard runs on the alternate screen"
    );

    // The outside view fails too: the echo service cannot connect back over IPv6.
    tmux.keys("t");
    tmux.wait_for(
        "the first run's ISP failure",
        Duration::from_secs(20),
        |s| {
            s.lines()
                .any(|l| l.contains("isp.inbound_ipv6 :80") && l.contains(" fail "))
        },
    );
    tmux.keys("t");

    // The operator fixes nginx in another terminal and presses r.
    lab.reload_nginx(NGINX_LISTEN_DUAL);
    tmux.keys("r");
    let s = no_failure_left(&tmux, "Listener");
    assert!(
        !line_with(&s, "Listener").unwrap_or("").contains('◀'),
        "the wizard moved on: {s}"
    );

    // The timeline shows the change, and the outside view proving it.
    tmux.keys("t");
    tmux.wait_for("the timeline", Duration::from_secs(5), |s| {
        s.contains("fail → pass")
            && s.contains("listener.ipv6")
            && s.lines()
                .any(|l| l.contains("isp.inbound_ipv6 :80") && l.contains("fail → pass"))
    });

    // q quits and leaves the terminal as it was.
    tmux.keys("q");
    let start = Instant::now();
    while tmux.display("#{pane_dead}") != "1" {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the wizard did not quit: {}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The exit status comes from the shell wrapped around the wizard: tmux 3.3 sometimes
    // leaves a finished pane process unreaped, and so without a status.
    let start = Instant::now();
    let status = loop {
        let s = std::fs::read_to_string(&exit_file).unwrap_or_default();
        if !s.is_empty() || start.elapsed() > Duration::from_secs(5) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.trim(), "exit=0", "exit status of the wizard");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left"
    );
    assert!(
        !tmux.screen().contains("Decision tree"),
        "the wizard's screen was cleared away"
    );
}

/// Within 2 s of `r`, no failure marker is left anywhere on the screen (no stale
/// failure on another stage) and the header's verdict shows none.
fn no_failure_left(tmux: &Tmux, stage: &str) -> String {
    let s = tmux.wait_for(
        &format!("every failure to clear after r on {stage}"),
        Duration::from_secs(2),
        |s| !s.contains('✗') && line_with(s, stage).is_some_and(|l| l.contains('✓')),
    );
    let header = s.lines().next().unwrap_or("");
    assert!(
        !header.contains('✗'),
        "the verdict still shows a failure: {header}"
    );
    s
}

/// Break the lab host, let the wizard find it on `stage`, repair it, press `r` there:
/// every failure clears and the timeline shows the dependent ISP checks turning to pass.
fn fix_then_recheck(name: &str, stage: &str, broken: &[&[&str]], repair: &[&[&str]]) {
    let mut lab = Lab::new(name);
    lab.start_nginx(NGINX_LISTEN_DUAL);
    for cmd in broken {
        lab.exec_ok(Ns::Srv, cmd);
    }
    let tmux = Tmux::new(name);
    tmux.start(&lab.wizard_command());
    tmux.wait_for(
        &format!("the {stage} stage to fail"),
        Duration::from_secs(30),
        // The whole first run over, not only the stage's: `r` pressed while the ISP
        // probes still run would see their first answer come after the repair.
        |s| {
            line_with(s, stage).is_some_and(|l| l.contains('✗') && l.contains('◀'))
                && !s.contains("checking…")
                && !s.lines().next().unwrap_or("").contains("checking")
        },
    );
    for cmd in repair {
        lab.exec_ok(Ns::Srv, cmd);
    }
    tmux.keys("r");
    no_failure_left(&tmux, stage);
    tmux.keys("t");
    tmux.wait_for("ISP checks turning to pass", Duration::from_secs(5), |s| {
        s.lines()
            .any(|l| l.contains("isp.") && l.contains("→ pass"))
    });
    tmux.keys("q");
}

#[test]
fn recheck_after_removing_an_ip6tables_drop() {
    let rule = ["INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"];
    let add: Vec<&str> = ["ip6tables", "-A"].iter().chain(&rule).copied().collect();
    let del: Vec<&str> = ["ip6tables", "-D"].iter().chain(&rule).copied().collect();
    fix_then_recheck("wiz-fw", "Firewall", &[&add], &[&del]);
}

#[test]
fn recheck_after_restoring_the_ipv6_default_route() {
    fix_then_recheck(
        "wiz-route",
        "Route",
        &[&["ip", "-6", "route", "del", "default"]],
        &[&[
            "ip", "-6", "route", "add", "default", "via", SRV_GW_V6, "dev", "eth0",
        ]],
    );
}

#[test]
fn hangup_restores_the_terminal() {
    let mut lab = Lab::new("hup");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let tmux = Tmux::new("hup");
    tmux.start(&lab.wizard_command());
    tmux.wait_for("the first frame", Duration::from_secs(20), |s| {
        s.contains("Decision tree")
    });
    let pid = tmux.display("#{pane_pid}");
    // The pane runs `ip netns exec`, which execs dsdoctor: the pane's pid is dsdoctor.
    let out = Command::new("kill")
        .args(["-HUP", &pid])
        .output()
        .expect("kill");
    assert!(out.status.success());
    let start = Instant::now();
    while tmux.display("#{pane_dead}") != "1" {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "SIGHUP did not end the wizard"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "alternate screen left after SIGHUP"
    );
}

#[test]
fn wizard_refuses_a_non_terminal_and_points_to_check() {
    let out = Command::new(DSDOCTOR)
        .args(["shop.example", "--offline"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run dsdoctor");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dsdoctor check"), "{err}");
    assert!(out.stdout.is_empty());
}

/// `w` on the ISP stage asks the lab's measurement network: the probes' answers come in
/// while the wizard runs, and the place whose IPv6 path is black-holed is named.
#[test]
fn ask_the_world_names_the_place_where_ipv6_fails() {
    let mut lab = Lab::new("wiz-world");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_measurement_network(&WORLD[..4], ApiMode::Normal);
    lab.blackhole_probe_v6(2);
    let url = Lab::regions_args(1).pop().expect("the API's URL");
    let args = dsdoctor_args(Front::Wizard, &["--globalping-url", &url]);
    let tmux = Tmux::new("wiz-world");
    tmux.start(&format!(
        "ip netns exec {} {DSDOCTOR} {}",
        lab.ns(Ns::Srv),
        args.join(" ")
    ));
    // The first run passes everything and leaves the world unasked; guided mode ends on
    // the ISP stage, whose key bar offers w.
    tmux.wait_for(
        "the first run on the ISP stage",
        Duration::from_secs(30),
        |s| {
            line_with(s, "ISP").is_some_and(|l| l.contains('◀'))
                && !s.lines().next().unwrap_or("").contains("checking")
                && s.contains("ask the world")
        },
    );
    assert!(lab.api_requests().is_empty(), "the world was asked unasked");
    tmux.keys("w");
    let s = tmux.wait_for(
        "isp.regions to name Ashburn",
        Duration::from_secs(35),
        |s| s.contains("isp.regions") && s.contains("Ashburn") && s.contains('✗'),
    );
    assert!(
        line_with(&s, "ISP").is_some_and(|l| l.contains('✗')),
        "the ISP stage fails: {s}"
    );
    // Only the measurement network was asked: one first measurement, then the same
    // probes for IPv6 and DNS.
    let posts = lab.api_requests().iter().filter(|r| r.1 == "POST").count();
    assert_eq!(posts, 4, "{:?}", lab.api_requests());
    tmux.keys("q");
}
