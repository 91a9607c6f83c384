//! Subresource references in a home page: what a browser loads by itself while the page
//! loads (scripts, images with their `srcset`, stylesheets, frames, media), and the
//! `url()` references of its CSS: `<style>` blocks, `style` attributes and, fetched by
//! the caller, linked stylesheets. The page is read by html5gum (a WHATWG tokenizer:
//! attribute names and values as a browser sees them, entities decoded, `<script>` and
//! `<style>` contents as raw text), the CSS by cssparser (Servo's tokenizer).

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
/// Nesting of CSS blocks and functions followed; deeper ones are skipped, so hostile
/// nesting cannot exhaust the stack.
const MAX_CSS_DEPTH: usize = 32;

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
                if SRCSET_TAGS.contains(&name.as_str()) {
                    if let Some(set) = attr("srcset") {
                        for u in srcset_urls(&set) {
                            page.add(u);
                        }
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
pub fn css_urls(css: &str) -> Vec<String> {
    let mut parser = cssparser::Parser::new(css);
    let mut out = Vec::new();
    scan_css(&mut parser, 0, &mut out);
    out
}

fn scan_css(p: &mut cssparser::Parser<'_>, depth: usize, out: &mut Vec<String>) {
    use cssparser::Token;
    let mut import = false;
    while out.len() < MAX_REFS {
        let Ok(token) = p.next() else { break };
        let after_import = std::mem::take(&mut import);
        let nested = match token {
            Token::UnquotedUrl(u) => {
                out.push(u.to_string());
                false
            }
            Token::QuotedString(s) if after_import => {
                out.push(s.to_string());
                false
            }
            Token::AtKeyword(k) => {
                import = k.eq_ignore_ascii_case("import");
                false
            }
            Token::Function(name) if name.eq_ignore_ascii_case("url") => {
                // `url("...")`: the string is the URL.
                let _ = p.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                    if let Ok(s) = inner.expect_string() {
                        out.push(s.to_string());
                    }
                    while inner.next().is_ok() {}
                    Ok(())
                });
                false
            }
            Token::Function(_)
            | Token::ParenthesisBlock
            | Token::CurlyBracketBlock
            | Token::SquareBracketBlock => depth < MAX_CSS_DEPTH,
            _ => false,
        };
        if nested {
            let _ = p.parse_nested_block(|inner| -> Result<(), cssparser::ParseError<()>> {
                scan_css(inner, depth + 1, out);
                while inner.next().is_ok() {}
                Ok(())
            });
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
        assert!(
            css_urls(&deep).is_empty(),
            "beyond the depth limit nothing is read"
        );
        let many: String = (0..1000).map(|i| format!("<img src=/i{i}.png>")).collect();
        assert_eq!(subresources(&many).refs.len(), MAX_REFS);
    }

    #[test]
    fn fuzz_subresource_scanner() {
        use crate::testutil::{Rng, fuzz_data, fuzz_iters, is_inert};
        let mut rng = Rng::seeded(0x4a71_0000_0001);
        let base = "<html><link rel=stylesheet href=\"http://192.0.2.7/a.css\"><script src='//cdn.example/app.js'></script><IMG SRC=https://img.example:8443/l.png srcset='a.png 1x, b.png 2x'><style>a{background:url(x.png)}</style></html>";
        let vocab = fuzz_data("html.vocab");
        for round in 0..fuzz_iters() {
            let page = if round % 2 == 0 {
                rng.mutate(base)
            } else {
                rng.soup(&vocab, 80)
            };
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
