//! Outside strings (DNS data, file contents, process names) are untrusted: strip control
//! characters (ESC, BEL, C1 controls, bidi overrides) before they reach a terminal or report.

/// Longest outside string kept in a report field; longer ones are cut with a marker.
pub const MAX_FIELD: usize = 512;

/// Longest explanation kept: our own prose, with outside values filled in, runs to a
/// long paragraph and must not be cut like a single outside field.
pub const MAX_PROSE: usize = 2048;

pub fn clean(s: &str) -> String {
    clean_upto(s, MAX_FIELD)
}

/// `clean` for an explanation paragraph.
pub fn clean_prose(s: &str) -> String {
    clean_upto(s, MAX_PROSE)
}

fn clean_upto(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push_str("…[cut]");
            break;
        }
        if c == '\t' {
            out.push(' ');
        } else if !is_dangerous(c) {
            out.push(c);
        }
    }
    out
}

/// A character that must not reach a terminal raw: controls and bidi overrides.
pub fn is_dangerous(c: char) -> bool {
    c.is_control()
        // bidirectional overrides and isolates can reorder what the reader sees
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    #[test]
    fn every_explanation_fits_uncut() {
        // The longest template with long values filled in must survive `clean_prose`.
        for text in crate::assets::all_explanations() {
            let filled = text.replace('{', "{a-long-value-of-about-fifty-characters-here-----");
            assert!(
                !clean_prose(&filled).ends_with("[cut]"),
                "too long for MAX_PROSE: {text}"
            );
            assert!(
                !clean_prose(&format!("\u{1b}[31m{text}")).contains('\u{1b}'),
                "controls are still stripped"
            );
        }
    }

    #[test]
    fn strips_escape_sequences_and_controls() {
        assert_eq!(clean("ng\x1b[31minx\x07\r\n"), "ng[31minx");
        assert_eq!(clean("a\u{9b}b\u{202e}c"), "abc");
        assert_eq!(clean("tab\there"), "tab here");
    }

    #[test]
    fn bounds_length() {
        let long = "x".repeat(10_000);
        let c = clean(&long);
        assert!(c.chars().count() <= MAX_FIELD + 6);
        assert!(c.ends_with("[cut]"));
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_clean_is_inert_bounded_and_idempotent(
            s in proptest::prop_oneof![
                inputs::junk(64),
                inputs::soup_of("sanitize", 40),
                inputs::soup_of("sanitize", 2000),
            ]
        ) {
            let c = clean(&s);
            assert!(is_inert(&c), "{s:?} -> {c:?}");
            assert!(c.chars().count() <= MAX_FIELD + "…[cut]".chars().count());
            if s.chars().count() <= MAX_FIELD {
                assert_eq!(clean(&c), c);
            }
        }
    }
}
