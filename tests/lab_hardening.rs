//! Hardening: hostile strings from outside (process names, SMTP banners, HTTP redirect
//! targets, DNS names) reach every report and the wizard inert; oversized outside data (a
//! DNS answer with hundreds of records, a 100 MB nginx include) is cut with a note;
//! degraded hosts (no or an unreachable resolver, a read-only filesystem for --save-facts
//! and the wizard's export) give a clear outcome.
//!
//! Covered elsewhere, not repeated here: an endless HTTP body (lab_isp.rs), unprivileged
//! runs and no nginx (lab_check.rs), nft/iptables absent (lab_firewall.rs), stdout not a
//! terminal for the wizard (lab_wizard.rs), the fuzz harnesses (`cargo test fuzz`).

mod common;

use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// ESC, BEL, C1 controls (CSI 0x9b, OSC 0x9d …) and bidi overrides: none may reach a
/// terminal from outside data.
fn hostile_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn assert_inert_text(what: &str, s: &str) {
    if let Some((i, c)) = s.char_indices().find(|(_, c)| hostile_char(*c)) {
        let from = s[..i].char_indices().rev().nth(60).map_or(0, |(j, _)| j);
        panic!(
            "{what}: {c:?} reached the output near {:?}\n{s}",
            &s[from..(i + 20).min(s.len())]
        );
    }
}

/// Every string in a decoded JSON report.
fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings_of(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings_of(x, out)
        }),
        _ => {}
    }
}

fn assert_inert_json(what: &str, v: &Value) {
    let mut all = Vec::new();
    strings_of(v, &mut all);
    for s in &all {
        assert!(
            !s.chars().any(|c| hostile_char(c) && c != '\n'),
            "{what}: a JSON string carries a control character: {s:?}"
        );
    }
}

/// An OSC 52 clipboard write, a screen clear, an OSC title and a C1 CSI.
const PAYLOAD: &str = "\u{1b}]52;c;cm0gLXJmIC8K\u{7}\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m";

/// A dual-stack web server on [::]:80 whose process name (/proc/self/comm) carries
/// escapes and that redirects to a Location carrying the payload, with a Server header
/// carrying it too.
const HOSTILE_WEB_PY: &str = r#"
import socket, sys, threading
ready, payload = sys.argv[1], sys.argv[2]
with open("/proc/self/comm", "wb") as f:
    f.write(b"\x1b]0;x\x07\x1b[2Jpwned")
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 80))
s.listen(64)
resp = ("HTTP/1.1 301 Moved\r\nServer: evil" + payload + "\r\nLocation: http://shop.lab.example/" + payload + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode("utf-8")
def serve(c):
    try:
        c.settimeout(3)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(resp)
    except OSError:
        pass
    finally:
        c.close()
open(ready, "w").close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

#[test]
fn escape_sequences_from_outside_are_inert_in_every_report() {
    let mut lab = Lab::new("hard-inject");
    let ready = lab.dir().join("hostile-web.ready");
    let ready_s = ready.display().to_string();
    lab.spawn(
        Ns::Srv,
        "hostile-web",
        &["/usr/bin/python3", "-c", HOSTILE_WEB_PY, &ready_s, PAYLOAD],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready.exists() {
        assert!(
            lab.is_running("hostile-web") && Instant::now() < deadline,
            "the hostile web server did not start\n{}",
            lab.logs_of("hostile-web")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mail_name = format!("mail{PAYLOAD}.lab.example");
    lab.start_smtp(&[(SRV_V4, 25, &mail_name), (SRV_V6, 25, &mail_name)]);

    let facts = lab.dir().join("hostile.facts.json");
    let facts_s = facts.display().to_string();
    let (_, v) = lab.check_json(&["-p", "80,25", "--save-facts", &facts_s]);
    assert_inert_json("live JSON", &v);
    // The hostile strings were shown (cut of their controls), not dropped.
    let all = v.to_string();
    assert!(all.contains("pwned"), "process name not shown: {all}");
    assert!(
        all.contains("52;c;cm0gLXJmIC8K"),
        "payload not shown: {all}"
    );
    assert!(all.contains("mail]52;c;"), "SMTP banner not shown: {all}");

    // The text and markdown reports of the same facts; and of a snapshot whose strings
    // were tampered with to carry the raw payload (a replayed file is outside data too).
    let raw = std::fs::read_to_string(&facts).expect("snapshot");
    let json_payload = serde_json::to_string(PAYLOAD).expect("encode");
    let json_payload = &json_payload[1..json_payload.len() - 1];
    let tampered = raw
        .replace("pwned", &format!("pwned{json_payload}"))
        .replace("mail]52;c;", &format!("mail{json_payload}"));
    assert_ne!(tampered, raw);
    let tampered_file = lab.dir().join("tampered.facts.json");
    std::fs::write(&tampered_file, tampered).expect("write");
    let tampered_s = tampered_file.display().to_string();
    for file in [&facts_s, &tampered_s] {
        for format in ["text", "markdown", "json"] {
            let (code, out, err) =
                lab.run_dsdoctor(&["check", "--replay", file, "--format", format]);
            assert!(
                (0..=2).contains(&code),
                "{file} {format}: exit {code}\n{err}"
            );
            assert_inert_text(&format!("{file} --format {format}"), &out);
            assert_inert_text(&format!("{file} --format {format} (stderr)"), &err);
            assert!(
                out.contains("pwned"),
                "{format}: process name missing\n{out}"
            );
            if format == "json" {
                let v: Value = serde_json::from_str(&out).expect("json");
                assert_inert_json(&format!("{file} json"), &v);
            }
        }
    }
}

// ----- size limits -----------------------------------------------------------------------

#[test]
fn dns_answer_with_hundreds_of_records_is_cut_with_a_note() {
    let addrs: Vec<String> = (0..300)
        .map(|i| format!("203.0.113.{}", 10 + i % 240))
        .chain((0..60).map(|i| format!("198.51.100.{}", 100 + i)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .take(300)
        .collect();
    assert_eq!(addrs.len(), 300);
    let refs: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let mut lab = Lab::with_zone("hard-dns300", DnsZone::new().shop_a(&refs));
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let t0 = Instant::now();
    let (_, v) = lab.check_json(&["--offline"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let a = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "dns.a")
        .expect("dns.a");
    let summary = a["summary"].as_str().unwrap_or_default();
    let evidence: Vec<&str> = a["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(summary.contains("300 records"), "{summary}");
    assert!(summary.len() < 300, "summary not bounded: {summary}");
    assert!(evidence.len() <= 70, "{} evidence lines", evidence.len());
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("answer cut: 236 more A records")),
        "{evidence:#?}"
    );
    // The whole report stays small.
    assert!(
        v.to_string().len() < 200_000,
        "{} bytes",
        v.to_string().len()
    );
}

#[test]
fn huge_nginx_include_is_refused_quickly_with_a_note() {
    let mut lab = Lab::new("hard-bigconf");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // nginx would refuse the file; it is added after start, as an edit not yet reloaded.
    let big = lab.dir().join("nginx/huge.conf");
    let out = std::process::Command::new("truncate")
        .args(["-s", "100M"])
        .arg(&big)
        .output()
        .expect("truncate");
    assert!(out.status.success(), "{out:?}");
    let site = lab.nginx_site_path();
    let mut text = std::fs::read_to_string(&site).expect("site");
    text.push_str(&format!("include {};\n", big.display()));
    std::fs::write(&site, text).expect("site");
    let t0 = Instant::now();
    let (_, v) = lab.check_json(&["--offline"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let dump = check_dump(&v, "listener.config", Some(80));
    assert!(
        dump.contains("huge.conf: larger than 4194304 bytes, skipped"),
        "listener.config does not say the file was too large:\n{dump}"
    );
}

// ----- degraded hosts --------------------------------------------------------------------

/// Run dsdoctor in srv inside a private mount namespace prepared by `setup` (a shell
/// snippet): nothing of it is visible outside that one command.
fn run_in_mount_ns(lab: &Lab, setup: &str, args: &[String]) -> (i32, String, String, Duration) {
    let script = format!("mount --make-rprivate / && {setup} && exec \"$0\" \"$@\"");
    let mut full: Vec<&str> = vec!["unshare", "-m", "sh", "-c", &script];
    full.push(env!("CARGO_BIN_EXE_dsdoctor"));
    full.extend(args.iter().map(String::as_str));
    let t0 = Instant::now();
    let out = lab.exec(Ns::Srv, &full);
    let took = t0.elapsed();
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}

fn dns_checks(v: &Value) -> Vec<(String, String, String)> {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["stage"] == "dns")
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
                c["summary"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn no_or_empty_resolv_conf_is_a_dns_error_that_says_so() {
    let mut lab = Lab::new("hard-noresolv");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let args = Lab::check_args(&["--offline"]);
    // Empty resolv.conf.
    lab.write_srv_etc("resolv.conf", "");
    let (code, v) = lab.check_json(&["--offline"]);
    // No resolv.conf at all: /etc replaced, in a private mount namespace, by a copy
    // without it.
    let etc = lab.dir().join("etc-copy");
    let setup = format!(
        "cp -a /etc {e} && rm -f {e}/resolv.conf && mount --bind {e} /etc",
        e = etc.display()
    );
    let (code2, out, err, _) = run_in_mount_ns(&lab, &setup, &args);
    let v2: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    for (what, code, v) in [("empty", code, &v), ("absent", code2, &v2)] {
        assert!((1..=2).contains(&code), "{what}: exit {code}");
        let dns = dns_checks(v);
        let a = dns.iter().find(|c| c.0 == "dns.a").expect("dns.a");
        assert_eq!(a.1, "error", "{what}: {dns:#?}");
        assert!(
            a.2.contains("resolv.conf") || a.2.contains("resolver"),
            "{what}: dns.a does not say what is wrong: {}",
            a.2
        );
        // The other stages still ran.
        assert_eq!(check_status(v, "listener.ipv6", Some(80)), "pass", "{what}");
    }
}

#[test]
fn unreachable_resolver_ends_within_the_timeout() {
    let mut lab = Lab::new("hard-deadresolv");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // On srv's own subnet, owned by nobody: no answer, not even an ICMP error.
    lab.write_srv_etc("resolv.conf", "nameserver 203.0.113.99\n");
    let t0 = Instant::now();
    let (code, v) = lab.check_json(&["--offline"]);
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} with --timeout 2s"
    );
    assert!((1..=2).contains(&code), "exit {code}");
    let dns = dns_checks(&v);
    let a = dns.iter().find(|c| c.0 == "dns.a").expect("dns.a");
    assert_eq!(a.1, "error", "{dns:#?}");
    assert!(
        a.2.contains("203.0.113.99") && a.2.contains("no answer within 2s"),
        "dns.a does not say what is wrong: {}",
        a.2
    );
}

#[test]
fn read_only_filesystem_for_save_facts_is_a_clear_error_with_nothing_written() {
    let lab = Lab::new("hard-rofs");
    let dir = lab.dir().join("ro");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("facts.json");
    let file_s = file.display().to_string();
    let args = Lab::check_args(&["--offline", "--save-facts", &file_s]);
    let setup = format!(
        "mount --bind {d} {d} && mount -o remount,bind,ro {d}",
        d = dir.display()
    );
    let (code, _, err, _) = run_in_mount_ns(&lab, &setup, &args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cannot write") && err.contains(&file_s),
        "{err}"
    );
    assert!(
        err.to_lowercase().contains("read-only"),
        "the reason is not given: {err}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir).expect("ls").collect();
    assert!(left.is_empty(), "something was written: {left:?}");
}

/// The wizard's `e`xport when both the working directory and the temporary directory are
/// read-only (a private mount namespace, the wizard in tmux): a clear message on screen
/// and nothing written, half or whole.
#[test]
fn read_only_filesystem_for_wizard_export_is_a_clear_message_with_nothing_written() {
    let lab = Lab::new("hard-roexport");
    let facts = lab.dir().join("facts.json");
    let facts_s = facts.display().to_string();
    let (_, _) = lab.check_json(&["--offline", "--save-facts", &facts_s]);
    let ro = lab.dir().join("ro");
    std::fs::create_dir_all(&ro).expect("mkdir");
    let ro_s = ro.display().to_string();
    let socket = format!("dsd-{}-roexport", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
            .expect("tmux (scripts/test.sh installs it)")
    };
    struct Kill<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["kill-server"]);
        }
    }
    let _kill = Kill(&tmux);
    let cmd = format!(
        "ip netns exec {ns} unshare -m sh -c 'mount --make-rprivate / && mount --bind {ro_s} {ro_s} && mount -o remount,bind,ro {ro_s} && cd {ro_s} && TMPDIR={ro_s} exec {bin} --replay {facts_s}'",
        ns = lab.ns(Ns::Srv),
        bin = env!("CARGO_BIN_EXE_dsdoctor"),
    );
    let out = tmux(&[
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "30",
        "-e",
        "LANG=C.UTF-8",
        "-e",
        "TERM=xterm-256color",
        &cmd,
    ]);
    assert!(out.status.success(), "{out:?}");
    tmux(&["set-option", "-g", "remain-on-exit", "on"]);
    let screen = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
    let wait = |what: &str, pred: &dyn Fn(&str) -> bool| {
        let t0 = Instant::now();
        loop {
            let s = screen();
            if pred(&s) {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("the replayed results", &|s| s.contains("listener"));
    std::thread::sleep(Duration::from_millis(300));
    tmux(&["send-keys", "e"]);
    let s = wait("the export's answer", &|s| {
        s.contains("could not write") || s.contains("written to")
    });
    assert!(
        s.contains("could not write the report") && s.contains("Read-only file system"),
        "{s}"
    );
    tmux(&["send-keys", "q"]);
    let left: Vec<_> = std::fs::read_dir(&ro).expect("ls").collect();
    assert!(left.is_empty(), "something was written: {left:?}");
}

/// A DNS server of our own (UDP, on srv's loopback, asked through `--resolver`) whose
/// answers carry escape sequences inside the labels of PTR, MX and NS names, and a TXT
/// record with the payload: the names are shown inert.
const HOSTILE_DNS_PY: &str = r#"
import socket, struct, sys
ready, port = sys.argv[1], int(sys.argv[2])
EVIL = b"mx\x1b]52;c;cm0gLXJmIC8K\x07\x1b[2J\x9b31m"
def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"
EVIL_NAME = name([EVIL, b"lab", b"example"])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
open(ready, "w").close()
while True:
    q, peer = s.recvfrom(4096)
    try:
        qid, flags = struct.unpack(">HH", q[:4])
        i = 12
        labels = []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]])
            i += 1 + q[i]
        qend = i + 5
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        qname = b".".join(labels).lower()
        answers = []
        if qtype == 1 and qname.startswith(b"shop"):
            answers.append((1, socket.inet_aton("203.0.113.10")))
        elif qtype == 28 and qname.startswith(b"shop"):
            answers.append((28, socket.inet_pton(socket.AF_INET6, "2001:db8:1::10")))
        elif qtype == 12:
            answers.append((12, EVIL_NAME))
        elif qtype == 15:
            answers.append((15, b"\x00\x0a" + EVIL_NAME))
        elif qtype == 2:
            answers.append((2, EVIL_NAME))
        elif qtype == 16:
            answers.append((16, bytes([len(EVIL)]) + EVIL))
        out = struct.pack(">HHHHHH", qid, 0x8180, 1, len(answers), 0, 0) + q[12:qend]
        for t, rdata in answers:
            out += b"\xc0\x0c" + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
        s.sendto(out, peer)
    except Exception as e:
        print("bad query", e, flush=True)
"#;

#[test]
fn escape_sequences_in_dns_names_are_inert() {
    let mut lab = Lab::new("hard-dnsinject");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    let ready = lab.dir().join("hostile-dns.ready");
    let ready_s = ready.display().to_string();
    lab.spawn(
        Ns::Srv,
        "hostile-dns",
        &["/usr/bin/python3", "-c", HOSTILE_DNS_PY, &ready_s, "5353"],
    );
    let t0 = Instant::now();
    while !ready.exists() {
        assert!(
            lab.is_running("hostile-dns") && t0.elapsed() < Duration::from_secs(10),
            "the hostile DNS server did not start\n{}",
            lab.logs_of("hostile-dns")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let facts = lab.dir().join("dns.facts.json");
    let facts_s = facts.display().to_string();
    let (_, v) = lab.check_json(&[
        "-p",
        "80,25",
        "--offline",
        "--resolver",
        "127.0.0.1:5353",
        "--save-facts",
        &facts_s,
    ]);
    assert_inert_json("live JSON", &v);
    // The names are shown, their control bytes as DNS presentation escapes (\033).
    let reverse = check_dump(&v, "dns.reverse", None);
    assert!(reverse.contains("cm0gLXJmIC8K"), "{reverse}");
    assert!(check_dump(&v, "dns.mx", None).contains("cm0gLXJmIC8K"));
    for format in ["text", "markdown"] {
        let (_, out, err) = lab.run_dsdoctor(&["check", "--replay", &facts_s, "--format", format]);
        assert_inert_text(&format!("--format {format}"), &out);
        assert_inert_text(&format!("--format {format} (stderr)"), &err);
    }
}
