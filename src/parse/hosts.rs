//! `/etc/hosts` (hosts(5)): an address, then a canonical name and aliases; `#` starts a
//! comment. What a line that glibc would skip (no valid address, no name) says is not
//! kept.

use crate::facts::Place;
use crate::facts::deps::HostsEntry;
use crate::sanitize::clean;
use std::net::IpAddr;
use std::path::Path;

/// Entries kept: a hosts file with more is a block list, not what services use.
pub const MAX_ENTRIES: usize = 10_000;
/// Names kept per line (glibc reads up to 35 aliases).
const MAX_NAMES: usize = 36;
/// Longest name kept (a DNS name has at most 253 characters).
const MAX_NAME: usize = 253;

pub fn parse(file: &Path, text: &str) -> Vec<HostsEntry> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_ascii_whitespace();
        let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) else {
            continue;
        };
        let names: Vec<String> = words
            .filter(|w| w.len() <= MAX_NAME)
            .take(MAX_NAMES)
            .map(|w| clean(&w.to_ascii_lowercase()))
            .filter(|w| !w.is_empty())
            .collect();
        if names.is_empty() {
            continue;
        }
        out.push(HostsEntry {
            at: Place::new(file, n + 1),
            ip,
            names,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    fn one(text: &str) -> Vec<HostsEntry> {
        parse(Path::new("/etc/hosts"), text)
    }

    #[test]
    fn debian_hosts_file_with_comments_and_aliases() {
        let e = one(
            "127.0.0.1\tlocalhost\n127.0.1.1 web1.example web1\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n10.1.2.3 DB.internal db # the database\n",
        );
        assert_eq!(e.len(), 4);
        assert_eq!(e[3].ip.to_string(), "10.1.2.3");
        assert_eq!(e[3].names, ["db.internal", "db"]);
        assert_eq!(e[3].at.line, 6);
        assert_eq!(e[2].names[0], "localhost");
    }

    #[test]
    fn lines_glibc_skips_are_not_entries() {
        let e = one(
            "10.1.2.3\nnot-an-ip name\n10.0.0.300 bad\nfe80::1%eth0 zoned\n# 10.9.9.9 commented\n",
        );
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn entries_are_bounded() {
        let text = "10.0.0.1 a\n".repeat(MAX_ENTRIES + 5);
        assert_eq!(one(&text).len(), MAX_ENTRIES);
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_hosts_never_panics_and_keeps_names_inert(text in inputs::input_text("hosts", 64)) {
            for e in one(&text) {
                assert!(e.at.line >= 1);
                assert!(!e.names.is_empty() && e.names.len() <= MAX_NAMES);
                for n in &e.names {
                    assert!(is_inert(n), "{n:?}");
                }
            }
        }
    }
}
