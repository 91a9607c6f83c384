//! Fact snapshots. That a live run's recording replays to exactly the same report is
//! checked by every table row (table/mod.rs), on healthy and broken hosts, and by
//! `nginx_listens_ipv4_only` in the root namespace too, where nothing of the lab exists.
//! Here: bad snapshots are refused clearly; an unwritable destination leaves nothing
//! behind.

use crate::harness::*;
use serde_json::Value;

/// `dsdoctor ARGS` in the root namespace: replaying needs no lab.
fn dsdoctor(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(DSDOCTOR)
        .args(args)
        .output()
        .expect("run dsdoctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn newer_or_damaged_snapshots_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f.json");
    let file_s = file.display().to_string();
    // A good snapshot (a bundled training recording), from a newer dsdoctor.
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/scenarios/nginx-ipv4-only.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(bundled).expect("read")).expect("json");
    assert_eq!(
        v["facts_version"], 1,
        "the bundled snapshot is the current version"
    );
    let (code, _, err) = dsdoctor(&["check", "--replay", &file_s]);
    assert_eq!(code, 3, "a missing file: {err}");
    assert!(
        err.starts_with("error: ") && err.contains("\nhelp: ") && err.contains("--save-facts"),
        "a missing file's error says how to record one: {err}"
    );
    v["facts_version"] = serde_json::json!(999);
    std::fs::write(&file, v.to_string()).expect("write");
    let (code, out, err) = dsdoctor(&["check", "--replay", &file_s]);
    assert_eq!(code, 3);
    assert!(out.is_empty());
    assert!(err.contains("newer dsdoctor"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    std::fs::write(&file, "{\"facts_version\": 1, \"facts\": ").expect("write");
    let (code, _, err) = dsdoctor(&["check", "--replay", &file_s]);
    assert_eq!(code, 3);
    assert!(
        err.contains("damaged") || err.contains("not a dsdoctor"),
        "{err}"
    );
}

/// `--save-facts` to a place that cannot be written (in /proc; a read-only bind mount in
/// a private mount namespace): exit 3, one clear error naming the file and the reason,
/// nothing written.
#[test]
fn unwritable_snapshot_destination_is_a_clear_error_with_nothing_written() {
    let lab = Lab::new("replay-ro");
    let args = Lab::check_args(&["--offline", "--save-facts", "/proc/dsdoctor-facts.json"]);
    let (code, _, err) = lab.run_dsdoctor(&args);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cannot write /proc/dsdoctor-facts.json"),
        "{err}"
    );
    assert!(!std::path::Path::new("/proc/dsdoctor-facts.json").exists());

    let dir = lab.dir().join("ro");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file_s = dir.join("facts.json").display().to_string();
    let args = Lab::check_args(&["--offline", "--save-facts", &file_s]);
    let setup = format!(
        "mount --bind {d} {d} && mount -o remount,bind,ro {d}",
        d = dir.display()
    );
    let (code, _, err) = lab.run_dsdoctor_in_mount_ns(&setup, &args);
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
