//! Subresource references in a home page: what a browser loads by itself while the page
//! loads (scripts, images with their `srcset`, stylesheets, frames, media), and the
//! `url()` references of its CSS: `<style>` blocks, `style` attributes and, fetched by
//! the caller, linked stylesheets. The page is read by html5gum (a WHATWG tokenizer:
//! attribute names and values as a browser sees them, entities decoded, `<script>` and
//! `<style>` contents as raw text); the CSS by a scanner after the CSS Syntax
//! tokenizer (`css_urls`).

use super::http::Url;
use html5gum::{DefaultEmitter, Token, Tokenizer};

/// Tags whose reference is fetched while the page loads, with the attribute.
const TAGS: &[(&str, &str)] = &[
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("track", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("link", "href"),
];

/// Tags whose `srcset` lists images the browser picks from.
const SRCSET_TAGS: &[&str] = &["img", "source"];

/// `rel` values of the links a browser loads.
const LOADED_RELS: &[&str] = &["stylesheet", "icon", "preload", "modulepreload", "manifest"];

/// Most references kept from one page or stylesheet.
pub const MAX_REFS: usize = 200;
/// Most linked stylesheets named for the caller to fetch.
pub const MAX_STYLESHEETS: usize = 8;
/// Most CSS text of a page's `<style>` blocks read.
const MAX_STYLE: usize = 256 * 1024;

/// What a page loads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    /// The references as written, in page order, without duplicates (`data:` and
    /// fragment-only references left out: they load nothing).
    pub refs: Vec<String>,
    /// The `href`s of linked stylesheets (also in `refs`), whose own `url()`s the
    /// caller reads with [`css_urls`].
    pub stylesheets: Vec<String>,
}

impl Page {
    fn add(&mut self, r: &str) -> bool {
        let r = r.trim();
        let loads_nothing = r.is_empty()
            || r.starts_with('#')
            || r.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("data:"));
        if loads_nothing || self.refs.len() >= MAX_REFS || self.refs.iter().any(|x| x == r) {
            return false;
        }
        self.refs.push(r.to_string());
        true
    }
}

/// The subresources of `html`.
pub fn subresources(html: &str) -> Page {
    let mut page = Page::default();
    let mut emitter = DefaultEmitter::default();
    // Raw text for <script> and <style> (and the other raw text elements), as a
    // browser reads them: a `<img` inside a script is no image.
    emitter.naively_switch_states(true);
    let mut style: Option<String> = None;
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).into_owned();
                let attr = |key: &str| {
                    tag.attributes
                        .get(key.as_bytes())
                        .map(|v| String::from_utf8_lossy(&v.value).into_owned())
                };
                if name == "style" {
                    style = Some(String::new());
                }
                if let Some(css) = attr("style") {
                    for u in css_urls(&css) {
                        page.add(&u);
                    }
                }
                let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
                let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
                for (_, key) in TAGS.iter().filter(|(t, _)| *t == name) {
                    if name == "link" && !LOADED_RELS.iter().any(|r| rels.contains(r)) {
                        continue;
                    }
                    let Some(v) = attr(key) else { continue };
                    let added = page.add(&v);
                    if added
                        && name == "link"
                        && rels.contains(&"stylesheet")
                        && page.stylesheets.len() < MAX_STYLESHEETS
                    {
                        page.stylesheets.push(v.trim().to_string());
                    }
                }
                if SRCSET_TAGS.contains(&name.as_str())
                    && let Some(set) = attr("srcset")
                {
                    for u in srcset_urls(&set) {
                        page.add(u);
                    }
                }
            }
            Token::String(text) => {
                if let Some(css) = style.as_mut() {
                    let room = MAX_STYLE.saturating_sub(css.len());
                    let text = String::from_utf8_lossy(&text.value);
                    css.push_str(text.get(..room.min(text.len())).unwrap_or(""));
                }
            }
            Token::EndTag(tag) if &tag.name[..] == b"style" => {
                if let Some(css) = style.take() {
                    for u in css_urls(&css) {
                        page.add(&u);
                    }
                }
            }
            _ => {}
        }
        if page.refs.len() >= MAX_REFS {
            break;
        }
    }
    page
}

/// The URLs of a `srcset` attribute (the HTML standard's candidate list: each URL is
/// followed by optional descriptors such as `2x` or `480w`, candidates separated by
/// commas; a URL may itself contain commas, but not end with one).
fn srcset_urls(set: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = set;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(end);
        let bare = url.trim_end_matches(',');
        if !bare.is_empty() {
            out.push(bare);
        }
        if bare.len() < url.len() {
            // A URL ending in a comma has no descriptors.
            rest = after;
            continue;
        }
        // Skip the descriptors up to the next comma outside parentheses.
        let mut depth = 0usize;
        let mut next = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    next = i;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[next..];
    }
    out
}

/// The `url()` references and `@import` strings of CSS (a stylesheet, a `<style>` block
/// or a `style` attribute's declarations), as written.
///
/// A scanner after CSS Syntax Level 3's tokenizer (§4.3), for the few tokens that name a
/// URL: comments, strings and identifiers are consumed whole (with their escapes), so a
/// `url(` inside a comment, a string or a longer name (`myurl(`) is none. The CSS parsers
/// on crates.io that do this are MPL-2.0, which the project's licence policy (deny.toml)
/// does not admit. It reads each character once and keeps no nesting, so any input ends
/// in linear time.
pub fn css_urls(css: &str) -> Vec<String> {
    let mut s = Css {
        chars: css.chars().collect(),
        at: 0,
    };
    let mut out = Vec::new();
    let mut after_import = false;
    while out.len() < MAX_REFS {
        let Some(c) = s.peek(0) else { break };
        let import = std::mem::take(&mut after_import);
        if c == '/' && s.peek(1) == Some('*') {
            s.comment();
            after_import = import;
        } else if c.is_whitespace() {
            s.at += 1;
            after_import = import;
        } else if c == '"' || c == '\'' {
            s.at += 1;
            let text = s.string(c);
            if import {
                out.push(text);
            }
        } else if c == '@' && s.starts_name(1) {
            s.at += 1;
            after_import = s.name().eq_ignore_ascii_case("import");
        } else if s.starts_name(0) {
            let name = s.name();
            if s.peek(0) == Some('(') && name.eq_ignore_ascii_case("url") {
                s.at += 1;
                if let Some(u) = s.url() {
                    out.push(u);
                }
            }
        } else {
            s.at += 1;
        }
    }
    out
}

struct Css {
    chars: Vec<char>,
    at: usize,
}

impl Css {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.at + n).copied()
    }

    /// `/* ... */`, or to the end when unclosed.
    fn comment(&mut self) {
        self.at += 2;
        while let Some(c) = self.peek(0) {
            self.at += 1;
            if c == '*' && self.peek(0) == Some('/') {
                self.at += 1;
                return;
            }
        }
    }

    /// Whether a backslash at `n` starts an escape (not a line continuation).
    fn escape_at(&self, n: usize) -> bool {
        self.peek(n) == Some('\\') && self.peek(n + 1).is_some_and(|c| c != '\n')
    }

    /// Whether an identifier starts at `n` (CSS "would start an identifier").
    fn starts_name(&self, n: usize) -> bool {
        let name_start = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
        match self.peek(n) {
            Some('-') => {
                self.peek(n + 1).is_some_and(|c| name_start(c) || c == '-') || self.escape_at(n + 1)
            }
            Some('\\') => self.escape_at(n),
            Some(c) => name_start(c),
            None => false,
        }
    }

    /// An identifier, escapes decoded.
    fn name(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || !c.is_ascii() {
                out.push(c);
                self.at += 1;
            } else if self.escape_at(0) {
                self.at += 1;
                out.push(self.escape());
            } else {
                break;
            }
        }
        out
    }

    /// The character of an escape, after its backslash: up to six hex digits and one
    /// whitespace, or the character itself.
    fn escape(&mut self) -> char {
        let mut hex = String::new();
        while hex.len() < 6 && self.peek(0).is_some_and(|c| c.is_ascii_hexdigit()) {
            hex.extend(self.peek(0));
            self.at += 1;
        }
        if hex.is_empty() {
            let c = self.peek(0).unwrap_or('\u{fffd}');
            self.at += 1;
            return c;
        }
        if self.peek(0).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{fffd}')
    }

    /// A string's text after its opening `quote`, up to the closing one, an unescaped
    /// newline (a bad string) or the end.
    fn string(&mut self, quote: char) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                _ if c == quote => break,
                '\n' => break,
                '\\' => match self.peek(0) {
                    Some('\n') => self.at += 1,
                    Some(_) => out.push(self.escape()),
                    None => {}
                },
                _ => out.push(c),
            }
        }
        out
    }

    /// The URL of `url(` (already consumed): a quoted string, or the unquoted text up to
    /// `)`; `None` for a bad URL (a quote or whitespace inside an unquoted one).
    fn url(&mut self) -> Option<String> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        if let Some(q @ ('"' | '\'')) = self.peek(0) {
            self.at += 1;
            let text = self.string(q);
            self.skip_to_paren();
            return Some(text);
        }
        let mut out = String::new();
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                ')' => return Some(out),
                _ if c.is_whitespace() => {
                    while self.peek(0).is_some_and(char::is_whitespace) {
                        self.at += 1;
                    }
                    if self.peek(0) == Some(')') || self.peek(0).is_none() {
                        self.at += 1;
                        return Some(out);
                    }
                    self.skip_to_paren();
                    return None;
                }
                '"' | '\'' | '(' => {
                    self.skip_to_paren();
                    return None;
                }
                // A backslash before a newline or the end is no escape: a bad URL.
                '\\' => match self.peek(0) {
                    Some('\n') | None => {
                        self.skip_to_paren();
                        return None;
                    }
                    Some(_) => out.push(self.escape()),
                },
                _ => out.push(c),
            }
        }
        Some(out)
    }

    /// Past the `)` that closes a bad URL or a `url("...")` (escapes skipped whole).
    fn skip_to_paren(&mut self) {
        while let Some(c) = self.peek(0) {
            self.at += 1;
            if c == ')' {
                return;
            }
            if c == '\\' {
                self.at += 1;
            }
        }
    }
}

/// The host of an absolute (`http://h/`, `https://h/`) or protocol-relative (`//h/`)
/// reference; `None` for a reference to the page's own host (a relative one) or one
/// that is no HTTP(S) URL.
pub fn ref_host(r: &str) -> Option<String> {
    let r = r.trim();
    let url = if r.starts_with("//") {
        Url::parse(&format!("http:{r}"))
    } else if r
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        || r.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        Url::parse(r)
    } else {
        None
    }?;
    Some(url.host())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_loaded_references_only() {
        let page = r#"<html><head>
<link rel="stylesheet" href="http://192.0.2.7/site.css">
<link rel=canonical href="https://shop.example/">
<script src='//cdn.example/app.js'></script>
</head><body><a href="http://elsewhere.example/">x</a>
<IMG SRC=https://img.example:8443/logo.png alt=x>
<img src="/local.png"></body></html>"#;
        let p = subresources(page);
        assert_eq!(
            p.refs,
            vec![
                "http://192.0.2.7/site.css",
                "//cdn.example/app.js",
                "https://img.example:8443/logo.png",
                "/local.png"
            ]
        );
        assert_eq!(p.stylesheets, vec!["http://192.0.2.7/site.css"]);
        assert_eq!(ref_host(&p.refs[0]).as_deref(), Some("192.0.2.7"));
        assert_eq!(ref_host(&p.refs[1]).as_deref(), Some("cdn.example"));
        assert_eq!(ref_host(&p.refs[2]).as_deref(), Some("img.example"));
        assert_eq!(ref_host(&p.refs[3]), None);
        assert_eq!(
            ref_host("http://[2001:db8::1]:80/x").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            ref_host("HTTPS://CDN.Example/x").as_deref(),
            Some("cdn.example")
        );
        assert_eq!(ref_host("mailto:x@y.example"), None);
    }

    #[test]
    fn reads_as_a_browser_does() {
        let page = r#"<script>var s = "<img src='http://in-a-script.example/x.png'>";</script>
<!-- <img src="http://commented.example/x.png"> -->
<img src="http://a.example/?x=1&amp;y=2" srcset="http://b.example/1x.png 1x, http://c.example/a,b.png 2x,http://d.example/480.png 480w">
<picture><source srcset="//e.example/wide.webp"></picture>
<textarea><img src="http://in-a-textarea.example/x.png"></textarea>
<video poster=http://f.example/poster.jpg src=data:video/mp4;base64,AAAA></video>"#;
        let p = subresources(page);
        assert_eq!(
            p.refs,
            vec![
                "http://a.example/?x=1&y=2",
                "http://b.example/1x.png",
                "http://c.example/a,b.png",
                "http://d.example/480.png",
                "//e.example/wide.webp",
                "http://f.example/poster.jpg",
            ]
        );
    }

    #[test]
    fn inline_css_urls() {
        let page = r#"<style>
/* url(http://commented.example/x.png) */
@import "http://import.example/base.css";
@import url(//import2.example/more.css);
body { background: url( "http://bg.example/a.png" ) }
@media (min-width: 10px) { .x { background-image: url(http://media.example/b.png) } }
.y::after { content: "url(http://not-a-url.example/)" }
</style>
<div style="background:URL('http://attr.example/c.png')"></div>"#;
        let p = subresources(page);
        assert_eq!(
            p.refs,
            vec![
                "http://import.example/base.css",
                "//import2.example/more.css",
                "http://bg.example/a.png",
                "http://media.example/b.png",
                "http://attr.example/c.png",
            ]
        );
        assert!(p.stylesheets.is_empty());
        assert_eq!(
            css_urls("@font-face { src: url(/f.woff2) format('woff2') }"),
            vec!["/f.woff2"]
        );
    }

    #[test]
    fn css_tokens_as_the_syntax_defines_them() {
        assert_eq!(
            css_urls(r#"a{b:myurl(x.png);c:url(\'y.png);d:u\72l(z.png);e:url(a\20 b.png)}"#),
            vec!["'y.png", "z.png", "a b.png"]
        );
        assert_eq!(
            css_urls("a{b:url( 'q.png' ) url(  r.png  )}"),
            vec!["q.png", "r.png"]
        );
        assert_eq!(
            css_urls("a{b:url(bad url.png) url(ok.png)}"),
            vec!["ok.png"]
        );
        assert_eq!(
            css_urls("@IMPORT 'a.css'; @import /* c */ \"b.css\"; x 'c.css'"),
            vec!["a.css", "b.css"]
        );
        assert_eq!(
            css_urls("a{b:'url(no.png)'} /* url(no2.png) */"),
            Vec::<String>::new()
        );
        assert_eq!(css_urls("a{b:\"unclosed\nurl(yes.png)}"), vec!["yes.png"]);
    }

    #[test]
    fn srcset_candidates() {
        assert_eq!(srcset_urls("a.png"), vec!["a.png"]);
        assert_eq!(srcset_urls(" a.png 1x ,b.png 2x"), vec!["a.png", "b.png"]);
        assert_eq!(srcset_urls("a.png,b.png"), vec!["a.png,b.png"]);
        assert_eq!(srcset_urls("a.png, b.png"), vec!["a.png", "b.png"]);
        assert_eq!(
            srcset_urls("a.png (x, y) 1x, b.png"),
            vec!["a.png", "b.png"]
        );
        assert!(srcset_urls(" , ,").is_empty());
    }

    #[test]
    fn survives_garbage() {
        assert!(subresources("<<<>>><img src=").refs.len() <= 1);
        assert!(subresources("<img src=\"unterminated").refs.len() <= 1);
        assert!(subresources("").refs.is_empty());
        let deep = "(".repeat(100_000);
        assert!(css_urls(&deep).is_empty());
        let deep = format!("{}url(x){}", "{a:".repeat(10_000), "}".repeat(10_000));
        assert_eq!(css_urls(&deep), vec!["x"], "nesting does not matter");
        for bad in [
            "url(",
            "url(\\",
            "url('",
            "/*",
            "\\",
            "@",
            "@\\",
            "'\\",
            "url( a b )",
        ] {
            assert!(css_urls(bad).len() <= 1, "{bad}");
        }
        let many: String = (0..1000).map(|i| format!("<img src=/i{i}.png>")).collect();
        assert_eq!(subresources(&many).refs.len(), MAX_REFS);
    }

    const FUZZ_BASE: &str = "<html><link rel=stylesheet href=\"http://192.0.2.7/a.css\"><script src='//cdn.example/app.js'></script><IMG SRC=https://img.example:8443/l.png srcset='a.png 1x, b.png 2x'><style>a{background:url(x.png)}</style></html>";

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        /// A real page mutated, or a soup of HTML words: the references stay within their
        /// bounds, every stylesheet is among them, every host is inert.
        #[test]
        fn fuzz_subresource_scanner(
            page in proptest::prop_oneof![
                crate::testutil::inputs::mutated_text(vec![FUZZ_BASE]),
                crate::testutil::inputs::soup_of("html", 80),
            ],
        ) {
            use crate::testutil::is_inert;
            let p = subresources(&page);
            assert!(p.refs.len() <= MAX_REFS);
            assert!(p.stylesheets.len() <= MAX_STYLESHEETS);
            assert!(p.stylesheets.iter().all(|s| p.refs.contains(s)));
            for r in &p.refs {
                if let Some(h) = ref_host(r) {
                    assert!(is_inert(&h), "{h:?}");
                }
            }
            let _ = css_urls(&page);
            let _ = srcset_urls(&page);
        }
    }
}
