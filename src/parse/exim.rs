//! Exim's run-time configuration, read as data for the settings that decide the
//! address mail leaves from: `disable_ipv6` and `primary_hostname` in the main section,
//! and the `interface` and `helo_data` options of the transports (only the smtp
//! transport has them). Macros
//! (`NAME = value` lines) are substituted and `.ifdef`/`.ifndef`/`.elifdef`/`.else`/
//! `.endif` followed, which Debian's generated configuration relies on
//! (`REMOTE_SMTP_INTERFACE`). Expansion strings (`${...}`) are not evaluated: a setting
//! that holds one is kept as written and not taken for an address. `.include` is not
//! followed.

use crate::facts::Place;
use crate::facts::mail::{MtaSettings, Setting};
use crate::model::Family;
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// Macros kept; a hostile file cannot make the map unbounded.
const MAX_MACROS: usize = 1024;
/// Longest value after macro substitution.
const MAX_VALUE: usize = 4096;
/// Nesting of conditionals followed.
const MAX_NESTING: usize = 32;
/// Bytes macro substitution may scan in all: a hostile file of many macros and long
/// lines would otherwise cost macros × lines × length.
const SUBSTITUTION_BUDGET: usize = 32 << 20;

/// The settings of Exim's configuration `text` (read from `file`); `hostname` is
/// Exim's default `primary_hostname`.
pub fn settings(text: &str, file: &Path, hostname: &str) -> MtaSettings {
    let mut macros: BTreeMap<String, String> = BTreeMap::new();
    let budget = std::cell::Cell::new(SUBSTITUTION_BUDGET);
    // Per open conditional: (this branch is taken, a branch was taken already).
    let mut conds: Vec<(bool, bool)> = Vec::new();
    let mut section = String::new();
    let mut out = MtaSettings {
        file: clean(&file.to_string_lossy()),
        families: Family::BOTH.to_vec(),
        ..MtaSettings::default()
    };
    let mut primary: Option<Setting> = None;
    let mut helo: Option<Setting> = None;
    let at = |line: usize| Place::new(file, line);
    for (i, raw) in logical_lines(text) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(d) = line.strip_prefix('.') {
            let (word, arg) = d.split_once(char::is_whitespace).unwrap_or((d, ""));
            let defined = macros.contains_key(arg.trim());
            match word {
                "ifdef" | "ifndef" if conds.len() < MAX_NESTING => {
                    let on = (word == "ifdef") == defined;
                    conds.push((on, on));
                }
                "elifdef" | "elifndef" => {
                    if let Some((on, taken)) = conds.last_mut() {
                        let want = (word == "elifdef") == defined;
                        *on = !*taken && want;
                        *taken |= *on;
                    }
                }
                "else" => {
                    if let Some((on, taken)) = conds.last_mut() {
                        *on = !*taken;
                        *taken = true;
                    }
                }
                "endif" => {
                    conds.pop();
                }
                _ => {}
            }
            continue;
        }
        if !conds.iter().all(|(on, _)| *on) {
            continue;
        }
        if let Some(rest) = line.strip_prefix("begin ") {
            section = rest.trim().to_ascii_lowercase();
            continue;
        }
        // A macro definition: a name that starts with an upper-case letter.
        if line.starts_with(|c: char| c.is_ascii_uppercase())
            && let Some((name, value)) = line.split_once('=')
            && name
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            if macros.len() < MAX_MACROS {
                let v = substitute(value.trim(), &macros, &budget);
                macros.insert(name.trim().to_string(), v);
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = substitute(value.trim(), &macros, &budget);
        let setting = |name: &str, value: &str| Setting {
            name: name.to_string(),
            value: clean(value),
            at: at(i),
        };
        match (section.as_str(), key.as_str()) {
            ("", "disable_ipv6")
                if matches!(value.to_ascii_lowercase().as_str(), "true" | "yes") =>
            {
                out.families = vec![Family::V4];
                out.families_at = Some(at(i));
            }
            ("", "primary_hostname") => primary = Some(setting("primary_hostname", &value)),
            ("transports", "interface") => {
                for (family, ip) in interface_addresses(&value) {
                    let s = setting("interface", &ip.to_string());
                    let slot = family.pick(&mut out.bind_v4, &mut out.bind_v6);
                    slot.get_or_insert(s);
                }
            }
            ("transports", "helo_data") if !value.contains('$') => {
                helo.get_or_insert(setting("helo_data", &value));
            }
            _ => {}
        }
    }
    out.helo = helo.or(primary).or_else(|| {
        (!hostname.is_empty()).then(|| Setting {
            name: "primary_hostname".into(),
            value: clean(hostname),
            at: Place::new(Path::new("(default: the host name)"), 0),
        })
    });
    out
}

/// Lines with Exim's continuation (a trailing backslash joins the next line), each with
/// the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let (n, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let piece = if acc.is_empty() {
            line
        } else {
            line.trim_start()
        };
        if let Some(cont) = piece.strip_suffix('\\')
            && acc.len() < MAX_VALUE
        {
            acc.push_str(cont);
            pending = Some((n, acc));
            continue;
        }
        acc.push_str(piece);
        out.push((n, acc));
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// `value` with every macro name replaced by its value (longest names first, once).
fn substitute(
    value: &str,
    macros: &BTreeMap<String, String>,
    budget: &std::cell::Cell<usize>,
) -> String {
    let mut names: Vec<&String> = macros.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = value.to_string();
    for n in names {
        // Once the budget is spent values stay as written (unexpanded, no address).
        let Some(left) = budget.get().checked_sub(out.len()) else {
            break;
        };
        budget.set(left);
        if out.contains(n.as_str()) {
            out = out.replace(n.as_str(), &macros[n]);
            if out.len() > MAX_VALUE {
                let mut end = MAX_VALUE;
                while !out.is_char_boundary(end) {
                    end -= 1;
                }
                out.truncate(end);
            }
        }
    }
    out
}

/// The addresses of an `interface` list: `<; 192.0.2.1 ; 2001:db8::1` (the separator
/// after `<`), or colon-separated IPv4; anything with an expansion is no address.
fn interface_addresses(value: &str) -> Vec<(Family, IpAddr)> {
    if value.contains('$') {
        return Vec::new();
    }
    let (sep, list) = match value.strip_prefix('<') {
        Some(rest) => match rest.chars().next() {
            Some(c) if !c.is_whitespace() => (c, &rest[c.len_utf8()..]),
            _ => (':', rest),
        },
        None => (':', value),
    };
    list.split(sep)
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .map(|ip| (Family::of(ip), ip))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    fn read(text: &str) -> MtaSettings {
        settings(
            text,
            Path::new("/var/lib/exim4/config.autogenerated"),
            "web1",
        )
    }

    #[test]
    fn debian_macros_conditionals_and_the_interface_list() {
        let s = read(
            "REMOTE_SMTP_INTERFACE = <; 203.0.113.10 ; 2001:db8:1::10\n\
             primary_hostname = mail.shop.example\n\
             disable_ipv6 = false\n\
             begin transports\n\
             remote_smtp:\n  debug_print = \"T: remote_smtp\"\n  driver = smtp\n\
             .ifdef REMOTE_SMTP_INTERFACE\n  interface = REMOTE_SMTP_INTERFACE\n.endif\n\
             .ifdef REMOTE_SMTP_HELO_DATA\n  helo_data = REMOTE_SMTP_HELO_DATA\n\
             .else\n  helo_data = other.shop.example\n.endif\n",
        );
        let v6 = s.bind_v6.unwrap();
        assert_eq!(
            (v6.name.as_str(), v6.value.as_str(), v6.at.line),
            ("interface", "2001:db8:1::10", 9)
        );
        assert_eq!(s.bind_v4.unwrap().value, "203.0.113.10");
        assert_eq!(s.families, Family::BOTH.to_vec());
        assert_eq!(s.helo.unwrap().value, "other.shop.example");
    }

    #[test]
    fn disable_ipv6_and_expansions() {
        let s = read(
            "disable_ipv6 = true\nbegin transports\nremote_smtp:\n  driver = smtp\n  \
             interface = ${if eq{$sender_address_domain}{a}{192.0.2.1}}\n  \
             helo_data = ${primary_hostname}\n",
        );
        assert_eq!(s.families, vec![Family::V4]);
        assert_eq!(s.families_at.unwrap().line, 1);
        assert!(s.bind_v4.is_none(), "an expansion is no address");
        assert_eq!(s.helo.unwrap().name, "primary_hostname");
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_exim_configuration(text in inputs::input_text("exim", 40)) {
            let s = read(&text);
            for v in [&s.bind_v4, &s.bind_v6, &s.helo].into_iter().flatten() {
                proptest::prop_assert!(is_inert(&v.value) && v.value.len() <= MAX_VALUE + 64);
            }
        }
    }
}
