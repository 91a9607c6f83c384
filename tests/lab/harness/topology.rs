//! The lab's shape: three namespaces, the veth links between them, their addresses and
//! routes, the files srv sees under `/etc`, and the teardown that removes all of it.

use super::dns::DnsZone;
use super::process::{CMD_TIMEOUT, Supervisor, cmd, process_alive, run_timeout, signal};
use serde::Deserialize;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The domain under diagnosis.
pub const DOMAIN: &str = "shop.lab.example";
/// The zone the authoritative server serves.
pub const ZONE: &str = "lab.example";

pub const SRV_V4: &str = "203.0.113.10";
pub const SRV_V6: &str = "2001:db8:1::10";
pub const SRV_GW_V4: &str = "203.0.113.1";
pub const SRV_GW_V6: &str = "2001:db8:1::1";
/// Docker's default bridge (`docker0`) and its first container.
pub const BRIDGE_V4: &str = "172.17.0.1";
pub const BRIDGE_V6: &str = "fd00:d0c::1";
pub const CTR_V4: &str = "172.17.0.2";
pub const CTR_V6: &str = "fd00:d0c::2";
pub const CLI_V4: &str = "198.51.100.10";
pub const CLI_V6: &str = "2001:db8:2::10";
pub const CLI_GW_V4: &str = "198.51.100.1";
pub const CLI_GW_V6: &str = "2001:db8:2::1";
pub const RESOLVER_V4: &str = "192.0.2.53";
pub const RESOLVER_V6: &str = "2001:db8:53::53";
pub const NS1_V4: &str = "192.0.2.54";
pub const NS1_V6: &str = "2001:db8:53::54";
pub const NS2_V4: &str = "192.0.2.55";
pub const NS2_V6: &str = "2001:db8:53::55";

/// The lab's prefixes, which `check_args` passes with `--assume-public`: documentation
/// prefixes, which dsdoctor must not treat as public by default.
pub const ASSUME_PUBLIC: [&str; 4] = [
    "203.0.113.0/24",
    "2001:db8::/32",
    "198.51.100.0/24",
    "192.0.2.0/24",
];

/// Tools the lab (and the tests built on it) need on PATH.
const REQUIRED_TOOLS: &str = "ip ss sysctl kill dnsmasq nginx apache2 haproxy caddy dig python3 setpriv nft iptables ip6tables netplan unshare openssl tayga curl ping";
const INSTALL_HINT: &str = "apt-get update && apt-get install -y nginx-light apache2 haproxy caddy dnsmasq-base \
    nftables iptables socat tmux dnsutils iproute2 python3 util-linux procps netplan.io openssl tayga curl iputils-ping \
    (or run scripts/test.sh, which installs them)";

/// srv's netplan file: the addresses and default routes `build_network` gives it, as a
/// host that declares its network would (address.ipv6_persistent reads it).
pub fn lab_netplan(gw6: &str) -> String {
    format!(
        "network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      addresses: [{SRV_V4}/24, {SRV_V6}/64]
      routes:
        - to: default
          via: {SRV_GW_V4}
        - to: default
          via: {gw6}
"
    )
}

/// Labs built by this process: part of each namespace name.
static LAB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One of the lab's three network namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ns {
    /// The server under diagnosis (nginx, listeners, dsdoctor run here).
    Srv,
    /// The router with the resolver and the authoritative DNS server.
    Net,
    /// A client on the internet side.
    Cli,
    /// A container behind a bridge in srv (made by [`Lab::add_container`]).
    Ctr,
}

/// Which user a command runs as inside a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunAs {
    Root,
    /// uid/gid 65534 without supplementary groups, via
    /// `setpriv --reuid=65534 --regid=65534 --clear-groups`: no capabilities.
    Nobody,
}

/// Three namespaces, the DNS servers, and whatever the test starts in them. Dropping the
/// lab tears everything down.
pub struct Lab {
    srv: String,
    net: String,
    cli: String,
    ctr: String,
    /// Namespaces actually created (teardown deletes these).
    pub(super) created: Vec<String>,
    /// `/etc/netns/<name>` directories created.
    pub(super) etc_dirs: Vec<PathBuf>,
    /// Files under `<dir>/etc-boot` are laid over srv's `/etc` for dsdoctor's runs
    /// (see [`Lab::write_boot_etc`]); set once one is written.
    boot_overlay: bool,
    dir: Option<tempfile::TempDir>,
    dir_path: PathBuf,
    pub(super) procs: Supervisor,
    pub(super) zone: DnsZone,
    torn_down: bool,
}

impl Lab {
    /// A healthy lab: namespaces, links, addresses, routes, DNS with the default zone, the
    /// echo service. `tag` names the test (it appears in namespace names).
    pub fn new(tag: &str) -> Lab {
        Lab::with_zone(tag, DnsZone::default())
    }

    /// A lab whose DNS serves `zone`.
    pub fn with_zone(tag: &str, zone: DnsZone) -> Lab {
        preflight();
        let clean: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(24)
            .collect();
        let n = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = format!("dsd-{}-{}-{}", std::process::id(), clean, n);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{base}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("lab {base}: cannot create a temporary directory: {e}"));
        let dir_path = dir.path().to_path_buf();
        // World-readable: dsdoctor run as nobody must be able to read nginx's configuration.
        fs::set_permissions(&dir_path, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("lab {base}: chmod {}: {e}", dir_path.display()));

        // The struct exists from here on, so a panic further down still tears down.
        let mut lab = Lab {
            srv: format!("{base}-srv"),
            net: format!("{base}-net"),
            cli: format!("{base}-cli"),
            ctr: format!("{base}-ctr"),
            created: Vec::new(),
            etc_dirs: Vec::new(),
            boot_overlay: false,
            procs: Supervisor::new(&dir_path),
            dir: Some(dir),
            dir_path,
            zone,
            torn_down: false,
        };
        lab.build_network();
        lab.write_srv_etc("resolv.conf", &format!("nameserver {RESOLVER_V4}\n"));
        // Its network is declared the way netplan declares it, so that it comes back at
        // boot (the real /etc/netplan exists once netplan is installed).
        lab.write_srv_etc("netplan/10-lab.yaml", &lab_netplan(SRV_GW_V6));
        lab.start_dns();
        // The ISP stage's echo service and egress target, so no probe leaves the lab.
        lab.start_echo();
        // The receiving mail server, so the mail probes' port 25 stays in the lab too.
        lab.start_receiver();
        lab
    }

    /// The namespace's name (for `ip -n NAME`, `ip netns exec NAME`).
    pub fn ns(&self, ns: Ns) -> &str {
        match ns {
            Ns::Srv => &self.srv,
            Ns::Net => &self.net,
            Ns::Cli => &self.cli,
            Ns::Ctr => &self.ctr,
        }
    }

    /// All three namespace names.
    pub fn namespaces(&self) -> [String; 3] {
        [self.srv.clone(), self.net.clone(), self.cli.clone()]
    }

    /// The lab's temporary directory (configs, logs, pid files).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// `/etc/netns/<srv>`: files here appear under `/etc` for commands run in srv.
    pub fn srv_etc_dir(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.srv)
    }

    pub(super) fn must(&self, c: Command) {
        let what = format!("{c:?}");
        let out = run_timeout(c, CMD_TIMEOUT, &what);
        if !out.status.success() {
            panic!(
                "lab {}: {what} failed ({}): {}",
                self.srv,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }

    /// `ip -n NS <args>`, which must succeed: links, addresses and routes of one lab
    /// namespace.
    pub fn ip(&self, ns: Ns, args: &[&str]) {
        let mut full = vec!["-n", self.ns(ns)];
        full.extend_from_slice(args);
        self.must(cmd("ip", &full));
    }

    /// A network namespace of the lab, deleted with it (recorded before anything is put
    /// in it).
    pub(super) fn add_netns(&mut self, name: String) {
        let out = run_timeout(
            cmd("ip", &["netns", "add", &name]),
            CMD_TIMEOUT,
            "ip netns add",
        );
        if !out.status.success() {
            panic!(
                "lab: `ip netns add {name}` failed ({}): {}\nThe lab needs root and a \
                 kernel with network namespaces.",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        self.created.push(name);
    }

    /// `sysctl -w` of each `key=value` in a lab namespace, as root; it must succeed.
    pub(super) fn sysctl(&self, ns: Ns, settings: &[&str]) {
        let mut args = vec!["sysctl", "-q", "-w"];
        args.extend_from_slice(settings);
        self.must(self.command(ns, RunAs::Root, &args));
    }

    /// `ip -n NS -batch`: one `ip` command per line.
    fn ip_batch(&self, ns: Ns, batch: &str) {
        let path = self.dir_path.join(format!("ip-batch-{ns:?}.txt"));
        super::process::write_file(&path, batch);
        self.ip(ns, &["-batch", &path.display().to_string()]);
    }

    fn build_network(&mut self) {
        for name in self.namespaces() {
            self.add_netns(name);
        }
        // veth pairs created directly inside the namespaces.
        for (ns, peer) in [(Ns::Srv, "esrv"), (Ns::Cli, "ecli")] {
            let net = self.net.clone();
            self.ip(
                ns,
                &[
                    "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", &net,
                ],
            );
        }
        // Sysctls only inside the lab's own router and client: forwarding on net, and no
        // DAD on the router's and client's links (their link-local addresses are usable at
        // once). srv keeps the defaults: DAD there is a subject of dsdoctor's checks.
        self.sysctl(
            Ns::Net,
            &[
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv6.conf.esrv.accept_dad=0",
                "net.ipv6.conf.ecli.accept_dad=0",
            ],
        );
        self.sysctl(Ns::Cli, &["net.ipv6.conf.eth0.accept_dad=0"]);
        self.ip_batch(
            Ns::Net,
            &format!(
                "link set lo up
addr add {RESOLVER_V4}/32 dev lo
addr add {NS1_V4}/32 dev lo
addr add {NS2_V4}/32 dev lo
addr add {RESOLVER_V6}/128 dev lo nodad
addr add {NS1_V6}/128 dev lo nodad
addr add {NS2_V6}/128 dev lo nodad
addr add {SRV_GW_V4}/24 dev esrv
addr add {SRV_GW_V6}/64 dev esrv nodad
addr add {CLI_GW_V4}/24 dev ecli
addr add {CLI_GW_V6}/64 dev ecli nodad
link set esrv up
link set ecli up
"
            ),
        );
        // srv and cli: one host on one link, the router as default gateway.
        for (ns, v4, v6, gw4, gw6) in [
            (Ns::Srv, SRV_V4, SRV_V6, SRV_GW_V4, SRV_GW_V6),
            (Ns::Cli, CLI_V4, CLI_V6, CLI_GW_V4, CLI_GW_V6),
        ] {
            self.ip_batch(
                ns,
                &format!(
                    "link set lo up
addr add {v4}/24 dev eth0
addr add {v6}/64 dev eth0 nodad
link set eth0 up
route add default via {gw4}
route add default via {gw6}
"
                ),
            );
        }
    }

    /// A container the way Docker's bridge driver wires one: a namespace (ctr) whose
    /// eth0 is the peer of a veth enslaved to the bridge `docker0` in srv, with
    /// [`CTR_V4`] (and [`CTR_V6`] when the bridge has IPv6) and default routes via the
    /// bridge's addresses, and srv forwarding both families (as dockerd sets it). Torn
    /// down with the lab.
    pub fn add_container(&mut self, v6: bool) {
        let name = self.ctr.clone();
        self.add_netns(name.clone());
        self.ip(
            Ns::Srv,
            &[
                "link", "add", "vethctr", "type", "veth", "peer", "name", "eth0", "netns", &name,
            ],
        );
        let bridge_v6 = match v6 {
            true => format!("addr add {BRIDGE_V6}/64 dev docker0 nodad\n"),
            false => String::new(),
        };
        self.ip_batch(
            Ns::Srv,
            &format!(
                "link add docker0 type bridge
addr add {BRIDGE_V4}/16 dev docker0
{bridge_v6}link set vethctr master docker0
link set vethctr up
link set docker0 up
"
            ),
        );
        self.sysctl(Ns::Ctr, &["net.ipv6.conf.eth0.accept_dad=0"]);
        let ctr_v6 = match v6 {
            true => {
                format!("addr add {CTR_V6}/64 dev eth0 nodad\nroute add default via {BRIDGE_V6}\n")
            }
            false => String::new(),
        };
        self.ip_batch(
            Ns::Ctr,
            &format!(
                "link set lo up
addr add {CTR_V4}/16 dev eth0
link set eth0 up
route add default via {BRIDGE_V4}
{ctr_v6}"
            ),
        );
        self.sysctl(
            Ns::Srv,
            &["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
        );
        // A fresh bridge takes a moment before it passes IPv6 (the oracle saw the first
        // case's forwarded IPv6 connection time out): wait until srv reaches the
        // container over both families.
        for target in [CTR_V4, CTR_V6].into_iter().take(if v6 { 2 } else { 1 }) {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let out = run_timeout(
                    self.command(
                        Ns::Srv,
                        RunAs::Root,
                        &["ping", "-c", "1", "-W", "1", target],
                    ),
                    CMD_TIMEOUT,
                    "ping the container",
                );
                if out.status.success() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "lab: srv cannot reach the container at {target}: {}",
                    String::from_utf8_lossy(&out.stdout)
                );
                thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Write `/etc/netns/<srv>/<rel>` (directories created as needed, world-readable):
    /// commands run in srv with `ip netns exec` see it as `/etc/<rel>`. Only the first
    /// path component is bind-mounted by `ip netns exec`, so a file in a subdirectory
    /// (e.g. `sysctl.d/99-x.conf`) hides the whole real directory.
    pub fn write_srv_etc(&mut self, rel: &str, contents: &str) -> PathBuf {
        assert!(
            !rel.starts_with('/') && !rel.contains(".."),
            "write_srv_etc: {rel:?} must be relative to /etc"
        );
        let etc = self.srv_etc_dir();
        if !self.etc_dirs.contains(&etc) {
            fs::create_dir_all(&etc)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", etc.display()));
            self.etc_dirs.push(etc.clone());
        }
        let path = etc.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", parent.display()));
            let _ = fs::set_permissions(parent, fs::Permissions::from_mode(0o755));
        }
        super::process::write_file(&path, contents);
        path
    }

    /// Remove `/etc/netns/<srv>/<rel>` (srv sees the real `/etc/<rel>` again, or, in
    /// a directory, the file is gone).
    pub fn remove_srv_etc(&mut self, rel: &str) {
        assert!(!rel.starts_with('/') && !rel.contains(".."), "{rel:?}");
        let path = self.srv_etc_dir().join(rel);
        if let Err(e) = fs::remove_file(&path) {
            panic!("lab: cannot remove {}: {e}", path.display());
        }
    }

    /// `<dir>/etc-boot`: the top layer of srv's `/etc` in the overlay.
    pub fn boot_etc_dir(&self) -> PathBuf {
        self.dir_path.join("etc-boot")
    }

    /// A file of the network configuration srv boots with, as `/etc/<rel>` with `mode`.
    /// `ip netns exec` can only bind files over names the real `/etc` has (it has no
    /// `/etc/network` or `/etc/NetworkManager` here, and nothing may be created there),
    /// so dsdoctor then runs in a private mount namespace whose `/etc` is an overlay:
    /// these files over srv's `/etc/netns` files over the real `/etc`, read-only.
    pub fn write_boot_etc(&mut self, rel: &str, contents: &str, mode: u32) -> PathBuf {
        assert!(!rel.starts_with('/') && !rel.contains(".."), "{rel:?}");
        let path = self.boot_etc_dir().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", parent.display()));
        }
        super::process::write_file(&path, contents);
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("lab: chmod {}: {e}", path.display()));
        self.boot_overlay = true;
        path
    }

    /// A symbolic link `/etc/<rel>` -> `target` in the overlay (an enabled unit).
    pub fn link_boot_etc(&mut self, rel: &str, target: &str) {
        assert!(!rel.starts_with('/') && !rel.contains(".."), "{rel:?}");
        let path = self.boot_etc_dir().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("lab: cannot create {}: {e}", parent.display()));
        }
        std::os::unix::fs::symlink(target, &path)
            .unwrap_or_else(|e| panic!("lab: symlink {}: {e}", path.display()));
        self.boot_overlay = true;
    }

    /// The shell that lays the overlay over `/etc` in a private mount namespace, or
    /// `None` when no boot file was written. srv's `/etc/netns` files are copied into a
    /// layer of their own first: overlay layers may not nest inside each other.
    pub(super) fn boot_overlay_script(&self) -> Option<String> {
        if !self.boot_overlay {
            return None;
        }
        let copy = self.dir_path.join("etc-netns");
        let _ = fs::remove_dir_all(&copy);
        fs::create_dir_all(&copy).unwrap_or_else(|e| panic!("lab: mkdir {}: {e}", copy.display()));
        let out = run_timeout(
            cmd(
                "cp",
                &[
                    "-a",
                    &format!("{}/.", self.srv_etc_dir().display()),
                    &copy.display().to_string(),
                ],
            ),
            CMD_TIMEOUT,
            "copy srv's /etc/netns",
        );
        assert!(
            out.status.success(),
            "lab: copying srv's /etc/netns: {out:?}"
        );
        Some(format!(
            "mount --make-rprivate / && mount -t overlay overlay -o ro,lowerdir={}:{}:/etc /etc",
            self.boot_etc_dir().display(),
            copy.display()
        ))
    }

    /// Tear the lab down now; returns what could not be cleaned (empty when all went
    /// well). `Drop` calls this too; calling it twice is harmless.
    pub fn teardown(&mut self) -> Vec<String> {
        if self.torn_down {
            return Vec::new();
        }
        self.torn_down = true;
        let mut errors = Vec::new();
        // 1. The processes we started, newest first, by pid.
        self.procs.stop_all();
        // 2. Anything still inside our namespaces descends from those (nginx workers of a
        //    master that had to be SIGKILLed): kill by pid, found by namespace name.
        for ns in &self.created {
            let out = run_timeout(
                cmd("ip", &["netns", "pids", ns]),
                CMD_TIMEOUT,
                "ip netns pids",
            );
            let pids: Vec<u32> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            for pid in &pids {
                signal(*pid, "KILL");
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            while pids.iter().any(|p| process_alive(*p)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
        }
        // 3. The namespaces (their veths go with them).
        for ns in self.created.drain(..) {
            let out = run_timeout(
                cmd("ip", &["netns", "del", &ns]),
                CMD_TIMEOUT,
                "ip netns del",
            );
            if !out.status.success() {
                errors.push(format!(
                    "ip netns del {ns}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        // 4. /etc/netns/<name> directories.
        for d in self.etc_dirs.drain(..) {
            match fs::remove_dir_all(&d) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    errors.push(format!("remove {}: {e}", d.display()));
                }
                _ => {}
            }
        }
        // 5. The temporary directory.
        if let Some(dir) = self.dir.take() {
            if std::env::var_os("DSD_LAB_KEEP").is_some() {
                let kept = dir.keep();
                eprintln!("lab {}: kept {} (DSD_LAB_KEEP)", self.srv, kept.display());
            } else if let Err(e) = dir.close() {
                errors.push(format!("remove {}: {e}", self.dir_path.display()));
            }
        }
        errors
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let errors = self.teardown();
        if !errors.is_empty() {
            let msg = format!("lab teardown left things behind: {errors:#?}");
            if thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}

/// Panics unless the lab can be built: root, and every tool it needs on PATH.
pub fn preflight() {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("?");
    assert!(
        euid == "0",
        "the dsdoctor network lab needs root (it creates network namespaces); running as \
         euid {euid}. Run the tests as root (CI does)."
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let found = |tool: &str| {
        path.split(':')
            .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
            .any(|d| Path::new(d).join(tool).is_file())
    };
    let missing: Vec<&str> = REQUIRED_TOOLS
        .split_whitespace()
        .filter(|t| !found(t))
        .collect();
    assert!(
        missing.is_empty(),
        "the dsdoctor network lab needs {missing:?}, not found on PATH. Install: {INSTALL_HINT}"
    );
}
