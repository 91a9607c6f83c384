//! The kernel as the oracle for the firewall stage (issue 14): load a ruleset into srv,
//! listen on several ports over both families, connect from cli to each port over each
//! family and record what the kernel did, then run dsdoctor in srv and compare its
//! `firewall.ipv4@PORT` / `firewall.ipv6@PORT` (with `firewall.icmpv6`, which decides
//! whether IPv6 can reach the host at all) to the kernel's answer.
//!
//! A case is one ruleset in one or more files sharing a name (see [`Case::load_dir`]):
//! `NAME.nft` (loaded with `nft -f`), `NAME.v4.rules` / `NAME.v6.rules` (iptables-nft
//! `iptables-restore` / `ip6tables-restore`), `NAME.legacy-v4.rules` /
//! `NAME.legacy-v6.rules` (`iptables-legacy-restore` / `ip6tables-legacy-restore`), and
//! `NAME.ipset` (`ipset restore`, before the rules that match its sets).
//! srv also has a container behind the bridge docker0 (172.17.0.2, fd00:d0c::2, listening
//! on port 80) and forwards both families, as a Docker host does: the corpus's DNAT rules
//! publish it, and the kernel's answer for a published port is the container's.
//! A file may declare, in a comment line, where dsdoctor knowingly answers otherwise than
//! the kernel: `# oracle-expect: ipv4 8080 warn: <why>`. The test then asserts that exact
//! status for that port and family, so a known gap is asserted, never skipped, and the
//! day it closes the test says so.

use super::process::{support_command, write_file};
use super::report::{CheckId, CheckRun, Status};
use super::topology::{Lab, Ns, SRV_V4, SRV_V6};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The ports every case is probed on: services a host commonly runs and rulesets name.
pub const ORACLE_PORTS: [u16; 6] = [22, 25, 80, 443, 3306, 8080];

/// The port the container listens on (Docker's `-p 8080:80`).
pub const CTR_PORT: u16 = 80;

/// How long the client waits for an answer before it calls the port silent. Long enough
/// for a SYN and its answer on veths, short enough to keep the lab fast.
const PROBE_TIMEOUT_S: &str = "1.2";

/// What the kernel did with a connection from cli.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kernel {
    /// The handshake completed and the listener's byte arrived.
    Connected,
    /// The handshake completed but nothing more got through.
    Stalled,
    /// A TCP reset or an ICMP port-unreachable.
    Refused,
    /// An ICMP administratively-prohibited or host-unreachable.
    Unreachable,
    /// Nothing came back (a silent drop, or neighbour discovery filtered).
    TimedOut,
    /// Anything else the client reported.
    Other(String),
}

impl Kernel {
    fn parse(s: &str) -> Kernel {
        match s {
            "connected" => Kernel::Connected,
            "stalled" => Kernel::Stalled,
            "refused" => Kernel::Refused,
            "unreachable" => Kernel::Unreachable,
            "timeout" => Kernel::TimedOut,
            other => Kernel::Other(other.to_string()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Kernel::Connected => "connected",
            Kernel::Stalled => "stalled",
            Kernel::Refused => "refused",
            Kernel::Unreachable => "unreachable",
            Kernel::TimedOut => "timed out",
            Kernel::Other(s) => s,
        }
    }
}

/// Which tool loads a file of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    Nft,
    /// `ipset restore` of `ipset save` output: the sets iptables rules match
    /// (`-m set`); sorted before the case's rules, which need them to load.
    Ipset,
    IptablesNft {
        v6: bool,
    },
    IptablesLegacy {
        v6: bool,
    },
}

impl Loader {
    fn of(file_name: &str) -> Option<(String, Loader)> {
        for (suffix, loader) in [
            (".legacy-v4.rules", Loader::IptablesLegacy { v6: false }),
            (".legacy-v6.rules", Loader::IptablesLegacy { v6: true }),
            (".v4.rules", Loader::IptablesNft { v6: false }),
            (".v6.rules", Loader::IptablesNft { v6: true }),
            (".nft", Loader::Nft),
            (".ipset", Loader::Ipset),
        ] {
            if let Some(name) = file_name.strip_suffix(suffix) {
                return Some((name.to_string(), loader));
            }
        }
        None
    }

    fn argv(self, file: &str) -> Vec<String> {
        let tool = match self {
            Loader::Nft => return vec!["nft".into(), "-f".into(), file.into()],
            Loader::Ipset => {
                return ["ipset", "restore", "-exist", "-file", file]
                    .map(String::from)
                    .to_vec();
            }
            Loader::IptablesNft { v6: false } => "iptables-nft-restore",
            Loader::IptablesNft { v6: true } => "ip6tables-nft-restore",
            Loader::IptablesLegacy { v6: false } => "iptables-legacy-restore",
            Loader::IptablesLegacy { v6: true } => "ip6tables-legacy-restore",
        };
        // -w: the legacy tools share one lock file across namespaces.
        vec![tool.into(), "--wait=10".into(), file.into()]
    }
}

/// A known answer of dsdoctor's that differs from the kernel's, declared by the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub v6: bool,
    pub port: u16,
    pub status: Status,
    pub why: String,
}

/// One ruleset of the corpus, or a generated one.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// (loader, ruleset text), loaded in this order.
    pub files: Vec<(Loader, String)>,
    pub expects: Vec<Expect>,
    /// `# oracle-exposure: fail`: what `firewall.exposure` must say of the loaded
    /// ruleset (a published port that the input rules shut and forward admits).
    pub exposure: Option<Status>,
}

impl Case {
    /// An nftables ruleset made in the test (the generator's).
    pub fn nft(name: &str, ruleset: String) -> Case {
        Case {
            name: name.to_string(),
            files: vec![(Loader::Nft, ruleset)],
            expects: Vec::new(),
            exposure: None,
        }
    }

    /// Every case in `dir`, by name. Panics on a file it cannot read or place, and on a
    /// file without its source written at the top.
    pub fn load_dir(dir: &Path) -> Vec<Case> {
        let mut by_name: BTreeMap<String, Case> = BTreeMap::new();
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("oracle corpus {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if file_name.ends_with(".sh") || file_name.ends_with(".md") {
                continue;
            }
            let Some((name, loader)) = Loader::of(file_name) else {
                panic!(
                    "oracle corpus: {} is neither NAME.nft, NAME.v4.rules, NAME.v6.rules, \
                     NAME.legacy-v4.rules / NAME.legacy-v6.rules nor NAME.ipset",
                    path.display()
                );
            };
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("oracle corpus {}: {e}", path.display()));
            assert!(
                text.lines()
                    .take(3)
                    .any(|l| l.starts_with("# Source:") || l.starts_with("#!/usr/sbin/nft")),
                "oracle corpus {}: the first lines must say where the ruleset comes from \
                 (`# Source: project, version, file or URL, how generated`)",
                path.display()
            );
            assert!(
                text.contains("# Source:"),
                "oracle corpus {}: no `# Source:` line",
                path.display()
            );
            let case = by_name.entry(name.clone()).or_insert_with(|| Case {
                name,
                files: Vec::new(),
                expects: Vec::new(),
                exposure: None,
            });
            case.expects.extend(parse_expects(&text, &path));
            if let Some(st) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("# oracle-exposure:"))
            {
                case.exposure = Some(match st.trim() {
                    "pass" => Status::Pass,
                    "fail" => Status::Fail,
                    other => panic!("{}: bad oracle-exposure {other:?}", path.display()),
                });
            }
            case.files.push((loader, text));
        }
        by_name.into_values().collect()
    }
}

/// `# oracle-expect: ipv6 8080 warn: why` lines.
fn parse_expects(text: &str, path: &Path) -> Vec<Expect> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("# oracle-expect:"))
        .map(|rest| {
            let (head, why) = rest.split_once(':').unwrap_or((rest, ""));
            let w: Vec<&str> = head.split_whitespace().collect();
            let bad = || panic!("{}: bad oracle-expect line: {rest}", path.display());
            let [fam, port, status] = w[..] else { bad() };
            let v6 = match fam {
                "ipv4" => false,
                "ipv6" => true,
                _ => bad(),
            };
            let status = match status {
                "pass" => Status::Pass,
                "fail" => Status::Fail,
                "warn" => Status::Warn,
                _ => bad(),
            };
            let why = why.trim().to_string();
            assert!(
                !why.is_empty(),
                "{}: oracle-expect without a reason",
                path.display()
            );
            Expect {
                v6,
                port: port.parse().unwrap_or_else(|_| bad()),
                status,
                why,
            }
        })
        .collect()
}

/// One port and family of a case: what the kernel did, what dsdoctor said.
#[derive(Debug, Clone)]
pub struct Row {
    pub v6: bool,
    pub port: u16,
    pub kernel: Kernel,
    pub firewall: Status,
    /// `firewall.icmpv6` (IPv6 rows only).
    pub icmpv6: Option<Status>,
    /// Which neighbour discovery messages `firewall.icmpv6` says are dropped or
    /// rejected (IPv6 rows only).
    pub nd: NdShut,
    pub expect: Option<Expect>,
    pub agrees: bool,
    pub summary: String,
}

impl Row {
    fn family(&self) -> &'static str {
        if self.v6 { "ipv6" } else { "ipv4" }
    }
}

/// The comparison of one case.
pub struct Verdict {
    pub case: String,
    pub rows: Vec<Row>,
    /// The case's declared `firewall.exposure` status, what dsdoctor said, its summary.
    pub exposure: Option<(Status, Status, String)>,
}

impl Verdict {
    pub fn disagreements(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| !r.agrees).collect()
    }

    /// Every row agrees, and `firewall.exposure` says what the case declares.
    pub fn agrees_all(&self) -> bool {
        self.disagreements().is_empty() && self.exposure.as_ref().is_none_or(|(w, g, _)| w == g)
    }

    /// The whole comparison as a table (printed when something disagrees).
    pub fn table(&self) -> String {
        let mut s = format!(
            "case {}\n  {:<5} {:>5}  {:<11} {:<14} {:<8} {:<6}  dsdoctor's summary\n",
            self.case, "fam", "port", "kernel", "firewall.*", "icmpv6", "agree"
        );
        for r in &self.rows {
            let exp = r
                .expect
                .as_ref()
                .map(|e| format!(" [declared {}: {}]", status_str(e.status), e.why))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<5} {:>5}  {:<11} {:<14} {:<8} {:<6}  {}{exp}",
                r.family(),
                r.port,
                r.kernel.as_str(),
                status_str(r.firewall),
                match (r.icmpv6, r.nd) {
                    (None, _) => "-".to_string(),
                    (Some(st), NdShut::Solicitations) => format!("{} NS", status_str(st)),
                    (Some(st), NdShut::Partly) => format!("{} ND", status_str(st)),
                    (Some(st), NdShut::None) => status_str(st).to_string(),
                },
                if r.agrees { "yes" } else { "NO" },
                r.summary
            );
        }
        if let Some((want, got, summary)) = &self.exposure {
            let _ = writeln!(
                s,
                "  firewall.exposure: declared {}, dsdoctor {} ({})  {summary}",
                status_str(*want),
                status_str(*got),
                if want == got { "agree" } else { "NO" }
            );
        }
        s
    }
}

fn status_str(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::Skip => "skip",
        Status::Error => "error",
    }
}

/// What `firewall.icmpv6` says of neighbour discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdShut {
    None,
    /// Solicitations (135) dropped: the router cannot find srv, nothing connects.
    Solicitations,
    /// Advertisements (136) arriving dropped, the router's reachability probes, or
    /// neighbour discovery srv sends, but not arriving solicitations: srv cannot learn the router's link-layer address by
    /// asking (or cannot answer), only from what the router sends on its own (a
    /// solicitation when its cache has no entry for srv, a router advertisement).
    /// Whether the handshake gets through depends on the two neighbour caches' state
    /// when the case runs, which no ruleset tells (seen with seed 5: a case after others
    /// timed out on every port, the router already knowing srv).
    Partly,
}

/// dsdoctor agrees with the kernel: it passes exactly the ports that connected. Over IPv6
/// neighbour discovery that `firewall.icmpv6` finds shut decides before the port's own
/// verdict ([`NdShut`]). A dropped packet-too-big stalls only large transfers: not the
/// port's question.
pub fn agrees(kernel: &Kernel, firewall: Status, nd: NdShut, expect: Option<&Expect>) -> bool {
    if let Some(e) = expect {
        // A declared gap: dsdoctor must say exactly that, and the kernel must still
        // disagree with it (else the declaration is stale).
        let kernel_ok = *kernel == Kernel::Connected;
        let said_ok = e.status == Status::Pass;
        return firewall == e.status && (e.status == Status::Warn || kernel_ok != said_ok);
    }
    match (kernel, firewall) {
        (Kernel::Connected, Status::Pass) => nd != NdShut::Solicitations,
        (
            Kernel::Stalled | Kernel::Refused | Kernel::Unreachable | Kernel::TimedOut,
            Status::Fail,
        ) => true,
        (Kernel::TimedOut, Status::Pass) => nd != NdShut::None,
        _ => false,
    }
}

impl Lab {
    /// Start the oracle's listeners in srv: one dual-stack socket per port.
    pub fn start_oracle_listeners(&mut self, ports: &[u16]) {
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        let refs: Vec<&str> = ports.iter().map(String::as_str).collect();
        self.start_support(Ns::Srv, "oracle-listen", "oracle_listen.py", &refs);
    }

    /// A container behind docker0 in srv ([`Lab::add_container`]) with a dual-stack
    /// listener on [`CTR_PORT`]: what the corpus's DNAT rules publish.
    pub fn start_oracle_container(&mut self) {
        self.add_container(true);
        let port = CTR_PORT.to_string();
        self.start_support(Ns::Ctr, "oracle-ctr-listen", "oracle_listen.py", &[&port]);
    }

    /// Whether every file of the case would load (`nft -c -f`, `*-restore --test`):
    /// nothing is loaded.
    pub fn ruleset_loads(&self, case: &Case) -> bool {
        case.files.iter().enumerate().all(|(i, (loader, text))| {
            let path = self.dir().join(format!("oracle-check-{i}.rules"));
            write_file(&path, text);
            let mut argv = loader.argv(&path.display().to_string());
            argv.insert(
                1,
                if *loader == Loader::Nft {
                    "-c"
                } else {
                    "--test"
                }
                .into(),
            );
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            self.exec(Ns::Srv, &refs).status.success()
        })
    }

    /// Load the case's files into srv, in order; the tool's complaint when the kernel
    /// refuses one (what was loaded before stays: [`Lab::unload_case`] undoes it).
    pub fn try_load_case(&self, case: &Case) -> Result<(), String> {
        for (i, (loader, text)) in case.files.iter().enumerate() {
            let path = self.dir().join(format!("oracle-{}-{i}.rules", case.name));
            write_file(&path, text);
            let argv = loader.argv(&path.display().to_string());
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            let out = self.exec(Ns::Srv, &refs);
            if !out.status.success() {
                return Err(format!(
                    "{argv:?}: {}
{text}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        // IPv6 neighbour filtering bites only once the caches are empty.
        self.flush_v6_neighbours();
        Ok(())
    }

    /// Load the case's files into srv; panics when one does not load.
    pub fn load_case(&self, case: &Case) {
        if let Err(e) = self.try_load_case(case) {
            panic!("oracle case {}: {e}", case.name);
        }
    }

    /// Connect from cli to srv on every port over both families at once; the kernel's
    /// answer per (family is IPv6, port).
    pub fn kernel_answers(&self, ports: &[u16]) -> BTreeMap<(bool, u16), Kernel> {
        let mut args: Vec<String> = vec![PROBE_TIMEOUT_S.into()];
        for v6 in [false, true] {
            for p in ports {
                args.push(if v6 { SRV_V6 } else { SRV_V4 }.into());
                args.push(p.to_string());
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let argv = support_command("oracle_probe.py", &refs);
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = self.exec_ok(Ns::Cli, &refs);
        let mut answers = BTreeMap::new();
        for line in out.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            let [addr, port, what] = w[..] else {
                panic!("oracle_probe.py printed {line:?}");
            };
            let port: u16 = port.parse().expect("a port");
            answers.insert((addr.contains(':'), port), Kernel::parse(what));
        }
        assert_eq!(answers.len(), ports.len() * 2, "oracle_probe.py: {out}");
        answers
    }

    /// Load `case`, ask the kernel, run dsdoctor on `ports`, compare. The listeners must
    /// be running ([`Lab::start_oracle_listeners`]).
    pub fn oracle(&self, case: &Case, ports: &[u16]) -> Verdict {
        self.load_case(case);
        self.oracle_loaded(case, ports)
    }

    /// [`Lab::oracle`] for a case already loaded.
    pub fn oracle_loaded(&self, case: &Case, ports: &[u16]) -> Verdict {
        let kernel = self.kernel_answers(ports);
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        let list = list.join(",");
        let run = self.check(&["--port", &list]);
        let mut v = compare(case, &kernel, &run);
        // firewall.exposure leaves the site's ports to firewall.ipv4/ipv6: asked about
        // port 22 alone, the others are the services it must judge.
        v.exposure = case.exposure.map(|want| {
            let run = self.check(&["--port", "22"]);
            let f = run.finding(CheckId::FirewallExposure, None);
            (want, f.status, f.summary.chars().take(240).collect())
        });
        v
    }

    /// Undo a case: srv's nftables (with the iptables-nft tables) flushed, and the legacy
    /// tables a case named emptied with policy accept.
    pub fn unload_case(&self, case: &Case) {
        self.exec_ok(Ns::Srv, &["nft", "flush", "ruleset"]);
        // The sets go once no rule refers to them: `ipset destroy` empties srv's.
        if case.files.iter().any(|(l, _)| *l == Loader::Ipset) {
            self.exec_ok(Ns::Srv, &["ipset", "destroy"]);
        }
        for (loader, text) in &case.files {
            let Loader::IptablesLegacy { v6 } = loader else {
                continue;
            };
            let mut reset = String::new();
            for table in text.lines().filter_map(|l| l.strip_prefix('*')) {
                let chains: &[&str] = match table.trim() {
                    "filter" => &["INPUT", "FORWARD", "OUTPUT"],
                    "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
                    "mangle" => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
                    "raw" => &["PREROUTING", "OUTPUT"],
                    other => panic!("oracle: legacy table {other} has no reset"),
                };
                reset.push_str(&format!("*{}\n", table.trim()));
                for c in chains {
                    reset.push_str(&format!(":{c} ACCEPT [0:0]\n"));
                }
                reset.push_str("COMMIT\n");
            }
            let path = self.dir().join(format!("oracle-reset-{}.rules", case.name));
            write_file(&path, &reset);
            let argv = Loader::IptablesLegacy { v6: *v6 }.argv(&path.display().to_string());
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            self.exec_ok(Ns::Srv, &refs);
        }
    }
}

/// Compare dsdoctor's report with the kernel's answers.
pub fn compare(case: &Case, kernel: &BTreeMap<(bool, u16), Kernel>, run: &CheckRun) -> Verdict {
    let icmp_finding = run.finding(CheckId::FirewallIcmpv6, None);
    let icmpv6 = icmp_finding.status;
    // Its evidence has one line per type: "ICMPv6 type 135 (...): drop by ...".
    // (Lines of what srv sends start "sent by this host: ICMPv6 type ..."; the
    // router's reachability probe is "ICMPv6 type 135 (neighbour solicitation to this
    // host's address)".)
    let shut = |start: &str| {
        icmp_finding
            .evidence
            .iter()
            .any(|l| l.starts_with(start) && (l.contains("): drop") || l.contains("): reject")))
    };
    let nd = if shut("ICMPv6 type 135 (neighbour solicitation)") {
        NdShut::Solicitations
    } else if shut("ICMPv6 type 135 (neighbour solicitation to this host's address)")
        || shut("ICMPv6 type 136 ")
        || shut("sent by this host: ICMPv6 type 135 ")
        || shut("sent by this host: ICMPv6 type 136 ")
    {
        NdShut::Partly
    } else {
        NdShut::None
    };
    let rows = kernel
        .iter()
        .map(|(&(v6, port), k)| {
            let id = if v6 {
                CheckId::FirewallIpv6
            } else {
                CheckId::FirewallIpv4
            };
            let f = run.finding(id, Some(port));
            let expect = case
                .expects
                .iter()
                .find(|e| e.v6 == v6 && e.port == port)
                .cloned();
            let icmp = v6.then_some(icmpv6);
            let nd = if v6 { nd } else { NdShut::None };
            Row {
                v6,
                port,
                kernel: k.clone(),
                firewall: f.status,
                icmpv6: icmp,
                nd,
                agrees: agrees(k, f.status, nd, expect.as_ref()),
                expect,
                summary: f.summary.chars().take(160).collect(),
            }
        })
        .collect();
    Verdict {
        case: case.name.clone(),
        rows,
        exposure: None,
    }
}
