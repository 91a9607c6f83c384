//! The `[Section]` / `Key=Value` syntax that systemd units (systemd.syntax(7)) and
//! GLib keyfiles (NetworkManager's connections) share, as far as the address and
//! route settings need it.

/// One assignment: section, key, value (trimmed), 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub section: &'a str,
    /// Counts section headers, so two `[Route]` sections in a row stay apart.
    pub section_no: usize,
    pub key: &'a str,
    pub value: String,
    pub line: usize,
}

impl<'a> Entry<'a> {
    fn new(section: &'a str, section_no: usize, key: &'a str, value: String, line: usize) -> Self {
        Entry {
            section,
            section_no,
            key,
            value,
            line,
        }
    }
}

/// The entry whose value ran over continuation lines, from the line it started on.
fn continued<'a>(
    section: &'a str,
    section_no: usize,
    (start, key, value): (usize, &'a str, String),
) -> Entry<'a> {
    Entry::new(section, section_no, key, value.trim().to_owned(), start)
}

/// Longest value kept from continuation lines: a hostile file of backslashes must not
/// grow one value without end.
const MAX_VALUE: usize = 1 << 16;

/// Every assignment of `text`. `continuation`: a trailing backslash joins the next line
/// (systemd does this, GLib keyfiles do not). Comment lines start with `#` or `;`.
pub fn entries(text: &str, continuation: bool) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut section = "";
    let mut section_no = 0;
    let mut pending: Option<(usize, &str, String)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some((start, key, mut value)) = pending.take() {
            let (body, more) = match line.strip_suffix('\\') {
                Some(b) if continuation => (b, true),
                _ => (line, false),
            };
            if value.len() < MAX_VALUE {
                value.push(' ');
                value.push_str(body.trim());
            }
            if more {
                pending = Some((start, key, value));
            } else {
                out.push(continued(section, section_no, (start, key, value)));
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.trim();
            section_no += 1;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match value.strip_suffix('\\') {
            Some(body) if continuation => pending = Some((n + 1, key, body.trim().to_owned())),
            _ => out.push(Entry::new(
                section,
                section_no,
                key,
                value.to_owned(),
                n + 1,
            )),
        }
    }
    if let Some((start, key, value)) = pending {
        out.push(continued(section, section_no, (start, key, value)));
    }
    out
}

/// systemd's and GLib's booleans (`yes`/`true`/`on`/`1` and their opposites).
pub fn boolean(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_comments_and_continuations() {
        let t = "# c\n[Match]\nName=eth0\n\n[Network]\nAddress=2001:db8::1/64 \\\n  \nDNS=x\n;x\n[Route]\nGateway=fe80::1\n";
        let e = entries(t, true);
        assert_eq!(e[0].section, "Match");
        assert_eq!(
            (e[1].key, e[1].value.as_str(), e[1].line),
            ("Address", "2001:db8::1/64", 6)
        );
        assert_eq!(e[2].key, "DNS");
        assert_eq!((e[3].section, e[3].line), ("Route", 11));
        assert_eq!(entries("[a]\nk=v\\\n", false)[0].value, "v\\");
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("Yes"), Some(true));
        assert_eq!(boolean("off"), Some(false));
        assert_eq!(boolean("ipv6"), None);
    }
}
