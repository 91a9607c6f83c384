//! Fact snapshots: a live run that records its facts and the replay of that recording
//! give exactly the same findings, on healthy and broken lab hosts; bad snapshots are
//! refused clearly; an unwritable destination leaves nothing behind.

mod common;

use common::*;
use serde_json::Value;

fn replay_equals_live(lab: &Lab, tag: &str) {
    let file = lab.dir().join(format!("{tag}.facts.json"));
    let file_s = file.to_string_lossy().into_owned();
    let (live_code, live) = lab.check_json(&["--save-facts", &file_s]);
    assert!(file.exists(), "{tag}: no snapshot written");
    let (code, out, err) = lab.run_dsdoctor(&["check", "--replay", &file_s, "--format", "json"]);
    let replayed: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{tag}: replay JSON: {e}\n{out}\n{err}"));
    assert_eq!(code, live_code, "{tag}: exit code");
    assert_eq!(replayed["checks"], live["checks"], "{tag}: findings differ");
    assert_eq!(
        replayed["verdict"], live["verdict"],
        "{tag}: verdict differs"
    );
    assert_eq!(replayed["stages"], live["stages"], "{tag}: stages differ");
    assert_eq!(replayed["target"], live["target"]);
    assert_eq!(replayed["host"]["hostname"], live["host"]["hostname"]);
    assert_eq!(
        replayed["started_at"], live["started_at"],
        "{tag}: the recording's time"
    );
}

#[test]
fn replay_equals_live_healthy_and_broken() {
    let mut lab = Lab::new("replay");
    lab.start_nginx(NGINX_LISTEN_DUAL);
    replay_equals_live(&lab, "healthy");
    lab.reload_nginx(NGINX_LISTEN_V4_ONLY);
    replay_equals_live(&lab, "v4only");
    lab.exec_ok(
        Ns::Srv,
        &["sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=1"],
    );
    replay_equals_live(&lab, "ipv6off");
}

#[test]
fn replay_does_not_touch_the_system() {
    let mut lab = Lab::new("replay-offline");
    lab.start_nginx(NGINX_LISTEN_V4_ONLY);
    let file = lab.dir().join("f.json");
    let file_s = file.to_string_lossy().into_owned();
    let (_, live) = lab.check_json(&["--save-facts", &file_s]);
    // Replayed in the root namespace, where nothing of the lab exists: same findings.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dsdoctor"))
        .args(["check", "--replay", &file_s, "--format", "json"])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["checks"], live["checks"]);
    assert_eq!(check_status(&v, "listener.ipv6", Some(80)), "fail");
}

#[test]
fn newer_or_damaged_snapshots_are_refused() {
    let lab = Lab::new("replay-bad");
    let file = lab.dir().join("f.json");
    let file_s = file.to_string_lossy().into_owned();
    lab.check_json(&["--save-facts", &file_s]);
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    v["facts_version"] = serde_json::json!(999);
    std::fs::write(&file, v.to_string()).expect("write");
    let (code, out, err) = lab.run_dsdoctor(&["check", "--replay", &file_s]);
    assert_eq!(code, 3);
    assert!(out.is_empty());
    assert!(err.contains("newer dsdoctor"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    std::fs::write(&file, "{\"facts_version\": 1, \"facts\": ").expect("write");
    let (code, _, err) = lab.run_dsdoctor(&["check", "--replay", &file_s]);
    assert_eq!(code, 3);
    assert!(
        err.contains("damaged") || err.contains("not a dsdoctor"),
        "{err}"
    );
}

#[test]
fn unwritable_destination_is_a_clear_error_with_nothing_written() {
    let lab = Lab::new("replay-ro");
    let args = Lab::check_args(&["--save-facts", "/proc/dsdoctor-facts.json"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = lab.run_dsdoctor(&refs);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cannot write /proc/dsdoctor-facts.json"),
        "{err}"
    );
    assert!(!std::path::Path::new("/proc/dsdoctor-facts.json").exists());
}
