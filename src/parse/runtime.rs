//! Application runtimes: what a process's command line (`/proc/PID/cmdline`) and
//! environment (`/proc/PID/environ`) say about the addresses it binds. Only the settings
//! named here are kept, never the rest of either: both may hold secrets.
//!
//! - Java: `-Djava.net.preferIPv4Stack=true` (also through `JAVA_TOOL_OPTIONS`,
//!   `_JAVA_OPTIONS`, `JDK_JAVA_OPTIONS`) makes the JVM open IPv4 sockets only.
//! - Node.js: `HOST` (and `HOSTNAME` when it is an address, as Next.js reads it), and
//!   `--host`/`-H` after the script; Node's `listen` on `::` turns IPV6_V6ONLY off.
//! - gunicorn: `--bind`/`-b` (also in `GUNICORN_CMD_ARGS`), else `PORT`, which makes it
//!   bind `0.0.0.0:PORT`. uvicorn: `--host` and `UVICORN_HOST`.
//! - Any other Python program: `--host`, `--bind`/`-b`.

use super::addr::{self, Wildcards};
use crate::facts::servers::{BindAddr, Families, HintSource, Runtime, RuntimeHint, RuntimeHints};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

/// Arguments looked at: a command line longer than this is not one we need to read.
const MAX_ARGS: usize = 4096;
/// Hints kept per process.
const MAX_HINTS: usize = 32;
/// Length of the `command` kept.
const MAX_COMMAND: usize = 200;

/// The hints of one process, or `None` when it is none of the runtimes above. `environ`
/// is `None` when it could not be read.
pub fn hints(
    pid: u32,
    cmdline: &[String],
    environ: Option<&BTreeMap<String, String>>,
) -> Option<RuntimeHints> {
    let args: Vec<&str> = cmdline
        .iter()
        .take(MAX_ARGS)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let (runtime, command, rest) = classify(&args)?;
    let empty = BTreeMap::new();
    let env = environ.unwrap_or(&empty);
    let mut out = Vec::new();
    match runtime {
        Runtime::Java => java(&args, env, &mut out),
        Runtime::Node => {
            for key in ["HOST", "HOSTNAME"] {
                if let Some(v) = env.get(key) {
                    let is_addr = v.parse::<IpAddr>().is_ok();
                    // HOSTNAME is usually the machine's name; only an address binds.
                    if key == "HOST" || is_addr {
                        out.push(hint(
                            HintSource::Environ,
                            key,
                            v,
                            &format!("{key}={v}"),
                            runtime,
                        ));
                    }
                }
            }
            flags(
                rest,
                &["--host", "-H"],
                HintSource::Cmdline,
                runtime,
                &mut out,
            );
        }
        Runtime::Gunicorn => {
            flags(
                rest,
                &["--bind", "-b"],
                HintSource::Cmdline,
                runtime,
                &mut out,
            );
            if let Some(extra) = env.get("GUNICORN_CMD_ARGS") {
                let words: Vec<&str> = extra.split_whitespace().take(MAX_ARGS).collect();
                flags(
                    &words,
                    &["--bind", "-b"],
                    HintSource::Environ,
                    runtime,
                    &mut out,
                );
            }
            // Without --bind, gunicorn binds 0.0.0.0:$PORT when PORT is set.
            if out.is_empty()
                && let Some(p) = env.get("PORT")
            {
                let mut h = hint(
                    HintSource::Environ,
                    "PORT",
                    p,
                    &format!("PORT={p}"),
                    runtime,
                );
                h.families = Some(Families::Ipv4);
                out.push(h);
            }
        }
        Runtime::Uvicorn => {
            flags(rest, &["--host"], HintSource::Cmdline, runtime, &mut out);
            if let Some(v) = env.get("UVICORN_HOST") {
                out.push(hint(
                    HintSource::Environ,
                    "UVICORN_HOST",
                    v,
                    &format!("UVICORN_HOST={v}"),
                    runtime,
                ));
            }
        }
        Runtime::Python => flags(
            rest,
            &["--host", "--bind", "-b"],
            HintSource::Cmdline,
            runtime,
            &mut out,
        ),
    }
    out.truncate(MAX_HINTS);
    let mut command: String = clean(&command);
    if command.chars().count() > MAX_COMMAND {
        command = command.chars().take(MAX_COMMAND).collect::<String>() + "…";
    }
    Some(RuntimeHints {
        pid,
        runtime,
        command,
        hints: out,
        environ_unreadable: environ.is_none(),
    })
}

fn base(arg: &str) -> &str {
    Path::new(arg)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(arg)
}

/// The runtime, how it was started (the program and its script, module or
/// application), and the arguments after that.
fn classify<'a>(args: &'a [&'a str]) -> Option<(Runtime, String, &'a [&'a str])> {
    let prog = base(args.first()?);
    // A renamed process title (`gunicorn: master [app]`) keeps the name in front.
    let word = prog.split([':', ' ']).next().unwrap_or(prog);
    let positional = |from: usize| -> Option<usize> {
        let mut i = from;
        while i < args.len() {
            let a = args[i];
            if !a.starts_with('-') {
                return Some(i);
            }
            // Options whose value is the next word.
            if matches!(
                a,
                "-cp"
                    | "-classpath"
                    | "--class-path"
                    | "-r"
                    | "--require"
                    | "-b"
                    | "--bind"
                    | "-c"
                    | "--config"
                    | "-w"
                    | "--workers"
                    | "-k"
                    | "--host"
                    | "--port"
            ) {
                i += 1;
            }
            i += 1;
        }
        None
    };
    let with = |rt: Runtime, at: Option<usize>| -> (Runtime, String, &'a [&'a str]) {
        match at {
            Some(i) => (rt, format!("{word} {}", args[i]), &args[i + 1..]),
            None => (rt, word.to_owned(), &args[1..]),
        }
    };
    if word == "java" {
        let jar = args
            .iter()
            .position(|a| *a == "-jar")
            .map(|i| i + 1)
            .filter(|i| *i < args.len());
        return Some(match jar {
            Some(i) => (
                Runtime::Java,
                format!("java -jar {}", args[i]),
                &args[i + 1..],
            ),
            None => with(Runtime::Java, positional(1)),
        });
    }
    if word == "node" || word == "nodejs" {
        return Some(with(Runtime::Node, positional(1)));
    }
    if word == "gunicorn" {
        return Some((Runtime::Gunicorn, prog.to_owned(), &args[1..]));
    }
    if word == "uvicorn" {
        return Some((Runtime::Uvicorn, word.to_owned(), &args[1..]));
    }
    if word.starts_with("python") {
        // `python -m gunicorn ...`, `python /usr/bin/gunicorn ...`.
        let (module, script) = match args.iter().position(|a| *a == "-m") {
            Some(i) => (args.get(i + 1).copied(), i + 1),
            None => match positional(1) {
                Some(i) => (Some(base(args[i])), i),
                None => (None, 0),
            },
        };
        let rest = args.get(script + 1..).unwrap_or_default();
        let rt = match module {
            Some("gunicorn") => Runtime::Gunicorn,
            Some("uvicorn") => Runtime::Uvicorn,
            _ => Runtime::Python,
        };
        let command = match args.get(script) {
            Some(s) if script > 0 => format!("{word} {s}"),
            _ => word.to_owned(),
        };
        return Some((rt, command, rest));
    }
    None
}

fn java(args: &[&str], env: &BTreeMap<String, String>, out: &mut Vec<RuntimeHint>) {
    const KEY: &str = "-Djava.net.preferIPv4Stack";
    let mut found = |source: HintSource, text: &str| {
        if let Some(v) = text.strip_prefix(KEY).and_then(|r| r.strip_prefix('=')) {
            let mut h = hint(source, KEY, v, text, Runtime::Java);
            h.families = (v == "true").then_some(Families::Ipv4);
            out.push(h);
        }
    };
    // JVM options come before the main class or jar; what follows is the program's.
    for a in args.iter().skip(1).take_while(|a| a.starts_with('-')) {
        found(HintSource::Cmdline, a);
    }
    for var in ["JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"] {
        if let Some(v) = env.get(var) {
            for w in v.split_whitespace().take(MAX_ARGS) {
                found(HintSource::Environ, w);
            }
        }
    }
}

/// `--flag VALUE`, `--flag=VALUE` and `-fVALUE` for each of `names`.
fn flags(
    args: &[&str],
    names: &[&str],
    source: HintSource,
    rt: Runtime,
    out: &mut Vec<RuntimeHint>,
) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        i += 1;
        for name in names {
            let value = if a == *name {
                let v = args.get(i).copied();
                i += 1;
                v.map(|v| (v, format!("{a} {v}")))
            } else if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                Some((v, a.to_owned()))
            } else if name.len() == 2 && a.len() > 2 && a.starts_with(name) && !a.starts_with("--")
            {
                Some((&a[2..], a.to_owned()))
            } else {
                None
            };
            if let Some((v, text)) = value {
                out.push(hint(source, name, v, &text, rt));
                break;
            }
        }
    }
}

fn hint(source: HintSource, key: &str, value: &str, text: &str, rt: Runtime) -> RuntimeHint {
    RuntimeHint {
        source,
        key: clean(key),
        value: clean(value),
        text: clean(text),
        families: bind_families(value, rt),
    }
}

/// What binding `value` (`HOST`, `0.0.0.0:8000`, `[::]:8000`, `unix:/run/x`) means,
/// where the address alone decides it.
fn bind_families(value: &str, rt: Runtime) -> Option<Families> {
    if rt == Runtime::Java {
        return None;
    }
    if value.starts_with("unix:") || value.starts_with("fd://") || value.starts_with('/') {
        return Some(Families::NotIp);
    }
    let host = if let Some(inner) = value.strip_prefix('[') {
        inner.split_once(']').map_or(inner, |(h, _)| h)
    } else if value.matches(':').count() == 1 {
        value.split_once(':').map_or(value, |(h, _)| h)
    } else {
        value
    };
    let bound = match host {
        "" => return None,
        h => addr::ip_or_host(h),
    };
    // Node turns IPV6_V6ONLY off on `::`; the Python servers leave it to their socket
    // code and the kernel, so the socket itself tells.
    if rt != Runtime::Node && bound == BindAddr::V6(Ipv6Addr::UNSPECIFIED) {
        return None;
    }
    let wildcards = Wildcards {
        // Never met: a value without a host is no hint.
        unspecified: Families::Both,
        v4: Families::Ipv4,
        v6: Families::Both,
    };
    Some(addr::families(&bound, &wildcards))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{env, is_inert, strings};

    type Hint<'a> = (HintSource, &'a str, Option<Families>);

    fn texts(h: &RuntimeHints) -> Vec<Hint<'_>> {
        h.hints
            .iter()
            .map(|x| (x.source, x.text.as_str(), x.families))
            .collect()
    }

    #[test]
    fn hints_of_each_runtime() {
        use Families::*;
        use HintSource::{Cmdline, Environ};
        use Runtime::*;
        type Case<'a> = (
            &'a [&'a str],
            Option<&'a [(&'a str, &'a str)]>,
            Runtime,
            &'a str,
            &'a [Hint<'a>],
        );
        let cases: &[Case] = &[
            (
                &[
                    "/usr/bin/java",
                    "-Xmx1g",
                    "-Djava.net.preferIPv4Stack=true",
                    "-jar",
                    "/srv/app.jar",
                    "-Djava.net.preferIPv4Stack=false",
                ],
                Some(&[
                    (
                        "JAVA_TOOL_OPTIONS",
                        "-Dfoo=1 -Djava.net.preferIPv4Stack=false",
                    ),
                    ("SECRET", "x"),
                ]),
                Java,
                "java -jar /srv/app.jar",
                &[
                    (Cmdline, "-Djava.net.preferIPv4Stack=true", Some(Ipv4)),
                    (Environ, "-Djava.net.preferIPv4Stack=false", None),
                ],
            ),
            (
                &["java", "-cp", "lib/*", "com.example.Main"],
                None,
                Java,
                "java com.example.Main",
                &[],
            ),
            (
                &[
                    "node",
                    "--enable-source-maps",
                    "server.js",
                    "--host",
                    "0.0.0.0",
                ],
                Some(&[("HOST", "0.0.0.0"), ("HOSTNAME", "web-1")]),
                Node,
                "node server.js",
                &[
                    (Environ, "HOST=0.0.0.0", Some(Ipv4)),
                    (Cmdline, "--host 0.0.0.0", Some(Ipv4)),
                ],
            ),
            // Next.js takes HOSTNAME when it is an address; Node's `::` takes IPv4 too.
            (
                &["/usr/local/bin/node", "/app/.next/standalone/server.js"],
                Some(&[("HOSTNAME", "::")]),
                Node,
                "node /app/.next/standalone/server.js",
                &[(Environ, "HOSTNAME=::", Some(Both))],
            ),
            (
                &["node", "app.js", "-H", "localhost"],
                None,
                Node,
                "node app.js",
                &[(Cmdline, "-H localhost", Some(OfResolvedName))],
            ),
            (
                &[
                    "/usr/bin/python3",
                    "/usr/bin/gunicorn",
                    "--workers",
                    "3",
                    "-b",
                    "0.0.0.0:8000",
                    "--bind=[::1]:8001",
                    "-bunix:/run/g.sock",
                    "app:app",
                ],
                Some(&[("GUNICORN_CMD_ARGS", "--bind [::]:8002"), ("PORT", "9")]),
                Gunicorn,
                "python3 /usr/bin/gunicorn",
                &[
                    (Cmdline, "-b 0.0.0.0:8000", Some(Ipv4)),
                    (Cmdline, "--bind=[::1]:8001", Some(Ipv6)),
                    (Cmdline, "-bunix:/run/g.sock", Some(NotIp)),
                    (Environ, "--bind [::]:8002", None),
                ],
            ),
            // A renamed master process: the arguments are gone, PORT still says 0.0.0.0.
            (
                &["gunicorn: master [app:app]"],
                Some(&[("PORT", "8000")]),
                Gunicorn,
                "gunicorn: master [app:app]",
                &[(Environ, "PORT=8000", Some(Ipv4))],
            ),
            (
                &[
                    "/venv/bin/python",
                    "-m",
                    "uvicorn",
                    "main:app",
                    "--host",
                    "0.0.0.0",
                    "--port",
                    "8000",
                ],
                Some(&[("UVICORN_HOST", "::")]),
                Uvicorn,
                "python uvicorn",
                &[
                    (Cmdline, "--host 0.0.0.0", Some(Ipv4)),
                    (Environ, "UVICORN_HOST=::", None),
                ],
            ),
            (
                &["uvicorn", "app:app", "--host=127.0.0.1"],
                None,
                Uvicorn,
                "uvicorn",
                &[(Cmdline, "--host=127.0.0.1", Some(Ipv4))],
            ),
            (
                &["python3", "manage.py", "runserver", "--host", "0.0.0.0"],
                None,
                Python,
                "python3 manage.py",
                &[(Cmdline, "--host 0.0.0.0", Some(Ipv4))],
            ),
            (&["python3"], None, Python, "python3", &[]),
        ];
        for (cmdline, environ, runtime, command, want) in cases {
            let environ = environ.map(env);
            let h = hints(1, &strings(cmdline), environ.as_ref()).unwrap();
            assert_eq!(
                (h.runtime, h.command.as_str(), texts(&h)),
                (*runtime, *command, want.to_vec()),
                "{cmdline:?}"
            );
            assert_eq!(h.environ_unreadable, environ.is_none());
        }
    }

    #[test]
    fn other_processes_are_no_runtime() {
        for cmdline in [
            &["/lib/systemd/systemd", "--system"][..],
            &["nginx: master process nginx"],
            &[],
        ] {
            assert!(hints(1, &strings(cmdline), None).is_none(), "{cmdline:?}");
        }
    }

    #[test]
    fn hostile_command_lines() {
        let long = "x".repeat(10_000);
        let h = hints(
            4,
            &strings(&["node", &long]),
            Some(&env(&[("HOST", "\u{1b}[2J0.0.0.0")])),
        )
        .unwrap();
        assert!(h.command.chars().count() <= MAX_COMMAND + 1);
        assert!(is_inert(&h.hints[0].text));
        let many: Vec<String> = std::iter::once("gunicorn".to_owned())
            .chain(std::iter::repeat_n("-b0.0.0.0:1".to_owned(), 100_000))
            .collect();
        assert_eq!(hints(5, &many, None).unwrap().hints.len(), MAX_HINTS);
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_runtime_hints_never_panic(
            text in crate::testutil::inputs::input_text("runtime", 12),
            // Each variable the runtimes read, present or not.
            values in proptest::collection::vec(
                proptest::option::of(crate::testutil::inputs::soup_of("runtime", 6)),
                6,
            ),
        ) {
            let args: Vec<String> = text.split(' ').map(str::to_owned).collect();
            let env: BTreeMap<String, String> = [
                "HOST",
                "HOSTNAME",
                "PORT",
                "GUNICORN_CMD_ARGS",
                "JAVA_TOOL_OPTIONS",
                "UVICORN_HOST",
            ]
            .iter()
            .zip(values)
            .filter_map(|(k, v)| Some(((*k).to_owned(), v?)))
            .collect();
            if let Some(h) = hints(1, &args, Some(&env)) {
                assert!(is_inert(&h.command));
                assert!(h.hints.iter().all(|x| is_inert(&x.text)));
            }
        }
    }
}
