//! Reads the packet filter for the firewall stage: `nft -j list ruleset`, and the
//! iptables views where they add something (`iptables-nft-save` for tables that
//! iptables-nft wrote, `iptables-legacy-save` / `ip6tables-legacy-save` for legacy
//! tables). Only listing commands run: nothing here changes the filter. Each command is
//! bounded in time and output size.

use crate::facts::firewall::{Backend, FirewallFacts, Match, Source, Table, TableFamily, ToolRun};
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::model::Family;
use crate::parse::{iptables, nft};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Most output read from one command (a large ruleset is a few MiB of JSON).
const MAX_OUTPUT: usize = 64 << 20;

const NEED_NFT: &str = "the nft tool is not installed: install nftables (apt-get install nftables, or dnf install nftables) so dsdoctor can read the packet filter";

const NEED_ROOT: &str =
    "reading the packet filter needs root (CAP_NET_ADMIN): run dsdoctor as root";

/// Find a tool in PATH or the sbin directories (unprivileged PATHs often lack them).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Run `tool args` with a deadline and an output cap; kill it when either is passed.
fn run_capped(tool: &PathBuf, args: &[&str], deadline: Instant) -> Result<Output, ProbeError> {
    let what = format!("{} {}", tool.display(), args.join(" "));
    let mut child = Command::new(tool)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| super::io_error(&what, &e))?;
    let read_capped = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || -> (Vec<u8>, bool) {
            let mut buf = Vec::new();
            let Some(r) = r else { return (buf, false) };
            let mut limited = r.take(MAX_OUTPUT as u64 + 1);
            let _ = limited.read_to_end(&mut buf);
            let over = buf.len() > MAX_OUTPUT;
            buf.truncate(MAX_OUTPUT);
            (buf, over)
        })
    };
    let out_t = read_capped(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = read_capped(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProbeError::new(
                    ProbeErrorKind::Timeout,
                    format!("{what}: did not finish in time"),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(super::io_error(&what, &e)),
        }
    };
    let (out, over) = out_t.join().unwrap_or_default();
    let (err, _) = err_t.join().unwrap_or_default();
    if over {
        return Err(ProbeError::new(
            ProbeErrorKind::Failed,
            format!("{what}: more than {} MiB of output", MAX_OUTPUT >> 20),
        ));
    }
    Ok(Output {
        ok: status.success(),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: crate::sanitize::clean(String::from_utf8_lossy(&err).trim()),
    })
}

/// Run an `*-save` tool: its output, recorded as a tool run; on failure the reason is
/// recorded as a part of the filter that could not be read.
fn run_save(
    facts: &mut FirewallFacts,
    path: &PathBuf,
    tool: &str,
    deadline: Instant,
) -> Option<String> {
    run_save_args(facts, path, &[], tool, deadline)
}

fn run_save_args(
    facts: &mut FirewallFacts,
    path: &PathBuf,
    args: &[&str],
    tool: &str,
    deadline: Instant,
) -> Option<String> {
    match run_capped(path, args, deadline) {
        Ok(o) if o.ok => {
            facts.tools.push(ToolRun {
                command: tool.into(),
                result: Ok(o.stdout.len()),
            });
            Some(o.stdout)
        }
        Ok(o) => {
            facts.partial.push(format!("{tool} failed: {}", o.stderr));
            None
        }
        Err(e) => {
            facts.partial.push(e.message);
            None
        }
    }
}

fn permission_like(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("operation not permitted")
        || s.contains("permission denied")
        || s.contains("must be root")
}

fn euid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX)
}

/// Read every ruleset on the input path. `limit` bounds the whole probe.
pub fn read_firewall(limit: Duration) -> Result<FirewallFacts, ProbeError> {
    let deadline = Instant::now() + limit;
    let mut facts = FirewallFacts::default();
    // Without nft, the legacy tables can still be read (older distributions have no
    // nftables at all); without either, the answer is an error naming what is needed.
    let nft_path = find_tool("nft");
    let mut tables = Vec::new();
    if let Some(nft_path) = &nft_path {
        let out = run_capped(nft_path, &["-j", "list", "ruleset"], deadline)?;
        if !out.ok {
            if permission_like(&out.stderr) || euid() != 0 {
                return Err(ProbeError::new(
                    ProbeErrorKind::Permission,
                    format!("{NEED_ROOT} (nft said: {})", out.stderr),
                ));
            }
            return Err(ProbeError::new(
                ProbeErrorKind::Failed,
                format!("nft -j list ruleset failed: {}", out.stderr),
            ));
        }
        facts.tools.push(ToolRun {
            command: "nft -j list ruleset".into(),
            result: Ok(out.stdout.len()),
        });
        // An empty ruleset prints nothing at all on some versions.
        let rs = if out.stdout.trim().is_empty() {
            Default::default()
        } else {
            nft::parse(&out.stdout).map_err(|e| {
                ProbeError::new(ProbeErrorKind::Failed, format!("nft -j list ruleset: {e}"))
            })?
        };
        facts.problems.extend(rs.problems);
        tables = rs.tables;
    }

    // Tables iptables-nft wrote: their extensions are opaque `xt` in the JSON; the
    // iptables-nft-save view of the same tables is complete.
    for family in Family::BOTH {
        // Tables iptables-nft wrote are read in iptables' own terms, so the evidence and
        // the fixes speak the tool the admin used.
        if !needs_iptables_view(&tables, family) {
            continue;
        }
        let tool = family.pick("iptables-nft-save", "ip6tables-nft-save");
        let Some(path) = find_tool(tool) else {
            facts.partial.push(format!(
                "{tool} is not installed: rules written by iptables-nft are read from nft's JSON, where their extensions are opaque"
            ));
            continue;
        };
        if let Some(out) = run_save(&mut facts, &path, tool, deadline) {
            let problems = merge_iptables_view(&mut tables, &out, family);
            facts.problems.extend(problems);
        }
    }

    // Legacy x_tables apply on top of nftables.
    for family in Family::BOTH {
        let names = family.pick("/proc/net/ip_tables_names", "/proc/net/ip6_tables_names");
        let tool = family.pick("iptables-legacy-save", "ip6tables-legacy-save");
        let listed = match std::fs::read_to_string(names) {
            Ok(s) => s,
            // No x_tables in the kernel: nothing legacy can be loaded.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                facts.partial.push(format!("{names}: {e}"));
                continue;
            }
        };
        if listed.trim().is_empty() {
            continue;
        }
        let plain = family.pick("iptables-save", "ip6tables-save");
        let Some(path) = find_tool(tool).or_else(|| legacy_plain(plain, deadline)) else {
            facts.partial.push(format!(
                "legacy iptables tables are loaded ({}) but {tool} is not installed to read them",
                listed.split_whitespace().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        if let Some(out) = run_save(&mut facts, &path, tool, deadline) {
            let saved = iptables::parse(&out, family, Source::IptablesLegacy);
            facts.problems.extend(saved.problems);
            tables.extend(saved.tables);
        }
    }
    if nft_path.is_none() {
        if tables.is_empty() {
            if euid() != 0 {
                return Err(ProbeError::new(ProbeErrorKind::Permission, NEED_ROOT));
            }
            return Err(ProbeError::new(ProbeErrorKind::Missing, NEED_NFT));
        }
        facts.partial.push(format!("nftables: {NEED_NFT}"));
    }
    if names_ipsets(&tables) {
        read_ipsets(&mut facts, deadline);
    }
    facts.ssh = ssh_session();
    facts.backends = backends(&tables);
    facts.tables = tables;
    facts.problems.truncate(40);
    Ok(facts)
}

/// Whether an iptables rule matches an ipset (`-m set --match-set`).
fn names_ipsets(tables: &[Table]) -> bool {
    tables
        .iter()
        .filter(|t| t.source != Source::Nft)
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .any(|r| r.matches.iter().any(|m| matches!(m, Match::Set { .. })))
}

/// `ipset save`: the restore format, one `create`/`add` line each (machine-readable; no
/// maintained netlink crate speaks ipset's protocol).
fn read_ipsets(facts: &mut FirewallFacts, deadline: Instant) {
    let Some(path) = find_tool("ipset") else {
        facts.partial.push(
            "ipset is not installed: rules that match ipsets (-m set) are not evaluated".into(),
        );
        return;
    };
    if let Some(out) = run_save_args(facts, &path, &["save"], "ipset save", deadline) {
        facts.ipsets = crate::parse::ipset::parse(&out);
    }
}

/// The SSH session dsdoctor runs in: `SSH_CONNECTION` of this process, else of the
/// nearest ancestor that has it (`sudo` drops it from the environment it passes on, but
/// keeps it in its own). Untrusted text, parsed strictly.
fn ssh_session() -> Option<crate::facts::firewall::SshSession> {
    if let Ok(v) = std::env::var("SSH_CONNECTION") {
        return crate::parse::ssh::session(&v);
    }
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..4 {
        if pid <= 1 {
            return None;
        }
        if let Some(v) = super::procfs::environ(pid).and_then(|e| e.get("SSH_CONNECTION").cloned())
        {
            return crate::parse::ssh::session(&v);
        }
        pid = parent_of(pid)?;
    }
    None
}

/// The parent of a process, from `/proc/PID/stat` (the field after the name's `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `iptables-save` where it is the legacy variant (older distributions name it so).
fn legacy_plain(tool: &str, deadline: Instant) -> Option<PathBuf> {
    let path = find_tool(tool)?;
    let out = run_capped(&path, &["--version"], deadline).ok()?;
    let v = format!("{}{}", out.stdout, out.stderr);
    (out.ok && !v.contains("nf_tables")).then_some(path)
}

/// Whether nft's view of a family has tables that iptables-nft wrote.
pub fn needs_iptables_view(tables: &[Table], family: Family) -> bool {
    let fam = TableFamily::of(family);
    tables
        .iter()
        .any(|t| t.family == fam && t.source == Source::Nft && (has_xt(t) || iptables_shaped(t)))
}

/// Replace nft's view of the tables iptables-nft wrote by `iptables-nft-save`'s (`save`).
/// Returns the parser's notes.
pub fn merge_iptables_view(tables: &mut [Table], save: &str, family: Family) -> Vec<String> {
    let fam = TableFamily::of(family);
    let saved = iptables::parse(save, family, Source::IptablesNft);
    for st in saved.tables {
        if let Some(slot) = tables
            .iter_mut()
            .find(|t| t.family == fam && t.name == st.name && t.source == Source::Nft)
        {
            *slot = st;
        }
    }
    saved.problems
}

/// The facts from recorded outputs, as the probe assembles them: `nft -j list ruleset`,
/// then `iptables-nft-save` / `ip6tables-nft-save` for the tables iptables-nft wrote,
/// then the legacy tables. For replaying recordings (tests).
#[cfg(test)]
pub fn assemble(
    nft_json: &str,
    nft_save: [Option<&str>; 2],
    legacy_save: [Option<&str>; 2],
) -> Result<FirewallFacts, nft::NotNftJson> {
    let rs = if nft_json.trim().is_empty() {
        Default::default()
    } else {
        nft::parse(nft_json)?
    };
    let mut facts = FirewallFacts {
        problems: rs.problems,
        ..Default::default()
    };
    let mut tables = rs.tables;
    for (family, save) in Family::BOTH.into_iter().zip(nft_save) {
        if let Some(save) = save
            && needs_iptables_view(&tables, family)
        {
            let p = merge_iptables_view(&mut tables, save, family);
            facts.problems.extend(p);
        }
    }
    for (family, save) in Family::BOTH.into_iter().zip(legacy_save) {
        if let Some(save) = save {
            let saved = iptables::parse(save, family, Source::IptablesLegacy);
            facts.problems.extend(saved.problems);
            tables.extend(saved.tables);
        }
    }
    facts.backends = backends(&tables);
    facts.tables = tables;
    Ok(facts)
}

/// A table of an iptables name with iptables' built-in chain names.
fn iptables_shaped(t: &Table) -> bool {
    matches!(t.family, TableFamily::Ip | TableFamily::Ip6)
        && ["filter", "mangle", "raw", "nat", "security"].contains(&t.name.as_str())
        && t.chains
            .iter()
            .any(|c| c.hook.is_some() && c.name.chars().all(|ch| ch.is_ascii_uppercase()))
}

fn has_xt(t: &Table) -> bool {
    t.chains.iter().flat_map(|c| &c.rules).any(|r| {
        r.matches
            .iter()
            .any(|m| matches!(m, Match::Unknown(s) if s.starts_with("iptables extension")))
            || matches!(&r.verdict, crate::facts::firewall::Verdict::Unknown(s) if s.starts_with("xt"))
    })
}

/// The front-ends whose tables or chains appear in the ruleset.
pub fn backends(tables: &[Table]) -> Vec<Backend> {
    let mut out = Vec::new();
    let mut add = |b: Backend| {
        if !out.contains(&b) {
            out.push(b);
        }
    };
    for t in tables {
        let has_rules = t.chains.iter().any(|c| !c.rules.is_empty())
            || t.chains.iter().any(|c| {
                c.hook
                    .as_ref()
                    .is_some_and(|h| h.policy != crate::facts::firewall::Verdict::Accept)
            });
        let iptables_shaped = iptables_shaped(t);
        match t.source {
            Source::IptablesLegacy if has_rules => add(Backend::IptablesLegacy),
            Source::IptablesNft => add(Backend::IptablesNft),
            Source::Nft if iptables_shaped => add(Backend::IptablesNft),
            Source::Nft => add(Backend::Nft),
            _ => {}
        }
        if t.name == "firewalld" || t.chains.iter().any(|c| c.name.starts_with("filter_IN_")) {
            add(Backend::Firewalld);
        }
        for c in &t.chains {
            if c.name.starts_with("ufw-") || c.name.starts_with("ufw6-") {
                add(Backend::Ufw);
            }
            if c.name == "DOCKER" || c.name == "DOCKER-USER" {
                add(Backend::Docker);
            }
            if c.name.starts_with("f2b-") {
                add(Backend::Fail2ban);
            }
        }
        if t.name.starts_with("f2b-") {
            add(Backend::Fail2ban);
        }
    }
    out
}
