//! A private tmux server (its own socket), for the wizard in a real terminal: start a
//! command in a detached session, read the screen, send keys, wait for a screen.

use super::process::process_alive;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// tmux servers started by this process: part of each socket name.
static TMUX_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A private tmux server, killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server on the socket `dsd-<pid>-<tag>-<n>` (started by the first `start`).
    pub fn new(tag: &str) -> Tmux {
        let n = TMUX_COUNTER.fetch_add(1, Ordering::SeqCst);
        Tmux {
            socket: format!("dsd-{}-{tag}-{n}", std::process::id()),
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("tmux {args:?}: {e} (is tmux installed? scripts/test.sh installs it)")
            })
    }

    /// Start `cmd` in a detached 100x30 session whose pane stays after the command ends.
    pub fn start(&self, cmd: &str) {
        self.start_with(100, &[], cmd);
    }

    /// Start `cmd` in a detached session `columns` wide and 30 high, with `LANG=C.UTF-8`,
    /// `TERM=xterm-256color` and `env` (`NAME=VALUE`) set, whose pane stays after the
    /// command ends.
    pub fn start_with(&self, columns: u16, env: &[String], cmd: &str) {
        let columns = columns.to_string();
        let mut args = vec![
            "new-session",
            "-d",
            "-x",
            &columns,
            "-y",
            "30",
            "-e",
            "LANG=C.UTF-8",
            "-e",
            "TERM=xterm-256color",
        ];
        for e in env {
            args.extend(["-e", e.as_str()]);
        }
        args.push(cmd);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.run(&["set-option", "-g", "remain-on-exit", "on"]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// `tmux display-message -p FORMAT` (`#{pane_pid}`, `#{alternate_on}`, ...).
    pub fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.run(&["display-message", "-p", format]).stdout)
            .trim()
            .to_string()
    }

    pub fn keys(&self, keys: &str) {
        self.run(&["send-keys", keys]);
    }

    /// Wait until `pred` holds for the screen; panic with the screen after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stop the server (and the session's command with it), wait until its process is
    /// gone (a new session on the same socket fails with "server exited unexpectedly"
    /// while the old server is still exiting), and remove its socket file (tmux leaves
    /// it behind).
    pub fn kill(&self) {
        let about = self.display("#{pid} #{socket_path}");
        let Some((pid, socket)) = about.split_once(' ') else {
            return; // no server
        };
        let _ = self.run(&["kill-server"]);
        let start = Instant::now();
        while pid.parse().is_ok_and(process_alive) && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = std::fs::remove_file(socket);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}
