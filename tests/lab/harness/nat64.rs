//! NAT64 in the lab: Debian's `tayga` on a tun device in `net`, translating the prefix
//! [`LAB_NAT64_PREFIX`]/96 to a pool of IPv4 addresses on the router, and routers'
//! PREF64 (RFC 8781) from a small advertiser (tests/support/pref64.py), because the
//! `radvd` of Debian 12 (2.19) has no `nat64prefix`.
//!
//! The prefix is a network-specific one inside the lab's documentation space: tayga
//! refuses (rightly, RFC 6052 §3.1) to translate non-global IPv4 addresses such as the
//! lab's own under the well-known prefix 64:ff9b::/96.

use super::process::write_file;
use super::topology::*;

/// The NAT64 prefix of the lab's translator and of its DNS64 resolver (`DnsZone::dns64_at`).
pub const LAB_NAT64_PREFIX: &str = "2001:db8:46::";
/// The IPv4 addresses tayga maps IPv6 clients to, and its own address among them.
const POOL_V4: &str = "192.168.255.0/24";
const TAYGA_V4: &str = "192.168.255.1";
/// tayga's tun device in `net`.
const TUN: &str = "nat64";

impl Lab {
    /// Start tayga in `net` for [`LAB_NAT64_PREFIX`]/96; `mtu` sets its tun device's MTU
    /// (the translator's narrow side). Waits until srv reaches the echo service's IPv4
    /// address through the prefix. Label `tayga`.
    pub fn start_nat64(&mut self, mtu: Option<u32>) {
        let dir = self.dir().join("tayga");
        let conf = self.dir().join("tayga.conf");
        write_file(
            &conf,
            &format!(
                "# dsdoctor lab: NAT64 in net\ntun-device {TUN}\nipv4-addr {TAYGA_V4}\nprefix {LAB_NAT64_PREFIX}/96\ndynamic-pool {POOL_V4}\ndata-dir {}\n",
                dir.display()
            ),
        );
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let conf_s = conf.display().to_string();
        self.exec_ok(Ns::Net, &["tayga", "-c", &conf_s, "--mktun"]);
        let mut up = vec!["link", "set", TUN, "up"];
        let mtu_s = mtu.map(|m| m.to_string());
        if let Some(m) = &mtu_s {
            up.extend(["mtu", m.as_str()]);
        }
        self.ip(Ns::Net, &up);
        self.ip(Ns::Net, &["route", "add", POOL_V4, "dev", TUN]);
        let prefix = format!("{LAB_NAT64_PREFIX}/96");
        self.ip(Ns::Net, &["-6", "route", "add", &prefix, "dev", TUN]);
        // -d: in the foreground, logging each mapping (in tayga.out).
        self.spawn(Ns::Net, "tayga", &["tayga", "-c", &conf_s, "-d"]);
        let echo = super::dns::nat64(LAB_NAT64_PREFIX, CLI_V4);
        self.wait_ready("tayga", |lab| {
            if lab.tcp_connects(Ns::Srv, &echo, super::isp::ECHO_PORT) {
                Ok(())
            } else {
                Err(format!(
                    "srv cannot reach [{echo}]:{} through tayga",
                    super::isp::ECHO_PORT
                ))
            }
        });
    }

    /// A router on srv's link that answers router solicitations with an advertisement
    /// carrying PREF64 `prefix` (router lifetime 0: it is nobody's default router). Label
    /// `pref64`.
    pub fn advertise_pref64(&mut self, prefix: &str) {
        self.start_support(Ns::Net, "pref64", "pref64.py", &["esrv", prefix]);
    }
}
