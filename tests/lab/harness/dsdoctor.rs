//! Running the binary under test in srv: its arguments for the lab, as root or as nobody,
//! in a private mount namespace, and `check` read into the typed report.

use super::isp::lab_isp_args;
use super::process::run_timeout;
use super::report::CheckRun;
use super::topology::*;
use std::path::Path;
use std::time::Duration;

/// How long one dsdoctor run may take before the test fails.
const DSDOCTOR_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary under test.
pub const DSDOCTOR: &str = env!("CARGO_BIN_EXE_dsdoctor");

/// Which front end the arguments are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    /// `check ... --format json`.
    Check,
    /// `watch ...`.
    Watch,
    /// The wizard (no subcommand).
    Wizard,
}

/// The lab's arguments for `front`: the domain, `--timeout 2s`, the lab's prefixes as
/// `--assume-public`, the lab's echo service (unless `extra` names its own `--echo-url` or
/// `--egress`), `-p 80` (unless `extra` sets the ports), then `extra`.
pub fn dsdoctor_args(front: Front, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = match front {
        Front::Check => vec![
            "check".into(),
            DOMAIN.into(),
            "--format".into(),
            "json".into(),
        ],
        Front::Watch => vec!["watch".into(), DOMAIN.into()],
        Front::Wizard => vec![DOMAIN.into()],
    };
    a.extend(["--timeout".into(), "2s".into()]);
    for p in ASSUME_PUBLIC {
        a.extend(["--assume-public".into(), p.into()]);
    }
    if !extra
        .iter()
        .any(|e| e.starts_with("--echo-url") || e.starts_with("--egress"))
    {
        a.extend(lab_isp_args());
    }
    let sets_port = extra.iter().any(|e| {
        *e == "-p"
            || *e == "--port"
            || e.starts_with("--port=")
            || (e.starts_with("-p") && e.len() > 2 && !e.starts_with("--"))
    });
    if !sets_port {
        a.extend(["-p".into(), "80".into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

impl Lab {
    /// `dsdoctor check shop.lab.example --format json --timeout 2s --assume-public ...
    /// -p 80 <extra>` (see [`dsdoctor_args`]).
    pub fn check_args(extra: &[&str]) -> Vec<String> {
        dsdoctor_args(Front::Check, extra)
    }

    /// Run dsdoctor in srv as root: (exit code, stdout, stderr).
    pub fn run_dsdoctor<S: AsRef<str>>(&self, args: &[S]) -> (i32, String, String) {
        self.run_dsdoctor_as(RunAs::Root, args)
    }

    /// Run dsdoctor in srv as `user`: (exit code, stdout, stderr). Panics if it runs longer
    /// than 120 s or dies from a signal.
    pub fn run_dsdoctor_as<S: AsRef<str>>(&self, user: RunAs, args: &[S]) -> (i32, String, String) {
        self.run_in_srv(user, &[DSDOCTOR], args)
    }

    /// Run dsdoctor in srv inside a private mount namespace prepared by `setup` (a shell
    /// snippet, e.g. a bind mount): nothing of it is visible outside that one command.
    pub fn run_dsdoctor_in_mount_ns<S: AsRef<str>>(
        &self,
        setup: &str,
        args: &[S],
    ) -> (i32, String, String) {
        let script = format!("mount --make-rprivate / && {setup} && exec \"$0\" \"$@\"");
        self.run_in_srv(
            RunAs::Root,
            &["unshare", "-m", "sh", "-c", &script, DSDOCTOR],
            args,
        )
    }

    pub(super) fn run_in_srv<S: AsRef<str>>(
        &self,
        user: RunAs,
        prefix: &[&str],
        args: &[S],
    ) -> (i32, String, String) {
        let mut full: Vec<&str> = prefix.to_vec();
        full.extend(args.iter().map(AsRef::as_ref));
        // With boot files, the overlay is laid as root before dropping to `user`.
        let script = self.boot_overlay_script().map(|mount| {
            let drop = match user {
                RunAs::Root => "",
                RunAs::Nobody => "setpriv --reuid=65534 --regid=65534 --clear-groups -- ",
            };
            format!("{mount} && exec {drop}\"$0\" \"$@\"")
        });
        let (user, full) = match &script {
            Some(s) => {
                let mut wrapped = vec!["unshare", "-m", "sh", "-c", s.as_str()];
                wrapped.extend(full);
                (RunAs::Root, wrapped)
            }
            None => (user, full),
        };
        let mut c = self.command(Ns::Srv, user, &full);
        c.env("NO_COLOR", "1");
        let what = format!("dsdoctor {:?}", &full[full.len() - args.len()..]);
        let out = run_timeout(c, DSDOCTOR_TIMEOUT, &what);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let code = out.status.code().unwrap_or_else(|| {
            panic!(
                "{what} was killed by a signal ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
                out.status
            )
        });
        (code, stdout, stderr)
    }

    /// `dsdoctor check` with the lab's arguments and `extra`, in srv as root, read into the
    /// typed report.
    pub fn check(&self, extra: &[&str]) -> CheckRun {
        self.check_as(RunAs::Root, extra)
    }

    /// `check` as `user` (`RunAs::Nobody` for an unprivileged run).
    pub fn check_as(&self, user: RunAs, extra: &[&str]) -> CheckRun {
        let args = Self::check_args(extra);
        let (code, stdout, stderr) = self.run_dsdoctor_as(user, &args);
        let run = CheckRun::parse(&format!("{args:?}"), code, stdout, stderr);
        self.assert_fixes_concrete(&run);
        run
    }

    /// Every fix command of a report from srv names only srv's own interfaces and holds
    /// no made-up value: the namespace itself, not dsdoctor's facts, says which links
    /// exist.
    pub fn assert_fixes_concrete(&self, run: &CheckRun) {
        let links = self.exec_ok(Ns::Srv, &["ip", "-j", "link", "show"]);
        let links: serde_json::Value = serde_json::from_str(&links).expect("ip -j link is JSON");
        let names: Vec<String> = links
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["ifname"].as_str().map(str::to_string))
            .collect();
        assert!(names.iter().any(|n| n == "lo"), "no links read: {links}");
        let problems = dualstack_doctor::fix_problems(&run.report, &names);
        assert!(
            problems.is_empty(),
            "fix commands with values not from this host ({names:?}):\n{}",
            problems.join("\n")
        );
    }

    /// `dsdoctor check --replay FILE --format json` in srv, read into the typed report.
    pub fn replay(&self, file: &Path) -> CheckRun {
        let args = replay_args(file, "json");
        let (code, stdout, stderr) = self.run_dsdoctor(&args);
        let run = CheckRun::parse(&format!("{args:?}"), code, stdout, stderr);
        self.assert_fixes_concrete(&run);
        run
    }

    /// The wizard's command line for a terminal: `ip netns exec SRV dsdoctor <lab args>`.
    pub fn wizard_command(&self) -> String {
        format!(
            "ip netns exec {} {DSDOCTOR} {}",
            self.ns(Ns::Srv),
            dsdoctor_args(Front::Wizard, &[]).join(" ")
        )
    }
}

/// `check --replay FILE --format FORMAT`.
pub fn replay_args(file: &Path, format: &str) -> Vec<String> {
    [
        "check",
        "--replay",
        &file.display().to_string(),
        "--format",
        format,
    ]
    .map(String::from)
    .to_vec()
}
