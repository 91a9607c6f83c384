//! Pure parsers for configuration files that decide whether a service is reachable over
//! IPv6. Each parser takes text (or a source of texts) and never touches the system
//! itself, except for the small loaders kept beside them.

pub mod addr;
pub mod apache;
pub mod apt;
pub mod caddy;
pub mod exim;
pub mod globalping;
pub mod haproxy;
pub mod hosts;
pub mod ipset;
pub mod iptables;
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
