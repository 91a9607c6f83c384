//! apt's package sources: the one-line format (`sources.list`, `sources.list.d/*.list`,
//! sources.list(5)) and the deb822 format (`sources.list.d/*.sources`). Only the hosts
//! of network URIs are kept: those are what an IPv6-only host must still reach.

use super::source::ConfigSource;
use crate::facts::Place;
use crate::sanitize::clean;
use std::path::{Path, PathBuf};

/// URIs kept over all files: more is no hand-kept configuration, and each one costs a
/// DNS lookup.
pub const MAX_URIS: usize = 64;
/// Files read from `sources.list.d`.
const MAX_FILES: usize = 256;

/// One network URI of a source, where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUri {
    pub at: Place,
    pub uri: String,
    pub host: String,
}

/// Every source of the apt configuration under `root` (`/etc/apt`), in apt's order:
/// `sources.list`, then `sources.list.d` by name. Files that cannot be read are
/// listed in the second value.
pub fn load(src: &dyn ConfigSource, root: &Path) -> (Vec<SourceUri>, Vec<String>) {
    let mut files = vec![root.join("sources.list")];
    let mut dir: Vec<PathBuf> = src
        .list_dir(&root.join("sources.list.d"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
        .collect();
    dir.sort();
    files.extend(dir.into_iter().take(MAX_FILES));
    let (mut out, mut problems) = (Vec::new(), Vec::new());
    for f in files {
        match src.read(&f) {
            Ok(text) => {
                let deb822 = f.extension().is_some_and(|e| e == "sources");
                let found = if deb822 {
                    parse_deb822(&f, &text)
                } else {
                    parse_one_line(&f, &text)
                };
                out.extend(found);
            }
            Err(super::source::ReadError::NotFound) => {}
            Err(e) => problems.push(format!("{}: {}", f.display(), e.describe())),
        }
    }
    out.truncate(MAX_URIS);
    (out, problems)
}

/// `deb [ options ] uri suite [component ...]`, one source a line.
pub fn parse_one_line(file: &Path, text: &str) -> Vec<SourceUri> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if out.len() >= MAX_URIS {
            break;
        }
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(rest) = line
            .strip_prefix("deb-src")
            .or_else(|| line.strip_prefix("deb"))
        else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let rest = rest.trim_start();
        // The options are in brackets; a value may not hold `]`.
        let rest = match rest.strip_prefix('[') {
            Some(opts) => match opts.split_once(']') {
                Some((_, after)) => after.trim_start(),
                None => continue,
            },
            None => rest,
        };
        if let Some(uri) = rest.split_ascii_whitespace().next() {
            out.extend(source_uri(file, n + 1, uri));
        }
    }
    out
}

/// RFC 822-style stanzas separated by blank lines; `URIs:` may continue on lines that
/// start with white space; a stanza with `Enabled: no` is off.
pub fn parse_deb822(file: &Path, text: &str) -> Vec<SourceUri> {
    let mut out = Vec::new();
    let mut stanza: Vec<SourceUri> = Vec::new();
    let mut enabled = true;
    let mut in_uris = false;
    let finish = |stanza: &mut Vec<SourceUri>, enabled: &mut bool, out: &mut Vec<SourceUri>| {
        if *enabled {
            out.append(stanza);
        }
        stanza.clear();
        *enabled = true;
    };
    for (n, line) in text.lines().enumerate() {
        if out.len() + stanza.len() >= MAX_URIS {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            finish(&mut stanza, &mut enabled, &mut out);
            in_uris = false;
            continue;
        }
        let values = if line.starts_with([' ', '\t']) {
            if !in_uris {
                continue;
            }
            line
        } else {
            let Some((key, value)) = line.split_once(':') else {
                in_uris = false;
                continue;
            };
            let key = key.trim();
            in_uris = key.eq_ignore_ascii_case("uris");
            if key.eq_ignore_ascii_case("enabled") {
                enabled = !value.trim().eq_ignore_ascii_case("no");
            }
            if !in_uris {
                continue;
            }
            value
        };
        for uri in values.split_ascii_whitespace() {
            stanza.extend(source_uri(file, n + 1, uri));
        }
    }
    finish(&mut stanza, &mut enabled, &mut out);
    out.truncate(MAX_URIS);
    out
}

/// A URI apt fetches over the network (`http`, `https`, `ftp`, also behind the
/// `mirror+` and `tor+` transports), with its host; `None` for `file:`, `cdrom:` and
/// anything else.
fn source_uri(file: &Path, line: usize, uri: &str) -> Option<SourceUri> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let base = scheme
        .strip_prefix("mirror+")
        .or_else(|| scheme.strip_prefix("tor+"))
        .unwrap_or(&scheme);
    if !matches!(base, "http" | "https" | "ftp") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, _) = super::addr::host_maybe_port(authority).ok()?;
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'));
    ok.then(|| SourceUri {
        at: Place::new(file, line),
        uri: clean(uri),
        host: host.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::source::MapSource;
    use crate::testutil::{inputs, is_inert};

    /// A test's name, the parser, the file and its text, and the hosts with their lines.
    type Case<'a> = (
        &'a str,
        fn(&Path, &str) -> Vec<SourceUri>,
        &'a str,
        &'a str,
        &'a [(&'a str, usize)],
    );

    /// Each format's parser on a file of it: the hosts it names, with their lines.
    #[test]
    fn each_format_yields_its_hosts_and_lines() {
        let cases: [Case; 2] = [
            (
                "one_line_sources_with_options_and_comments",
                parse_one_line,
                "/etc/apt/sources.list",
                "# deb http://old.example/debian buster main\ndeb http://deb.debian.org/debian bookworm main\ndeb-src [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://user:pw@Mirror.Example:8443/debian bookworm main # x\ndeb file:/srv/repo ./\ndeb cdrom:[Debian]/ bookworm main\ndeb http://10.0.0.9/local ./\ndeb http://[2001:db8::7]/debian bookworm main\n",
                &[
                    ("deb.debian.org", 2),
                    ("mirror.example", 3),
                    ("10.0.0.9", 6),
                    ("2001:db8::7", 7),
                ],
            ),
            (
                "deb822_stanzas_continuations_and_disabled",
                parse_deb822,
                "/etc/apt/sources.list.d/debian.sources",
                "Types: deb\nURIs: http://deb.debian.org/debian\n mirror+http://mirrors.example/list\nSuites: bookworm\n\n# off\nTypes: deb\nEnabled: no\nURIs: http://10.0.0.9/off\n\nURIs: https://security.debian.org/debian-security\nSuites: bookworm-security\n",
                &[
                    ("deb.debian.org", 2),
                    ("mirrors.example", 3),
                    ("security.debian.org", 11),
                ],
            ),
        ];
        for (case, parse, file, text, want) in cases {
            let v = parse(Path::new(file), text);
            let got: Vec<(&str, usize)> = v.iter().map(|u| (u.host.as_str(), u.at.line)).collect();
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn load_reads_both_formats_in_apt_order() {
        let src = MapSource::new()
            .with("/etc/apt/sources.list", "deb http://a.example/d x main\n")
            .with(
                "/etc/apt/sources.list.d/b.sources",
                "URIs: http://b.example/d\n",
            )
            .with(
                "/etc/apt/sources.list.d/a.list",
                "deb http://c.example/d x m\n",
            )
            .with(
                "/etc/apt/sources.list.d/ignored.save",
                "deb http://no.example/ x\n",
            );
        let (v, problems) = load(&src, Path::new("/etc/apt"));
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<_> = v.iter().map(|u| u.host.as_str()).collect();
        assert_eq!(names, ["a.example", "c.example", "b.example"]);
    }

    #[test]
    fn uris_are_bounded() {
        let text = "deb http://a.example/ x\n".repeat(MAX_URIS * 2);
        assert_eq!(parse_one_line(Path::new("/l"), &text).len(), MAX_URIS);
        let text = format!("URIs:{}\n", " http://a.example/".repeat(MAX_URIS * 2));
        assert_eq!(parse_deb822(Path::new("/s"), &text).len(), MAX_URIS);
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_apt_sources_never_panic_and_stay_inert(text in inputs::input_text("apt", 64)) {
            let f = Path::new("/etc/apt/x");
            for u in parse_one_line(f, &text)
                .into_iter()
                .chain(parse_deb822(f, &text))
            {
                assert!(is_inert(&u.uri) && is_inert(&u.host), "{u:?}");
                assert!(!u.host.is_empty());
            }
        }
    }
}
