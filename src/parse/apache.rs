//! Apache httpd configuration: `Listen`, `<VirtualHost>` with its names, and what each
//! means for each family, read the way httpd reads it (`server/config.c`,
//! `server/util.c`, `server/listen.c`, `server/vhost.c`):
//!
//! - one directive per line, a trailing backslash joins the next line, `#` starts a
//!   comment only as a line's first non-blank character;
//! - `${VAR}` is replaced on the whole line before it is split, from `Define`s, then the
//!   environment; an unknown one stays as written;
//! - `Include` and `IncludeOptional` take globs in any path component (matches sorted
//!   bytewise, a leading dot matched only literally), a directory includes every file
//!   below it, relative paths are taken from `ServerRoot`;
//! - `<IfModule>`, `<IfDefine>` and the other conditional sections are read as if they
//!   held, and each directive keeps the conditions it stands under;
//! - `<Macro>` bodies are templates, not directives: they are skipped.

use super::addr::{self, Wildcards, endpoint, families, host_maybe_port, ip_or_host, port};
use super::source::{Input, Reader, Walk, at};
use super::{has_glob_chars, normalize_lexically};
use crate::facts::Place;
use crate::facts::servers::{
    ApacheConfig, ApacheListen, BindAddr, Condition, Endpoint, Families, Ports, VhostAddr,
    VirtualHost, Written,
};
use crate::sanitize::clean;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

/// Words kept per directive.
const MAX_WORDS: usize = 4096;
/// `${VAR}` substitutions per line, so a line cannot grow without end.
const MAX_SUBSTITUTIONS: usize = 256;
/// A logical line (continuations joined) is cut at this length, so memory stays bounded
/// whatever the file holds.
const MAX_LINE: usize = 1 << 20;

/// How the running server was started: where its configuration is.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub server_root: PathBuf,
    /// The main configuration file, absolute.
    pub config: PathBuf,
    /// `-D NAME`.
    pub defines: Vec<String>,
    /// `-C DIRECTIVE`: read before the configuration file.
    pub before: Vec<String>,
    /// `-c DIRECTIVE`: read after it.
    pub after: Vec<String>,
    /// For the facts: which options and defaults decided the paths.
    pub how: String,
}

/// The configuration of an httpd started with `cmdline` (`/proc/PID/cmdline` split on
/// NUL). The defaults are those compiled into the binary of each layout: Debian's
/// `apache2` (`/etc/apache2`, `apache2.conf`), RHEL's `/usr/sbin/httpd` (`/etc/httpd`,
/// `conf/httpd.conf`), and an upstream build under `PREFIX/bin/httpd` (`PREFIX`,
/// `conf/httpd.conf`).
pub fn invocation(cmdline: &[String]) -> Invocation {
    let args: Vec<&str> = cmdline
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let exe = args.first().copied().unwrap_or("apache2");
    let exe_path = Path::new(exe);
    let base = exe_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut root, conf_default, layout) = if base.starts_with("apache2") {
        (PathBuf::from("/etc/apache2"), "apache2.conf", "Debian")
    } else {
        match exe_path.parent().and_then(|bin| {
            (bin.file_name().is_some_and(|n| n == "bin"))
                .then(|| bin.parent())
                .flatten()
        }) {
            Some(prefix) if prefix != Path::new("/usr") && prefix != Path::new("/") => {
                (prefix.to_path_buf(), "conf/httpd.conf", "an upstream build")
            }
            _ => (PathBuf::from("/etc/httpd"), "conf/httpd.conf", "RHEL"),
        }
    };
    let mut how = vec![format!("{layout} layout from {}", clean(exe))];
    let (mut conf, mut defines, mut before, mut after) = (None, Vec::new(), Vec::new(), Vec::new());
    let mut i = 1;
    while i < args.len() {
        let word = args[i];
        i += 1;
        let Some(flag) = word.strip_prefix('-') else {
            continue;
        };
        let mut chars = flag.chars();
        let Some(opt) = chars.next() else { continue };
        // httpd's options taking a value (apr_getopt "C:c:D:d:E:e:f:k:R:" and more):
        // the value is the rest of the word or the next word.
        if !matches!(
            opt,
            'C' | 'c' | 'D' | 'd' | 'E' | 'e' | 'f' | 'k' | 'R' | 'g'
        ) {
            continue;
        }
        let rest = chars.as_str();
        let value = if rest.is_empty() {
            let v = args.get(i).map(|s| (*s).to_owned());
            i += 1;
            v
        } else {
            Some(rest.to_owned())
        };
        let Some(value) = value else { break };
        match opt {
            'd' => {
                root = PathBuf::from(&value);
                how.push(format!("-d {}", clean(&value)));
            }
            'f' => {
                how.push(format!("-f {}", clean(&value)));
                conf = Some(value);
            }
            'D' => defines.push(value),
            'C' => before.push(value),
            'c' => after.push(value),
            _ => {}
        }
    }
    let config = normalize_lexically(&root.join(conf.as_deref().unwrap_or(conf_default)));
    Invocation {
        server_root: normalize_lexically(&root),
        config,
        defines,
        before,
        after,
        how: how.join(", "),
    }
}

/// The variables of Debian's `/etc/apache2/envvars`, which `apache2ctl` sources before
/// starting httpd: `NAME=value` and `export NAME=value` lines, in order, `$NAME` and
/// `${NAME}` replaced by earlier values (unknown ones by nothing, as the shell does).
/// Conditionals are not evaluated: of the two branches that set `SUFFIX`, the last
/// (empty, the default instance's) wins, which is the usual answer.
pub fn envvars(text: &str) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines().take(10_000) {
        let line = line.trim();
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let is_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            continue;
        }
        let value = value.split(" #").next().unwrap_or("").trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        let expanded = shell_expand(value, &vars);
        vars.insert(name.to_owned(), expanded);
    }
    vars
}

fn shell_expand(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            match inner.split_once('}') {
                Some((n, t)) => (n, t),
                None => (inner, ""),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            out.push('$');
        } else if let Some(v) = vars.get(name) {
            out.push_str(v);
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Parse the configuration `inv` names. The input's environment is the server's (its
/// `/proc/PID/environ`, or Debian's envvars), for `${VAR}`. Never fails: whatever could
/// not be read or parsed is listed in `problems`.
pub fn parse_config(input: &Input<'_>, inv: &Invocation) -> ApacheConfig {
    let mut w = Walker {
        reader: input.reader(),
        env: input.env,
        root: inv.server_root.clone(),
        out: ApacheConfig {
            main: inv.config.clone(),
            ..ApacheConfig::default()
        },
        frames: Vec::new(),
        defines: inv.defines.iter().cloned().collect(),
        vars: BTreeMap::new(),
        undefined: BTreeSet::new(),
        main_port: None,
    };
    let cmdline = Path::new("(command line)");
    for d in &inv.before {
        w.walk_text(cmdline, d);
    }
    w.walk_file(&inv.config, None);
    for d in &inv.after {
        w.walk_text(cmdline, d);
    }
    let mut out = w.out;
    out.server_root = w.root;
    out.defines = w.defines.into_iter().collect();
    out.undefined_vars = w.undefined.into_iter().collect();
    (out.files, out.problems) = w.reader.finish();
    out
}

// ---------------------------------------------------------------------------------
// Lines and words

/// Logical lines of a file: `(line number of its first physical line, text)`, with
/// trailing-backslash continuations joined, leading blanks, blank lines and comment
/// lines dropped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if cur.is_empty() {
            start = i + 1;
        }
        // httpd joins a line ending in a backslash with the next, the backslash gone.
        let (body, joined) = match raw.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        if cur.len() + body.len() <= MAX_LINE {
            cur.push_str(body);
        }
        if joined {
            continue;
        }
        let line = cur.trim();
        if !line.is_empty() && !line.starts_with('#') {
            out.push((start, line.to_owned()));
        }
        cur.clear();
    }
    let line = cur.trim();
    if !line.is_empty() && !line.starts_with('#') {
        out.push((start, line.to_owned()));
    }
    out
}

/// httpd's `ap_getword_conf`: words split on blanks, `"..."` or `'...'` group, a
/// backslash before the quote character inside quotes escapes it.
fn words(line: &str) -> Vec<String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < MAX_WORDS {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let q = b[i];
        if q == b'"' || q == b'\'' {
            i += 1;
            let mut w = Vec::new();
            while i < b.len() && b[i] != q {
                if b[i] == b'\\' && b.get(i + 1) == Some(&q) {
                    i += 1;
                }
                w.push(b[i]);
                i += 1;
            }
            i += 1;
            out.push(String::from_utf8_lossy(&w).into_owned());
        } else {
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push(String::from_utf8_lossy(&b[s..i]).into_owned());
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Walking directives

#[derive(Debug)]
enum Frame {
    VirtualHost(Box<VirtualHost>),
    /// A conditional section, read as if it held.
    Conditional {
        name: String,
        cond: Condition,
    },
    /// `<Macro>`: its body is skipped up to the matching close.
    Macro,
    /// Any other section (`<Directory>`, `<Location>` ...).
    Other(String),
}

impl Frame {
    fn name(&self) -> &str {
        match self {
            Frame::VirtualHost(_) => "VirtualHost",
            Frame::Conditional { name, .. } | Frame::Other(name) => name,
            Frame::Macro => "Macro",
        }
    }
}

const CONDITIONALS: &[&str] = &[
    "ifmodule",
    "ifdefine",
    "iffile",
    "ifdirective",
    "ifsection",
    "ifversion",
];

struct Walker<'a> {
    reader: Reader<'a>,
    env: &'a BTreeMap<String, String>,
    root: PathBuf,
    out: ApacheConfig,
    frames: Vec<Frame>,
    defines: BTreeSet<String>,
    /// `Define NAME VALUE` variables.
    vars: BTreeMap<String, String>,
    undefined: BTreeSet<String>,
    /// The port of the main server's `ServerName`, which a `<VirtualHost>` address
    /// without a port takes (httpd's `s->port`).
    main_port: Option<u16>,
}

impl<'a> Walk<'a> for Walker<'a> {
    type Out = ();

    fn reader(&mut self) -> &mut Reader<'a> {
        &mut self.reader
    }

    fn walk_text(&mut self, file: &Path, text: &str) {
        // httpd requires a section to close in the file that opened it.
        let base = self.frames.len();
        let mut last = 0;
        for (line, l) in logical_lines(text) {
            last = line;
            if matches!(self.frames.last(), Some(Frame::Macro)) {
                if l.get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case("</macro"))
                {
                    self.frames.pop();
                }
                continue;
            }
            let l = self.substitute(&l);
            if let Some(rest) = l.strip_prefix("</") {
                let name = rest.trim_end().trim_end_matches('>').trim();
                if self.frames.len() <= base {
                    self.problem(format!(
                        "{}: </{name}> without matching <{name}> section",
                        at(file, line)
                    ));
                    continue;
                }
                if let Some(top) = self.frames.last()
                    && !top.name().eq_ignore_ascii_case(name)
                {
                    let expected = top.name().to_owned();
                    self.problem(format!(
                        "{}: expected </{expected}> but saw </{name}>",
                        at(file, line)
                    ));
                }
                self.close(line);
            } else if let Some(rest) = l.strip_prefix('<') {
                let Some(inner) = rest.trim_end().strip_suffix('>') else {
                    self.problem(format!(
                        "{}: <{}> directive missing closing '>'",
                        at(file, line),
                        words(rest).first().cloned().unwrap_or_default()
                    ));
                    continue;
                };
                if self.frames.len() >= self.reader.limits.max_block_depth {
                    let limit = self.reader.limits.max_block_depth;
                    self.problem(format!(
                        "{}: sections nested deeper than {limit}, rest of file not read",
                        at(file, line)
                    ));
                    break;
                }
                self.open(file, line, &words(inner));
            } else {
                self.directive(file, line, &l);
            }
        }
        while self.frames.len() > base {
            let name = self
                .frames
                .last()
                .map(|f| f.name().to_owned())
                .unwrap_or_default();
            self.problem(format!("{}: <{name}> was not closed", at(file, last)));
            self.close(last);
        }
    }
}

impl Walker<'_> {
    /// `${VAR}` from `Define`s, then the environment; an unknown one stays literal.
    fn substitute(&mut self, line: &str) -> String {
        if !line.contains("${") {
            return line.to_owned();
        }
        let mut out = String::new();
        let mut rest = line;
        let mut n = 0;
        while let Some(i) = rest.find("${") {
            let Some(end) = rest[i + 2..].find('}') else {
                break;
            };
            let name = &rest[i + 2..i + 2 + end];
            out.push_str(&rest[..i]);
            n += 1;
            match self.vars.get(name).or_else(|| self.env.get(name)) {
                Some(v) if n <= MAX_SUBSTITUTIONS && out.len() + v.len() <= MAX_LINE => {
                    out.push_str(v)
                }
                _ => {
                    if !self.vars.contains_key(name) && !self.env.contains_key(name) {
                        self.undefined.insert(clean(name));
                    }
                    out.push_str(&rest[i..i + 3 + end]);
                }
            }
            rest = &rest[i + 3 + end..];
        }
        out.push_str(rest);
        out
    }

    fn conditions(&self) -> Vec<Condition> {
        self.frames
            .iter()
            .filter_map(|f| match f {
                Frame::Conditional { cond, .. } => Some(cond.clone()),
                _ => None,
            })
            .collect()
    }

    fn open(&mut self, file: &Path, line: usize, w: &[String]) {
        let Some(name) = w.first() else { return };
        let args = &w[1..];
        let lower = name.to_ascii_lowercase();
        let frame = if lower == "virtualhost" {
            if self
                .frames
                .iter()
                .any(|f| matches!(f, Frame::VirtualHost(_)))
            {
                self.problem(format!(
                    "{}: <VirtualHost> cannot occur within <VirtualHost> section",
                    at(file, line)
                ));
            }
            if args.is_empty() {
                self.problem(format!(
                    "{}: <VirtualHost> needs at least one address",
                    at(file, line)
                ));
            }
            let main_port = self.main_port;
            Frame::VirtualHost(Box::new(VirtualHost {
                at: Place::new(file, line),
                close_line: line,
                addrs: args.iter().map(|a| vhost_addr(a, main_port)).collect(),
                server_name: None,
                aliases: Vec::new(),
                ssl: false,
                certificate: None,
                conditions: self.conditions(),
            }))
        } else if CONDITIONALS.contains(&lower.as_str()) {
            let arg = args.join(" ");
            let holds = self.holds(&lower, &arg);
            Frame::Conditional {
                name: name.clone(),
                cond: Condition {
                    at: Place::new(file, line),
                    text: clean(&format!("{name} {arg}")),
                    holds,
                },
            }
        } else if lower == "macro" {
            Frame::Macro
        } else {
            Frame::Other(name.clone())
        };
        self.frames.push(frame);
    }

    /// Whether a conditional section holds, where the configuration tells.
    fn holds(&self, section: &str, arg: &str) -> Option<bool> {
        let (negate, name) = match arg.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, arg.trim()),
        };
        let yes = match section {
            "ifdefine" => self.defines.contains(name),
            "ifmodule" => {
                let loaded = self
                    .out
                    .modules
                    .iter()
                    .any(|m| m == name || module_source(m).is_some_and(|src| src == name));
                // A module not loaded by LoadModule may be compiled in.
                if !loaded {
                    return None;
                }
                true
            }
            _ => return None,
        };
        Some(yes != negate)
    }

    fn close(&mut self, line: usize) {
        if let Some(Frame::VirtualHost(mut vh)) = self.frames.pop() {
            vh.close_line = line;
            self.out.vhosts.push(*vh);
        }
    }

    fn vhost(&mut self) -> Option<&mut VirtualHost> {
        self.frames.iter_mut().rev().find_map(|f| match f {
            Frame::VirtualHost(vh) => Some(vh.as_mut()),
            _ => None,
        })
    }

    fn directive(&mut self, file: &Path, line: usize, l: &str) {
        let w = words(l);
        let Some(name) = w.first() else { return };
        let args = &w[1..];
        let written = |n: &str| Written {
            value: clean(n),
            at: Place::new(file, line),
        };
        match name.to_ascii_lowercase().as_str() {
            "include" | "includeoptional" => {
                let optional = name.eq_ignore_ascii_case("includeoptional");
                let origin = at(file, line);
                match args {
                    [arg] => self.include(&origin, arg, optional),
                    _ => self.problem(format!("{origin}: {name} takes one argument")),
                }
            }
            "serverroot" => match args {
                [arg] => self.root = normalize_lexically(&self.root.join(arg)),
                _ => self.problem(format!("{}: ServerRoot takes one argument", at(file, line))),
            },
            "define" => match args {
                [n] => {
                    self.defines.insert(n.clone());
                }
                [n, v] => {
                    self.defines.insert(n.clone());
                    self.vars.insert(n.clone(), v.clone());
                }
                _ => self.problem(format!(
                    "{}: Define takes one or two arguments",
                    at(file, line)
                )),
            },
            "undefine" => {
                for n in args {
                    self.defines.remove(n);
                    self.vars.remove(n);
                }
            }
            "loadmodule" => {
                if let Some(m) = args.first()
                    && !self.out.modules.contains(m)
                {
                    self.out.modules.push(clean(m));
                }
            }
            "listen" => self.listen(file, line, l, args),
            "namevirtualhost" => {
                let addr = args.first().map_or("", String::as_str);
                self.out.name_virtual_hosts.push(written(addr));
            }
            "servername" => {
                let Some(n) = args.first() else { return };
                let named = written(n);
                match self.vhost() {
                    Some(vh) => vh.server_name = Some(named),
                    None => {
                        self.main_port = server_name_port(n);
                        self.out.server_name = Some(named);
                    }
                }
            }
            "serveralias" => {
                let names: Vec<Written> = args.iter().map(|a| written(a)).collect();
                match self.vhost() {
                    Some(vh) => vh.aliases.extend(names),
                    None => self.problem(format!(
                        "{}: ServerAlias only used in <VirtualHost>",
                        at(file, line)
                    )),
                }
            }
            "sslengine" => {
                let on = args.first().is_some_and(|a| a.eq_ignore_ascii_case("on"));
                if let Some(vh) = self.vhost() {
                    vh.ssl = on;
                }
            }
            "sslcertificatefile" => {
                let cert = args.first().map(|a| clean(a));
                if let Some(vh) = self.vhost() {
                    vh.certificate = cert;
                }
            }
            "proxypass" | "proxypassmatch" | "balancermember" => {
                self.proxy_target(file, line, name, args);
            }
            "use" => self.problem(format!(
                "{}: mod_macro's Use is not expanded: a virtual host it makes is not seen",
                at(file, line)
            )),
            _ => {}
        }
    }

    /// The backend of a `ProxyPass` (path then URL, or the URL alone inside
    /// `<Location>`) or a `BalancerMember` (the URL, after the balancer's name outside
    /// `<Proxy>`): the first argument that is a URL, other than `balancer://` (a name
    /// the configuration defines itself, whose members are read on their own lines).
    fn proxy_target(&mut self, file: &Path, line: usize, name: &str, args: &[String]) {
        if self.out.proxy_targets.len() >= addr::MAX_PROXY_TARGETS {
            return;
        }
        let url = args.iter().find(|a| {
            a.split_once("://")
                .is_some_and(|(scheme, _)| !scheme.eq_ignore_ascii_case("balancer"))
        });
        if let Some(t) = url.and_then(|u| addr::proxy_target(file, line, name, u)) {
            self.out.proxy_targets.push(t);
        }
    }

    fn listen(&mut self, file: &Path, line: usize, l: &str, args: &[String]) {
        let where_ = at(file, line);
        if self.vhost().is_some() {
            self.problem(format!("{where_}: Listen not allowed in <VirtualHost>"));
            return;
        }
        let Some(first) = args.first() else {
            self.problem(format!("{where_}: Listen requires at least one argument"));
            return;
        };
        let endpoint = match listen_addr(first) {
            Ok(v) => v,
            Err(e) => {
                self.problem(format!("{where_}: Listen {}: {e}", clean(first)));
                return;
            }
        };
        let conditions = self.conditions();
        self.out.listens.push(ApacheListen {
            at: Place::new(file, line),
            raw: clean(l),
            endpoint,
            protocol: args.get(1).map(|p| clean(p)),
            conditions,
        });
    }

    /// httpd's `ap_process_fnmatch_configs`: a path without wildcards is a file or a
    /// directory (every file below it, sorted); with wildcards, each component is
    /// matched in turn.
    fn include(&mut self, origin: &str, arg: &str, optional: bool) {
        let path = normalize_lexically(&self.root.join(arg));
        if !has_glob_chars(&path.to_string_lossy()) {
            if optional && self.missing(&path) {
                // IncludeOptional skips a path that does not exist.
                return;
            }
            self.include_path(&path, origin, 0);
            return;
        }
        // Split at the first component with a wildcard.
        let mut base = PathBuf::new();
        let mut comps = path.components();
        let mut pattern = None;
        for c in comps.by_ref() {
            if has_glob_chars(&c.as_os_str().to_string_lossy()) {
                pattern = Some(c.as_os_str().to_os_string());
                break;
            }
            base.push(c);
        }
        let Some(pattern) = pattern else { return };
        let rest: PathBuf = comps.collect();
        self.include_glob(
            &base,
            pattern.as_encoded_bytes(),
            &rest,
            origin,
            optional,
            0,
        );
    }

    fn include_glob(
        &mut self,
        dir: &Path,
        pattern: &[u8],
        rest: &Path,
        origin: &str,
        optional: bool,
        depth: usize,
    ) {
        if depth > self.reader.limits.max_include_depth {
            return;
        }
        if !self.reader.src.is_dir(dir) {
            if !optional {
                self.problem(format!(
                    "{origin}: could not open directory {}",
                    clean(&dir.display().to_string())
                ));
            }
            return;
        }
        let matches = self.reader.glob(dir, pattern);
        let mut any = false;
        for m in matches {
            if rest.as_os_str().is_empty() {
                any = true;
                self.include_path(&m, origin, depth);
                continue;
            }
            // Matching inside the path: only directories go on.
            if !self.reader.src.is_dir(&m) {
                continue;
            }
            any = true;
            let mut comps = rest.components();
            let Some(next) = comps.next() else { continue };
            let tail: PathBuf = comps.collect();
            let next = next.as_os_str().to_os_string();
            if has_glob_chars(&next.to_string_lossy()) {
                self.include_glob(
                    &m,
                    next.as_encoded_bytes(),
                    &tail,
                    origin,
                    optional,
                    depth + 1,
                );
            } else {
                let joined = m.join(&next).join(&tail);
                let joined = normalize_lexically(&joined);
                if !(optional && self.missing(&joined)) {
                    self.include_path(&joined, origin, depth);
                }
            }
        }
        if !any && !optional {
            self.problem(format!(
                "{origin}: no matches for the wildcard '{}' in '{}', failing",
                clean(&String::from_utf8_lossy(pattern)),
                clean(&dir.display().to_string())
            ));
        }
    }

    fn missing(&self, path: &Path) -> bool {
        !self.reader.src.is_dir(path)
            && self.reader.src.read(path) == Err(super::source::ReadError::NotFound)
    }

    fn include_path(&mut self, path: &Path, origin: &str, depth: usize) {
        if !self.reader.src.is_dir(path) {
            self.walk_file(path, Some(origin));
            return;
        }
        if depth > self.reader.limits.max_include_depth {
            let limit = self.reader.limits.max_include_depth;
            self.problem(format!(
                "{origin}: directories nested deeper than {limit}, {} not read",
                clean(&path.display().to_string())
            ));
            return;
        }
        // Every entry, hidden ones included, sorted bytewise; directories recursed into.
        let mut entries: Vec<PathBuf> = self
            .reader
            .src
            .list_dir(path)
            .into_iter()
            .map(|p| normalize_lexically(&p))
            .collect();
        entries.sort();
        for e in entries {
            self.include_path(&e, origin, depth + 1);
        }
    }
}

/// `mod_ssl.c` for `ssl_module`: the source file name `<IfModule>` may use instead.
/// The MPMs are named after their own source (`event.c` for `mpm_event_module`).
fn module_source(module: &str) -> Option<String> {
    let base = module.strip_suffix("_module")?;
    Some(match base.strip_prefix("mpm_") {
        Some(mpm) => format!("{mpm}.c"),
        None => format!("mod_{base}.c"),
    })
}

/// The port of `ServerName [scheme://]host[:port]`.
fn server_name_port(name: &str) -> Option<u16> {
    let host = name.split_once("://").map_or(name, |(_, h)| h);
    let port = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once("]:").map(|(_, p)| p)
    } else {
        host.rsplit_once(':').map(|(_, p)| p)
    };
    port.and_then(|p| p.parse().ok()).filter(|p| *p > 0)
}

/// httpd's `apr_parse_addr_port` as `Listen` uses it: `80`, `1.2.3.4:80`, `[::]:80`,
/// `host:80`, `*:80`; a port is required.
fn listen_addr(s: &str) -> Result<Endpoint, String> {
    let (host, written) = split_host_port(s)?;
    let port = port(written.ok_or("port must be specified")?)?;
    let addr = host_addr(host);
    // httpd opens `Listen 80` for both families; `[::]` takes IPv4 too only on a build
    // with IPv4-mapped addresses.
    let families = families(
        &addr,
        &Wildcards {
            unspecified: Families::Both,
            v4: Families::Ipv4,
            v6: Families::BothIfV4Mapped,
        },
    );
    Ok(endpoint(s, None, addr, Some(Ports::one(port)), families))
}

/// A port alone is `apr_parse_addr_port`'s one departure from the other servers' form.
fn split_host_port(s: &str) -> Result<(Option<&str>, Option<&str>), String> {
    if s.is_empty() {
        return Err("empty address".into());
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return Ok((None, Some(s)));
    }
    let (host, port) = host_maybe_port(s)?;
    Ok((Some(host), port))
}

fn host_addr(host: Option<&str>) -> BindAddr {
    match host {
        None | Some("*") | Some("") => BindAddr::Unspecified,
        // A scope (`fe80::1%eth0`) binds the device; the address decides the family.
        Some(h) => match h.split_once('%').map(|(a, _)| a.parse::<Ipv6Addr>()) {
            Some(Ok(ip)) => BindAddr::V6(ip),
            _ => ip_or_host(h),
        },
    }
}

/// One address of `<VirtualHost>`: `*`, `*:80`, `*:*`, `_default_:443`, `1.2.3.4`,
/// `[2001:db8::1]:443`, `host:80`. Without a port it takes the main server's
/// (`ServerName host:port`), else every port. `0.0.0.0` and `[::]` are wildcards like
/// `*` (httpd files them with `apr_sockaddr_is_wildcard`).
fn vhost_addr(raw: &str, main_port: Option<u16>) -> VhostAddr {
    let default = raw
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("_default_"));
    let (host, port) = if raw == "*" || raw.ends_with(":*") {
        (raw.strip_suffix(":*").unwrap_or(raw), None)
    } else {
        match split_host_port(raw) {
            Ok((h, p)) => (h.unwrap_or("*"), p.and_then(|p| port(p).ok()).or(main_port)),
            Err(_) => (raw, None),
        }
    };
    let addr = if default {
        BindAddr::Unspecified
    } else {
        host_addr(Some(host))
    };
    // A wildcard address matches connections to any local address, of either family.
    let families = families(&addr, &Wildcards::BOTH);
    VhostAddr {
        endpoint: endpoint(raw, None, addr, port.map(Ports::one), families),
        default,
    }
}

#[cfg(test)]
mod tests;
