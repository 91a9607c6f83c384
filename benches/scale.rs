//! The listener stage on a busy host: a namespace with 100,000 TCP sockets (50,000
//! listening, 25,000 established connections, both ends), measured against `ss -ltn`
//! and `ss -ltnp` on the same namespace, with the peak memory of a whole `check` run.
//!
//! `cargo bench --bench scale` (root; builds its own namespace and removes it).

#[path = "support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use support::{ns_exec, time_runs};

/// One of ten processes (the per-process file limit here is 20,000): 5,000 listeners
/// and 2,500 established connections (both ends) each.
const SOCKETS: &str = r#"
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
base = 20000 + int(sys.argv[1]) * 2500
keep = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for port in range(base, base + 2500):
        s = socket.socket(fam, socket.SOCK_STREAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(4)
        keep.append(s)
for i in range(2500):
    c = socket.create_connection(("127.0.0.1", base + i))
    a, _ = keep[i].accept()
    keep.append(c); keep.append(a)
print("ready", flush=True)
time.sleep(3600)
"#;

struct Ns(String);

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "pids", &self.0])
            .output()
            .map(|o| {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            });
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn main() {
    if !support::requested("scale", " as root") {
        return;
    }
    let ns = Ns(format!("dsd-scale-{}", std::process::id()));
    assert!(
        Command::new("ip")
            .args(["netns", "add", &ns.0])
            .status()
            .expect("ip")
            .success()
    );
    ns_exec(&ns.0, &["ip", "link", "set", "lo", "up"]);
    ns_exec(
        &ns.0,
        &["sysctl", "-qw", "net.ipv4.ip_local_port_range=45000 65000"],
    );
    let mut children = Vec::new();
    for part in 0..10 {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.0,
                "/usr/bin/python3",
                "-c",
                SOCKETS,
                &part.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("ready line");
        assert_eq!(line.trim(), "ready", "socket process {part} failed");
        children.push(child);
    }
    let total = String::from_utf8_lossy(&ns_exec(&ns.0, &["ss", "-tanH"]).stdout)
        .lines()
        .count();
    let listening = String::from_utf8_lossy(&ns_exec(&ns.0, &["ss", "-ltnH"]).stdout)
        .lines()
        .count();

    let example = env!("CARGO_MANIFEST_DIR").to_string() + "/target/release/examples/listeners";
    assert!(
        std::path::Path::new(&example).exists(),
        "build the probe first: cargo build --release --example listeners"
    );
    let ss = time_runs(5, || {
        ns_exec(&ns.0, &["ss", "-ltn"]);
    })
    .median;
    let ssp = time_runs(5, || {
        ns_exec(&ns.0, &["ss", "-ltnp"]);
    })
    .median;
    let mut probe_line = String::new();
    let probe = time_runs(5, || {
        probe_line = String::from_utf8_lossy(&ns_exec(&ns.0, &[&example]).stdout)
            .trim()
            .to_string();
    })
    .median;
    // The whole check (offline: the namespace has no network), its peak memory from
    // the kernel's accounting of finished children.
    let bin = env!("CARGO_BIN_EXE_dsdoctor");
    let check = time_runs(3, || {
        ns_exec(
            &ns.0,
            &[
                bin,
                "check",
                "shop.example",
                "--offline",
                "-p",
                "20000",
                "--timeout",
                "1s",
                "--resolver",
                "127.0.0.1",
                "--format",
                "json",
            ],
        );
    })
    .median;
    let rss_kb = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss())
        .unwrap_or(0);
    for mut c in children {
        let _ = c.kill();
    }

    println!("namespace: {total} TCP sockets, {listening} listening");
    support::table_head(&["what", "median"]);
    println!("| ss -ltn | {ss:.1?} |");
    println!("| ss -ltnp (with owner processes) | {ssp:.1?} |");
    println!(
        "| dsdoctor listener probe (sock_diag + owners), ip netns exec included | {probe:.1?} |"
    );
    println!("| dsdoctor check --offline (whole tree) | {check:.1?} |");
    println!();
    println!("probe: {probe_line}");
    println!(
        "peak RSS of the largest child (the check, ss or the probe): {} MB (target < 64 MB)",
        rss_kb / 1024
    );
}
