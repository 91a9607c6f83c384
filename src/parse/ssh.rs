//! `SSH_CONNECTION` (set by sshd for the session: client address, client port, server
//! address, server port, separated by spaces) → [`SshSession`]. Pure, strict: anything
//! else in the variable is not a session.

use crate::facts::firewall::SshSession;
use std::net::IpAddr;

/// Longer than any two IPv6 addresses and two ports with spaces.
const MAX_LEN: usize = 128;

pub fn session(text: &str) -> Option<SshSession> {
    if text.len() > MAX_LEN {
        return None;
    }
    let parts: Vec<&str> = text.trim_end_matches('\n').split(' ').collect();
    let [client, cport, server, sport] = parts.as_slice() else {
        return None;
    };
    // sshd prints an IPv4 client of a dual-stack socket as the IPv4 address; a mapped
    // form is taken as the IPv4 address too.
    let ip = |s: &str| s.parse::<IpAddr>().ok().map(|i| i.to_canonical());
    let port = |s: &str| {
        (s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() && s.len() <= 5)
            .then(|| s.parse::<u16>().ok())
            .flatten()
            .filter(|p| *p != 0)
    };
    let s = SshSession {
        client: ip(client)?,
        client_port: port(cport)?,
        server: ip(server)?,
        server_port: port(sport)?,
    };
    (s.client.is_ipv4() == s.server.is_ipv4()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::inputs;

    #[test]
    fn reads_the_four_fields_strictly() {
        let s = session("2001:db8:5::7 50312 2001:db8:1::10 22").unwrap();
        assert_eq!(s.client, "2001:db8:5::7".parse::<IpAddr>().unwrap());
        assert_eq!((s.client_port, s.server_port), (50312, 22));
        let v4 = session("::ffff:198.51.100.7 4000 ::ffff:203.0.113.10 2222\n").unwrap();
        assert!(v4.client.is_ipv4() && v4.server.is_ipv4());
        for bad in [
            "",
            "198.51.100.7 4000 203.0.113.10",
            "198.51.100.7 4000 203.0.113.10 22 extra",
            "198.51.100.7  4000 203.0.113.10 22",
            "198.51.100.7 +4000 203.0.113.10 22",
            "198.51.100.7 0 203.0.113.10 22",
            "198.51.100.7 4000 203.0.113.10 65536",
            "fe80::1%eth0 4000 fe80::2%eth0 22",
            "198.51.100.7 4000 2001:db8::1 22",
            "host.example 4000 203.0.113.10 22",
        ] {
            assert_eq!(session(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_ssh_connection_never_panics(text in inputs::input_text("ssh", 16)) {
            if let Some(s) = session(&text) {
                assert_eq!(s.client.is_ipv4(), s.server.is_ipv4());
            }
        }
    }
}
