//! The Caddyfile: site blocks with their addresses, `bind` directives, and the global
//! options that decide ports and the admin endpoint. Read the way Caddy's `caddyfile`
//! package reads it: `{$VAR}` and `{$VAR:default}` replaced first, tokens split on
//! blanks with `"..."` and `` `...` `` quoting and `#` comments, a leading `{ }` block as
//! the global options, `(name) { }` snippets, `import` of snippets and file globs
//! (relative to the importing file), one site written without braces.

use super::listen_addr;
use crate::facts::Place;
use crate::facts::servers::{CaddyBind, CaddyGlobal, CaddySite, Caddyfile, SiteAddress};
use crate::parse::source::{Input, Reader, Walk, at};
use crate::parse::{has_glob_chars, normalize_lexically};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Tokens kept in all, imports and snippets expanded: a bound on what a hostile
/// configuration can make the parser hold.
const MAX_TOKENS: usize = 1 << 20;
/// Snippet imports expanded in all.
const MAX_EXPANSIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    file: PathBuf,
    line: usize,
    /// The first token of its line: a directive starts here.
    first_on_line: bool,
    /// Quoted: never a brace or a comment.
    quoted: bool,
}

impl Token {
    fn is(&self, s: &str) -> bool {
        !self.quoted && self.text == s
    }
}

/// `{$VAR}` and `{$VAR:default}` from `env`; an unset variable without a default
/// becomes empty, as Caddy does.
fn replace_env(text: &str, env: &BTreeMap<String, String>) -> String {
    if !text.contains("{$") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{$") {
        let Some(end) = rest[i..].find('}') else {
            break;
        };
        out.push_str(&rest[..i]);
        let body = &rest[i + 2..i + end];
        let (name, default) = match body.split_once(':') {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let value = env.get(name).map(String::as_str).or(default).unwrap_or("");
        if out.len() + value.len() < 4 << 20 {
            out.push_str(value);
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

fn lex(text: &str, file: &Path, out: &mut Vec<Token>) -> Result<(), (usize, String)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut line = 1;
    let mut first_on_line = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            first_on_line = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // A backslash before the newline joins the lines.
        if c == b'\\' && matches!(b.get(i + 1), Some(b'\n')) {
            line += 1;
            i += 2;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if out.len() >= MAX_TOKENS {
            return Err((
                line,
                format!("more than {MAX_TOKENS} tokens, the rest not read"),
            ));
        }
        let start_line = line;
        let (text, quoted) = if c == b'"' || c == b'`' {
            i += 1;
            let mut w = Vec::new();
            loop {
                let Some(&x) = b.get(i) else {
                    return Err((start_line, "unterminated quoted string".into()));
                };
                i += 1;
                if x == c {
                    break;
                }
                if x == b'\n' {
                    line += 1;
                }
                if c == b'"' && x == b'\\' && matches!(b.get(i), Some(b'"' | b'\\')) {
                    w.push(b[i]);
                    i += 1;
                    continue;
                }
                w.push(x);
            }
            (String::from_utf8_lossy(&w).into_owned(), true)
        } else {
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            (String::from_utf8_lossy(&b[s..i]).into_owned(), false)
        };
        out.push(Token {
            text,
            file: file.to_path_buf(),
            line: start_line,
            first_on_line,
            quoted,
        });
        first_on_line = false;
    }
    Ok(())
}

/// Parse the Caddyfile at `path`. The input's environment is the process's, for
/// `{$VAR}`. Never fails: what could not be read or parsed is in `problems`.
pub fn parse_config(input: &Input<'_>, path: &Path) -> Caddyfile {
    let mut p = Parser {
        reader: input.reader(),
        env: input.env,
        snippets: BTreeMap::new(),
        expansions: 0,
        depth: 0,
        out: Caddyfile::default(),
    };
    let tokens = p.walk_file(&normalize_lexically(path), None);
    p.server_blocks(tokens);
    let mut out = p.out;
    (out.files, out.problems) = p.reader.finish();
    out
}

struct Parser<'a> {
    reader: Reader<'a>,
    env: &'a BTreeMap<String, String>,
    snippets: BTreeMap<String, Vec<Token>>,
    expansions: usize,
    /// Snippets being expanded inside each other: a snippet importing itself stops here.
    depth: usize,
    out: Caddyfile,
}

impl<'a> Walk<'a> for Parser<'a> {
    type Out = Vec<Token>;

    fn reader(&mut self) -> &mut Reader<'a> {
        &mut self.reader
    }

    /// The tokens of a file, its own imports expanded.
    fn walk_text(&mut self, file: &Path, text: &str) -> Vec<Token> {
        let text = replace_env(text, self.env);
        let mut raw = Vec::new();
        if let Err((line, e)) = lex(&text, file, &mut raw) {
            self.problem(format!("{}: {e}", at(file, line)));
        }
        self.expand_imports(raw)
    }
}

impl Parser<'_> {
    /// Replace each `import` directive by what it names: a snippet defined so far, or
    /// the tokens of the files its glob matches. Snippet definitions are taken out.
    fn expand_imports(&mut self, raw: Vec<Token>) -> Vec<Token> {
        let mut out: Vec<Token> = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let t = &raw[i];
            // `(name) {` at the start of a line, outside any block, defines a snippet.
            if t.first_on_line
                && !t.quoted
                && t.text.len() > 2
                && t.text.starts_with('(')
                && t.text.ends_with(')')
                && raw.get(i + 1).is_some_and(|n| n.is("{"))
            {
                let name = t.text[1..t.text.len() - 1].to_owned();
                let (body, next, _) = block(&raw, i + 1);
                self.snippets.insert(name, body.to_vec());
                i = next;
                continue;
            }
            if t.first_on_line && t.is("import") {
                let args: Vec<&Token> = raw[i + 1..]
                    .iter()
                    .take_while(|a| !a.first_on_line)
                    .collect();
                let n_args = args.len();
                let origin = at(&t.file, t.line);
                match args.split_first() {
                    None => self.problem(format!("{origin}: import needs a file or snippet")),
                    Some((what, rest)) => {
                        let rest: Vec<String> = rest.iter().map(|a| a.text.clone()).collect();
                        let expanded = self.import(&what.text, &rest, t, &origin);
                        if out.len() + expanded.len() > MAX_TOKENS {
                            self.problem(format!(
                                "{origin}: more than {MAX_TOKENS} tokens, the rest not read"
                            ));
                            return out;
                        }
                        out.extend(expanded);
                    }
                }
                i += 1 + n_args;
                continue;
            }
            out.push(t.clone());
            i += 1;
        }
        out
    }

    fn import(
        &mut self,
        what: &str,
        args: &[String],
        at_token: &Token,
        origin: &str,
    ) -> Vec<Token> {
        if let Some(body) = self.snippets.get(what) {
            self.expansions += 1;
            if self.expansions > MAX_EXPANSIONS {
                if self.expansions == MAX_EXPANSIONS + 1 {
                    self.problem(format!(
                        "{origin}: more than {MAX_EXPANSIONS} snippet imports, the rest not expanded"
                    ));
                }
                return Vec::new();
            }
            let mut body = body.clone();
            for t in &mut body {
                t.text = replace_args(&t.text, args);
            }
            // What the snippet holds starts where the import stood.
            if let Some(t) = body.first_mut() {
                t.first_on_line = true;
            }
            if self.depth >= self.reader.limits.max_include_depth {
                let limit = self.reader.limits.max_include_depth;
                self.problem(format!(
                    "{origin}: snippet imports nested deeper than {limit}"
                ));
                return Vec::new();
            }
            // A snippet may import others: expanded again, bounded by the depth.
            self.depth += 1;
            let expanded = self.expand_imports(body);
            self.depth -= 1;
            return expanded;
        }
        let base = at_token.file.parent().unwrap_or(Path::new("/"));
        let target = normalize_lexically(&base.join(what));
        if !has_glob_chars(what) {
            return self.walk_file(&target, Some(origin));
        }
        let (Some(dir), Some(pattern)) = (target.parent(), target.file_name()) else {
            return Vec::new();
        };
        let files = self.reader.glob(dir, pattern.as_encoded_bytes());
        let mut out = Vec::new();
        for f in files {
            out.extend(self.walk_file(&f, Some(origin)));
        }
        out
    }

    fn server_blocks(&mut self, tokens: Vec<Token>) {
        let mut i = 0;
        // A leading `{` alone: the global options block.
        if tokens.first().is_some_and(|t| t.is("{")) {
            let (body, next) = self.block(&tokens, 0);
            self.global(body);
            i = next;
        }
        let first_site = i;
        while i < tokens.len() {
            // The keys: every token up to `{`, continuing onto the next line after a
            // trailing comma.
            let key_start = i;
            let mut keys: Vec<String> = Vec::new();
            while let Some(t) = tokens.get(i) {
                let continued = keys.last().is_none_or(|k| k.ends_with(','));
                if t.is("{") || (t.first_on_line && !continued) {
                    break;
                }
                keys.push(t.text.clone());
                i += 1;
            }
            let (file, line) = (tokens[key_start].file.clone(), tokens[key_start].line);
            // The brace may also stand on the next line (Caddy's `openCurlyBrace`).
            if tokens.get(i).is_some_and(|t| t.is("{")) {
                let (body, next) = self.block(&tokens, i);
                if keys.is_empty() {
                    self.problem(format!("{}: a block with no site address", at(&file, line)));
                } else {
                    let close_line = tokens[next - 1].line;
                    self.site(&file, line, close_line, &keys, body);
                }
                i = next;
            } else if key_start == first_site {
                // One site written without braces: the rest of the file is its body.
                let close_line = tokens.last().map_or(line, |t| t.line);
                self.site(&file, line, close_line, &keys, &tokens[i..]);
                break;
            } else {
                self.problem(format!(
                    "{}: site address {} without a block",
                    at(&file, line),
                    clean(&keys.join(" "))
                ));
            }
        }
    }

    /// [`block`], with an unterminated one reported.
    fn block<'t>(&mut self, tokens: &'t [Token], open: usize) -> (&'t [Token], usize) {
        let (body, next, closed) = block(tokens, open);
        if !closed {
            let t = &tokens[open];
            self.problem(format!(
                "{}: unterminated block, expecting '}}'",
                at(&t.file, t.line)
            ));
        }
        (body, next)
    }

    fn global(&mut self, body: &[Token]) {
        for (name, args, t) in directives(body) {
            let arg = args.first().map(|a| a.text.as_str());
            let g: &mut CaddyGlobal = &mut self.out.global;
            match name {
                "admin" => match arg {
                    Some("off") => g.settings.admin_off = true,
                    Some(a) if a != "{" => g.settings.admin = Some(clean(a)),
                    _ => {}
                },
                "http_port" | "https_port" => {
                    let port = arg.and_then(|a| a.parse::<u16>().ok());
                    if name == "http_port" {
                        g.settings.http_port = port;
                    } else {
                        g.settings.https_port = port;
                    }
                }
                "auto_https" => g.auto_https = arg.map(clean),
                "default_bind" => {
                    if let Some(b) = self.bind(t, &args) {
                        self.out.global.default_bind.push(b);
                    }
                }
                _ => {}
            }
        }
    }

    fn bind(&mut self, t: &Token, args: &[&Token]) -> Option<CaddyBind> {
        let mut addrs = Vec::new();
        for a in args.iter().filter(|a| !a.is("{")) {
            match listen_addr(&a.text) {
                Ok(l) => addrs.push(l),
                Err(e) => {
                    self.problem(format!("{}: bind: {e}", at(&t.file, t.line)));
                }
            }
        }
        let raw = std::iter::once(t.text.as_str())
            .chain(args.iter().map(|a| a.text.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        Some(CaddyBind {
            at: Place::new(&t.file, t.line),
            raw: clean(&raw),
            addrs,
        })
    }

    fn site(
        &mut self,
        file: &Path,
        line: usize,
        close_line: usize,
        keys: &[String],
        body: &[Token],
    ) {
        let (http_port, https_port) = (
            self.out.global.settings.http_port.unwrap_or(80),
            self.out.global.settings.https_port.unwrap_or(443),
        );
        let mut addresses = Vec::new();
        for k in keys
            .iter()
            .flat_map(|k| k.split(','))
            .filter(|k| !k.is_empty())
        {
            match site_address(k, http_port, https_port) {
                Ok(a) => addresses.push(a),
                Err(e) => self.problem(format!(
                    "{}: site address {}: {e}",
                    at(file, line),
                    clean(k)
                )),
            }
        }
        let mut binds = Vec::new();
        for (name, args, t) in directives(body) {
            if name == "bind"
                && let Some(b) = self.bind(t, &args)
            {
                binds.push(b);
            }
        }
        self.out.sites.push(CaddySite {
            at: Place::new(file, line),
            close_line,
            addresses,
            binds,
        });
    }
}

/// The tokens between the `{` at `open` and its matching `}`, the index after the `}`,
/// and whether there was one (else the block runs to the end).
fn block(tokens: &[Token], open: usize) -> (&[Token], usize, bool) {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        if t.is("{") {
            depth += 1;
        } else if t.is("}") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return (&tokens[open + 1..k], k + 1, true);
            }
        }
    }
    (
        tokens.get(open + 1..).unwrap_or_default(),
        tokens.len(),
        false,
    )
}

/// The directives at the top level of a block body: (name, arguments on its line, the
/// name's token). Nested blocks are skipped.
fn directives(body: &[Token]) -> Vec<(&str, Vec<&Token>, &Token)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let t = &body[i];
        i += 1;
        if t.is("{") {
            i = block(body, i - 1).1;
            continue;
        }
        let mut args = Vec::new();
        while i < body.len() && !body[i].first_on_line {
            if body[i].is("{") {
                i = block(body, i).1;
                break;
            }
            args.push(&body[i]);
            i += 1;
        }
        out.push((t.text.as_str(), args, t));
    }
    out
}

/// `{args[0]}` / `{args.0}` in a snippet's token.
fn replace_args(text: &str, args: &[String]) -> String {
    if !text.contains("{args") {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    for (n, a) in args.iter().enumerate().take(64) {
        out = out
            .replace(&format!("{{args[{n}]}}"), a)
            .replace(&format!("{{args.{n}}}"), a);
    }
    out
}

/// A site address, `[scheme://][host][:port][/path]`.
fn site_address(raw: &str, http_port: u16, https_port: u16) -> Result<SiteAddress, String> {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, raw),
    };
    if let Some(s) = &scheme
        && s != "http"
        && s != "https"
    {
        return Err(format!("unsupported scheme '{}'", clean(s)));
    }
    let hostport = rest.split('/').next().unwrap_or("");
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or("missing ']'")?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("invalid port '{}'", clean(p)))?,
        ),
    };
    let serving_port = match (port, scheme.as_deref()) {
        (Some(p), _) => p,
        (None, Some("http")) => http_port,
        (None, _) => https_port,
    };
    Ok(SiteAddress {
        raw: clean(raw),
        scheme,
        host: clean(host),
        port,
        serving_port,
    })
}

#[cfg(test)]
mod tests;
