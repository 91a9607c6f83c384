//! Outside strings (DNS data, file contents, process names) are untrusted: strip control
//! characters (ESC, BEL, C1 controls, bidi overrides) before they reach a terminal or report.

/// Longest outside string kept in a report field; longer ones are cut with a marker.
pub const MAX_FIELD: usize = 512;

pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_FIELD));
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_FIELD {
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

fn is_dangerous(c: char) -> bool {
    c.is_control()
        // bidirectional overrides and isolates can reorder what the reader sees
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
