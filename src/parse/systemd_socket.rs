//! systemd socket units: which addresses each `.socket` unit listens on
//! (`ListenStream=`), and whether its IPv6 sockets take IPv4 too (`BindIPv6Only=`), after
//! its drop-ins, read the way systemd loads units (systemd.unit(5), systemd.socket(5)):
//!
//! - the unit file is the first of its name in the search path (highest priority first);
//!   linked to `/dev/null` or empty, it is masked;
//! - drop-ins are the `*.conf` files of `NAME.socket.d/` (and of the type-wide
//!   `socket.d/` and the dash-prefix directories `a-.socket.d/`) in every unit
//!   directory; a name in a higher-priority directory hides the same name lower down;
//!   they apply after the unit file, in the order of their file names;
//! - an empty `ListenStream=` resets the list; the last `BindIPv6Only=` wins;
//! - a `ListenStream=` that is a port alone listens on `[::]:PORT`, like `[::]:PORT`,
//!   and `BindIPv6Only=` decides IPV6_V6ONLY there: `both`, `ipv6-only`, or `default`,
//!   which leaves it to `net.ipv6.bindv6only`.

use super::addr::{self, Wildcards};
use super::source::{ConfigSource, Limits, Reader, at};
use crate::facts::Place;
use crate::facts::servers::{
    BindAddr, Endpoint, Families, Ports, SocketUnit, SocketUnits, UnitListen, Written,
};
use crate::sanitize::clean;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The system unit search path, highest priority first (systemd.unit(5)); Debian
/// keeps its packages' units in `/lib/systemd/system`.
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// Socket units kept: a host has tens.
const MAX_UNITS: usize = 1024;
/// `ListenStream=` lines kept per unit.
const MAX_LISTENS: usize = 256;

/// Every socket unit in `dirs` (highest priority first), with its drop-ins applied.
pub fn read_units(src: &dyn ConfigSource, dirs: &[PathBuf], limits: &Limits) -> SocketUnits {
    let mut reader = Reader::new(src, limits);
    // The unit file of each name: the first directory that has one.
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut enabled: BTreeSet<String> = BTreeSet::new();
    for dir in dirs {
        let mut entries = src.list_dir(dir);
        entries.sort();
        for e in entries {
            let Some(name) = e.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if name.ends_with(".socket") && !src.is_dir(&e) {
                if files.len() >= MAX_UNITS && !files.contains_key(&name) {
                    reader.problem(format!(
                        "more than {MAX_UNITS} socket units, the rest not read"
                    ));
                    break;
                }
                files.entry(name).or_insert(e);
            } else if (name.ends_with(".wants") || name.ends_with(".requires")) && src.is_dir(&e) {
                for w in src.list_dir(&e) {
                    if let Some(n) = w.file_name() {
                        enabled.insert(n.to_string_lossy().into_owned());
                    }
                }
            }
        }
    }
    let mut units = Vec::new();
    for (name, file) in files {
        let dropins = dropins(src, dirs, &name);
        units.push(read_unit(
            &mut reader,
            &name,
            &file,
            dropins,
            enabled.contains(&name),
        ));
    }
    SocketUnits {
        dirs: dirs.to_vec(),
        units,
        problems: reader.problems,
    }
}

/// The drop-ins of unit `name` in apply order.
fn dropins(src: &dyn ConfigSource, dirs: &[PathBuf], name: &str) -> Vec<PathBuf> {
    let stem = name.strip_suffix(".socket").unwrap_or(name);
    // Most specific first, so that of two drop-ins of one name in one directory the
    // unit's own is kept.
    let mut subdirs = vec![format!("{name}.d")];
    let mut prefix = String::new();
    let parts: Vec<&str> = stem.split('-').collect();
    let mut prefixes = Vec::new();
    for p in parts.iter().take(parts.len().saturating_sub(1)) {
        prefix.push_str(p);
        prefix.push('-');
        prefixes.push(format!("{prefix}.socket.d"));
    }
    subdirs.extend(prefixes.into_iter().rev());
    subdirs.push("socket.d".to_owned());
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in dirs {
        for sub in &subdirs {
            for f in src.list_dir(&dir.join(sub)) {
                let Some(n) = f.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                    continue;
                };
                if n.ends_with(".conf") {
                    by_name.entry(n).or_insert(f);
                }
            }
        }
    }
    by_name.into_values().collect()
}

fn read_unit(
    reader: &mut Reader<'_>,
    name: &str,
    file: &Path,
    dropins: Vec<PathBuf>,
    enabled: bool,
) -> SocketUnit {
    let masked_link = reader
        .src
        .read_link(file)
        .is_some_and(|t| t == Path::new("/dev/null"));
    let mut unit = SocketUnit {
        name: clean(name),
        file: file.to_path_buf(),
        dropins: Vec::new(),
        masked: masked_link,
        enabled,
        listens: Vec::new(),
        bind_ipv6_only: None,
        service: None,
        accept: false,
    };
    if masked_link {
        return unit;
    }
    let Some(text) = reader.enter(file, None) else {
        return unit;
    };
    reader.leave();
    if text.trim().is_empty() {
        unit.masked = true;
        return unit;
    }
    // Parsed once the last `BindIPv6Only=` is known.
    let mut raw: Vec<(Place, String)> = Vec::new();
    apply(reader, &mut unit, &mut raw, file, &text);
    for d in dropins {
        let Some(text) = reader.enter(&d, None) else {
            continue;
        };
        reader.leave();
        apply(reader, &mut unit, &mut raw, &d, &text);
        unit.dropins.push(d);
    }
    let bind = unit.bind_ipv6_only.as_ref().map(|s| s.value.as_str());
    for (place, value) in raw {
        match listen_stream(&value, bind) {
            Ok(endpoint) => unit.listens.push(UnitListen {
                at: place,
                endpoint,
            }),
            Err(e) => reader.problem(format!(
                "{}: ListenStream={}: {e}",
                at(&place.file, place.line),
                clean(&value)
            )),
        }
    }
    unit
}

/// One file's assignments in the `[Socket]` section.
fn apply(
    reader: &mut Reader<'_>,
    unit: &mut SocketUnit,
    raw: &mut Vec<(Place, String)>,
    file: &Path,
    text: &str,
) {
    let mut section = String::new();
    for (start, full) in crate::parse::logical_lines(text, &['#', ';']) {
        let full = full.as_str();
        if full.is_empty() {
            continue;
        }
        if let Some(s) = full.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_owned();
            continue;
        }
        if section != "Socket" {
            continue;
        }
        let Some((key, value)) = full.split_once('=') else {
            reader.problem(format!("{}: not an assignment", at(file, start)));
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let setting = || Written {
            value: clean(value),
            at: Place::new(file, start),
        };
        match key {
            "ListenStream" if value.is_empty() => raw.clear(),
            "ListenStream" if raw.len() < MAX_LISTENS => {
                raw.push((Place::new(file, start), value.to_owned()));
            }
            "BindIPv6Only" => {
                unit.bind_ipv6_only = (!value.is_empty()).then(setting);
            }
            "Service" => unit.service = (!value.is_empty()).then(|| clean(value)),
            "Accept" => unit.accept = matches!(value, "yes" | "true" | "1" | "on"),
            _ => {}
        }
    }
}

/// A `ListenStream=` value: a port alone, `ADDRESS:PORT` (IPv6 in brackets, with an
/// optional `%interface`), or a unix socket path (`/run/x`, abstract `@x`) or `vsock:`.
fn listen_stream(value: &str, bind_ipv6_only: Option<&str>) -> Result<Endpoint, String> {
    if value.starts_with('/') || value.starts_with('@') || value.starts_with("vsock:") {
        return Ok(addr::not_ip(value, None, value));
    }
    // A port alone listens on `[::]`, like `[::]:PORT`.
    let wildcard6 = match bind_ipv6_only.unwrap_or("default") {
        "both" | "no" | "false" | "0" | "off" => Families::Both,
        "ipv6-only" | "yes" | "true" | "1" | "on" => Families::Ipv6,
        _ => Families::BothUnlessBindv6only,
    };
    let (bound, port) = if value.bytes().all(|c| c.is_ascii_digit()) {
        (BindAddr::Unspecified, addr::port(value)?)
    } else {
        let (host, port) = addr::host_port(value)?;
        let port = addr::port(port)?;
        // `%interface` binds to a device; the address is what counts for the family.
        let host = host.split_once('%').map_or(host, |(h, _)| h);
        let ip: IpAddr = host
            .parse()
            .map_err(|_| format!("'{}' is not an address", clean(host)))?;
        (BindAddr::from(ip), port)
    };
    let families = addr::families(
        &bound,
        &Wildcards {
            unspecified: wildcard6,
            v4: Families::Ipv4,
            v6: wildcard6,
        },
    );
    Ok(addr::endpoint(
        value,
        None,
        bound,
        Some(Ports::one(port)),
        families,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::source::{FsSource, MapSource};
    use crate::parse::test_support::{self, fixture, hostile_dir, refuses_hostile};
    use crate::testutil::{assert_mentions, is_inert};

    fn dirs() -> Vec<PathBuf> {
        [
            "/etc/systemd/system",
            "/run/systemd/system",
            "/lib/systemd/system",
        ]
        .map(PathBuf::from)
        .to_vec()
    }

    fn read(src: &MapSource) -> SocketUnits {
        read_units(src, &dirs(), &Limits::default())
    }

    /// Each `ListenStream=` as written, and its families.
    fn summary(u: &SocketUnit) -> Vec<(&str, Families)> {
        test_support::written_families(u.listens.iter().map(|l| &l.endpoint))
    }

    #[test]
    fn debian_ssh_socket_as_shipped() {
        // Debian 12's openssh-server, extracted from the package (not installed).
        let src = MapSource::new()
            .with(
                "/lib/systemd/system/ssh.socket",
                fixture("debian12/ssh.socket"),
            )
            .link(
                "/etc/systemd/system/sockets.target.wants/ssh.socket",
                "/lib/systemd/system/ssh.socket",
            );
        let units = read(&src);
        assert!(units.problems.is_empty(), "{:?}", units.problems);
        let u = &units.units[0];
        assert_eq!(u.name, "ssh.socket");
        assert!(u.enabled && !u.masked && !u.accept);
        assert_eq!(u.listens[0].at.line, 7);
        assert_eq!(u.listens[0].endpoint.addr, BindAddr::Unspecified);
        // `ListenStream=22` is `[::]:22`; with BindIPv6Only unset the kernel's default
        // decides whether IPv4 clients get in.
        assert_eq!(summary(u), vec![("22", Families::BothUnlessBindv6only)]);
    }

    #[test]
    fn ubuntu_ssh_socket_and_its_generator_dropin() {
        // Written as Ubuntu 24.04's openssh-server ships it (no Ubuntu package is
        // reachable here): one IPv4 and one IPv6-only socket.
        let src = MapSource::new().with(
            "/lib/systemd/system/ssh.socket",
            fixture("ubuntu2404/ssh.socket"),
        );
        let units = read(&src);
        let u = &units.units[0];
        assert_eq!(
            summary(u),
            vec![("0.0.0.0:22", Families::Ipv4), ("[::]:22", Families::Ipv6)]
        );
        assert_eq!(
            u.bind_ipv6_only
                .as_ref()
                .map(|b| (b.value.as_str(), b.at.line)),
            Some(("ipv6-only", 9))
        );
        // Ubuntu's sshd-socket-generator turns `Port 2222` in sshd_config into a drop-in
        // under /run/systemd/generator; an admin's drop-in in /etc wins by name order.
        let dirs = [
            "/etc/systemd/system",
            "/run/systemd/generator",
            "/lib/systemd/system",
        ]
        .map(PathBuf::from);
        let src = src
            .with(
                "/run/systemd/generator/ssh.socket.d/addresses.conf",
                "[Socket]\nListenStream=\nListenStream=0.0.0.0:2222\nListenStream=[::]:2222\n",
            )
            .with(
                "/etc/systemd/system/ssh.socket.d/override.conf",
                "[Socket]\nBindIPv6Only=both\n",
            );
        let units = read_units(&src, &dirs, &Limits::default());
        let u = &units.units[0];
        assert_eq!(
            summary(u),
            vec![
                ("0.0.0.0:2222", Families::Ipv4),
                ("[::]:2222", Families::Both)
            ]
        );
        assert_eq!(u.dropins.len(), 2);
        assert!(u.listens[0].at.file.ends_with("addresses.conf"));
        assert_eq!(u.listens[0].at.line, 3);
        assert_eq!(
            u.bind_ipv6_only.as_ref().map(|b| b.at.file.clone()),
            Some(PathBuf::from(
                "/etc/systemd/system/ssh.socket.d/override.conf"
            ))
        );
    }

    #[test]
    fn search_path_masks_and_dropin_order() {
        // Each file listens on a value of its own: the listens say which were read.
        let listening = [
            ("/lib/systemd/system/web.socket", "80"),
            ("/etc/systemd/system/web.socket", "8080"),
            ("/lib/systemd/system/off.socket", "1"),
            ("/lib/systemd/system/web.socket.d/10-a.conf", "1.2.3.4:81"),
            ("/run/systemd/system/web.socket.d/10-a.conf", "[::1]:82"),
            ("/lib/systemd/system/web.socket.d/05-x.txt", "99"),
            ("/lib/systemd/system/socket.d/00-all.conf", "7"),
            ("/lib/systemd/system/my-app.socket", "9"),
        ];
        let src = MapSource::new()
            .with_files(
                listening
                    .map(|(path, listen)| (path, format!("[Socket]\nListenStream={listen}\n"))),
            )
            .link("/etc/systemd/system/off.socket", "/dev/null")
            .with("/lib/systemd/system/empty.socket", "\n")
            .with(
                "/lib/systemd/system/web.socket.d/20-b.conf",
                "[Socket]\nBindIPv6Only=both\n",
            )
            .with(
                "/lib/systemd/system/my-.socket.d/x.conf",
                "[Socket]\nListenStream=\nListenStream=10\n",
            )
            .with("/lib/systemd/system/foo.service", "[Service]\n")
            .with("/lib/systemd/system/dir.socket/x", "");
        let units = read(&src);
        let by: BTreeMap<&str, &SocketUnit> =
            units.units.iter().map(|u| (u.name.as_str(), u)).collect();
        assert_eq!(by.len(), 4, "{:?}", by.keys());
        let web = by["web.socket"];
        assert_eq!(web.file, PathBuf::from("/etc/systemd/system/web.socket"));
        // socket.d first by name (00-all), then 10-a from /run (hides /lib's), 20-b.
        assert_eq!(
            summary(web),
            vec![
                ("8080", Families::Both),
                ("7", Families::Both),
                ("[::1]:82", Families::Ipv6)
            ]
        );
        assert!(by["off.socket"].masked && by["off.socket"].listens.is_empty());
        assert!(by["empty.socket"].masked);
        let app = by["my-app.socket"];
        assert_eq!(summary(app), vec![("10", Families::BothUnlessBindv6only)]);
    }

    #[test]
    fn listen_stream_forms_and_settings() {
        let src = MapSource::new().with(
            "/lib/systemd/system/x.socket",
            concat!(
                "[Unit]\nListenStream=1\n",
                "[Socket]\n",
                "# ListenStream=2\n",
                "; ListenStream=3\n",
                "ListenStream = 192.0.2.1:80\n",
                "ListenStream=[fe80::1%eth0]:81\n",
                "ListenStream=[::ffff:192.0.2.1]:82\n",
                "ListenStream=/run/x.sock\n",
                "ListenStream=@abstract\n",
                "ListenStream=vsock:2:1234\n",
                "ListenStream=\\\n",
                "  83\n",
                "ListenStream=localhost:84\n",
                "ListenStream=%i\n",
                "ListenStream=0\n",
                "garbage\n",
                "Accept=yes\n",
                "Service=other.service\n",
                "BindIPv6Only=ipv6-only\n",
                "BindIPv6Only=\n",
            ),
        );
        let units = read(&src);
        let u = &units.units[0];
        assert!(u.accept);
        assert_eq!(u.service.as_deref(), Some("other.service"));
        // The empty BindIPv6Only= resets to the default.
        assert_eq!(u.bind_ipv6_only, None);
        assert_eq!(
            summary(u),
            vec![
                ("192.0.2.1:80", Families::Ipv4),
                ("[fe80::1%eth0]:81", Families::Ipv6),
                ("[::ffff:192.0.2.1]:82", Families::Ipv4),
                ("/run/x.sock", Families::NotIp),
                ("@abstract", Families::NotIp),
                ("vsock:2:1234", Families::NotIp),
                ("83", Families::BothUnlessBindv6only),
            ]
        );
        assert_eq!(u.listens[1].endpoint.addr, test_support::ip("fe80::1"));
        assert_eq!(u.listens[3].endpoint.ports, None);
        assert_eq!(u.listens[6].at.line, 12);
        assert_mentions(
            &units.problems,
            "x.socket:14: ListenStream=localhost:84: 'localhost' is not an address",
        );
        assert_mentions(&units.problems, "x.socket:15: ListenStream=%i");
        assert_mentions(&units.problems, "x.socket:16: ListenStream=0: invalid port");
        assert_mentions(&units.problems, "x.socket:17: not an assignment");
    }

    #[test]
    fn hostile_unit_files() {
        let dir = hostile_dir(".socket");
        let d = dir.path();
        std::os::unix::fs::symlink("/dev/null", d.join("masked.socket")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.join("zero.socket")).unwrap();
        std::fs::write(
            d.join("evil.socket"),
            "[Socket]\nListenStream=\u{1b}[2J:80\n",
        )
        .unwrap();
        let units = refuses_hostile(
            ".socket",
            |u: &SocketUnits| &u.problems,
            || read_units(&FsSource::default(), &[d.to_path_buf()], &Limits::default()),
        );
        assert_eq!(units.units.len(), 5);
        assert_mentions(&units.problems, "zero.socket: not a regular file");
        assert!(
            units
                .units
                .iter()
                .any(|u| u.name == "masked.socket" && u.masked)
        );
        assert!(units.problems.iter().all(|p| is_inert(p)));
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_socket_units_never_panic(
            unit in test_support::input_with_fixtures(
                "systemd_socket",
                40,
                &["debian12/ssh.socket", "ubuntu2404/ssh.socket"],
            ),
            dropin in crate::testutil::inputs::soup_of("systemd_socket", 20),
        ) {
            let src = MapSource::new()
                .with(
                    "/lib/systemd/system/a-b.socket",
                    String::from_utf8_lossy(&unit).into_owned(),
                )
                .with("/etc/systemd/system/a-b.socket.d/x.conf", dropin);
            let units = read(&src);
            for u in &units.units {
                assert!(u.listens.iter().all(|l| is_inert(&l.endpoint.raw)));
            }
        }
    }
}
