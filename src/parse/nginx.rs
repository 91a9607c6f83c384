//! nginx configuration: which addresses and ports each `server` block listens on.
//!
//! The parser follows nginx's own tokenizer (`ngx_conf_read_token`) and `listen` parsing
//! (`ngx_parse_url`) closely enough that a configuration nginx accepts is read the way
//! nginx reads it. Texts come through a [`ConfigSource`], so the parser itself does no
//! I/O and is tested against in-memory trees.

use super::{addr, has_glob_chars, normalize_lexically};
use crate::sanitize::clean;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// Arguments kept per directive; more is certainly not a configuration we need to read.
const MAX_ARGS: usize = 4096;

pub use super::source::{ConfigSource, FsSource, Limits};
#[cfg(test)]
pub use super::source::{MapSource, ReadError};
use super::source::{Reader, Walk, at};

// The parser's output is part of the facts (and so of the snapshot format): its types
// belong to `facts`.
use crate::facts::Place;
pub use crate::facts::web::{Listen, ListenAddr, NginxConfig, ServerBlock};

/// Parse the configuration rooted at `main`, following `include`s. Relative include
/// paths are taken from the main file's directory, as nginx does (its "conf prefix").
/// Never fails: whatever could not be read or parsed is listed in `problems`, and what
/// was read before it is kept.
pub fn parse_config(src: &dyn ConfigSource, main: &Path, limits: &Limits) -> NginxConfig {
    let main = normalize_lexically(main);
    let mut walker = Walker {
        reader: Reader::new(src, limits),
        prefix: main.parent().map(Path::to_path_buf).unwrap_or_default(),
        out: NginxConfig::default(),
        frames: vec![Frame::Main],
    };
    walker.walk_file(&main, None);
    let mut out = walker.out;
    (out.files, out.problems) = walker.reader.finish();
    out
}

/// Where nginx's master process took its configuration from, given its command line
/// (`/proc/PID/cmdline` split on NUL). Returns the configuration file and the `-p`
/// prefix if one was given.
///
/// nginx overwrites its argv with a process title, `nginx: master process ` followed by
/// the original arguments joined with spaces, so the command line usually arrives as
/// one string (plus empty padding) and is split on whitespace; a path containing spaces
/// is therefore misread. A relative `-c` is relative to the prefix; without `-p` that is
/// compiled in (`/usr/share/nginx/` on Debian, `/usr/local/nginx/` upstream), which
/// cannot be read from outside, so `/etc/nginx/` stands in as the usual location.
pub fn master_config_path(cmdline: &[String]) -> (PathBuf, Option<PathBuf>) {
    let args: Vec<&str> = cmdline
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let words: Vec<String> = match args.first() {
        Some(first) if first.starts_with("nginx: ") => {
            let joined = args.join(" ");
            let rest = joined
                .strip_prefix("nginx: master process ")
                .or_else(|| joined.strip_prefix("nginx: "))
                .unwrap_or(&joined);
            rest.split_whitespace().map(str::to_owned).collect()
        }
        _ => args.iter().map(|s| (*s).to_owned()).collect(),
    };

    let (mut conf, mut prefix) = (None, None);
    // words[0] is the binary.
    let mut i = 1;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let Some(flags) = word.strip_prefix('-') else {
            continue;
        };
        // Like nginx's getopt: flags may be bundled (`-tc FILE`), and an option taking
        // a value takes the rest of the word or else the next word.
        for (k, ch) in flags.char_indices() {
            if !matches!(ch, 'c' | 'p' | 'g' | 's' | 'e') {
                continue;
            }
            let rest = &flags[k + ch.len_utf8()..];
            let value = if rest.is_empty() {
                let v = words.get(i).cloned();
                i += 1;
                v
            } else {
                Some(rest.to_owned())
            };
            match ch {
                'c' => conf = value,
                'p' => prefix = value.map(PathBuf::from),
                _ => {}
            }
            break;
        }
    }

    let conf = match conf {
        None => PathBuf::from("/etc/nginx/nginx.conf"),
        Some(c) => {
            let base = prefix
                .clone()
                .unwrap_or_else(|| PathBuf::from("/etc/nginx/"));
            base.join(c)
        }
    };
    (normalize_lexically(&conf), prefix)
}

// ---------------------------------------------------------------------------------
// Tokenizer

/// One statement: a directive ending in `;`, or the head of a block ending in `{`.
#[derive(Debug)]
struct Stmt {
    args: Vec<String>,
    line: usize,
    /// Byte span of the statement in its file, for the `raw` text.
    start: usize,
    end: usize,
}

impl Stmt {
    /// The lexer never yields a statement without a name; "" keeps that a non-panic.
    fn name(&self) -> &str {
        self.args.first().map_or("", String::as_str)
    }

    fn params(&self) -> &[String] {
        self.args.get(1..).unwrap_or_default()
    }
}

#[derive(Debug)]
enum Event {
    Simple(Stmt),
    Open(Stmt),
    Close { line: usize },
    Eof,
}

#[derive(Debug)]
struct LexError {
    line: usize,
    msg: String,
}

/// nginx's tokenizer: `;` ends a directive, `{`/`}` open and close blocks, `#` starts a
/// comment only where a token could start, quotes group, backslash escapes, and `{`
/// right after `$` belongs to a `${var}` rather than opening a block.
struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
    line: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn shown(c: u8) -> String {
    clean(&String::from_utf8_lossy(&[c]))
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            b: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn err(&self, msg: impl Into<String>) -> LexError {
        LexError {
            line: self.line,
            msg: msg.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Advance one byte, counting lines.
    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.pos = (self.pos + 1).min(self.b.len());
    }

    fn skip_space_and_comments(&mut self) {
        while let Some(c) = self.peek() {
            if is_space(c) {
                self.bump();
            } else if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn next_event(&mut self) -> Result<Event, LexError> {
        let mut args: Vec<String> = Vec::new();
        let (mut line, mut start) = (self.line, self.pos);
        loop {
            self.skip_space_and_comments();
            let Some(c) = self.peek() else {
                return if args.is_empty() {
                    Ok(Event::Eof)
                } else {
                    Err(self.err("unexpected end of file, expecting \";\" or \"}\""))
                };
            };
            match c {
                b';' | b'{' => {
                    if args.is_empty() {
                        return Err(self.err(format!("unexpected \"{}\"", c as char)));
                    }
                    self.bump();
                    let stmt = Stmt {
                        args,
                        line,
                        start,
                        end: self.pos,
                    };
                    return Ok(if c == b';' {
                        Event::Simple(stmt)
                    } else {
                        Event::Open(stmt)
                    });
                }
                b'}' => {
                    if !args.is_empty() {
                        return Err(self.err("unexpected \"}\""));
                    }
                    let line = self.line;
                    self.bump();
                    return Ok(Event::Close { line });
                }
                _ => {
                    if args.is_empty() {
                        (line, start) = (self.line, self.pos);
                    }
                    if args.len() >= MAX_ARGS {
                        return Err(self.err("too many arguments in one directive"));
                    }
                    let word = self.word()?;
                    args.push(word);
                }
            }
        }
    }

    /// One token starting at the current (non-space, non-special) byte.
    fn word(&mut self) -> Result<String, LexError> {
        let quote = self.peek().filter(|&c| c == b'"' || c == b'\'');
        if let Some(q) = quote {
            self.bump();
            let s = self.pos;
            loop {
                match self.peek() {
                    None => return Err(self.err("unexpected end of file in a quoted string")),
                    Some(b'\\') => {
                        self.bump();
                        self.bump();
                    }
                    Some(c) if c == q => break,
                    Some(_) => self.bump(),
                }
            }
            let raw = &self.b[s..self.pos];
            self.bump();
            // nginx wants a separator right after a closing quote.
            match self.peek() {
                None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b')') => {}
                Some(c) => return Err(self.err(format!("unexpected \"{}\"", shown(c)))),
            }
            return Ok(unescape(raw));
        }

        let s = self.pos;
        let mut after_dollar = false;
        while let Some(c) = self.peek() {
            if c == b'{' && after_dollar {
                after_dollar = false;
                self.bump();
                continue;
            }
            after_dollar = c == b'$';
            match c {
                b'\\' => {
                    self.bump();
                    self.bump();
                }
                b';' | b'{' => break,
                c if is_space(c) => break,
                _ => self.bump(),
            }
        }
        Ok(unescape(&self.b[s..self.pos]))
    }

    /// Skip the body of a `*_by_lua_block { ... }`, which holds Lua code, not nginx
    /// syntax: count braces outside Lua strings and `--` comments. Returns the line of
    /// the closing brace.
    fn skip_raw_block(&mut self) -> Result<usize, LexError> {
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let line = self.line;
                        self.bump();
                        return Ok(line);
                    }
                }
                b'"' | b'\'' => {
                    self.bump();
                    while let Some(x) = self.peek() {
                        if x == b'\\' {
                            self.bump();
                        } else if x == c || x == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                b'-' if self.b.get(self.pos + 1) == Some(&b'-') => {
                    while self.peek().is_some_and(|x| x != b'\n') {
                        self.bump();
                    }
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
        Err(self.err("unexpected end of file in a Lua block, expecting \"}\""))
    }
}

/// nginx's escapes: `\"`, `\'` and `\\` drop the backslash, `\t`, `\r`, `\n` become
/// control characters, any other backslash stays as written.
fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let replacement = match raw.get(i + 1) {
                Some(&c @ (b'"' | b'\'' | b'\\')) => Some(c),
                Some(b't') => Some(b'\t'),
                Some(b'r') => Some(b'\r'),
                Some(b'n') => Some(b'\n'),
                _ => None,
            };
            if let Some(c) = replacement {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------
// Walking statements, with the block context carried across included files

#[derive(Debug)]
enum Frame {
    Main,
    Http,
    Stream,
    Server {
        block: ServerBlock,
        stream: bool,
        /// Any `listen` directive, even an invalid one: decides `implicit_listen`.
        saw_listen: bool,
    },
    /// `upstream NAME { ... }` in `http` or `stream`: its `server` lines are backends.
    Upstream,
    Other,
}

struct Walker<'a> {
    reader: Reader<'a>,
    prefix: PathBuf,
    /// Everything but `files` and `problems`, which the reader keeps.
    out: NginxConfig,
    frames: Vec<Frame>,
}

impl<'a> Walk<'a> for Walker<'a> {
    type Out = ();

    fn reader(&mut self) -> &mut Reader<'a> {
        &mut self.reader
    }

    fn walk_text(&mut self, file: &Path, text: &str) {
        let mut lx = Lexer::new(text);
        // nginx requires each file to balance its own braces; frames above `base` were
        // opened in this file.
        let base = self.frames.len();
        loop {
            let event = match lx.next_event() {
                Ok(e) => e,
                Err(e) => {
                    self.problem(format!("{}: {}", at(file, e.line), e.msg));
                    break;
                }
            };
            match event {
                Event::Eof => {
                    if self.frames.len() > base {
                        self.problem(format!(
                            "{}: unexpected end of file, expecting \"}}\"",
                            at(file, lx.line)
                        ));
                    }
                    break;
                }
                Event::Close { line } => {
                    if self.frames.len() <= base {
                        self.problem(format!("{}: unexpected \"}}\"", at(file, line)));
                        break;
                    }
                    self.close_frame(line);
                }
                Event::Simple(stmt) => self.directive(file, text, &stmt),
                Event::Open(stmt) => {
                    if self.frames.len() > self.reader.limits.max_block_depth {
                        let limit = self.reader.limits.max_block_depth;
                        self.problem(format!(
                            "{}: blocks nested deeper than {limit}, rest of file not read",
                            at(file, stmt.line)
                        ));
                        break;
                    }
                    if stmt.name().ends_with("_by_lua_block") {
                        if let Err(e) = lx.skip_raw_block() {
                            self.problem(format!("{}: {}", at(file, e.line), e.msg));
                            break;
                        }
                        continue;
                    }
                    self.open_frame(file, &stmt);
                }
            }
        }
        // After an error nginx refuses the whole configuration; keep the blocks read so
        // far so the report can still say what they listened on.
        while self.frames.len() > base {
            self.close_frame(lx.line);
        }
    }
}

impl Walker<'_> {
    fn open_frame(&mut self, file: &Path, stmt: &Stmt) {
        let name = stmt.name();
        let frame = match (self.frames.last(), name) {
            (Some(Frame::Main), "http") => Frame::Http,
            (Some(Frame::Main), "stream") => Frame::Stream,
            (Some(Frame::Http | Frame::Stream), "upstream") => Frame::Upstream,
            (Some(Frame::Http | Frame::Stream), "server") => Frame::Server {
                block: ServerBlock {
                    at: Place::new(file, stmt.line),
                    close_line: stmt.line,
                    server_names: Vec::new(),
                    listens: Vec::new(),
                    implicit_listen: false,
                },
                stream: matches!(self.frames.last(), Some(Frame::Stream)),
                saw_listen: false,
            },
            _ => Frame::Other,
        };
        self.frames.push(frame);
    }

    fn close_frame(&mut self, line: usize) {
        if let Some(Frame::Server {
            mut block,
            stream,
            saw_listen,
        }) = self.frames.pop()
        {
            block.close_line = line;
            if stream {
                self.out.stream_servers.push(block);
            } else {
                block.implicit_listen = !saw_listen;
                self.out.servers.push(block);
            }
        }
    }

    fn directive(&mut self, file: &Path, text: &str, stmt: &Stmt) {
        match stmt.name() {
            "include" => self.include(file, stmt),
            "listen" => {
                let Some(Frame::Server { stream, .. }) = self.frames.last() else {
                    return;
                };
                let default_port = if *stream { None } else { Some(80) };
                let raw = text.get(stmt.start..stmt.end).unwrap_or_default();
                let result = parse_listen(stmt.params(), default_port).map(|mut l| {
                    l.at = Place::new(file, stmt.line);
                    l.raw = clean(&raw.replace(['\r', '\n'], " "));
                    l
                });
                let problem = match self.frames.last_mut() {
                    Some(Frame::Server {
                        block, saw_listen, ..
                    }) => {
                        *saw_listen = true;
                        match result {
                            Ok(l) => {
                                block.listens.push(l);
                                None
                            }
                            Err(e) => Some(e),
                        }
                    }
                    _ => None,
                };
                if let Some(e) = problem {
                    self.problem(format!("{}: listen: {e}", at(file, stmt.line)));
                }
            }
            "server" if matches!(self.frames.last(), Some(Frame::Upstream)) => {
                self.proxy_target(file, stmt);
            }
            "proxy_pass" | "fastcgi_pass" | "uwsgi_pass" | "scgi_pass" | "grpc_pass"
            | "memcached_pass" => self.proxy_target(file, stmt),
            "server_name" => {
                if let Some(Frame::Server { block, .. }) = self.frames.last_mut() {
                    block
                        .server_names
                        .extend(stmt.params().iter().map(|s| clean(s)));
                }
            }
            _ => {}
        }
    }

    /// The first argument of a `*_pass` or an upstream's `server` is the backend.
    fn proxy_target(&mut self, file: &Path, stmt: &Stmt) {
        let Some(raw) = stmt.params().first() else {
            return;
        };
        if self.out.proxy_targets.len() >= addr::MAX_PROXY_TARGETS {
            return;
        }
        if let Some(t) = addr::proxy_target(file, stmt.line, stmt.name(), raw) {
            self.out.proxy_targets.push(t);
        }
    }

    fn include(&mut self, file: &Path, stmt: &Stmt) {
        let origin = at(file, stmt.line);
        let [_, arg] = stmt.args.as_slice() else {
            self.problem(format!(
                "{origin}: invalid number of arguments in \"include\""
            ));
            return;
        };
        let target = normalize_lexically(&self.prefix.join(arg));
        if !has_glob_chars(arg) {
            self.walk_file(&target, Some(&origin));
            return;
        }
        let (Some(dir), Some(pattern)) = (target.parent(), target.file_name()) else {
            self.problem(format!("{origin}: include pattern names no file"));
            return;
        };
        if has_glob_chars(&dir.to_string_lossy()) {
            self.problem(format!(
                "{origin}: glob in a directory part of an include is not followed"
            ));
            return;
        }
        // nginx's glob(3) sorts matches; in the C locale that is byte order.
        let matches = self.reader.glob(dir, pattern.as_encoded_bytes());
        // An include glob matching nothing is not an error for nginx.
        for m in matches {
            self.walk_file(&m, Some(&origin));
        }
    }
}

/// `listen` arguments after the directive name. `default_port` is 80 in `http` and
/// `None` in `stream`, where a port is required.
fn parse_listen(args: &[String], default_port: Option<u16>) -> Result<Listen, String> {
    let (first, params) = args.split_first().ok_or("no address or port")?;
    let (addr, port) = parse_listen_addr(first, default_port)?;
    let mut listen = Listen {
        at: Place::default(),
        raw: String::new(),
        addr,
        port,
        ipv6only: None,
        ssl: false,
        default_server: false,
        quic: false,
    };
    for p in params {
        match p.as_str() {
            "ssl" => listen.ssl = true,
            // `default` is the pre-0.8.21 spelling.
            "default_server" | "default" => listen.default_server = true,
            "quic" => listen.quic = true,
            "ipv6only=on" => listen.ipv6only = Some(true),
            "ipv6only=off" => listen.ipv6only = Some(false),
            p if p.starts_with("ipv6only=") => {
                return Err(format!("invalid {}", clean(p)));
            }
            _ => {}
        }
    }
    Ok(listen)
}

fn parse_listen_addr(s: &str, default_port: Option<u16>) -> Result<(ListenAddr, u16), String> {
    let no_port = || "no port".to_owned();
    if let Some(path) = s.strip_prefix("unix:") {
        if path.is_empty() {
            return Err("no path in the unix domain socket".into());
        }
        return Ok((ListenAddr::Unix(clean(path)), 0));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("invalid IPv6 address: no closing \"]\"")?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| format!("invalid IPv6 address \"{}\"", clean(inside)))?;
        let port = match after {
            "" => default_port.ok_or_else(no_port)?,
            _ => parse_port(after.strip_prefix(':').ok_or("invalid port")?)?,
        };
        let addr = if ip.is_unspecified() {
            ListenAddr::AnyV6
        } else {
            ListenAddr::V6(ip)
        };
        return Ok((addr, port));
    }
    // Like ngx_parse_inet_url: the first colon separates the port; with no colon, a
    // number is a port and anything else a host on the default port.
    let (host, port) = match s.split_once(':') {
        Some((host, port)) => (host, parse_port(port)?),
        None if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            return Ok((ListenAddr::AnyV4, parse_port(s)?));
        }
        None => (s, default_port.ok_or_else(no_port)?),
    };
    let addr = match host {
        "" => return Err("no host".into()),
        "*" => ListenAddr::AnyV4,
        h => match h.parse::<Ipv4Addr>() {
            Ok(ip) if ip.is_unspecified() => ListenAddr::AnyV4,
            Ok(ip) => ListenAddr::V4(ip),
            Err(_) => ListenAddr::Host(clean(h)),
        },
    };
    Ok((addr, port))
}

fn parse_port(s: &str) -> Result<u16, String> {
    let invalid = || format!("invalid port \"{}\"", clean(s));
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_mentions, inputs, paths, strings};
    use proptest::prelude::*;

    fn parse(src: &MapSource, main: &str) -> NginxConfig {
        parse_config(src, Path::new(main), &Limits::default())
    }

    fn one(text: &str) -> NginxConfig {
        parse(
            &MapSource::new().with("/etc/nginx/nginx.conf", text),
            "/etc/nginx/nginx.conf",
        )
    }

    const DEBIAN_MAIN: &str = "\
user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
\tworker_connections 768;
}

http {
\tsendfile on;
\tinclude /etc/nginx/mime.types;
\tdefault_type application/octet-stream;
\tssl_protocols TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
\taccess_log /var/log/nginx/access.log;
\tgzip on;
\tinclude /etc/nginx/conf.d/*.conf;
\tinclude /etc/nginx/sites-enabled/*;
}
";

    const DEBIAN_DEFAULT_SITE: &str = "\
##
# You should look at the following URL's in order to grasp a solid understanding
##

# Default server configuration
#
server {
\tlisten 80 default_server;
\tlisten [::]:80 default_server;

\t# SSL configuration
\t#
\t# listen 443 ssl default_server;
\t# listen [::]:443 ssl default_server;

\troot /var/www/html;

\tindex index.html index.htm index.nginx-debian.html;

\tserver_name _;

\tlocation / {
\t\ttry_files $uri $uri/ =404;
\t}
}
";

    fn debian_tree() -> MapSource {
        MapSource::new()
            .with("/etc/nginx/nginx.conf", DEBIAN_MAIN)
            .with(
                "/etc/nginx/mime.types",
                "types {\n text/html html htm;\n}\n",
            )
            .with(
                "/etc/nginx/modules-enabled/50-mod-stream.conf",
                "load_module modules/ngx_stream_module.so;\n",
            )
            .with("/etc/nginx/sites-enabled/default", DEBIAN_DEFAULT_SITE)
    }

    #[test]
    fn debian_default_site_listens_on_both_families() {
        let cfg = parse(&debian_tree(), "/etc/nginx/nginx.conf");
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        assert_eq!(
            cfg.files,
            paths(&[
                "/etc/nginx/nginx.conf",
                "/etc/nginx/modules-enabled/50-mod-stream.conf",
                "/etc/nginx/mime.types",
                "/etc/nginx/sites-enabled/default",
            ])
        );
        assert_eq!(cfg.servers.len(), 1);
        let s = &cfg.servers[0];
        assert_eq!(s.at.file, PathBuf::from("/etc/nginx/sites-enabled/default"));
        assert_eq!((s.at.line, s.close_line), (7, 25));
        assert_eq!(s.server_names, vec!["_"]);
        assert!(!s.implicit_listen);
        assert_eq!(s.listens.len(), 2);
        let (v4, v6) = (&s.listens[0], &s.listens[1]);
        assert_eq!(
            (v4.addr.clone(), v4.port, v4.at.line),
            (ListenAddr::AnyV4, 80, 8)
        );
        assert_eq!(
            (v6.addr.clone(), v6.port, v6.at.line),
            (ListenAddr::AnyV6, 80, 9)
        );
        assert!(v4.default_server && v6.default_server);
        assert_eq!(v6.raw, "listen [::]:80 default_server;");
        assert!(v4.addr.accepts_ipv4(v4.ipv6only) && !v4.addr.accepts_ipv6());
        assert!(v6.addr.accepts_ipv6() && !v6.addr.accepts_ipv4(v6.ipv6only));
    }

    #[test]
    fn ipv4_only_site() {
        let cfg =
            one("http { server { listen 80; listen 443 ssl; server_name a.example b.example; } }");
        let s = &cfg.servers[0];
        assert_eq!(s.server_names, vec!["a.example", "b.example"]);
        assert!(s.listens.iter().all(|l| !l.addr.accepts_ipv6()));
        assert!(s.listens[1].ssl);
    }

    #[test]
    fn ipv6_only_and_dual_stack_sockets() {
        let cfg = one(
            "http {\n server {\n  listen [2001:db8::1]:443 ssl http2;\n  listen [::]:8080 ipv6only=off default_server;\n }\n}\n",
        );
        let l = &cfg.servers[0].listens;
        assert_eq!(l[0].addr, ListenAddr::V6("2001:db8::1".parse().unwrap()));
        assert_eq!((l[0].port, l[0].ssl, l[0].at.line), (443, true, 3));
        assert!(l[0].addr.accepts_ipv6() && !l[0].addr.accepts_ipv4(l[0].ipv6only));
        assert_eq!((l[1].port, l[1].ipv6only), (8080, Some(false)));
        assert!(l[1].addr.accepts_ipv4(l[1].ipv6only) && l[1].addr.accepts_ipv6());
    }

    #[test]
    fn listen_forms() {
        let ok = |s: &str| parse_listen_addr(s, Some(80)).unwrap();
        assert_eq!(ok("8080"), (ListenAddr::AnyV4, 8080));
        assert_eq!(ok("*:8080"), (ListenAddr::AnyV4, 8080));
        assert_eq!(ok("*"), (ListenAddr::AnyV4, 80));
        assert_eq!(ok("0.0.0.0:81"), (ListenAddr::AnyV4, 81));
        assert_eq!(
            ok("127.0.0.1:8080"),
            (ListenAddr::V4(Ipv4Addr::LOCALHOST), 8080)
        );
        assert_eq!(ok("127.0.0.1"), (ListenAddr::V4(Ipv4Addr::LOCALHOST), 80));
        assert_eq!(ok("[::]"), (ListenAddr::AnyV6, 80));
        assert_eq!(ok("[::1]:99"), (ListenAddr::V6(Ipv6Addr::LOCALHOST), 99));
        assert_eq!(
            ok("localhost:80"),
            (ListenAddr::Host("localhost".into()), 80)
        );
        assert_eq!(
            ok("example.org"),
            (ListenAddr::Host("example.org".into()), 80)
        );
        assert_eq!(
            ok("unix:/run/x.sock"),
            (ListenAddr::Unix("/run/x.sock".into()), 0)
        );
        for bad in [
            "0",
            "65536",
            "99999999999",
            ":80",
            "[::1",
            "[zz]:80",
            "[::1]80",
            "a:",
            "unix:",
            "1.2.3.4:x",
        ] {
            assert!(parse_listen_addr(bad, Some(80)).is_err(), "{bad}");
        }
        // In `stream` there is no default port.
        assert!(parse_listen_addr("127.0.0.1", None).is_err());

        let l = parse_listen(&["443".into(), "quic".into(), "reuseport".into()], Some(80)).unwrap();
        assert_eq!(
            (l.addr, l.port, l.quic, l.ssl),
            (ListenAddr::AnyV4, 443, true, false)
        );
        assert!(parse_listen(&["[::]:80".into(), "ipv6only=maybe".into()], Some(80)).is_err());
        assert!(parse_listen(&[], Some(80)).is_err());
    }

    #[test]
    fn accept_semantics() {
        let mapped = ListenAddr::V6("::ffff:192.0.2.1".parse().unwrap());
        assert!(mapped.accepts_ipv4(Some(false)) && !mapped.accepts_ipv4(None));
        assert!(!mapped.accepts_ipv6());
        assert!(ListenAddr::AnyV6.accepts_ipv4(Some(false)));
        assert!(!ListenAddr::AnyV6.accepts_ipv4(Some(true)));
        assert!(!ListenAddr::AnyV6.accepts_ipv4(None));
        let host = ListenAddr::Host("localhost".into());
        assert!(!host.accepts_ipv4(None) && !host.accepts_ipv6());
        assert!(!ListenAddr::Unix("/x".into()).accepts_ipv6());
    }

    #[test]
    fn implicit_listen_and_invalid_listen() {
        let cfg = one("http {\nserver { server_name a; }\nserver { listen 0; }\n}");
        assert!(cfg.servers[0].implicit_listen);
        assert!(cfg.servers[0].listens.is_empty());
        // An invalid listen is a problem, not an implicit *:80.
        assert!(!cfg.servers[1].implicit_listen);
        assert_eq!(cfg.problems.len(), 1);
        assert_mentions(&cfg.problems, "nginx.conf:3: listen: invalid port");
    }

    #[test]
    fn only_http_servers_count() {
        let cfg = one(
            "stream { server { listen 5353 udp; proxy_pass dns; } upstream dns { server 127.0.0.1:53; } }\n\
             mail { server { listen 25; } }\n\
             http { upstream app { server 127.0.0.1:8000; } server { listen 80; location / { listen 81; } } }",
        );
        assert_eq!(cfg.servers.len(), 1);
        assert_eq!(cfg.servers[0].listens.len(), 1);
        assert_eq!(cfg.stream_servers.len(), 1);
        assert_eq!(cfg.stream_servers[0].listens[0].port, 5353);
        assert!(!cfg.stream_servers[0].implicit_listen);
    }

    #[test]
    fn globbed_includes_across_files_keep_file_and_line() {
        let src = MapSource::new()
            .with(
                "/srv/ng/nginx.conf",
                "events {}\nhttp {\n  include conf.d/*.conf;\n}\n",
            )
            .with("/srv/ng/conf.d/b.conf", "\n\nserver {\n  listen 8081;\n}\n")
            .with(
                "/srv/ng/conf.d/a.conf",
                "server {\n  include snippets/listen.inc;\n  server_name a;\n}\n",
            )
            .with("/srv/ng/conf.d/.hidden.conf", "server { listen 1; }")
            .with("/srv/ng/conf.d/c.conf.bak", "server { listen 2; }")
            .with(
                "/srv/ng/snippets/listen.inc",
                "# shared\n\n  listen [::]:8080;\n",
            );
        let cfg = parse(&src, "/srv/ng/nginx.conf");
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        assert_eq!(cfg.servers.len(), 2);
        let a = &cfg.servers[0];
        assert_eq!(
            (a.at.file.to_str(), a.at.line, a.close_line),
            (Some("/srv/ng/conf.d/a.conf"), 1, 4)
        );
        assert_eq!(
            a.listens[0].at.file,
            PathBuf::from("/srv/ng/snippets/listen.inc")
        );
        assert_eq!((a.listens[0].at.line, a.listens[0].port), (3, 8080));
        let b = &cfg.servers[1];
        assert_eq!(
            (b.at.file.to_str(), b.at.line, b.listens[0].at.line),
            (Some("/srv/ng/conf.d/b.conf"), 3, 4)
        );
    }

    #[test]
    fn missing_include_is_a_problem_but_empty_glob_is_not() {
        let cfg =
            one("include /nowhere/*.conf;\ninclude missing.conf;\nhttp { server { listen 80; } }");
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
        assert!(cfg.problems[0].contains("/etc/nginx/missing.conf: no such file"));
        assert_eq!(cfg.servers.len(), 1);
    }

    #[test]
    fn comments_quotes_and_variables() {
        let cfg = one(concat!(
            "http { # comment { not a block\n",
            "  map $http_x ${x}y { default \"a;b}\"; 'q' \"\\\"\"; }\n",
            "  server {\n",
            "    server_name \"quoted.example\" 'single.example' tricky#name;\n",
            "    return 200 \"semi; brace { # not comment\";\n",
            "    set $a ${b}c;\n",
            "    listen \"127.0.0.1:8080\" # trailing comment\n",
            "      ssl;\n",
            "    content_by_lua_block { ngx.say(\"}\") -- } in a comment\n",
            "      if x then local t = {1, {2}} end }\n",
            "  }\n",
            "}\n",
        ));
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        let s = &cfg.servers[0];
        assert_eq!(
            s.server_names,
            vec!["quoted.example", "single.example", "tricky#name"]
        );
        assert_eq!((s.at.line, s.close_line), (3, 11));
        let l = &s.listens[0];
        assert_eq!((l.at.line, l.port, l.ssl), (7, 8080, true));
        assert_eq!(
            l.raw,
            "listen \"127.0.0.1:8080\" # trailing comment       ssl;"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(br#"a\"b\\c\td\x"#), "a\"b\\c\td\\x");
    }

    #[test]
    fn syntax_errors_are_problems() {
        for (text, want) in [
            ("http { server { listen 80 }", "unexpected \"}\""),
            (
                "http { server { listen 80; }",
                "unexpected end of file, expecting \"}\"",
            ),
            ("}", "nginx.conf:1: unexpected \"}\""),
            ("http { ; }", "unexpected \";\""),
            ("listen 80", "expecting \";\" or \"}\""),
            ("a \"unterminated", "quoted string"),
            ("a \"b\"c;", "unexpected \"c\""),
            ("include;", "invalid number of arguments"),
        ] {
            let cfg = one(text);
            assert_mentions(&cfg.problems, want);
        }
        // Parentheses after a quote are fine, as in `if`.
        let cfg = one("http { server { if ($a ~ \"^x\") { return 404; } listen 81; } }");
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        assert_eq!(cfg.servers[0].listens[0].port, 81);
        // A block read up to an error is kept.
        let cfg = one("http {\n server {\n  listen 80;\n  oops \"x\"y;\n }\n}\n");
        assert_eq!(cfg.servers.len(), 1);
        assert_eq!(cfg.servers[0].listens.len(), 1);
    }

    #[test]
    fn include_cycle_is_stopped() {
        let src = MapSource::new()
            .with("/n/nginx.conf", "include a.conf;\n")
            .with(
                "/n/a.conf",
                "include b.conf;\nhttp { server { listen 1; } }\n",
            )
            .with("/n/b.conf", "include ./a.conf;\n");
        let cfg = parse(&src, "/n/nginx.conf");
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
        assert!(cfg.problems[0].contains("/n/b.conf:1: include cycle: /n/a.conf"));
        assert_eq!(cfg.servers.len(), 1);
        // Self-inclusion through a glob, too.
        let src = MapSource::new().with("/n/nginx.conf", "include *.conf;\n");
        let cfg = parse(&src, "/n/nginx.conf");
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
    }

    #[test]
    fn include_depth_and_file_limits() {
        let mut src = MapSource::new();
        for i in 0..40 {
            src = src.with(format!("/d/{i}.conf"), format!("include {}.conf;", i + 1));
        }
        let cfg = parse(&src, "/d/0.conf");
        assert_eq!(cfg.files.len(), 17);
        assert_mentions(&cfg.problems[..1], "nested deeper than 16");

        // A snippet included many times is read once per include but counted once.
        let mut text = String::from("http {\n");
        for _ in 0..1000 {
            text.push_str("server { include s.inc; }\n");
        }
        text.push('}');
        let src = MapSource::new()
            .with("/d/nginx.conf", text)
            .with("/d/s.inc", "listen 80;");
        let cfg = parse(&src, "/d/nginx.conf");
        assert!(cfg.problems.is_empty());
        assert_eq!(cfg.servers.len(), 1000);
        assert_eq!(cfg.files.len(), 2);

        let limits = Limits {
            max_files: 3,
            ..Limits::default()
        };
        let mut src = MapSource::new().with("/d/nginx.conf", "include x/*;");
        for i in 0..10 {
            src = src.with(format!("/d/x/{i}"), "");
        }
        let cfg = parse_config(&src, Path::new("/d/nginx.conf"), &limits);
        assert_eq!(cfg.files.len(), 3);
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
    }

    #[test]
    fn include_bomb_is_bounded() {
        // Each file includes the next 50 times: 50^16 parses without a budget.
        let mut src = MapSource::new();
        for i in 0..17 {
            let line = format!("include {}.conf;\n", i + 1);
            src = src.with(format!("/b/{i}.conf"), line.repeat(50));
        }
        let limits = Limits {
            max_total_bytes: 1 << 20,
            ..Limits::default()
        };
        let cfg = parse_config(&src, Path::new("/b/0.conf"), &limits);
        assert_mentions(&cfg.problems, "bytes of configuration");
    }

    #[test]
    fn huge_input_over_the_limit() {
        let big = "#".repeat(5 << 20);
        let cfg = one(&big);
        assert!(cfg.files.is_empty());
        assert_mentions(&cfg.problems[..1], "larger than");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, "x".repeat(2000)).unwrap();
        let limits = Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        };
        let cfg = parse_config(&FsSource::new(&limits), &path, &limits);
        assert_mentions(&cfg.problems[..1], "larger than 1000");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = "a{".repeat(100_000);
        let cfg = one(&text);
        assert_mentions(&cfg.problems, "nested deeper");
    }

    #[test]
    fn fs_source_reads_real_files_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sites-enabled/sub")).unwrap();
        std::fs::write(
            root.join("nginx.conf"),
            "http { include sites-enabled/*.conf; include missing; }",
        )
        .unwrap();
        std::fs::write(
            root.join("sites-enabled/b.conf"),
            "server { listen [::]:443 ssl; }",
        )
        .unwrap();
        std::fs::write(
            root.join("sites-enabled/a.conf"),
            "server { listen 443 ssl; }",
        )
        .unwrap();
        let cfg = parse_config(
            &FsSource::default(),
            &root.join("nginx.conf"),
            &Limits::default(),
        );
        assert_eq!(cfg.servers.len(), 2);
        assert_eq!(cfg.servers[0].listens[0].addr, ListenAddr::AnyV4);
        assert_eq!(cfg.servers[1].listens[0].addr, ListenAddr::AnyV6);
        assert_eq!(cfg.problems.len(), 1, "{:?}", cfg.problems);
        assert!(cfg.problems[0].contains("no such file"));
        // A directory is never read as a file.
        assert_eq!(
            FsSource::default().read(&root.join("sites-enabled")),
            Err(ReadError::NotAFile)
        );
    }

    #[test]
    fn master_command_lines() {
        assert_eq!(
            master_config_path(&strings(&[
                "nginx: master process /usr/sbin/nginx -c /tmp/x/nginx.conf -g daemon off;",
                "",
                ""
            ])),
            (PathBuf::from("/tmp/x/nginx.conf"), None)
        );
        assert_eq!(
            master_config_path(&strings(&[
                "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"
            ])),
            (PathBuf::from("/etc/nginx/nginx.conf"), None)
        );
        assert_eq!(
            master_config_path(&strings(&[
                "/usr/sbin/nginx",
                "-p",
                "/srv/app/",
                "-c",
                "conf/nginx.conf"
            ])),
            (
                PathBuf::from("/srv/app/conf/nginx.conf"),
                Some(PathBuf::from("/srv/app/"))
            )
        );
        assert_eq!(
            master_config_path(&strings(&["nginx", "-qc../alt.conf"])),
            (PathBuf::from("/etc/alt.conf"), None)
        );
        assert_eq!(
            master_config_path(&strings(&["nginx: master process nginx -c"])),
            (PathBuf::from("/etc/nginx/nginx.conf"), None)
        );
        assert_eq!(
            master_config_path(&[]).0,
            PathBuf::from("/etc/nginx/nginx.conf")
        );
    }

    /// Up to 60 tokens of nginx's configuration language, hostile bytes among them.
    fn random_text() -> impl Strategy<Value = String> + Clone {
        const PIECES: &[&str] = &[
            "http",
            "server",
            "stream",
            "listen",
            "include",
            "server_name",
            "{",
            "}",
            ";",
            " ",
            "\n",
            "\"",
            "'",
            "\\",
            "#",
            "$",
            "${",
            "[",
            "]",
            ":",
            "::",
            "80",
            "*",
            "?",
            "a.conf",
            "*.conf",
            "[::]:443",
            "ipv6only=off",
            "unix:",
            "content_by_lua_block",
            "--",
            "\u{1b}",
            "\0",
            "é",
            "99999",
            "default_server",
            "..",
            "/",
        ];
        inputs::soup(PIECES.to_vec(), 60)
    }

    proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_never_panics_on_random_input(
            main in random_text(),
            a in random_text(),
            b in random_text(),
            words in proptest::collection::vec(random_text(), 0..6),
        ) {
            let src = MapSource::new()
                .with("/r/nginx.conf", main)
                .with("/r/a.conf", a)
                .with("/r/b.conf", b);
            let _ = parse(&src, "/r/nginx.conf");
            let _ = master_config_path(&words);
            let _ = parse_listen(&words, Some(80));
        }
    }
}
