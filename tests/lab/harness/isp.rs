//! What the internet sees, inside the lab: the echo service on the internet side, NAT and
//! carrier-grade NAT on the router, port forwards with hairpin NAT, faults upstream of the
//! host (blocked IPv6, a narrow link, lost "packet too big", a black-holed address), TLS
//! certificates of a lab CA, and an SMTP stub.
//!
//! The echo service (tests/support/echo.py) runs in every lab, in the `cli` namespace,
//! on `CLI_V4`/`CLI_V6` port [`ECHO_PORT`]; `check_args` points `--echo-url` and
//! `--egress` at it, so no test sends anything outside the lab. Every rule here is written
//! inside a lab namespace (nft in `net` or `srv`), never in the root namespace.

use super::firewall::nft_chain;
use super::topology::*;
use serde::Deserialize;
use std::path::PathBuf;

/// The echo service's port on `CLI_V4` and `[CLI_V6]`.
pub const ECHO_PORT: u16 = 8180;

/// The router's address on the internet side: the NAT's public address.
pub const NAT_PUBLIC_V4: &str = CLI_GW_V4;
/// srv's address behind a home NAT router.
pub const HOME_V4: &str = "10.0.0.10";
const HOME_GW_V4: &str = "10.0.0.1";
/// srv's address behind carrier-grade NAT.
const CGNAT_V4: &str = "100.64.0.10";
const CGNAT_GW_V4: &str = "100.64.0.1";

/// The `--echo-url`/`--egress` arguments that keep every probe inside the lab.
pub fn lab_isp_args() -> Vec<String> {
    vec![
        "--echo-url".into(),
        format!("http://{CLI_V4}:{ECHO_PORT}/"),
        "--echo-url".into(),
        format!("http://[{CLI_V6}]:{ECHO_PORT}/"),
        "--egress".into(),
        format!("{CLI_V4}:{ECHO_PORT}"),
        "--egress".into(),
        format!("[{CLI_V6}]:{ECHO_PORT}"),
        "--mail-egress".into(),
        format!("{RECEIVER}:25"),
        "--dnsbl".into(),
        DNSBL_ZONE.into(),
    ]
}

/// The lab's receiving mail server on the internet side (cli, both families), the
/// `--mail-egress` target of every run.
pub const RECEIVER: &str = "mx.receiver.lab.example";
/// The lab's DNS blocklist zone (`--dnsbl`), served by the lab's authoritative server.
pub const DNSBL_ZONE: &str = "bl.lab.example";

/// How srv reaches the internet over IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nat {
    /// srv has 10.0.0.10/24 behind the router, which masquerades it as `NAT_PUBLIC_V4`.
    Home,
    /// srv has 100.64.0.10/24 (carrier-grade NAT space), masqueraded the same way.
    Carrier,
}

impl Nat {
    /// srv's address and its gateway on the router.
    fn addresses(self) -> (&'static str, &'static str) {
        match self {
            Nat::Home => (HOME_V4, HOME_GW_V4),
            Nat::Carrier => (CGNAT_V4, CGNAT_GW_V4),
        }
    }
}

impl Lab {
    /// Start the echo service in `cli` (called by the lab constructor).
    pub(super) fn start_echo(&mut self) {
        let port = ECHO_PORT.to_string();
        self.start_support(Ns::Cli, "echo", "echo.py", &[CLI_V4, &port, CLI_V6, &port]);
    }

    /// Start the receiving mail server in `cli` on port 25 over both families (called by
    /// the lab constructor): the `--mail-egress` target.
    pub(super) fn start_receiver(&mut self) {
        self.start_support(
            Ns::Cli,
            "receiver",
            "smtp.py",
            &[CLI_V4, "25", RECEIVER, CLI_V6, "25", RECEIVER],
        );
    }

    /// Put srv behind a NAT router: srv's IPv4 moves from `SRV_V4` to a private (or
    /// carrier-grade NAT) address, and the router masquerades it as `NAT_PUBLIC_V4` on
    /// the internet side. IPv6 stays routed (no NAT), as at most ISPs.
    pub fn put_behind_nat(&mut self, nat: Nat) {
        let (host, gw) = nat.addresses();
        self.ip(
            Ns::Net,
            &["addr", "add", &format!("{gw}/24"), "dev", "esrv"],
        );
        self.ip(
            Ns::Srv,
            &["addr", "del", &format!("{SRV_V4}/24"), "dev", "eth0"],
        );
        self.ip(
            Ns::Srv,
            &["addr", "add", &format!("{host}/24"), "dev", "eth0"],
        );
        self.ip(Ns::Srv, &["-4", "route", "replace", "default", "via", gw]);
        self.nft(
            Ns::Net,
            &format!(
                "table ip labnat {{
    chain pre {{
        type nat hook prerouting priority dstnat; policy accept;
    }}
    chain post {{
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr {host}/24 oifname \"ecli\" snat to {NAT_PUBLIC_V4}
    }}
}}
"
            ),
        );
    }

    /// Forward TCP `port` on the NAT's public address to srv (after `put_behind_nat`),
    /// with or without hairpin NAT: without it, srv cannot reach its own public address,
    /// as behind many home routers (lab.md).
    pub fn forward_port(&mut self, nat: Nat, port: u16, hairpin: bool) {
        let (host, gw) = nat.addresses();
        let mut rules = vec![format!(
            "add rule ip labnat pre ip daddr {NAT_PUBLIC_V4} tcp dport {port} dnat to {host}:{port}"
        )];
        if hairpin {
            rules.push(format!(
                "add rule ip labnat post ip saddr {host}/24 ip daddr {host} tcp dport {port} oifname \"esrv\" snat to {gw}"
            ));
        }
        for rule in rules {
            self.exec_ok(Ns::Net, &["nft", &rule]);
        }
    }

    /// The router drops IPv6 forwarded from srv to the internet (the ISP's IPv6 is
    /// broken upstream of the host's gateway; the gateway itself still answers).
    pub fn block_ipv6_upstream(&mut self) {
        self.nft(
            Ns::Net,
            &nft_chain(
                "ip6",
                "labblock",
                "forward",
                &["iifname \"esrv\" oifname \"ecli\" drop"],
            ),
        );
    }

    /// The router's link to the internet side (and cli's end of it) carries at most `mtu`
    /// bytes, like a tunnel or PPPoE uplink: full-size packets from srv need path MTU
    /// discovery from here on.
    pub fn narrow_upstream_link(&mut self, mtu: u32) {
        let mtu = mtu.to_string();
        self.ip(Ns::Net, &["link", "set", "dev", "ecli", "mtu", &mtu]);
        self.ip(Ns::Cli, &["link", "set", "dev", "eth0", "mtu", &mtu]);
    }

    /// The router never sends "packet too big" / "fragmentation needed" (`ipv4` too, or
    /// IPv6 only): the filter upstream that breaks path MTU discovery.
    pub fn drop_packet_too_big_upstream(&mut self, ipv4: bool) {
        let mut rules = vec!["icmpv6 type packet-too-big drop"];
        if ipv4 {
            rules.push("icmp type destination-unreachable icmp code frag-needed drop");
        }
        self.nft(Ns::Net, &nft_chain("inet", "labnoptb", "output", &rules));
    }

    /// An address on the router that silently drops TCP to it: an AAAA that times out.
    pub fn add_blackhole_v6(&mut self, addr: &str) {
        self.ip(
            Ns::Net,
            &["addr", "add", &format!("{addr}/128"), "dev", "lo", "nodad"],
        );
        let rule = format!("ip6 daddr {addr} meta l4proto tcp drop");
        self.nft(Ns::Net, &nft_chain("ip6", "labhole", "input", &[&rule]));
    }

    /// A stub SMTP server in srv: `(address, port, name)` per listening socket, each
    /// greeting and answering EHLO with its own name. Label `smtp`.
    pub fn start_smtp(&mut self, socks: &[(&str, u16, &str)]) {
        let args: Vec<String> = socks
            .iter()
            .flat_map(|(a, p, n)| [a.to_string(), p.to_string(), n.to_string()])
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.start_support(Ns::Srv, "smtp", "smtp.py", &refs);
    }

    // ----- TLS -----------------------------------------------------------------------------

    fn tls_dir(&self) -> PathBuf {
        self.dir().join("tls")
    }

    /// The lab's own certificate authority (created on first use in the lab directory):
    /// its certificate's path.
    fn lab_ca(&self) -> PathBuf {
        let dir = self.tls_dir();
        let ca = dir.join("ca.pem");
        if !ca.exists() {
            std::fs::create_dir_all(&dir).expect("create tls dir");
            new_key_and_request(
                &dir.join("ca.key"),
                &ca,
                "/CN=dsdoctor lab CA",
                &[
                    "-x509",
                    "-days",
                    "2",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            );
        }
        ca
    }

    /// srv's `/etc/ssl/certs/ca-certificates.crt` holds only the lab CA (srv sees
    /// `/etc/netns/<srv>/ssl` as `/etc/ssl`), so dsdoctor validates the lab's
    /// certificates the way it validates real ones.
    pub fn trust_lab_ca(&mut self) {
        let pem = std::fs::read_to_string(self.lab_ca()).expect("read lab CA");
        self.write_srv_etc("ssl/certs/ca-certificates.crt", &pem);
    }

    /// A certificate for `names` signed by the lab CA: (certificate, key) paths,
    /// `<dir>/tls/<label>.pem` and `.key`.
    pub fn lab_cert(&self, label: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let ca = self.lab_ca();
        let dir = self.tls_dir();
        let path = |ext: &str| dir.join(format!("{label}.{ext}"));
        let (key, csr, crt, ext) = (path("key"), path("csr"), path("pem"), path("ext"));
        let san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
        std::fs::write(
            &ext,
            format!(
                "subjectAltName={}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
                san.join(",")
            ),
        )
        .expect("write ext");
        new_key_and_request(&key, &csr, &format!("/CN={}", names[0]), &[]);
        let p = |p: &PathBuf| p.display().to_string();
        openssl(&[
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(&ca),
            "-CAkey",
            &p(&dir.join("ca.key")),
            "-CAcreateserial",
            "-out",
            &p(&crt),
            "-days",
            "2",
            "-extfile",
            &p(&ext),
        ]);
        for f in [&key, &crt] {
            let _ =
                std::fs::set_permissions(f, std::os::unix::fs::PermissionsExt::from_mode(0o644));
        }
        (crt, key)
    }
}

/// `openssl req`: a new P-256 key in `key`, and in `out` a request for `subject` (or,
/// with `-x509` in `extra`, a self-signed certificate).
fn new_key_and_request(
    key: &std::path::Path,
    out: &std::path::Path,
    subject: &str,
    extra: &[&str],
) {
    let (key, out) = (key.display().to_string(), out.display().to_string());
    let mut args = vec![
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &out,
        "-subj",
        subject,
    ];
    args.extend_from_slice(extra);
    openssl(&args);
}

fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl (the HTTPS lab needs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
