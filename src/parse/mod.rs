//! Pure parsers for configuration files that decide whether a service is reachable over
//! IPv6. Each parser takes text (or a source of texts) and never touches the system
//! itself, except for the small loaders kept beside them.

pub mod addr;
pub mod apache;
pub mod apt;
pub mod caddy;
pub mod containers;
pub mod exim;
pub mod globalping;
pub mod haproxy;
pub mod hosts;
pub mod ipset;
pub mod iptables;
mod json_fields;
#[cfg(test)]
mod mta_tests;
pub mod netconf;
pub mod nft;
mod nft_sets;
pub mod nginx;
pub mod postfix;
#[cfg(test)]
mod proxy_targets_tests;
pub mod ra;
pub mod runtime;
pub mod source;
pub mod spf;
pub mod ssh;
pub mod sysctl_conf;
pub mod systemd_socket;
#[cfg(test)]
mod test_support;

use std::path::{Component, Path, PathBuf};

/// The logical lines of `text`, each with the number of the line it starts on: a
/// trailing backslash continues a line on the next one, joined by a blank (ifupdown and
/// systemd units alike). Lines starting with one of `comment` are left out unless they
/// continue a line; a joined line stops growing at 64 KiB, so a hostile file of
/// backslashes cannot grow one without end. A last line ending in a backslash is dropped.
pub(crate) fn logical_lines(text: &str, comment: &[char]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (n, line) in text.lines().enumerate() {
        if pending.is_empty() {
            start = n + 1;
        }
        let line = line.trim();
        if pending.is_empty() && line.starts_with(comment) {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            if pending.len() < 1 << 16 {
                pending.push_str(body);
                pending.push(' ');
            }
            continue;
        }
        pending.push_str(line);
        out.push((start, std::mem::take(&mut pending).trim().to_owned()));
    }
    out
}

/// Whether `s` holds a glob metacharacter that `glob(3)` would expand.
pub(crate) fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `fnmatch(3)` without flags, over bytes: `*`, `?` and `[...]` classes (with `!`/`^`
/// negation and ranges). A `[` without a closing `]` matches itself, as in glibc.
///
/// Backtracks only to the last `*`, so the cost stays O(pattern × name) on hostile input.
pub(crate) fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    // Where the last `*` was, and how much of the name it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if pat.get(p) == Some(&b'*') {
            star = Some((p, n));
            p += 1;
            continue;
        }
        if let Some(next) = match_one(pat, p, name[n]) {
            p = next;
            n += 1;
            continue;
        }
        match star {
            Some((sp, sn)) => {
                star = Some((sp, sn + 1));
                p = sp + 1;
                n = sn + 1;
            }
            None => return false,
        }
    }
    pat[p.min(pat.len())..].iter().all(|&c| c == b'*')
}

/// If the pattern element at `p` (not a `*`) matches `c`, the index after it.
fn match_one(pat: &[u8], p: usize, c: u8) -> Option<usize> {
    match *pat.get(p)? {
        b'?' => Some(p + 1),
        b'[' => match match_class(pat, p, c) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            None => (c == b'[').then_some(p + 1),
        },
        lit => (lit == c).then_some(p + 1),
    }
}

/// A bracket class starting at `pat[p] == '['`: whether it matches `c` and the index
/// after its `]`, or `None` when the class is unterminated.
fn match_class(pat: &[u8], p: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *pat.get(i)?;
        // A `]` right after `[` or `[!` is a literal member, not the end.
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        match (pat.get(i + 1), pat.get(i + 2)) {
            (Some(b'-'), Some(&hi)) if hi != b']' => {
                matched |= lo <= c && c <= hi;
                i += 3;
            }
            _ => {
                matched |= lo == c;
                i += 1;
            }
        }
    }
}

/// Resolve `.` and `..` without touching the filesystem, so include cycles and
/// symlink targets can be compared as plain paths. `..` above the root stays at the root.
pub(crate) fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `..` of the root is the root.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                // A relative path climbing above its start keeps its `..`s.
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_lines_join_continuations_and_skip_comments() {
        let text =
            "# c\n; not a comment here\na \\\n  # kept: it continues a\n b\n\n  x=1  \ntail \\";
        assert_eq!(
            logical_lines(text, &['#']),
            [
                (2, "; not a comment here".to_string()),
                (3, "a  # kept: it continues a".to_string()),
                (5, "b".to_string()),
                (6, String::new()),
                (7, "x=1".to_string()),
            ]
        );
        assert_eq!(logical_lines("; x\ny", &['#', ';']), [(2, "y".to_string())]);
        // A hostile run of backslashes stops growing the line at 64 KiB.
        let long = "x\\\n".repeat(40_000) + "end";
        let lines = logical_lines(&long, &['#']);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].1.len() < (1 << 16) + 8, "{}", lines[0].1.len());
    }

    #[test]
    fn glob_basics() {
        assert!(glob_match(b"*.conf", b"default.conf"));
        assert!(!glob_match(b"*.conf", b"default.conf.bak"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a?c", b"abc"));
        assert!(!glob_match(b"a?c", b"ac"));
        assert!(glob_match(b"[a-c]x", b"bx"));
        assert!(!glob_match(b"[!a-c]x", b"bx"));
        assert!(glob_match(b"[]]", b"]"));
        assert!(glob_match(b"[ab", b"[ab"));
        assert!(glob_match(b"*a*b*c", b"xxaxxbxxc"));
        assert!(!glob_match(b"*a*b*c", b"xxaxxbxx"));
        assert!(!glob_match(b"", b"x"));
    }

    #[test]
    fn glob_is_not_exponential() {
        let name = vec![b'a'; 5000];
        let mut pat = b"*a".repeat(40);
        pat.push(b'b');
        assert!(!glob_match(&pat, &name));
    }

    #[test]
    fn lexical_normalisation() {
        assert_eq!(
            normalize_lexically(Path::new("/etc/nginx/./sites/../nginx.conf")),
            PathBuf::from("/etc/nginx/nginx.conf")
        );
        assert_eq!(normalize_lexically(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(
            normalize_lexically(Path::new("../x")),
            PathBuf::from("../x")
        );
        assert_eq!(
            normalize_lexically(Path::new("a/../../../x")),
            PathBuf::from("../../x")
        );
    }
}
