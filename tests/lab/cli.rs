//! The command line's conventions, on the built binary: `-q` prints the status line
//! alone, `--color` and `NO_COLOR` decide colour, `--version` names the commit, the
//! completion scripts. A bundled training recording stands for a host: no lab needed.

use crate::harness::*;

/// `dsdoctor ARGS` with extra environment variables: (exit code, stdout, stderr).
fn dsdoctor(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(DSDOCTOR)
        .args(args)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .output()
        .expect("run dsdoctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A recording whose verdict is a failure (nginx listens on IPv4 only).
fn recording() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/scenarios/nginx-ipv4-only.json"
    )
    .to_string()
}

#[test]
fn quiet_prints_the_status_line_alone_with_the_same_exit_code() {
    let file = recording();
    let (code, full, _) = dsdoctor(&["check", "--replay", &file], &[]);
    let (qcode, quiet, err) = dsdoctor(&["check", "--replay", &file, "-q"], &[]);
    assert_eq!(qcode, code, "{err}");
    assert_eq!(code, 2, "the recording is a failure");
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    assert!(
        quiet.starts_with("DSDOCTOR FAIL listener.ipv6 - "),
        "{quiet}"
    );
    assert_eq!(quiet.lines().next(), full.lines().next());
    let (code, _, err) = dsdoctor(&["check", "--replay", &file, "-q", "--format", "json"], &[]);
    assert_eq!(code, 3, "-q is for the text status line: {err}");
    assert!(
        err.starts_with("error: ") && err.contains("\nhelp: "),
        "{err}"
    );
}

#[test]
fn colour_follows_the_choice_then_no_color_and_never_touches_the_status_line() {
    let file = recording();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["check", "--replay", file.as_str()];
        args.extend_from_slice(extra);
        dsdoctor(&args, env).1
    };
    // Standard output is a pipe here: auto means no colour.
    assert!(!run(&[], &[]).contains('\u{1b}'));
    let always = run(&["--color", "always"], &[]);
    assert!(always.contains("\u{1b}[1;31m[FAIL]\u{1b}[0m"), "{always}");
    assert!(!always.lines().next().unwrap_or("").contains('\u{1b}'));
    // An explicit choice wins over NO_COLOR; never wins over everything.
    assert!(run(&["--color=always"], &[("NO_COLOR", "1")]).contains('\u{1b}'));
    assert!(!run(&["--color", "never"], &[]).contains('\u{1b}'));
    // The error labels too: plain on a pipe unless asked.
    let (_, _, err) = dsdoctor(&["check", "-p", "x", "a.example", "--color", "always"], &[]);
    assert!(err.starts_with("\u{1b}[1;31merror:\u{1b}[0m "), "{err:?}");
    // And clap's own help.
    assert!(
        dsdoctor(&["--help", "--color", "always"], &[])
            .1
            .contains('\u{1b}')
    );
    assert!(!dsdoctor(&["--help"], &[]).1.contains('\u{1b}'));
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let (code, out, _) = dsdoctor(&["--version"], &[]);
    assert_eq!(code, 0);
    let head = std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .expect("git: the suite runs in a clone");
    assert!(head.status.success(), "not a git clone");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let want = format!("dsdoctor {} ({head}", env!("CARGO_PKG_VERSION"));
    assert!(
        out.starts_with(&want),
        "{out:?} does not start with {want:?}"
    );
}

#[test]
fn completion_scripts_for_each_packaged_shell() {
    // (shell, what its script starts or registers with)
    for (shell, marker) in [
        ("bash", "complete -F _dsdoctor"),
        ("zsh", "#compdef dsdoctor"),
        ("fish", "complete -c dsdoctor"),
    ] {
        let (code, out, err) = dsdoctor(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: no {marker:?}");
        assert!(
            out.contains("list-checks"),
            "{shell}: check's options missing"
        );
    }
    let (code, _, err) = dsdoctor(&["completions", "tcsh"], &[]);
    assert_eq!(code, 3, "{err}");
}
