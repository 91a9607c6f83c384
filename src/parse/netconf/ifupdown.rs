//! ifupdown's `/etc/network/interfaces` (interfaces(5)), with `source` (a path or glob)
//! and `source-directory` (the names of a directory that run-parts would run:
//! letters, digits, `_` and `-`) followed through the shared include bookkeeping.
//!
//! Only interfaces named by `auto` or `allow-hotplug` are brought up at boot; their
//! `inet6` stanzas give the addresses (`address` with a prefix length or `netmask`),
//! the default route (`gateway`, or an `ip -6 route add default via ...` in an
//! `up`/`post-up` line, the way hosting providers document an on-link gateway), and
//! whether router advertisements are honoured (`auto`, `dhcp`, `accept_ra`).

use super::{cloud_init_marked, parse_net};
use crate::facts::Place;
use crate::facts::netconf::{DeclaredAddr, DeclaredRoute, IfaceConfig};
use crate::parse::source::{Reader, at};
use crate::sanitize::clean;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub const INTERFACES: &str = "/etc/network/interfaces";

/// Stanzas kept: a host has a handful.
const MAX_STANZAS: usize = 1024;
const MAX_ITEMS: usize = 256;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Interfaces {
    /// Interfaces brought up at boot, with what their stanzas declare.
    pub interfaces: Vec<IfaceConfig>,
    /// Interfaces with an inet6 stanza that nothing brings up at boot.
    pub not_at_boot: Vec<(String, PathBuf, usize)>,
}

struct Stanza {
    cfg: IfaceConfig,
    method: String,
    accept_ra: Option<i64>,
    autoconf: Option<bool>,
}

struct State {
    auto: BTreeSet<String>,
    stanzas: Vec<Stanza>,
    /// Index of the inet6 stanza being read, if the current stanza is one.
    current: Option<usize>,
}

/// Read `main` and everything it sources.
pub fn parse(reader: &mut Reader<'_>, main: &Path) -> Interfaces {
    let mut st = State {
        auto: BTreeSet::new(),
        stanzas: Vec::new(),
        current: None,
    };
    read_file(reader, &mut st, main, None);
    let mut out = Interfaces::default();
    for s in st.stanzas {
        let mut cfg = s.cfg;
        cfg.accept_ra = match s.accept_ra {
            Some(v) => v > 0 && s.autoconf != Some(false),
            // interfaces(5): `auto` and `dhcp` accept RAs by default (accept_ra 2
            // and 1); `static` turns stateless autoconfiguration off unless
            // `autoconf 1` says otherwise.
            None => match s.method.as_str() {
                "auto" | "dhcp" => true,
                "static" => s.autoconf == Some(true),
                _ => false,
            },
        };
        cfg.dhcp6 = s.method == "dhcp";
        if st.auto.contains(&cfg.name) {
            out.interfaces.push(cfg);
        } else {
            out.not_at_boot.push((cfg.name, cfg.at.file, cfg.at.line));
        }
    }
    out
}

fn read_file(reader: &mut Reader<'_>, st: &mut State, path: &Path, origin: Option<&str>) {
    let Some(text) = reader.enter(path, origin) else {
        return;
    };
    let cloud = cloud_init_marked(path, &text);
    st.current = None;
    for (start, full) in crate::parse::logical_lines(&text, &['#']) {
        line_of_config(reader, st, path, start, &full, cloud);
    }
    reader.leave();
}

fn line_of_config(
    reader: &mut Reader<'_>,
    st: &mut State,
    path: &Path,
    line: usize,
    text: &str,
    cloud: bool,
) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(&first) = words.first() else { return };
    let here = at(path, line);
    match first {
        "auto" | "allow-auto" | "allow-hotplug" => {
            st.current = None;
            st.auto.extend(words[1..].iter().map(|w| clean(w)));
        }
        "source" => {
            st.current = None;
            for pattern in &words[1..] {
                include(reader, st, path, pattern, &here, false);
            }
        }
        "source-directory" => {
            st.current = None;
            for dir in &words[1..] {
                include(reader, st, path, dir, &here, true);
            }
        }
        "iface" => {
            st.current = None;
            if words.len() < 4 || words[2] != "inet6" {
                return;
            }
            if st.stanzas.len() >= MAX_STANZAS {
                reader.problem(format!("{here}: more than {MAX_STANZAS} stanzas, not read"));
                return;
            }
            st.stanzas.push(Stanza {
                cfg: IfaceConfig {
                    name: clean(words[1]),
                    id: clean(words[1]),
                    at: Place {
                        file: path.to_path_buf(),
                        line,
                    },
                    addresses: Vec::new(),
                    routes: Vec::new(),
                    accept_ra: false,
                    dhcp6: false,
                    cloud_init: cloud,
                },
                method: words[3].to_owned(),
                accept_ra: None,
                autoconf: None,
            });
            st.current = Some(st.stanzas.len() - 1);
        }
        "mapping" | "rename" => st.current = None,
        _ => {
            let Some(i) = st.current else { return };
            option(&mut st.stanzas[i], path, line, &words);
        }
    }
}

fn include(
    reader: &mut Reader<'_>,
    st: &mut State,
    from: &Path,
    arg: &str,
    here: &str,
    directory: bool,
) {
    // Relative paths are taken from the directory of the interfaces file.
    let base = from.parent().unwrap_or(Path::new("/etc/network"));
    let target = if Path::new(arg).is_absolute() {
        PathBuf::from(arg)
    } else {
        base.join(arg)
    };
    let files: Vec<PathBuf> = if directory {
        let mut names: Vec<PathBuf> = reader
            .src
            .list_dir(&target)
            .into_iter()
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    !n.is_empty()
                        && n.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                })
            })
            .collect();
        names.sort();
        names
    } else {
        let dir = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        let pattern = target
            .file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .unwrap_or_default();
        if crate::parse::has_glob_chars(&String::from_utf8_lossy(&pattern)) {
            reader.glob(&dir, &pattern)
        } else {
            vec![target]
        }
    };
    for f in files {
        if reader.src.is_dir(&f) {
            continue;
        }
        read_file(reader, st, &f, Some(here));
    }
    st.current = None;
}

fn option(s: &mut Stanza, path: &Path, line: usize, words: &[&str]) {
    let arg = words.get(1).copied().unwrap_or("");
    let cfg = &mut s.cfg;
    match words[0] {
        "address" if cfg.addresses.len() < MAX_ITEMS => {
            let net = if arg.contains('/') {
                parse_net(arg)
            } else {
                // `netmask` may follow on another line; 64 until it does.
                parse_net(&format!("{arg}/64"))
            };
            if let Some(net) = net.filter(|n| n.addr().is_ipv6()) {
                cfg.addresses.push(DeclaredAddr::new(net, path, line));
            }
        }
        "netmask" => {
            if let (Some(last), Ok(p)) = (cfg.addresses.last_mut(), arg.parse::<u8>())
                && let Ok(n) = ipnet::IpNet::new(last.net.addr(), p)
            {
                last.net = n;
            }
        }
        "gateway" => {
            if let Ok(g) = arg.parse::<IpAddr>() {
                cfg.routes.push(DeclaredRoute::default_via(g, path, line));
            }
        }
        "accept_ra" => s.accept_ra = arg.parse().ok(),
        "autoconf" => s.autoconf = Some(arg == "1"),
        "up" | "post-up" => {
            if let Some(r) = ip_route_default(&words[1..], path, line)
                && cfg.routes.len() < MAX_ITEMS
            {
                cfg.routes.push(r);
            }
        }
        _ => {}
    }
}

/// `[/sbin/]ip [-6] route add|replace default via GW [dev IF] [onlink]`, as an
/// `up` command declares the default route.
fn ip_route_default(cmd: &[&str], path: &Path, line: usize) -> Option<DeclaredRoute> {
    let mut w = cmd.iter().copied().skip_while(|x| !x.ends_with("ip"));
    w.next()?;
    let rest: Vec<&str> = w
        .filter(|x| *x != "-6" && *x != "-family" && *x != "inet6")
        .collect();
    let [
        "route" | "r" | "ro",
        "add" | "replace" | "a",
        "default" | "::/0",
        "via",
        gw,
        more @ ..,
    ] = rest.as_slice()
    else {
        return None;
    };
    let gateway: IpAddr = gw.parse().ok()?;
    gateway.is_ipv6().then(|| DeclaredRoute {
        dst: None,
        gateway: Some(gateway),
        on_link: more.contains(&"onlink"),
        at: Place {
            file: path.to_path_buf(),
            line,
        },
    })
}
