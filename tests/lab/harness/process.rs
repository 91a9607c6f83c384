//! Programs in the lab: a command run in a namespace (bounded in time), programs started in
//! the background and recorded by pid, waiting until one is ready, stopping one by pid.

use super::topology::{Lab, Ns, RunAs};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one helper command may run before the test fails.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a started service may take to be ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// Run `c` with stdin closed and output captured; panics if it cannot start or runs past
/// `timeout` (it is killed then).
pub fn run_timeout(mut c: Command, timeout: Duration, what: &str) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut so = child.stdout.take().expect("stdout pipe");
    let mut se = child.stderr.take().expect("stderr pipe");
    let t_out = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + timeout;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?} (killed)");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// SIGTERM, wait up to 3 s, then SIGKILL; always reaps.
fn stop_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    signal(child.id(), "TERM");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Send SIG`name` to one pid (through kill(1): no libc dependency).
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The fields of `/proc/PID/stat` after the parenthesised command name (state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Whether `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().cloned())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// One process, told apart from a later one that reuses its pid (`pid_max` is 32768 on
/// small machines, and a busy test run goes through pids fast).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRef {
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat`: clock ticks after boot.
    start: u64,
}

impl ProcessRef {
    pub fn of(pid: u32) -> Option<ProcessRef> {
        let start = stat_fields(pid)?.get(19)?.parse().ok()?;
        Some(ProcessRef { pid, start })
    }

    /// This very process still runs (not a zombie, not a newcomer with its pid).
    pub fn alive(&self) -> bool {
        process_alive(self.pid) && ProcessRef::of(self.pid) == Some(*self)
    }
}

/// Pids whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            stat_fields(*child).and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()))
                == Some(pid)
        })
        .collect()
}

/// The system python3 (not a pyenv shim: quicker, and its pid is the process's own).
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// A helper program of tests/support/.
pub fn support_script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
        .display()
        .to_string()
}

/// `python3 -B SCRIPT ARGS...` for a script of tests/support/ (-B: no `__pycache__` in
/// the source tree).
pub fn support_command(script: &str, args: &[&str]) -> Vec<String> {
    let mut v = vec![
        python().to_string(),
        "-B".to_string(),
        support_script(script),
    ];
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

pub fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents)
        .unwrap_or_else(|e| panic!("lab: cannot write {}: {e}", path.display()));
    let _ = fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o644));
}

/// A background process the lab started and will stop.
struct Proc {
    label: String,
    child: Child,
}

/// The background programs of one lab, by label; each writes its output to
/// `<dir>/<label>.out`.
pub struct Supervisor {
    procs: Vec<Proc>,
    log_dir: PathBuf,
}

impl Supervisor {
    pub fn new(log_dir: &Path) -> Supervisor {
        Supervisor {
            procs: Vec::new(),
            log_dir: log_dir.to_path_buf(),
        }
    }

    /// Start `c` (stdin closed, output to `<label>.out`); returns its pid.
    fn spawn(&mut self, label: &str, mut c: Command) -> u32 {
        assert!(
            !self.procs.iter().any(|p| p.label == label),
            "lab: a process labelled {label:?} is already running"
        );
        let log_path = self.log_dir.join(format!("{label}.out"));
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", log_path.display()));
        let log2 = log.try_clone().expect("clone log file handle");
        c.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("lab: cannot start {label} ({c:?}): {e}"));
        let pid = child.id();
        self.procs.push(Proc {
            label: label.to_string(),
            child,
        });
        pid
    }

    fn find(&mut self, label: &str) -> Option<&mut Proc> {
        self.procs.iter_mut().find(|p| p.label == label)
    }

    /// The output and log files of a labelled process (`<label>.out`, `<label>.log`,
    /// `<label>/error.log`), their last lines, for failure messages.
    pub fn logs_of(&self, label: &str) -> String {
        let mut s = String::new();
        for name in [
            format!("{label}.out"),
            format!("{label}.log"),
            format!("{label}/error.log"),
        ] {
            let p = self.log_dir.join(&name);
            if let Ok(text) = fs::read_to_string(&p) {
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                s.push_str(&format!("--- {} (last lines) ---\n", p.display()));
                for l in tail.iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }

    /// Stop the process recorded under `label` (SIGTERM, then SIGKILL after 3 s).
    fn stop(&mut self, label: &str) {
        if let Some(i) = self.procs.iter().position(|p| p.label == label) {
            let mut p = self.procs.remove(i);
            stop_child(&mut p.child);
        }
    }

    /// Stop every process, newest first.
    pub fn stop_all(&mut self) {
        while let Some(mut p) = self.procs.pop() {
            stop_child(&mut p.child);
        }
    }
}

impl Lab {
    /// The command that runs `args` in `ns` as `user`, for callers that need their own
    /// pipes, environment or time limit.
    pub fn command(&self, ns: Ns, user: RunAs, args: &[&str]) -> Command {
        let mut full: Vec<&str> = vec!["netns", "exec", self.ns(ns)];
        if user == RunAs::Nobody {
            full.extend([
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ]);
        }
        full.extend_from_slice(args);
        cmd("ip", &full)
    }

    /// Run `args` in `ns` as root (`ip netns exec`), waiting at most 30 s. Never panics on
    /// a non-zero exit: look at the returned `Output`.
    pub fn exec(&self, ns: Ns, args: &[&str]) -> Output {
        self.exec_as(ns, RunAs::Root, args)
    }

    /// Run `args` in `ns` as the given user.
    pub fn exec_as(&self, ns: Ns, user: RunAs, args: &[&str]) -> Output {
        let c = self.command(ns, user, args);
        run_timeout(c, CMD_TIMEOUT, &format!("{args:?} in {ns:?}"))
    }

    /// Like `exec`, but panics with stderr when the command fails; returns stdout.
    pub fn exec_ok(&self, ns: Ns, args: &[&str]) -> String {
        let out = self.exec(ns, args);
        assert!(
            out.status.success(),
            "{args:?} in {ns:?} ({}) failed ({}): stdout: {}\nstderr: {}",
            self.ns(ns),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Start `args` in the background in `ns`, recorded under `label` (stdout/stderr go to
    /// `<dir>/<label>.out`); stopped at teardown or by `stop(label)`. Returns the pid:
    /// `ip netns exec` execs the command in place, so it is the command's own.
    pub fn spawn(&mut self, ns: Ns, label: &str, args: &[&str]) -> u32 {
        let c = self.command(ns, RunAs::Root, args);
        self.procs.spawn(label, c)
    }

    /// Start `args` like `spawn` and wait until the program creates `ready` (its own
    /// signal that it listens); panics with its output when it exits or takes longer than
    /// 10 s.
    pub fn spawn_ready(&mut self, ns: Ns, label: &str, args: &[&str], ready: &Path) -> u32 {
        let _ = fs::remove_file(ready);
        let pid = self.spawn(ns, label, args);
        self.wait_ready(label, |_| {
            if ready.exists() {
                Ok(())
            } else {
                Err(format!("{} not created", ready.display()))
            }
        });
        pid
    }

    /// Start a tests/support/ server in `ns` under `label` and wait for its ready file,
    /// which is its first argument.
    pub fn start_support(&mut self, ns: Ns, label: &str, script: &str, args: &[&str]) -> u32 {
        let ready = self.dir().join(format!("{label}.ready"));
        let ready_s = ready.display().to_string();
        let mut all = vec![ready_s.as_str()];
        all.extend_from_slice(args);
        let argv = support_command(script, &all);
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.spawn_ready(ns, label, &refs, &ready)
    }

    /// Poll `ready` until it says yes, while the process `label` runs; panics with the
    /// last answer and the process's output when it exits or 10 s pass.
    pub fn wait_ready(&mut self, label: &str, mut ready: impl FnMut(&Lab) -> Result<(), String>) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.assert_alive(label);
            let state = match ready(self) {
                Ok(()) => return,
                Err(state) => state,
            };
            if Instant::now() > deadline {
                panic!(
                    "lab: {label} (pid {:?}) not ready after {READY_TIMEOUT:?}: {state}\n{}",
                    self.pid_of(label),
                    self.logs_of(label)
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pid of the running process recorded under `label`.
    pub fn pid_of(&self, label: &str) -> Option<u32> {
        self.procs
            .procs
            .iter()
            .find(|p| p.label == label)
            .map(|p| p.child.id())
    }

    pub fn assert_alive(&mut self, label: &str) {
        let status = match self.procs.find(label) {
            Some(p) => p.child.try_wait().ok().flatten(),
            None => panic!("lab: no process labelled {label:?}"),
        };
        if let Some(st) = status {
            panic!("lab: {label} exited early ({st})\n{}", self.logs_of(label));
        }
    }

    /// The output and log files of a labelled process, for failure messages.
    pub fn logs_of(&self, label: &str) -> String {
        self.procs.logs_of(label)
    }

    /// Stop the process recorded under `label` (SIGTERM, then SIGKILL after 3 s).
    pub fn stop(&mut self, label: &str) {
        self.procs.stop(label);
    }
}
