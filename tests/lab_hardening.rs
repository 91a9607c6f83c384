//! Hardening: hostile strings from outside (process names, SMTP banners, HTTP redirect
//! targets) reach every report inert; oversized outside data (a DNS answer with hundreds
//! of records, a 100 MB nginx include) is cut with a note; degraded hosts (no or an
//! unreachable resolver, a read-only filesystem for --save-facts) give a clear outcome.
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
