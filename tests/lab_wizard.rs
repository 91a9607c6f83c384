//! The real binary's wizard in a real terminal (tmux), inside a lab namespace whose
//! nginx listens on IPv4 only: the listener stage fails with the fix on screen; after
//! nginx is fixed and reloaded, `r` turns the stage to pass and the wizard moves on;
//! `q` leaves the terminal as it was. Also: SIGHUP (a dropped SSH session) restores it.

mod common;

use common::*;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A private tmux server, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("dsd-{}-{tag}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("tmux {args:?}: {e} (is tmux installed? scripts/test.sh installs it)")
            })
    }

    /// Start `cmd` in a detached 100x30 session whose pane stays after the command ends.
    fn start(&self, cmd: &str) {
        let out = self.run(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-e",
            "LANG=C.UTF-8",
            "-e",
            "TERM=xterm-256color",
            cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.run(&["set-option", "-g", "remain-on-exit", "on"]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.run(&["display-message", "-p", format]).stdout)
            .trim()
            .to_string()
    }

    fn keys(&self, keys: &str) {
        self.run(&["send-keys", keys]);
    }

    /// Wait until `pred` holds for the screen; panic with the screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The wizard's command line in srv: the lab's check options without `check` and
/// `--format json`.
fn wizard_command(lab: &Lab) -> String {
    let args = Lab::check_args(&[]);
    let mut kept: Vec<String> = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == "--format" {
            skip = true;
            continue;
        }
        if a != "check" {
            kept.push(a);
        }
    }
    format!(
        "ip netns exec {} {} {}",
        lab.ns(Ns::Srv),
        env!("CARGO_BIN_EXE_dsdoctor"),
        kept.join(" ")
    )
}

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
        wizard_command(&lab),
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
    tmux.start(&wizard_command(&lab));
    tmux.wait_for(
        &format!("the {stage} stage to fail"),
        Duration::from_secs(30),
        |s| {
            line_with(s, stage).is_some_and(|l| l.contains('✗') && l.contains('◀'))
                && !s.contains("checking…")
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
    tmux.start(&wizard_command(&lab));
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
    let out = Command::new(env!("CARGO_BIN_EXE_dsdoctor"))
        .args(["shop.example", "--offline"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run dsdoctor");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dsdoctor check"), "{err}");
    assert!(out.stdout.is_empty());
}
