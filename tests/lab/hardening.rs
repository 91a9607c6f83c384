//! Hardening: hostile strings from outside (process names, SMTP banners, HTTP redirect
//! targets, DNS names) reach every report and the wizard inert; oversized outside data (a
//! DNS answer with hundreds of records, a 100 MB nginx include) is cut with a note;
//! degraded hosts (no or an unreachable resolver, a read-only filesystem for the wizard's
//! export) give a clear outcome.
//!
//! Covered elsewhere, not repeated here: an endless HTTP body (isp), unprivileged runs
//! (check), nft absent (firewall), an unwritable `--save-facts` destination (replay),
//! stdout not a terminal for the wizard (wizard), the fuzz harnesses (`cargo test fuzz`).

use crate::harness::*;
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

/// Every string (keys included) of a JSON document.
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

/// No string of the printed JSON document carries a control character. Raw JSON on
/// purpose: this is about every string that leaves the process, whether the typed model
/// reads it or not.
fn assert_inert_json(what: &str, json: &str) {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut all = Vec::new();
    strings_of(&v, &mut all);
    for s in &all {
        assert!(
            !s.chars().any(|c| hostile_char(c) && c != '\n'),
            "{what}: a JSON string carries a control character: {s:?}"
        );
    }
}

/// An OSC 52 clipboard write, a screen clear, an OSC title and a C1 CSI.
const PAYLOAD: &str = "\u{1b}]52;c;cm0gLXJmIC8K\u{7}\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m";

/// text, markdown and json reports of a recorded snapshot: inert, and `shown` (a string
/// from outside) still in them.
fn assert_replays_inert(lab: &Lab, file: &str, shown: &str) {
    for format in ["text", "markdown", "json"] {
        let (code, out, err) = lab.run_dsdoctor(&["check", "--replay", file, "--format", format]);
        assert!(
            (0..=2).contains(&code),
            "{file} {format}: exit {code}\n{err}"
        );
        assert_inert_text(&format!("{file} --format {format}"), &out);
        assert_inert_text(&format!("{file} --format {format} (stderr)"), &err);
        assert!(out.contains(shown), "{format}: {shown} missing\n{out}");
        if format == "json" {
            assert_inert_json(&format!("{file} json"), &out);
        }
    }
}

#[test]
fn escape_sequences_from_outside_are_inert_in_every_report() {
    let mut lab = Lab::new("hard-inject");
    // A dual-stack web server whose process name carries escapes and whose redirect and
    // Server header carry the payload; an SMTP server greeting with it.
    lab.start_support(Ns::Srv, "hostile-web", "hostile_web.py", &[PAYLOAD]);
    let mail_name = format!("mail{PAYLOAD}.lab.example");
    lab.start_smtp(&[(SRV_V4, 25, &mail_name), (SRV_V6, 25, &mail_name)]);

    let facts = lab.dir().join("hostile.facts.json");
    let facts_s = facts.display().to_string();
    let r = lab.check(&["-p", "80,25", "--save-facts", &facts_s]);
    assert_inert_json("live JSON", &r.stdout);
    // The hostile strings were shown (cut of their controls), not dropped.
    let all = &r.stdout;
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
    for file in [&facts_s, &tampered_file.display().to_string()] {
        assert_replays_inert(&lab, file, "pwned");
    }
}

/// A DNS server of our own (tests/support/hostile_dns.py, on srv's loopback, asked
/// through `--resolver`) whose answers carry escape sequences inside the labels of PTR,
/// MX and NS names, and a TXT record with the payload: the names are shown inert.
#[test]
fn escape_sequences_in_dns_names_are_inert() {
    let mut lab = Lab::new("hard-dnsinject");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    lab.start_support(Ns::Srv, "hostile-dns", "hostile_dns.py", &["5353"]);
    let facts = lab.dir().join("dns.facts.json");
    let facts_s = facts.display().to_string();
    let r = lab.check(&[
        "-p",
        "80,25",
        "--offline",
        "--resolver",
        "127.0.0.1:5353",
        "--save-facts",
        &facts_s,
    ]);
    assert_inert_json("live JSON", &r.stdout);
    // The names are shown, their control bytes as DNS presentation escapes (\033).
    r.assert_says(CheckId::DnsReverse, None, Part::Text, &["cm0gLXJmIC8K"]);
    r.assert_says(CheckId::DnsMx, None, Part::Text, &["cm0gLXJmIC8K"]);
    assert_replays_inert(&lab, &facts_s, "cm0gLXJmIC8K");
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
    let r = lab.check(&["--offline"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    r.assert_says(CheckId::DnsA, None, Part::Summary, &["300 records"]);
    r.assert_says(
        CheckId::DnsA,
        None,
        Part::Evidence,
        &["answer cut: 236 more A records"],
    );
    let a = r.finding(CheckId::DnsA, None);
    assert!(a.summary.len() < 300, "summary not bounded: {}", a.summary);
    assert!(
        a.evidence.len() <= 70,
        "{} evidence lines",
        a.evidence.len()
    );
    // The whole report stays small.
    let size = serde_json::to_string(&r.report).expect("encode").len();
    assert!(size < 200_000, "{size} bytes");
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
    let r = lab.check(&["--offline"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(8), "took {took:?}");
    r.assert_says(
        CheckId::ListenerConfig,
        None,
        Part::Text,
        &["huge.conf: larger than 4194304 bytes, skipped"],
    );
}

// ----- degraded hosts --------------------------------------------------------------------

/// dns.a is `error` and its summary says what is wrong: one of `names`.
fn assert_dns_error(what: &str, r: &CheckRun, names: &[&str]) {
    let a = r.finding(CheckId::DnsA, None);
    assert_eq!(
        a.status,
        Status::Error,
        "{what}: {:#?}",
        r.in_stage(Stage::Dns).collect::<Vec<_>>()
    );
    assert!(
        names.iter().any(|n| a.summary.contains(n)),
        "{what}: dns.a does not say what is wrong: {}",
        a.summary
    );
}

#[test]
fn no_or_empty_resolv_conf_is_a_dns_error_that_says_so() {
    let mut lab = Lab::new("hard-noresolv");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // Empty resolv.conf.
    lab.write_srv_etc("resolv.conf", "");
    let empty = lab.check(&["--offline"]);
    // No resolv.conf at all: /etc replaced, in a private mount namespace, by a copy
    // without it.
    let etc = lab.dir().join("etc-copy");
    let setup = format!(
        "cp -a /etc {e} && rm -f {e}/resolv.conf && mount --bind {e} /etc",
        e = etc.display()
    );
    let args = Lab::check_args(&["--offline"]);
    let (code, out, err) = lab.run_dsdoctor_in_mount_ns(&setup, &args);
    let absent = CheckRun::parse("no resolv.conf", code, out, err);
    lab.assert_fixes_concrete(&absent);
    for (what, r) in [("empty", &empty), ("absent", &absent)] {
        assert!((1..=2).contains(&r.code), "{what}: exit {}", r.code);
        assert_dns_error(what, r, &["resolv.conf", "resolver"]);
        // The other stages still ran.
        r.assert_status(CheckId::ListenerIpv6, None, Status::Pass);
    }
}

#[test]
fn unreachable_resolver_ends_within_the_timeout() {
    let mut lab = Lab::new("hard-deadresolv");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    // On srv's own subnet, owned by nobody: no answer, not even an ICMP error.
    lab.write_srv_etc("resolv.conf", "nameserver 203.0.113.99\n");
    let t0 = Instant::now();
    let r = lab.check(&["--offline"]);
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} with --timeout 2s"
    );
    assert!((1..=2).contains(&r.code), "exit {}", r.code);
    assert_dns_error("dead resolver", &r, &["203.0.113.99"]);
    // In the admin's words first, the probe's own (with the timeout) in the evidence.
    r.assert_says(
        CheckId::DnsA,
        None,
        Part::Summary,
        &["no answer from the resolver 203.0.113.99 within the timeout"],
    );
    r.assert_says(
        CheckId::DnsA,
        None,
        Part::Evidence,
        &["no answer within 2s"],
    );
}

/// The wizard's `e`xport when both the working directory and the temporary directory are
/// read-only (a private mount namespace, the wizard in tmux): a clear message on screen
/// and nothing written, half or whole.
#[test]
fn read_only_filesystem_for_wizard_export_is_a_clear_message_with_nothing_written() {
    let lab = Lab::new("hard-roexport");
    let facts = lab.dir().join("facts.json");
    let facts_s = facts.display().to_string();
    lab.check(&["--offline", "--save-facts", &facts_s]);
    let ro = lab.dir().join("ro");
    std::fs::create_dir_all(&ro).expect("mkdir");
    let ro_s = ro.display().to_string();
    let tmux = Tmux::new("roexport");
    let cmd = format!(
        "ip netns exec {ns} unshare -m sh -c 'mount --make-rprivate / && mount --bind {ro_s} {ro_s} && mount -o remount,bind,ro {ro_s} && cd {ro_s} && TMPDIR={ro_s} exec {DSDOCTOR} --replay {facts_s}'",
        ns = lab.ns(Ns::Srv),
    );
    tmux.start_with(120, &[], &cmd);
    let limit = Duration::from_secs(15);
    tmux.wait_for("the replayed results", limit, |s| s.contains("listener"));
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys("e");
    let s = tmux.wait_for("the export's answer", limit, |s| {
        s.contains("could not write") || s.contains("written to")
    });
    assert!(
        s.contains("could not write the report") && s.contains("Read-only file system"),
        "{s}"
    );
    tmux.keys("q");
    let left: Vec<_> = std::fs::read_dir(&ro).expect("ls").collect();
    assert!(left.is_empty(), "something was written: {left:?}");
}
