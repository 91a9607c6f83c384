//! Bounded reads of a process's `/proc` entries: its command line, environment and
//! working directory. Another user's environment needs root; that is an answer too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Longest command line read (the kernel's own limit is about 2 MiB).
const MAX_CMDLINE: u64 = 128 << 10;
/// Longest environment read.
const MAX_ENVIRON: u64 = 1 << 20;
/// Variables kept from one environment.
const MAX_VARS: usize = 4096;

fn read(pid: u32, entry: &str, max: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(format!("/proc/{pid}/{entry}"))?
        .take(max)
        .read_to_end(&mut out)?;
    Ok(out)
}

fn split_nul(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

/// The arguments, as the process shows them now (a renamed title included).
pub fn cmdline(pid: u32) -> Vec<String> {
    read(pid, "cmdline", MAX_CMDLINE)
        .map(|b| split_nul(&b).collect())
        .unwrap_or_default()
}

/// The environment the process was started with; `None` when it cannot be read
/// (another user's process without root, or gone).
pub fn environ(pid: u32) -> Option<BTreeMap<String, String>> {
    let bytes = read(pid, "environ", MAX_ENVIRON).ok()?;
    Some(
        split_nul(&bytes)
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .take(MAX_VARS)
            .collect(),
    )
}

/// Every process with its command line (sysinfo), for the probes that look for servers.
pub fn process_table() -> sysinfo::System {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, UpdateKind};
    let mut sys = sysinfo::System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always),
    );
    sys
}

/// The processes of `sys` in this network namespace, by pid. Another namespace (a
/// container, a test lab) has its own sockets, addresses and servers: their
/// configuration says nothing about this host's.
pub fn in_our_netns(sys: &sysinfo::System) -> Vec<(&sysinfo::Pid, &sysinfo::Process)> {
    let ours = std::fs::read_link("/proc/self/ns/net").ok();
    let mut pids: Vec<(&sysinfo::Pid, &sysinfo::Process)> = sys
        .processes()
        .iter()
        .filter(|(pid, _)| {
            same_netns(
                ours.as_deref(),
                std::fs::read_link(format!("/proc/{pid}/ns/net")),
            )
        })
        .collect();
    pids.sort_by_key(|(pid, _)| **pid);
    pids
}

/// Whether a process whose namespace link read as `theirs` shares ours. A link that
/// cannot be read for permission (another user's process, without root) is kept: its
/// server may well be this host's. A link that is gone belongs to a process that exited
/// since the table was taken, in whichever namespace: it is dropped, or a server stopped
/// elsewhere (a container's, a neighbouring test's) would lend this host its configuration.
fn same_netns(ours: Option<&Path>, theirs: std::io::Result<PathBuf>) -> bool {
    match (ours, theirs) {
        (Some(ours), Ok(theirs)) => ours == theirs,
        (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => false,
        _ => true,
    }
}

/// A process of the table as the probes match it: pid, name and command line (lossy
/// UTF-8: names and arguments are compared with known programs, not trusted).
pub fn described(pid: &sysinfo::Pid, p: &sysinfo::Process) -> (u32, String, Vec<String>) {
    let cmd = p
        .cmd()
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    (pid.as_u32(), p.name().to_string_lossy().into_owned(), cmd)
}

/// The working directory, for relative configuration paths.
pub fn cwd(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_gone_since_the_table_is_not_ours() {
        use std::io::{Error, ErrorKind};
        let ours = Path::new("net:[4026531840]");
        assert!(same_netns(Some(ours), Ok(ours.to_path_buf())));
        assert!(!same_netns(
            Some(ours),
            Ok(PathBuf::from("net:[4026532001]"))
        ));
        assert!(!same_netns(
            Some(ours),
            Err(Error::from(ErrorKind::NotFound))
        ));
        assert!(same_netns(
            Some(ours),
            Err(Error::from(ErrorKind::PermissionDenied))
        ));
        assert!(same_netns(None, Ok(ours.to_path_buf())));
    }

    #[test]
    fn own_process() {
        let me = std::process::id();
        assert!(!cmdline(me).is_empty());
        let env = environ(me).unwrap();
        assert!(env.contains_key("PATH") || !env.is_empty() || std::env::vars().next().is_none());
        assert_eq!(cwd(me), std::env::current_dir().ok());
        assert!(environ(u32::MAX).is_none());
        assert!(cmdline(u32::MAX).is_empty());
    }
}
