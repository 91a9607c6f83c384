//! Lab helpers for the ISP stage: the echo service on the internet side, NAT and
//! carrier-grade NAT on the router, port forwards with hairpin NAT, blocking upstream.
//!
//! The echo service (tests/support/echo.py) runs in every lab, in the `cli` namespace
//! (the internet side of the router), on `CLI_V4`/`CLI_V6` port [`ECHO_PORT`]; `check_args`
//! points `--echo-url` and `--egress` at it, so no test sends anything outside the lab.
//! Every rule here is written inside a lab namespace (nft in `net` or `srv`), never in the
//! root namespace.

use super::lab::*;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// The echo service's port on `CLI_V4` and `[CLI_V6]`.
pub const ECHO_PORT: u16 = 8180;

/// The router's address on the internet side: the NAT's public address.
pub const NAT_PUBLIC_V4: &str = CLI_GW_V4;
/// srv's address behind a home NAT router.
pub const HOME_V4: &str = "10.0.0.10";
pub const HOME_GW_V4: &str = "10.0.0.1";
/// srv's address behind carrier-grade NAT.
pub const CGNAT_V4: &str = "100.64.0.10";
pub const CGNAT_GW_V4: &str = "100.64.0.1";

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
    ]
}

fn support(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// How srv reaches the internet over IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nat {
    /// srv has 10.0.0.10/24 behind the router, which masquerades it as `NAT_PUBLIC_V4`.
    Home,
    /// srv has 100.64.0.10/24 (carrier-grade NAT space), masqueraded the same way.
    Carrier,
}

impl Lab {
    /// Start the echo service in `cli` (called by the lab constructor).
    pub fn start_echo(&mut self) {
        let ready = self.dir().join("echo.ready");
        let _ = std::fs::remove_file(&ready);
        let script = support("echo.py").display().to_string();
        let ready_s = ready.display().to_string();
        let port = ECHO_PORT.to_string();
        let py = if Path::new("/usr/bin/python3").is_file() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        self.spawn(
            Ns::Cli,
            "echo",
            &[py, &script, &ready_s, CLI_V4, &port, CLI_V6, &port],
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(
                self.is_running("echo"),
                "lab: the echo service exited\n{}",
                self.logs_of("echo")
            );
            assert!(
                Instant::now() < deadline,
                "lab: the echo service is not ready after 10 s\n{}",
                self.logs_of("echo")
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Load an nftables ruleset (`nft -f`) in `ns`.
    pub fn nft(&self, ns: Ns, name: &str, ruleset: &str) {
        let path = self.dir().join(format!("nft-{name}.conf"));
        std::fs::write(&path, ruleset).expect("write nft ruleset");
        self.exec_ok(ns, &["nft", "-f", &path.display().to_string()]);
    }

    /// Put srv behind a NAT router: srv's IPv4 moves from `SRV_V4` to a private (or
    /// carrier-grade NAT) address, and the router masquerades it as `NAT_PUBLIC_V4` on
    /// the internet side. IPv6 stays routed (no NAT), as at most ISPs.
    pub fn put_behind_nat(&mut self, nat: Nat) {
        let (host, gw) = match nat {
            Nat::Home => (HOME_V4, HOME_GW_V4),
            Nat::Carrier => (CGNAT_V4, CGNAT_GW_V4),
        };
        let srv = self.ns(Ns::Srv).to_string();
        let net = self.ns(Ns::Net).to_string();
        let run = |ns: &str, args: &[&str]| {
            let mut full = vec!["-n", ns];
            full.extend_from_slice(args);
            let out = std::process::Command::new("ip")
                .args(&full)
                .output()
                .expect("run ip");
            assert!(
                out.status.success(),
                "ip {full:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&net, &["addr", "add", &format!("{gw}/24"), "dev", "esrv"]);
        run(
            &srv,
            &["addr", "del", &format!("{SRV_V4}/24"), "dev", "eth0"],
        );
        run(&srv, &["addr", "add", &format!("{host}/24"), "dev", "eth0"]);
        run(&srv, &["-4", "route", "replace", "default", "via", gw]);
        self.nft(
            Ns::Net,
            "nat",
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
    /// with hairpin NAT so srv itself can reach its public address (lab.md).
    pub fn forward_port(&mut self, nat: Nat, port: u16) {
        self.forward_port_with(nat, port, true);
    }

    /// Forward TCP `port` on the NAT's public address to srv, with or without hairpin NAT
    /// (without it, srv cannot reach its own public address, as behind many home routers).
    pub fn forward_port_with(&mut self, nat: Nat, port: u16, hairpin: bool) {
        let host = match nat {
            Nat::Home => HOME_V4,
            Nat::Carrier => CGNAT_V4,
        };
        let gw = match nat {
            Nat::Home => HOME_GW_V4,
            Nat::Carrier => CGNAT_GW_V4,
        };
        self.exec_ok(
            Ns::Net,
            &[
                "nft",
                &format!(
                    "add rule ip labnat pre ip daddr {NAT_PUBLIC_V4} tcp dport {port} dnat to {host}:{port}"
                ),
            ],
        );
        if !hairpin {
            return;
        }
        self.exec_ok(
            Ns::Net,
            &[
                "nft",
                &format!(
                    "add rule ip labnat post ip saddr {host}/24 ip daddr {host} tcp dport {port} oifname \"esrv\" snat to {gw}"
                ),
            ],
        );
    }

    /// The router drops IPv6 forwarded from srv to the internet (the ISP's IPv6 is
    /// broken upstream of the host's gateway; the gateway itself still answers).
    pub fn block_ipv6_upstream(&mut self) {
        self.nft(
            Ns::Net,
            "block6",
            "table ip6 labblock {
    chain block_forward {
        type filter hook forward priority filter; policy accept;
        iifname \"esrv\" oifname \"ecli\" drop
    }
}
",
        );
    }

    /// The router's link to the internet side (and cli's end of it) carries at most `mtu`
    /// bytes, like a tunnel or PPPoE uplink: full-size packets from srv need path MTU
    /// discovery from here on.
    pub fn narrow_upstream_link(&mut self, mtu: u32) {
        let mtu = mtu.to_string();
        self.exec_ok(Ns::Net, &["ip", "link", "set", "dev", "ecli", "mtu", &mtu]);
        self.exec_ok(Ns::Cli, &["ip", "link", "set", "dev", "eth0", "mtu", &mtu]);
    }

    /// The router never sends "packet too big" / "fragmentation needed": the filter
    /// upstream that breaks path MTU discovery.
    pub fn drop_packet_too_big_upstream(&mut self) {
        self.nft(
            Ns::Net,
            "noptb",
            "table inet labnoptb {
    chain out {
        type filter hook output priority filter; policy accept;
        icmpv6 type packet-too-big drop
        icmp type destination-unreachable icmp code frag-needed drop
    }
}
",
        );
    }

    /// An address on the router that silently drops TCP to it: an AAAA that times out.
    pub fn add_blackhole_v6(&mut self, addr: &str) {
        self.exec_ok(
            Ns::Net,
            &[
                "ip",
                "addr",
                "add",
                &format!("{addr}/128"),
                "dev",
                "lo",
                "nodad",
            ],
        );
        self.nft(
            Ns::Net,
            "blackhole",
            &format!(
                "table ip6 labhole {{
    chain in {{
        type filter hook input priority filter; policy accept;
        ip6 daddr {addr} meta l4proto tcp drop
    }}
}}
"
            ),
        );
    }
}

impl Lab {
    /// The lab's own certificate authority (created on first use in the lab directory)
    /// and its PEM path. `trust_lab_ca` makes srv trust it.
    pub fn lab_ca(&self) -> PathBuf {
        let dir = self.dir().join("tls");
        let ca = dir.join("ca.pem");
        if !ca.exists() {
            std::fs::create_dir_all(&dir).expect("create tls dir");
            let key = dir.join("ca.key");
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &key.display().to_string(),
                "-out",
                &ca.display().to_string(),
                "-days",
                "2",
                "-subj",
                "/CN=dsdoctor lab CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
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

    /// A certificate for `names` signed by the lab CA: (certificate, key) paths.
    pub fn lab_cert(&self, label: &str, names: &[&str]) -> (PathBuf, PathBuf) {
        let ca = self.lab_ca();
        let dir = self.dir().join("tls");
        let key = dir.join(format!("{label}.key"));
        let csr = dir.join(format!("{label}.csr"));
        let crt = dir.join(format!("{label}.pem"));
        let ext = dir.join(format!("{label}.ext"));
        let san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
        std::fs::write(
            &ext,
            format!(
                "subjectAltName={}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
                san.join(",")
            ),
        )
        .expect("write ext");
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key.display().to_string(),
            "-out",
            &csr.display().to_string(),
            "-subj",
            &format!("/CN={}", names[0]),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr.display().to_string(),
            "-CA",
            &ca.display().to_string(),
            "-CAkey",
            &dir.join("ca.key").display().to_string(),
            "-CAcreateserial",
            "-out",
            &crt.display().to_string(),
            "-days",
            "2",
            "-extfile",
            &ext.display().to_string(),
        ]);
        for p in [&key, &crt] {
            let _ =
                std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o644));
        }
        (crt, key)
    }
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

impl Lab {
    /// A web server in srv on `[::]:port` (both families) whose body never ends:
    /// `slow` sends a byte every 100 ms, otherwise as fast as it can. Label `endless`.
    pub fn start_endless_server(&mut self, port: u16, slow: bool) {
        let ready = self.dir().join("endless.ready");
        let script = support("endless.py").display().to_string();
        let ready_s = ready.display().to_string();
        let port_s = port.to_string();
        self.spawn(
            Ns::Srv,
            "endless",
            &[
                "/usr/bin/python3",
                &script,
                &ready_s,
                &port_s,
                if slow { "slow" } else { "fast" },
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(
                self.is_running("endless") && Instant::now() < deadline,
                "lab: the endless server did not start\n{}",
                self.logs_of("endless")
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Lab {
    /// A stub SMTP server in srv: `(address, port, name)` per listening socket, each
    /// greeting and answering EHLO with its own name. Label `smtp`.
    pub fn start_smtp(&mut self, socks: &[(&str, u16, &str)]) {
        let ready = self.dir().join("smtp.ready");
        let script = support("smtp.py").display().to_string();
        let mut args: Vec<String> = vec![
            "/usr/bin/python3".into(),
            script,
            ready.display().to_string(),
        ];
        for (a, p, n) in socks {
            args.extend([a.to_string(), p.to_string(), n.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.spawn(Ns::Srv, "smtp", &refs);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(
                self.is_running("smtp") && Instant::now() < deadline,
                "lab: the SMTP stub did not start\n{}",
                self.logs_of("smtp")
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}
