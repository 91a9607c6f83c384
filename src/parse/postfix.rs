//! Postfix's `main.cf`, read as data (postconf(5) syntax): the settings that decide the
//! address mail leaves from and the name it greets with. No `postconf` run: the file
//! is the configuration, and its syntax is small (`name = value`, continuation lines
//! that start with white space, `#` comment lines, `$name` / `${name}` expansion).

use crate::facts::Place;
use crate::facts::mail::{MtaSettings, Setting};
use crate::model::Family;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::path::Path;

/// Settings kept from one file: a hostile file cannot make the map unbounded.
const MAX_SETTINGS: usize = 4096;
/// Expansion depth (`$a` naming `$b` naming ...) before giving up on a value.
const MAX_DEPTH: usize = 8;
/// Longest expanded value.
const MAX_VALUE: usize = 4096;
/// Characters expansion may visit for one value, all levels together: references to
/// empty values never grow the output, so the output bound alone would not end it.
const EXPANSION_BUDGET: usize = 64 * 1024;

/// The settings of `main.cf` (`text`, read from `file`) that dsdoctor reads, with
/// Postfix's defaults where unset; `hostname` is the host's name (Postfix's default
/// `myhostname`).
pub fn settings(text: &str, file: &Path, hostname: &str) -> MtaSettings {
    let raw = assignments(text);
    let get = |name: &str| -> Option<Setting> {
        raw.get(name).map(|(value, line)| Setting {
            name: name.to_string(),
            value: clean(&expand(
                value,
                &raw,
                hostname,
                0,
                &std::cell::Cell::new(EXPANSION_BUDGET),
            )),
            at: Place::new(file, *line),
        })
    };
    let protocols = get("inet_protocols");
    let families = match &protocols {
        Some(s) => families(&s.value),
        None => Family::BOTH.to_vec(),
    };
    let nonempty = |s: Option<Setting>| s.filter(|s| !s.value.is_empty());
    let helo = nonempty(get("smtp_helo_name"))
        .or_else(|| nonempty(get("myhostname")))
        .or_else(|| {
            (!hostname.is_empty()).then(|| Setting {
                name: "myhostname".into(),
                value: clean(hostname),
                at: Place::new(Path::new("(default: the host name)"), 0),
            })
        });
    MtaSettings {
        file: clean(&file.to_string_lossy()),
        families,
        families_at: protocols.map(|s| s.at),
        bind_v4: nonempty(get("smtp_bind_address")),
        bind_v6: nonempty(get("smtp_bind_address6")),
        preference: nonempty(get("smtp_address_preference")),
        helo,
    }
}

/// `inet_protocols`: `all`, `ipv4`, `ipv6`, or a list of those.
fn families(value: &str) -> Vec<Family> {
    let words: Vec<String> = value
        .split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.iter().any(|w| w == "all") {
        return Family::BOTH.to_vec();
    }
    Family::BOTH
        .into_iter()
        .filter(|f| words.iter().any(|w| w == f.pick("ipv4", "ipv6")))
        .collect()
}

/// `name -> (value as written, line)`; the last assignment wins, as in Postfix.
fn assignments(text: &str) -> BTreeMap<String, (String, usize)> {
    let mut out: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut current: Option<(String, String, usize)> = None;
    let flush = |cur: &mut Option<(String, String, usize)>,
                 out: &mut BTreeMap<String, (String, usize)>| {
        if let Some((name, value, line)) = cur.take()
            && (out.len() < MAX_SETTINGS || out.contains_key(&name))
        {
            out.insert(name, (value.trim().to_string(), line));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation of the logical line before.
            if let Some((_, value, _)) = current.as_mut()
                && value.len() < MAX_VALUE
            {
                value.push(' ');
                value.push_str(trimmed);
            }
            continue;
        }
        flush(&mut current, &mut out);
        if let Some((name, value)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
            {
                current = Some((name.to_string(), value.trim().to_string(), i + 1));
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

/// `$name`, `${name}`, `$(name)` replaced by their values (defaults for the names
/// that matter here: `myhostname`, `mydomain`); `${name?x}` / `${name:x}` by `x` when
/// `name` is set / unset.
fn expand(
    value: &str,
    raw: &BTreeMap<String, (String, usize)>,
    hostname: &str,
    depth: usize,
    budget: &std::cell::Cell<usize>,
) -> String {
    if depth > MAX_DEPTH || budget.get() == 0 {
        return String::new();
    }
    let lookup = |name: &str| -> Option<String> {
        if let Some((v, _)) = raw.get(name) {
            return Some(expand(v, raw, hostname, depth + 1, budget));
        }
        match name {
            "myhostname" => Some(hostname.to_string()),
            "mydomain" => {
                let h = raw
                    .get("myhostname")
                    .map(|(v, _)| expand(v, raw, hostname, depth + 1, budget))
                    .unwrap_or_else(|| hostname.to_string());
                Some(h.split_once('.').map(|(_, d)| d.to_string()).unwrap_or(h))
            }
            _ => None,
        }
    };
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > MAX_VALUE || budget.get() == 0 {
            break;
        }
        budget.set(budget.get() - 1);
        if c != '$' {
            out.push(c);
            continue;
        }
        let close = match chars.peek() {
            Some('{') => Some('}'),
            Some('(') => Some(')'),
            _ => None,
        };
        if let Some(close) = close {
            chars.next();
            let mut body = String::new();
            for ch in chars.by_ref() {
                if ch == close {
                    break;
                }
                body.push(ch);
            }
            if let Some((name, alt)) = body.split_once('?') {
                if lookup(name).is_some_and(|v| !v.is_empty()) {
                    out.push_str(&expand(alt, raw, hostname, depth + 1, budget));
                }
            } else if let Some((name, alt)) = body.split_once(':') {
                if lookup(name).is_none_or(|v| v.is_empty()) {
                    out.push_str(&expand(alt, raw, hostname, depth + 1, budget));
                }
            } else {
                out.push_str(&lookup(&body).unwrap_or_default());
            }
        } else {
            let mut name = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_ascii_alphanumeric() || ch == '_' {
                    name.push(ch);
                    chars.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&lookup(&name).unwrap_or_default());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    fn read(text: &str) -> MtaSettings {
        settings(text, Path::new("/etc/postfix/main.cf"), "web1.shop.example")
    }

    #[test]
    fn the_sending_settings_with_lines_continuations_and_expansion() {
        let s = read(
            "mydomain = shop.example\nmyhostname = mail.$mydomain\n\
             inet_protocols =\n    ipv4\nsmtp_bind_address6 = 2001:db8:1::25\n\
             smtp_helo_name = ${myhostname}\nsmtp_address_preference = ipv6\n\
             inet_protocols = ipv4, ipv6\n",
        );
        assert_eq!(s.families, Family::BOTH.to_vec());
        assert_eq!(s.families_at.unwrap().line, 8);
        let b = s.bind_v6.unwrap();
        assert_eq!((b.value.as_str(), b.at.line), ("2001:db8:1::25", 5));
        assert_eq!(s.helo.unwrap().value, "mail.shop.example");
        assert_eq!(s.preference.unwrap().value, "ipv6");
        let v4 = read("inet_protocols = ipv4\n");
        assert_eq!(v4.families, vec![Family::V4]);
        // `:` gives its value when the name is empty, `?` when it is not; mydomain
        // has a default.
        let alt = read("smtp_helo_name = ${mydomain:a}x${nothing?y}${nothing:z}${mydomain?w}\n");
        assert_eq!(alt.helo.unwrap().value, "xzw");
    }

    #[test]
    fn expansion_loops_end() {
        let s = read("myhostname = $smtp_helo_name\nsmtp_helo_name = $myhostname\n");
        assert!(s.helo.is_none_or(|h| h.value.len() < 64));
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_main_cf(text in inputs::input_text("postfix", 40)) {
            let s = read(&text);
            for v in [&s.bind_v4, &s.bind_v6, &s.preference, &s.helo].into_iter().flatten() {
                proptest::prop_assert!(is_inert(&v.value) && v.value.len() <= 2 * MAX_VALUE + 64);
            }
        }
    }
}
