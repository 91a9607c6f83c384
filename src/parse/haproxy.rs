//! HAProxy configuration: the `bind` lines of each `frontend` and `listen`, what each
//! address means for each family, and which backend serves the traffic. Read the way
//! haproxy's `cfgparse.c` splits lines: `#` comments, backslash escapes, single quotes
//! literal, environment variables expanded inside double quotes; a section runs until the
//! next section keyword or the end of its file. `.if` blocks are read as if they held,
//! with the condition kept.
//!
//! Families, as haproxy binds (`str2sa_range`, `sock_inet6_bind`): an empty host or `*`
//! is IPv4's `0.0.0.0`; `::` is IPv6, and its IPV6_V6ONLY is left to
//! `net.ipv6.bindv6only` unless `v4v6` or `v6only` sets it; `ipv4@`/`ipv6@` force the
//! family.

use super::addr::{self, Wildcards};
use super::normalize_lexically;
use super::source::{Input, Reader, Walk, at};
use crate::facts::Place;
use crate::facts::servers::{
    BindAddr, Condition, Endpoint, Families, HaproxyBind, HaproxyConfig, HaproxySection,
    HaproxySectionKind, UseBackend,
};
use crate::model::Family;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// Words kept per line: haproxy's own limit (`MAX_LINE_ARGS`) is 64.
const MAX_WORDS: usize = 64;
/// Addresses kept per `bind` line.
const MAX_ENDPOINTS: usize = 256;
/// Length of one line after variables are expanded.
const MAX_LINE: usize = 1 << 16;

/// Where haproxy takes its configuration from, given its command line: every `-f`
/// (files or directories, in order), the files after `--`, relative to `-C DIR` or
/// else the process's working directory `cwd`. Debian's unit passes
/// `-f /etc/haproxy/haproxy.cfg`, which is also the answer when none is given.
pub fn config_paths(cmdline: &[String], cwd: Option<&Path>) -> Vec<PathBuf> {
    let args: Vec<&str> = cmdline
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let mut paths: Vec<String> = Vec::new();
    let mut chdir: Option<String> = None;
    let mut i = 1;
    let mut rest_are_files = false;
    while i < args.len() {
        let a = args[i];
        i += 1;
        if rest_are_files {
            paths.push(a.to_owned());
            continue;
        }
        match a {
            "--" => rest_are_files = true,
            "-f" | "-C" => {
                let Some(v) = args.get(i) else { break };
                i += 1;
                if a == "-f" {
                    paths.push((*v).to_owned());
                } else {
                    chdir = Some((*v).to_owned());
                }
            }
            // Options that take a value: skip it.
            "-p" | "-S" | "-L" | "-n" | "-N" | "-m" | "-sf" | "-st" | "-x" | "-c" => {
                if matches!(a, "-p" | "-S" | "-L" | "-n" | "-N" | "-m" | "-x") {
                    i += 1;
                }
            }
            _ => {}
        }
    }
    if paths.is_empty() {
        paths.push("/etc/haproxy/haproxy.cfg".to_owned());
    }
    let base = match (chdir, cwd) {
        (Some(c), Some(cwd)) => cwd.join(c),
        (Some(c), None) => PathBuf::from(c),
        (None, Some(cwd)) => cwd.to_path_buf(),
        (None, None) => PathBuf::from("/"),
    };
    paths
        .iter()
        .map(|p| normalize_lexically(&base.join(p)))
        .collect()
}

/// Parse the files and directories `paths` in order (a directory: its `*.cfg` files,
/// hidden ones left out, in lexical order). The input's environment is the process's,
/// for `"${VAR}"`. Never fails: what could not be read or parsed is in `problems`.
pub fn parse_config(input: &Input<'_>, paths: &[PathBuf]) -> HaproxyConfig {
    let mut w = Walker {
        reader: input.reader(),
        env: input.env,
        out: HaproxyConfig::default(),
        current: None,
        conds: Vec::new(),
    };
    for p in paths {
        if input.src.is_dir(p) {
            for f in w.reader.glob(p, b"*.cfg") {
                w.walk_file(&f, None);
            }
        } else {
            w.walk_file(p, None);
        }
    }
    let mut out = w.out;
    (out.files, out.problems) = w.reader.finish();
    out
}

/// haproxy's line splitting (`parse_line`): blanks separate words, `\` escapes the next
/// character (`\t`, `\n`, `\r`, `\xHH` too), `'...'` is literal, `"..."` expands
/// `$VAR`, `${VAR}` and `${VAR-default}` (an unset variable becomes empty), `#` outside
/// quotes ends the line.
fn split_line(line: &str, env: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let b = line.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match (quote, c) {
            (None, b'#') => break,
            (None, c) if c == b' ' || c == b'\t' => {
                if in_word {
                    out.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                    in_word = false;
                    if out.len() >= MAX_WORDS {
                        return Err(format!("too many words, truncating after word {MAX_WORDS}"));
                    }
                }
                i += 1;
                continue;
            }
            (None, b'"' | b'\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (q, b'\\') if q != Some(b'\'') => {
                let next = b.get(i + 1).copied();
                match next {
                    Some(b't') => cur.push(b'\t'),
                    Some(b'n') => cur.push(b'\n'),
                    Some(b'r') => cur.push(b'\r'),
                    Some(b'x') => {
                        let hex = line
                            .get(i + 2..i + 4)
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        match hex {
                            Some(v) => {
                                cur.push(v);
                                i += 2;
                            }
                            None => return Err("truncated or invalid hexadecimal sequence".into()),
                        }
                    }
                    Some(n) => cur.push(n),
                    None => {}
                }
                in_word = true;
                i += 2;
                continue;
            }
            (Some(b'"'), b'$') => {
                let (value, used) = expand_var(&line[i..], env);
                cur.extend_from_slice(value.as_bytes());
                if cur.len() > MAX_LINE {
                    return Err("line too long after expanding variables".into());
                }
                i += used;
                continue;
            }
            _ => {
                cur.push(c);
                in_word = true;
            }
        }
        i += 1;
    }
    if quote.is_some() {
        return Err("unmatched quote".into());
    }
    if in_word {
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    Ok(out)
}

/// `$NAME`, `${NAME}` or `${NAME-default}` at the start of `s`: its value and the bytes
/// it took. A lone `$` stays.
fn expand_var(s: &str, env: &BTreeMap<String, String>) -> (String, usize) {
    let rest = &s[1..];
    if let Some(inner) = rest.strip_prefix('{') {
        let Some(end) = inner.find('}') else {
            return ("$".into(), 1);
        };
        let body = &inner[..end];
        let (name, default) = match body.split_once('-') {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let value = env
            .get(name)
            .cloned()
            .or_else(|| default.map(str::to_owned))
            .unwrap_or_default();
        return (value, end + 3);
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if len == 0 {
        return ("$".into(), 1);
    }
    (env.get(&rest[..len]).cloned().unwrap_or_default(), len + 1)
}

struct Walker<'a> {
    reader: Reader<'a>,
    env: &'a BTreeMap<String, String>,
    out: HaproxyConfig,
    current: Option<HaproxySection>,
    /// Open `.if` blocks.
    conds: Vec<Condition>,
}

fn section_kind(word: &str) -> Option<Option<HaproxySectionKind>> {
    Some(match word {
        "defaults" => Some(HaproxySectionKind::Defaults),
        "frontend" => Some(HaproxySectionKind::Frontend),
        "listen" => Some(HaproxySectionKind::Listen),
        "backend" => Some(HaproxySectionKind::Backend),
        // Sections whose contents say nothing about the sites' sockets.
        "global" | "peers" | "resolvers" | "userlist" | "mailers" | "program" | "http-errors"
        | "ring" | "cache" | "log-forward" | "crt-store" | "traces" | "acme" | "namespace_list" => {
            None
        }
        _ => return None,
    })
}

impl<'a> Walk<'a> for Walker<'a> {
    type Out = ();

    fn reader(&mut self) -> &mut Reader<'a> {
        &mut self.reader
    }

    fn walk_text(&mut self, file: &Path, text: &str) {
        // A file starts outside any section.
        self.finish_section();
        for (n, line) in text.split('\n').enumerate() {
            self.line(file, n + 1, line.strip_suffix('\r').unwrap_or(line));
        }
        self.finish_section();
        if let Some(c) = self.conds.pop() {
            self.problem(format!("{}: .if without .endif", at(&c.at.file, c.at.line)));
            self.conds.clear();
        }
    }
}

impl Walker<'_> {
    fn finish_section(&mut self) {
        if let Some(s) = self.current.take() {
            self.out.sections.push(s);
        }
    }

    fn line(&mut self, file: &Path, n: usize, line: &str) {
        let words = match split_line(line, self.env) {
            Ok(w) => w,
            Err(e) => {
                self.problem(format!("{}: {e}", at(file, n)));
                return;
            }
        };
        let Some(first) = words.first() else { return };
        match first.as_str() {
            ".if" | ".elif" | ".else" => {
                if first != ".if" {
                    self.conds.pop();
                }
                if self.conds.len() >= self.reader.limits.max_block_depth {
                    self.problem(format!("{}: .if nested too deep", at(file, n)));
                    return;
                }
                self.conds.push(Condition {
                    at: Place::new(file, n),
                    text: clean(&words.join(" ")),
                    holds: None,
                });
                return;
            }
            ".endif" => {
                if self.conds.pop().is_none() {
                    self.problem(format!("{}: .endif without .if", at(file, n)));
                }
                return;
            }
            _ => {}
        }
        if let Some(kind) = section_kind(first) {
            self.finish_section();
            self.current = kind.map(|kind| HaproxySection {
                kind,
                name: words.get(1).map(|s| clean(s)),
                at: Place::new(file, n),
                last_line: n,
                mode: None,
                binds: Vec::new(),
                default_backend: None,
                use_backends: Vec::new(),
            });
            return;
        }
        let conds = self.conds.clone();
        let Some(section) = self.current.as_mut() else {
            return;
        };
        section.last_line = n;
        let use_backend = |args: &[String]| {
            let (backend, cond) = args.split_first()?;
            Some(UseBackend {
                backend: clean(backend),
                condition: (!cond.is_empty()).then(|| clean(&cond.join(" "))),
                at: Place::new(file, n),
            })
        };
        match first.as_str() {
            "mode" => section.mode = words.get(1).map(|m| clean(m)),
            "default_backend" => {
                section.default_backend = use_backend(&words[1..2.min(words.len())])
            }
            "use_backend" => {
                if let Some(u) = use_backend(&words[1..]) {
                    section.use_backends.push(u);
                }
            }
            // `server NAME ADDRESS [options]`: a backend this proxy sends to; a
            // `frontend` has none and `defaults` none that count.
            "server"
                if matches!(
                    section.kind,
                    HaproxySectionKind::Backend | HaproxySectionKind::Listen
                ) =>
            {
                let target = words
                    .get(2)
                    .filter(|_| self.out.proxy_targets.len() < addr::MAX_PROXY_TARGETS)
                    .and_then(|a| addr::proxy_target(file, n, "server", a));
                if let Some(t) = target {
                    self.out.proxy_targets.push(t);
                }
            }
            "bind" => match parse_bind(&words[1..]) {
                Ok(mut b) => {
                    b.at = Place::new(file, n);
                    b.raw = clean(line.trim());
                    b.conditions = conds;
                    section.binds.push(b);
                }
                Err(e) => self.problem(format!("{}: bind: {e}", at(file, n))),
            },
            _ => {}
        }
    }
}

/// A `bind` line's words after `bind`: addresses separated by commas, then options.
fn parse_bind(args: &[String]) -> Result<HaproxyBind, String> {
    let (addrs, opts) = args.split_first().ok_or("missing address")?;
    let mut b = HaproxyBind {
        at: Place::default(),
        raw: String::new(),
        endpoints: Vec::new(),
        v4v6: false,
        v6only: false,
        ssl: false,
        crt: Vec::new(),
        conditions: Vec::new(),
    };
    let mut i = 0;
    while i < opts.len() {
        match opts[i].as_str() {
            "v4v6" => b.v4v6 = true,
            "v6only" => b.v6only = true,
            "ssl" => b.ssl = true,
            "crt" => {
                if let Some(c) = opts.get(i + 1) {
                    b.crt.push(clean(c));
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    for a in addrs.split(',').take(MAX_ENDPOINTS) {
        b.endpoints.push(endpoint(a, b.v4v6, b.v6only)?);
    }
    Ok(b)
}

/// One address of a `bind` line (haproxy's `str2sa_range` for a listener).
fn endpoint(raw: &str, v4v6: bool, v6only: bool) -> Result<Endpoint, String> {
    let (prefix, rest) = match raw.split_once('@') {
        Some((p, r)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            (Some(p.to_ascii_lowercase()), r)
        }
        _ => (None, raw),
    };
    let prefix = prefix.as_deref();
    match prefix {
        Some("unix" | "abns" | "abnsz" | "fd" | "sockpair" | "uxst" | "uxdg" | "rhttp") => {
            return Ok(addr::not_ip(raw, prefix, raw));
        }
        _ if rest.starts_with('/') => return Ok(addr::not_ip(raw, prefix, raw)),
        _ => {}
    }
    // The family the prefix forces, if any.
    let forced = match prefix {
        None | Some("tcp" | "udp" | "quic" | "mptcp") => None,
        Some("ipv4" | "tcp4" | "udp4" | "quic4" | "mptcp4") => Some(Family::V4),
        Some("ipv6" | "tcp6" | "udp6" | "quic6" | "mptcp6") => Some(Family::V6),
        Some(p) => return Err(format!("unknown address family '{}@'", clean(p))),
    };
    let (host, ports) = addr::host_port(rest)?;
    let ports = addr::port_range(ports, addr::port)?;
    let bound = match host {
        "" | "*" => match forced {
            Some(Family::V6) => BindAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => BindAddr::V4(Ipv4Addr::UNSPECIFIED),
        },
        h => match addr::ip_or_host(h) {
            BindAddr::V4(_) if forced == Some(Family::V6) => return Err(not_forced(h)),
            BindAddr::V6(_) if forced == Some(Family::V4) => return Err(not_forced(h)),
            a => a,
        },
    };
    let families = match (&bound, forced) {
        // A name is resolved in the forced family only.
        (BindAddr::Host(_), Some(f)) => f.pick(Families::Ipv4, Families::Ipv6),
        _ => addr::families(
            &bound,
            &Wildcards {
                // Never met: haproxy binds no address as `0.0.0.0`, and so it is read.
                unspecified: Families::Ipv4,
                v4: Families::Ipv4,
                v6: if v6only {
                    Families::Ipv6
                } else if v4v6 {
                    Families::Both
                } else {
                    Families::BothUnlessBindv6only
                },
            },
        ),
    };
    Ok(addr::endpoint(raw, prefix, bound, Some(ports), families))
}

fn not_forced(host: &str) -> String {
    format!("'{}' is not of the forced family", clean(host))
}

#[cfg(test)]
mod tests;
