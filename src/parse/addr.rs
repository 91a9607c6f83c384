//! What the servers' address parsers share: ports and port ranges, `host:port` with an
//! IPv6 address in brackets, and which families a bound address takes. A server that
//! reads addresses its own way keeps its rule in its parser: nginx takes the first
//! colon as the port's and has facts of its own in the snapshot format, Caddy's site
//! addresses are URLs, and the runtimes' hints are read leniently.

use crate::facts::Place;
use crate::facts::servers::{BindAddr, Endpoint, Families, Ports, ProxyTarget, TargetHost};
use crate::sanitize::clean;
use std::net::IpAddr;
use std::path::Path;

/// A port: decimal, at most five characters, not 0.
pub fn port(s: &str) -> Result<u16, String> {
    match any_port(s)? {
        0 => Err(invalid_port(s)),
        p => Ok(p),
    }
}

/// A port, 0 included: Go's `net` (Caddy) binds any free port for it.
pub fn any_port(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if s.len() <= 5 => Ok(p),
        _ => Err(invalid_port(s)),
    }
}

fn invalid_port(s: &str) -> String {
    format!("invalid port '{}'", clean(s))
}

/// `first-last`, or one port, each read by `one`.
pub fn port_range(s: &str, one: fn(&str) -> Result<u16, String>) -> Result<Ports, String> {
    let (first, last) = s.split_once('-').unwrap_or((s, s));
    let ports = Ports {
        first: one(first)?,
        last: one(last)?,
    };
    if ports.last < ports.first {
        return Err(format!("invalid port range '{}'", clean(s)));
    }
    Ok(ports)
}

/// `host:port` or `[ipv6]:port`, the port required. The last colon separates it, so
/// `::1:80` is `::1` port 80, as HAProxy's `bind` and systemd's `ListenStream=` read it.
pub fn host_port(s: &str) -> Result<(&str, &str), &'static str> {
    match s.strip_prefix('[') {
        Some(inner) => {
            let (host, after) = inner.split_once(']').ok_or("missing ']'")?;
            Ok((host, after.strip_prefix(':').ok_or("missing port")?))
        }
        None => s.rsplit_once(':').ok_or("missing port"),
    }
}

/// `host[:port]` or `[ipv6][:port]`, the port optional: an IPv6 address without
/// brackets has none (Apache's and Caddy's addresses).
pub fn host_maybe_port(s: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or("missing ']'")?;
        let port = match after {
            "" => None,
            a => Some(a.strip_prefix(':').ok_or("invalid address")?),
        };
        return Ok((host, port));
    }
    Ok(match s.rsplit_once(':') {
        Some((h, _)) if h.contains(':') => (s, None),
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    })
}

/// An IP address, else a host name the server resolves when it starts.
pub fn ip_or_host(host: &str) -> BindAddr {
    host.parse::<IpAddr>()
        .map_or_else(|_| BindAddr::Host(clean(host)), BindAddr::from)
}

/// What a server makes of the wildcard addresses. Every other address takes what the
/// address alone says: an IPv4 one IPv4, a v4-mapped IPv6 one IPv4 (only IPv4 clients
/// reach it), any other IPv6 one IPv6, a host name the families it resolves to.
pub struct Wildcards {
    /// No address written (`Listen 80`, `ListenStream=80`, Caddy's `:80`).
    pub unspecified: Families,
    /// `0.0.0.0`.
    pub v4: Families,
    /// `::`.
    pub v6: Families,
}

impl Wildcards {
    /// Every wildcard takes both families.
    pub const BOTH: Wildcards = Wildcards {
        unspecified: Families::Both,
        v4: Families::Both,
        v6: Families::Both,
    };
}

/// Which families of clients can connect to `addr`, bound by a server with these
/// wildcard rules.
pub fn families(addr: &BindAddr, wildcards: &Wildcards) -> Families {
    match addr {
        BindAddr::Unspecified => wildcards.unspecified,
        BindAddr::V4(ip) if ip.is_unspecified() => wildcards.v4,
        BindAddr::V4(_) => Families::Ipv4,
        BindAddr::V6(ip) if ip.is_unspecified() => wildcards.v6,
        BindAddr::V6(ip) if ip.to_ipv4_mapped().is_some() => Families::Ipv4,
        BindAddr::V6(_) => Families::Ipv6,
        BindAddr::Host(_) => Families::OfResolvedName,
        BindAddr::Other(_) => Families::NotIp,
    }
}

/// An endpoint for the facts, `raw` and `prefix` made safe to print.
pub fn endpoint(
    raw: &str,
    prefix: Option<&str>,
    addr: BindAddr,
    ports: Option<Ports>,
    families: Families,
) -> Endpoint {
    Endpoint {
        raw: clean(raw),
        prefix: prefix.map(clean),
        addr,
        ports,
        families,
    }
}

/// A socket that is not IP (a unix socket, an inherited descriptor), `what` naming it.
pub fn not_ip(raw: &str, prefix: Option<&str>, what: &str) -> Endpoint {
    endpoint(
        raw,
        prefix,
        BindAddr::Other(clean(what)),
        None,
        Families::NotIp,
    )
}

/// Proxy targets kept per server: a configuration with more is generated, and the
/// first ones already tell what it needs.
pub const MAX_PROXY_TARGETS: usize = 4096;

/// Longest proxy target kept, as written: a URL longer than this is not a backend.
const MAX_TARGET: usize = 512;

/// The host of a proxy target (`http://10.0.0.5:8080/app`, `10.0.0.5:9000`,
/// `[2001:db8::5]:80`, `ipv4@10.0.0.5:80`, `backend_name`): `None` for a unix socket,
/// a value with variables (known only per request), or anything that is no host.
pub fn target_host(raw: &str) -> Option<TargetHost> {
    let s = raw.trim();
    if s.is_empty() || s.len() > MAX_TARGET {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("unix:") || lower.starts_with("unix@") || lower.starts_with('/') {
        return None;
    }
    let rest = match s.split_once("://") {
        Some((_, rest)) => rest,
        None => s,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // `user:password@host` in a URL, `ipv4@`/`ipv6@` in an HAProxy address.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // A variable in the host is resolved per request: no host to name here.
    if authority.contains(['$', '%']) {
        return None;
    }
    let (host, _) = host_maybe_port(authority).ok()?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(TargetHost::Ip(ip));
    }
    let name_like = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    name_like.then(|| TargetHost::Name(host.to_ascii_lowercase()))
}

/// A proxy target read at `file:line`, when it names a host.
pub fn proxy_target(file: &Path, line: usize, directive: &str, raw: &str) -> Option<ProxyTarget> {
    let host = target_host(raw)?;
    Some(ProxyTarget {
        at: Place::new(file, line),
        directive: clean(directive),
        raw: clean(raw),
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_ranges() {
        assert_eq!(port("443"), Ok(443));
        for bad in ["0", "00000", "65536", "080000", "x", "", " 80"] {
            assert!(port(bad).is_err(), "{bad}");
        }
        assert_eq!(any_port("0"), Ok(0));
        assert_eq!(port_range("80", port), Ok(Ports::one(80)));
        assert_eq!(
            port_range("8000-8010", port),
            Ok(Ports {
                first: 8000,
                last: 8010
            })
        );
        assert_eq!(
            port_range("9-8", port),
            Err("invalid port range '9-8'".into())
        );
        assert!(port_range("80-", port).is_err());
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_port("::1:80"), Ok(("::1", "80")));
        assert_eq!(host_port("[::1]:80"), Ok(("::1", "80")));
        assert_eq!(host_port(":80"), Ok(("", "80")));
        for bad in ["80", "[::1]", "[::1", "[::1]x"] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
        assert_eq!(host_maybe_port("::1"), Ok(("::1", None)));
        assert_eq!(host_maybe_port("[::1]"), Ok(("::1", None)));
        assert_eq!(host_maybe_port("a:80"), Ok(("a", Some("80"))));
        assert_eq!(host_maybe_port("a"), Ok(("a", None)));
        assert!(host_maybe_port("[::1]x").is_err());
        assert!(host_maybe_port("[::1").is_err());
    }

    #[test]
    fn families_of_addresses() {
        let apache_listen = Wildcards {
            unspecified: Families::Both,
            v4: Families::Ipv4,
            v6: Families::BothIfV4Mapped,
        };
        let of = |s: &str| families(&ip_or_host(s), &apache_listen);
        assert_eq!(
            families(&BindAddr::Unspecified, &apache_listen),
            Families::Both
        );
        assert_eq!(of("0.0.0.0"), Families::Ipv4);
        assert_eq!(of("::"), Families::BothIfV4Mapped);
        assert_eq!(of("192.0.2.1"), Families::Ipv4);
        assert_eq!(of("::ffff:192.0.2.1"), Families::Ipv4);
        assert_eq!(of("2001:db8::1"), Families::Ipv6);
        assert_eq!(of("localhost"), Families::OfResolvedName);
        assert_eq!(
            families(&BindAddr::Other("/run/x".into()), &Wildcards::BOTH),
            Families::NotIp
        );
        assert_eq!(ip_or_host("\u{1b}x"), BindAddr::Host("x".into()));
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        /// What the shared rules accept, they accept exactly: the pieces put back
        /// together give the text again, a port reads back as itself, a range runs
        /// upwards; what they refuse they name inertly.
        #[test]
        fn fuzz_addresses_split_into_what_they_were_made_of(
            s in crate::testutil::inputs::input_text("addr", 8),
        ) {
            use crate::testutil::is_inert;
            match port(&s) {
                Ok(p) => {
                    assert!(p != 0 && s.len() <= 5, "{s:?}");
                    assert_eq!(port(&p.to_string()), Ok(p));
                }
                Err(e) => assert!(is_inert(&e), "{e:?}"),
            }
            match port_range(&s, any_port) {
                Ok(r) => assert!(r.first <= r.last, "{s:?} -> {r:?}"),
                Err(e) => assert!(is_inert(&e), "{e:?}"),
            }
            if let Ok((h, p)) = host_port(&s) {
                assert!(s == format!("{h}:{p}") || s == format!("[{h}]:{p}"), "{s:?}");
            }
            match host_maybe_port(&s) {
                Ok((h, Some(p))) => {
                    assert!(s == format!("{h}:{p}") || s == format!("[{h}]:{p}"), "{s:?}");
                }
                Ok((h, None)) => assert!(s == h || s == format!("[{h}]"), "{s:?}"),
                Err(_) => {}
            }
            if let BindAddr::Host(h) = ip_or_host(&s) {
                assert!(is_inert(&h), "{h:?}");
            }
        }

        /// Any socket address as Rust writes it (`[v6]:port`, `v4:port`) comes back as
        /// its address and port.
        #[test]
        fn fuzz_socket_addresses_round_trip(
            ip in proptest::prelude::any::<IpAddr>(),
            p in 1u16..,
        ) {
            let text = std::net::SocketAddr::new(ip, p).to_string();
            let (h, ps) = host_port(&text).unwrap();
            assert_eq!(h.parse::<IpAddr>(), Ok(ip), "{text}");
            assert_eq!(port(ps), Ok(p), "{text}");
            let (h, ps) = host_maybe_port(&text).unwrap();
            assert_eq!((h.parse::<IpAddr>(), ps.map(port)), (Ok(ip), Some(Ok(p))), "{text}");
            let wanted = if ip.is_unspecified() {
                Families::Both
            } else {
                match ip {
                    IpAddr::V4(_) => Families::Ipv4,
                    IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Families::Ipv4,
                    IpAddr::V6(_) => Families::Ipv6,
                }
            };
            assert_eq!(families(&ip_or_host(h), &Wildcards::BOTH), wanted, "{text}");
        }
    }
}
