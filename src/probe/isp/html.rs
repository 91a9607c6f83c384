//! Subresource references in a home page: `src`/`href`/`data` of the tags a browser
//! loads by itself (scripts, images, stylesheets, frames, media). A small scanner, not an
//! HTML parser: it only needs the attribute values.

/// Tags whose reference is fetched while the page loads, with the attribute.
const TAGS: &[(&str, &str)] = &[
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("link", "href"),
];

/// Most references kept from one page.
pub const MAX_REFS: usize = 200;

/// The references (as written) of subresources in `html`.
pub fn subresources(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(i) = lower[pos..].find('<') {
        let start = pos + i + 1;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag_text = &lower[start..end];
        let orig = &html[start..end];
        pos = end.min(lower.len());
        let name: String = tag_text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let Some((_, attr)) = TAGS.iter().find(|(t, _)| *t == name) else {
            continue;
        };
        if name == "link" {
            // Only links the browser loads: stylesheets, icons, preloads, modules.
            let rel = attr_value(tag_text, orig, "rel")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !["stylesheet", "icon", "preload", "modulepreload", "manifest"]
                .iter()
                .any(|r| rel.split_whitespace().any(|w| w == *r))
            {
                continue;
            }
        }
        if let Some(v) = attr_value(tag_text, orig, attr) {
            if !v.is_empty() && !out.contains(&v) {
                out.push(v);
                if out.len() >= MAX_REFS {
                    break;
                }
            }
        }
        if pos >= lower.len() {
            break;
        }
    }
    out
}

/// The value of attribute `name` in a tag's text (`lower` for matching, `orig` for the
/// value's case).
fn attr_value(lower: &str, orig: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0
            || lower[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_whitespace());
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let vstart = lower.len() - rest.len() + 1;
        let vtext = orig[vstart..].trim_start();
        let vtext_start = orig.len() - vtext.len();
        let value = match vtext.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &orig[vtext_start + 1..];
                body.split(q).next().unwrap_or("")
            }
            _ => vtext
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(value.trim().to_string());
    }
    None
}

/// The host of an absolute (`http://h/`, `https://h/`) or protocol-relative (`//h/`)
/// reference; `None` for a reference to the page's own host.
pub fn ref_host(r: &str) -> Option<String> {
    let rest = r
        .strip_prefix("http://")
        .or_else(|| r.strip_prefix("https://"))
        .or_else(|| r.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?.to_string()
    } else {
        authority.split(':').next()?.to_string()
    };
    if host.is_empty() {
        None
    } else {
        Some(host.to_ascii_lowercase())
    }
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
        let refs = subresources(page);
        assert_eq!(
            refs,
            vec![
                "http://192.0.2.7/site.css",
                "//cdn.example/app.js",
                "https://img.example:8443/logo.png",
                "/local.png"
            ]
        );
        assert_eq!(ref_host(&refs[0]).as_deref(), Some("192.0.2.7"));
        assert_eq!(ref_host(&refs[1]).as_deref(), Some("cdn.example"));
        assert_eq!(ref_host(&refs[2]).as_deref(), Some("img.example"));
        assert_eq!(ref_host(&refs[3]), None);
        assert_eq!(
            ref_host("http://[2001:db8::1]:80/x").as_deref(),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn survives_garbage() {
        assert!(subresources("<<<>>><img src=").len() <= 1);
        assert!(subresources("<img src=\"unterminated").len() <= 1);
        assert!(subresources("").is_empty());
    }

    #[test]
    fn fuzz_subresource_scanner() {
        use crate::testutil::{Rng, fuzz_data, fuzz_iters};
        let mut rng = Rng::seeded(0x4a71_0000_0001);
        let base = "<html><link rel=stylesheet href=\"http://192.0.2.7/a.css\"><script src='//cdn.example/app.js'></script><IMG SRC=https://img.example:8443/l.png></html>";
        let vocab = fuzz_data("html.vocab");
        for round in 0..fuzz_iters() {
            let page = if round % 2 == 0 {
                rng.mutate(base)
            } else {
                rng.soup(&vocab, 80)
            };
            let refs = subresources(&page);
            assert!(refs.len() <= MAX_REFS);
            for r in refs {
                let _ = ref_host(&r);
            }
        }
    }
}
