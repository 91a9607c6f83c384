//! Scenario tables: "build a lab, break it one way, run `dsdoctor check`, assert" as data.
//!
//! Each row of `tests/lab/tables/*.toml` (one file per area, the way trippy keeps its
//! simulations as data) names:
//! - the breakage: `zone` (what DNS serves) and `steps` ([`Step`]: services started, commands
//!   run, rules loaded, and checks that the breakage took effect), in order;
//! - the run: `ports`, extra `args`, who runs it (`run`);
//! - what must come out: `exit`, `verdict`, `stages`, `checks` (statuses by check id, or
//!   `id@PORT`), `says` (text in a finding's parts), `also` (report-wide invariants),
//!   `after` (more runs on the same host);
//! - `twin`: the healthy row that must pass every check this one expects to go wrong (a
//!   false alarm is as bad as a miss), and `training`: the bundled training scenario
//!   (assets/scenarios/NAME.json) the row records.
//!
//! Every row also checks that the report keeps the contract ([`validate_report`]) and that
//! replaying the facts it recorded gives exactly the live report. Strings may name the
//! lab's addresses as `{SRV_V6}` and the like ([`expand`]).
//!
//! `DSD_RECORD_SCENARIOS=1 cargo test --test lab` re-records the bundled training
//! snapshots (the stories, NAME.toml, are written by hand).

use crate::harness::*;
use dualstack_doctor::Cause;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One table file and the tests generated for its rows (by `scenario_tests!`).
pub struct Table {
    pub file: &'static str,
    pub text: &'static str,
    pub tests: &'static [&'static str],
}

/// `scenario_tests!("check.toml": row_a, row_b, ...)`: `TABLE` for the file and one
/// `#[test]` per row, named as the row.
macro_rules! scenario_tests {
    ($file:literal: $($name:ident),* $(,)?) => {
        /// The rows of this area's table, `tests/lab/tables/` + the file name.
        pub const TABLE: crate::table::Table = crate::table::Table {
            file: $file,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/tables/", $file)),
            tests: &[$(stringify!($name)),*],
        };
        $(
            #[test]
            fn $name() {
                crate::table::run(&TABLE, stringify!($name));
            }
        )*
    };
}

/// Every table of the binary.
pub fn tables() -> [&'static Table; 3] {
    [
        &crate::check::TABLE,
        &crate::firewall::TABLE,
        &crate::isp::TABLE,
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
}

/// The rows of `table`, with `same_as` resolved; panics naming the file on a parse error.
pub fn rows(table: &Table) -> Vec<Scenario> {
    let file: File = toml::from_str(table.text)
        .unwrap_or_else(|e| panic!("tests/lab/tables/{}: {e}", table.file));
    let raw = file.scenario;
    raw.iter()
        .map(|row| match &row.same_as {
            None => row.clone(),
            Some(other) => {
                let base = raw
                    .iter()
                    .find(|r| &r.name == other)
                    .unwrap_or_else(|| panic!("{}: same_as {other}: no such row", row.name));
                row.inherit(base)
            }
        })
        .collect()
}

/// The rows of every table.
pub fn all_rows() -> Vec<Scenario> {
    tables().into_iter().flat_map(rows).collect()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// What the row is about, in one sentence.
    pub about: String,
    /// A row whose expectations this one shares (its own are added to them).
    #[serde(default)]
    same_as: Option<String>,
    /// The healthy row that must pass what this one expects to go wrong.
    #[serde(default)]
    pub twin: Option<String>,
    /// The bundled training scenario this row records.
    #[serde(default)]
    pub training: Option<String>,
    #[serde(default)]
    zone: Zone,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default = "port_80")]
    pub ports: Vec<u16>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    run: How,
    pub exit: Option<i32>,
    verdict: Option<VerdictWant>,
    #[serde(default)]
    verdict_status: Option<Status>,
    #[serde(default)]
    target_expect: Option<String>,
    #[serde(default)]
    stages: BTreeMap<Stage, StatusWant>,
    #[serde(default)]
    pub checks: BTreeMap<String, StatusWant>,
    #[serde(default)]
    pub says: BTreeMap<String, Says>,
    #[serde(default)]
    also: Vec<Also>,
    /// The live run takes less than this many seconds.
    #[serde(default)]
    within_s: Option<u64>,
    #[serde(default)]
    after: Vec<After>,
}

fn port_80() -> Vec<u16> {
    vec![80]
}

/// Who runs dsdoctor, and how.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum How {
    #[default]
    Root,
    /// uid 65534 without capabilities.
    Nobody,
    /// As root, with the `nft` tool hidden (a private mount namespace binds /dev/null
    /// over it): only the legacy iptables tables can be read.
    WithoutNft,
}

/// What DNS serves, changed from the healthy zone.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Zone {
    shop_a: Option<Vec<String>>,
    shop_aaaa: Option<Vec<String>>,
    /// `[name, address]`: the resolver answers that itself (see `DnsZone::resolver_address`).
    #[serde(default)]
    resolver_address: Vec<(String, String)>,
    #[serde(default)]
    hosts: Vec<Host>,
    /// `[owner, exchange, preference]`.
    #[serde(default)]
    mx: Vec<(String, String, u16)>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Host {
    name: String,
    a: Option<String>,
    aaaa: Option<String>,
}

/// One step of building or breaking the lab host, in the order of the row.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    /// nginx in srv whose `server` has these listen directives (line 3 of the site).
    Nginx(String),
    /// nginx in srv with this whole site file.
    NginxSite(String),
    /// "A service on port N" (see `Lab::start_listener`).
    Listener {
        addr: String,
        port: u16,
        v6only: Option<bool>,
        body: String,
    },
    /// A web server on [::]:80 whose body never ends.
    Endless {
        slow: bool,
    },
    /// The SMTP stub: `[address, port, name]` per socket.
    Smtp(Vec<(String, u16, String)>),
    /// srv trusts the lab CA, which signs a certificate for `names` at
    /// `{TLS}/<label>.pem` (key `.key`).
    Certificate {
        label: String,
        names: Vec<String>,
    },
    /// A command in srv or net that must succeed.
    Srv(Vec<String>),
    Net(Vec<String>),
    /// `/etc/sysctl.d/<name>` as srv sees it.
    SysctlFile {
        name: String,
        content: String,
    },
    /// A command in srv prints `out` (trimmed).
    SrvPrints {
        cmd: Vec<String>,
        out: String,
    },
    /// Wait for srv's duplicate address detection to end as named.
    WaitDad(Dad),
    /// An nftables ruleset loaded in a namespace.
    Nft {
        ns: Ns,
        rules: String,
    },
    /// `STRICT_NFT` in srv: strict but correct.
    StrictRuleset,
    /// An iptables-family command in srv (the tool first).
    Iptables(Vec<String>),
    FlushV6Neighbours,
    BehindNat(Nat),
    ForwardPort {
        nat: Nat,
        port: u16,
        hairpin: bool,
    },
    BlockIpv6Upstream,
    NarrowUplink(u32),
    /// The router drops "packet too big" (and with `ipv4`, "fragmentation needed").
    DropPacketTooBigUpstream {
        ipv4: bool,
    },
    Blackhole6(String),
    /// Whether a TCP connection from cli to `to:port` is accepted: the breakage took
    /// effect (or the lab works before it).
    Reach {
        to: String,
        port: u16,
        open: bool,
    },
    /// `GET /` from cli to `to:port` is refused.
    Refused {
        to: String,
        port: u16,
    },
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Dad {
    /// srv's global IPv6 address is gone; only the link-local one is left.
    LinkLocalOnly,
    /// srv's `{SRV_V6}/64` failed duplicate address detection.
    Failed,
}

/// The expected status of a check or a stage: one status, one of several, or a skip that
/// names its cause.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum StatusWant {
    Is(Status),
    OneOf(Vec<Status>),
    Naming(Naming),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Naming {
    /// `skip`, the summary naming one of these checks.
    SkipNaming(Vec<CheckId>),
    /// `pass`, or `skip` naming one of these checks.
    PassOrSkipNaming(Vec<CheckId>),
}

impl StatusWant {
    /// The statuses this allows, if none of them is pass: a check going wrong.
    fn problem(&self) -> bool {
        let allowed = match self {
            StatusWant::Is(s) => vec![*s],
            StatusWant::OneOf(v) => v.clone(),
            StatusWant::Naming(_) => return false,
        };
        !allowed.contains(&Status::Pass)
            && allowed
                .iter()
                .any(|s| matches!(s, Status::Fail | Status::Warn | Status::Error))
    }
}

/// The verdict: a check, one of several checks, or a word.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum VerdictWant {
    Check(CheckId),
    OneOf(Vec<CheckId>),
    Word(VerdictWord),
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum VerdictWord {
    /// No check named, status pass.
    Clear,
    /// The first finding that is warn or error, in report order (there is no fail).
    FirstProblem,
}

/// Text a finding must hold, part by part; every needle of a part must match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Says {
    #[serde(default)]
    summary: Vec<Needle>,
    #[serde(default)]
    evidence: Vec<Needle>,
    #[serde(default)]
    explanation: Vec<Needle>,
    #[serde(default)]
    fixes: Vec<Needle>,
    /// The whole finding.
    #[serde(default)]
    text: Vec<Needle>,
}

/// A string the part contains, a list of which it contains at least one, or a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Needle {
    Has(String),
    AnyOf(Vec<String>),
    Rule(Rule),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Rule {
    Not(String),
    StartsWith(String),
    /// Each after the one before.
    InOrder(Vec<String>),
    /// The part is empty (`true`) or not.
    Empty(bool),
}

/// Report-wide invariants.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Also {
    /// The stages after the fault stay quiet: the firewall (no rules in the lab) and no
    /// isp probe ending in `error` (the echo service is always reachable).
    Quiet,
    /// The firewall stage is clean for a lab without rules (see `assert_firewall_quiet`).
    FirewallQuiet,
    /// Every check passes or is skipped.
    AllPassOrSkip,
    /// No check fails.
    NoFail,
    /// Every `error` says what is needed (root or a capability).
    ErrorsNameRoot,
    /// Every contract check appears exactly once per port.
    EveryContractCheckOnce,
    /// In the isp stage only these checks may end in `error`.
    IspErrorsOnly(Vec<CheckId>),
}

/// More runs on the row's host, after the live run.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum After {
    /// `--offline`: the isp stage is skipped, every check naming `--offline`.
    Offline,
    /// The text and markdown reports: same exit code, the verdict, a fenced shell fix,
    /// no escape sequence, and the text report holds these strings.
    Formats(Vec<String>),
    /// The recorded facts replayed in the root namespace, where nothing of the lab exists,
    /// give the same findings.
    ReplayOutsideLab,
}

impl Scenario {
    /// This row with `base`'s expectations under its own.
    fn inherit(&self, base: &Scenario) -> Scenario {
        let mut row = self.clone();
        row.exit = row.exit.or(base.exit);
        row.verdict = row.verdict.or_else(|| base.verdict.clone());
        row.verdict_status = row.verdict_status.or(base.verdict_status);
        for (k, v) in &base.stages {
            row.stages.entry(*k).or_insert_with(|| v.clone());
        }
        for (k, v) in &base.checks {
            row.checks.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &base.says {
            row.says.entry(k.clone()).or_insert_with(|| v.clone());
        }
        row.also.extend(base.also.iter().cloned());
        row
    }

    /// A check key (`id` or `id@PORT`) as check and port; a per-port check without a
    /// port is at the row's one port.
    pub fn key(&self, key: &str) -> (CheckId, Option<u16>) {
        let c = Cause::parse(key)
            .unwrap_or_else(|| panic!("{}: {key:?} is not a check id (or id@PORT)", self.name));
        match (c.check.per_port(), c.port) {
            (true, None) => match self.ports[..] {
                [p] => (c.check, Some(p)),
                _ => panic!("{}: {key} is per port; name the port", self.name),
            },
            (false, Some(_)) => panic!("{}: {key} has no port", self.name),
            (_, port) => (c.check, port),
        }
    }

    /// The checks this row expects to go wrong: fail, warn or error, and the verdict's.
    pub fn problems(&self) -> Vec<(CheckId, Option<u16>)> {
        let mut keys: Vec<(CheckId, Option<u16>)> = self
            .checks
            .iter()
            .filter(|(_, want)| want.problem())
            .map(|(k, _)| self.key(k))
            .collect();
        let verdicts = match &self.verdict {
            Some(VerdictWant::Check(c)) => vec![*c],
            Some(VerdictWant::OneOf(v)) => v.clone(),
            _ => Vec::new(),
        };
        // A per-port verdict on a run of several ports is in `checks` at its port.
        for c in verdicts {
            if !c.per_port() || self.ports.len() == 1 {
                keys.push(self.key(c.as_str()));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every string of the row that may hold placeholders.
    pub fn strings(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        v.extend(self.zone.shop_a.iter().flatten().cloned());
        v.extend(self.zone.shop_aaaa.iter().flatten().cloned());
        v.push(format!("{:?}", self.zone.mx));
        v.extend(self.args.iter().cloned());
        for step in &self.steps {
            v.push(format!("{step:?}"));
        }
        for says in self.says.values() {
            v.push(format!("{says:?}"));
        }
        for a in &self.after {
            v.push(format!("{a:?}"));
        }
        v
    }
}

/// The names `{NAME}` may stand for in a row's strings; `SITE` (the nginx site file) and
/// `TLS` (the lab's certificate directory) need the lab.
pub const PLACEHOLDERS: [(&str, &str); 10] = [
    ("DOMAIN", DOMAIN),
    ("SRV_V4", SRV_V4),
    ("SRV_V6", SRV_V6),
    ("SRV_GW_V6", SRV_GW_V6),
    ("CLI_V4", CLI_V4),
    ("CLI_V6", CLI_V6),
    ("RESOLVER_V4", RESOLVER_V4),
    ("NAT_PUBLIC_V4", NAT_PUBLIC_V4),
    ("HOME_V4", HOME_V4),
    ("ECHO_PORT", "8180"),
];

/// `s` with `{NAME}` replaced by the lab's value (see [`PLACEHOLDERS`]; `{SITE}` and
/// `{TLS}` from `lab`); panics on a name it does not know.
pub fn expand(s: &str, lab: Option<&Lab>) -> String {
    let mut out = s.to_string();
    for (name, value) in PLACEHOLDERS {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    if let Some(lab) = lab {
        out = out.replace("{SITE}", &lab.nginx_site_path().display().to_string());
        out = out.replace("{TLS}", &lab.dir().join("tls").display().to_string());
    }
    if let Some(name) = unknown_placeholder(&out) {
        panic!("unknown placeholder {{{name}}} in {s:?}");
    }
    out
}

/// The first `{NAME}` (a capital, then capitals, digits and underscores) left in `s`.
pub fn unknown_placeholder(s: &str) -> Option<&str> {
    s.match_indices('{').find_map(|(i, _)| {
        let rest = &s[i + 1..];
        let end = rest.find('}')?;
        let name = &rest[..end];
        let upper = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
        (name.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) && name.bytes().all(upper))
            .then_some(name)
    })
}

/// Run the row `name` of `table`: build, break, check, assert.
pub fn run(table: &Table, name: &str) {
    let all = all_rows();
    let sc = rows(table)
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("tests/lab/tables/{}: no row {name}", table.file));

    let mut lab = Lab::with_zone(&sc.name, sc.zone.build());
    for step in &sc.steps {
        apply(&mut lab, step);
    }

    // The facts directory is writable for an unprivileged run too.
    let facts_dir = lab.dir().join("facts");
    std::fs::create_dir_all(&facts_dir).expect("create the facts directory");
    std::fs::set_permissions(
        &facts_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod the facts directory");
    let facts = facts_dir.join("live.json");
    let facts_s = facts.display().to_string();
    let ports = sc
        .ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut extra: Vec<String> = sc.args.iter().map(|a| expand(a, Some(&lab))).collect();
    extra.extend(["-p".into(), ports, "--save-facts".into(), facts_s]);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();

    let t0 = Instant::now();
    let live = match sc.run {
        How::Root => lab.check(&extra),
        How::Nobody => lab.check_as(RunAs::Nobody, &extra),
        How::WithoutNft => {
            let args = Lab::check_args(&extra);
            let (code, out, err) = lab.run_dsdoctor_in_mount_ns(
                "mount --bind /dev/null \"$(command -v nft || echo /usr/sbin/nft)\"",
                &args,
            );
            CheckRun::parse(&format!("{args:?} without nft"), code, out, err)
        }
    };
    let took = t0.elapsed();
    if let Some(limit) = sc.within_s {
        assert!(
            took < Duration::from_secs(limit),
            "{}: the run took {took:?}, more than {limit} s",
            sc.name
        );
    }

    assert_row(&sc, &lab, &live);
    validate_report(&live);
    for row in all.iter().filter(|r| r.twin.as_deref() == Some(&sc.name)) {
        for (id, port) in row.problems() {
            assert_eq!(
                live.status(id, port),
                Status::Pass,
                "{}: {id} (port {port:?}) goes wrong in {}, whose healthy twin this is: a \
                 false alarm here\n{}",
                sc.name,
                row.name,
                live.dump(id, port)
            );
        }
    }
    assert_replay_equals_live(&lab, &facts, &live);
    if let Some(training) = &sc.training {
        check_training(&lab, training, &facts, &live);
    }
    for after in &sc.after {
        run_after(&sc, &lab, &facts, &live, after);
    }
}

impl Zone {
    fn build(&self) -> DnsZone {
        let expanded = |v: &Option<Vec<String>>| -> Option<Vec<String>> {
            v.as_ref()
                .map(|v| v.iter().map(|a| expand(a, None)).collect())
        };
        fn refs(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let mut z = DnsZone::new();
        if let Some(a) = expanded(&self.shop_a) {
            z = z.shop_a(&refs(&a));
        }
        if let Some(a) = expanded(&self.shop_aaaa) {
            z = z.shop_aaaa(&refs(&a));
        }
        for (name, addr) in &self.resolver_address {
            z = z.resolver_address(name, &expand(addr, None));
        }
        for h in &self.hosts {
            z = z.host(&h.name, h.a.as_deref(), h.aaaa.as_deref());
        }
        for (owner, exchange, preference) in &self.mx {
            z = z.mx(&expand(owner, None), &expand(exchange, None), *preference);
        }
        z
    }
}

fn apply(lab: &mut Lab, step: &Step) {
    let x = |s: &String, lab: &Lab| expand(s, Some(lab));
    let xs = |v: &[String], lab: &Lab| v.iter().map(|s| x(s, lab)).collect::<Vec<_>>();
    match step {
        Step::Nginx(listen) => {
            lab.start_nginx(listen);
        }
        Step::NginxSite(site) => {
            let site = x(site, lab);
            lab.start_nginx_raw(&site);
        }
        Step::Listener {
            addr,
            port,
            v6only,
            body,
        } => {
            lab.start_listener(addr, *port, *v6only, body);
        }
        Step::Endless { slow } => lab.start_endless_server(80, *slow),
        Step::Smtp(socks) => {
            let socks: Vec<(String, u16, String)> = socks
                .iter()
                .map(|(a, p, n)| (x(a, lab), *p, x(n, lab)))
                .collect();
            let refs: Vec<(&str, u16, &str)> = socks
                .iter()
                .map(|(a, p, n)| (a.as_str(), *p, n.as_str()))
                .collect();
            lab.start_smtp(&refs);
        }
        Step::Certificate { label, names } => {
            lab.trust_lab_ca();
            let names = xs(names, lab);
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            lab.lab_cert(label, &refs);
        }
        Step::Srv(argv) | Step::Net(argv) => {
            let ns = if matches!(step, Step::Srv(_)) {
                Ns::Srv
            } else {
                Ns::Net
            };
            let argv = xs(argv, lab);
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            lab.exec_ok(ns, &refs);
        }
        Step::SysctlFile { name, content } => {
            lab.write_srv_etc(&format!("sysctl.d/{name}"), content);
            // `ip netns exec` bind-mounts /etc/netns/<srv>/sysctl.d over /etc/sysctl.d.
            let seen = lab.exec_ok(Ns::Srv, &["cat", &format!("/etc/sysctl.d/{name}")]);
            assert_eq!(&seen, content, "the sysctl.d overlay is not visible in srv");
        }
        Step::SrvPrints { cmd, out } => {
            let argv = xs(cmd, lab);
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            assert_eq!(lab.exec_ok(Ns::Srv, &refs).trim(), out, "{argv:?} in srv");
        }
        Step::WaitDad(dad) => wait_srv_dad(lab, *dad),
        Step::Nft { ns, rules } => lab.nft(*ns, rules),
        Step::StrictRuleset => lab.nft(Ns::Srv, STRICT_NFT),
        Step::Iptables(argv) => {
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            lab.iptables(&refs);
        }
        Step::FlushV6Neighbours => lab.flush_v6_neighbours(),
        Step::BehindNat(nat) => lab.put_behind_nat(*nat),
        Step::ForwardPort { nat, port, hairpin } => lab.forward_port(*nat, *port, *hairpin),
        Step::BlockIpv6Upstream => lab.block_ipv6_upstream(),
        Step::NarrowUplink(mtu) => lab.narrow_upstream_link(*mtu),
        Step::DropPacketTooBigUpstream { ipv4 } => lab.drop_packet_too_big_upstream(*ipv4),
        Step::Blackhole6(addr) => lab.add_blackhole_v6(&x(addr, lab)),
        Step::Reach { to, port, open } => {
            let to = x(to, lab);
            assert_eq!(
                lab.tcp_connects(Ns::Cli, &to, *port),
                *open,
                "from cli, {to} port {port} should be {}; srv's ruleset:\n{}",
                if *open { "open" } else { "closed" },
                lab.ruleset()
            );
        }
        Step::Refused { to, port } => {
            let to = x(to, lab);
            let err = lab
                .http_get(Ns::Cli, &to, *port)
                .expect_err("the reject has no effect");
            assert!(err.contains("Refused") || err.contains("refused"), "{err}");
        }
    }
}

/// Poll `ip -6 addr show dev eth0` in srv until duplicate address detection is over (no
/// address is tentative unless DAD failed on it: a dadfailed address keeps the tentative
/// flag) and has ended as `dad` says.
fn wait_srv_dad(lab: &Lab, dad: Dad) {
    let timeout = Duration::from_secs(5);
    let deadline = Instant::now() + timeout;
    let cidr = format!("{SRV_V6}/64");
    loop {
        let out = lab.exec_ok(Ns::Srv, &["ip", "-6", "addr", "show", "dev", "eth0"]);
        let pending = out
            .lines()
            .any(|l| l.contains("tentative") && !l.contains("dadfailed"));
        let ended = match dad {
            Dad::LinkLocalOnly => !out.contains("scope global") && out.contains("scope link"),
            Dad::Failed => out
                .lines()
                .any(|l| l.contains(&cidr) && l.contains("dadfailed")),
        };
        if !pending && ended {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "DAD on srv eth0 not ended as {dad:?} after {timeout:?}:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every expectation of the row on the live report.
fn assert_row(sc: &Scenario, lab: &Lab, r: &CheckRun) {
    let name = &sc.name;
    if let Some(exit) = sc.exit {
        assert_eq!(
            r.code,
            exit,
            "{name}: exit code {}, expected {exit}; problems:\n{}",
            r.code,
            r.problems()
        );
    }
    let t = &r.report.target;
    assert_eq!(t.domain, DOMAIN, "{name}: target domain");
    assert_eq!(t.ports, sc.ports, "{name}: target ports");
    let expect = serde_json::to_value(t.expect).expect("expect serialises");
    let want = sc.target_expect.as_deref().unwrap_or("both");
    assert_eq!(expect, want, "{name}: target expect");

    match &sc.verdict {
        Some(VerdictWant::Check(c)) => r.assert_verdict(Some(*c)),
        Some(VerdictWant::OneOf(v)) => {
            let got = r.report.verdict.check;
            assert!(
                got.is_some_and(|c| v.contains(&c)),
                "{name}: verdict {got:?}, expected one of {v:?}; problems:\n{}",
                r.problems()
            );
            r.assert_verdict(got);
        }
        Some(VerdictWant::Word(VerdictWord::Clear)) => {
            r.assert_verdict(None);
            assert_eq!(r.report.verdict.status, Status::Pass, "{name}: verdict");
        }
        Some(VerdictWant::Word(VerdictWord::FirstProblem)) => {
            let first = r
                .report
                .checks
                .iter()
                .find(|c| matches!(c.status, Status::Warn | Status::Error))
                .map(|c| c.id);
            assert_eq!(r.report.verdict.check, first, "{name}: {}", r.problems());
        }
        None => panic!("{name}: the row names no verdict"),
    }
    if let Some(status) = sc.verdict_status {
        assert_eq!(r.report.verdict.status, status, "{name}: verdict status");
    }
    for (stage, want) in &sc.stages {
        let got = r.stage(*stage);
        let ok = match want {
            StatusWant::Is(s) => got == *s,
            StatusWant::OneOf(v) => v.contains(&got),
            StatusWant::Naming(_) => panic!("{name}: a stage names no cause"),
        };
        assert!(
            ok,
            "{name}: stage {stage:?} is {}, expected {want:?}; problems:\n{}",
            got.as_str(),
            r.problems()
        );
    }
    for (key, want) in &sc.checks {
        let (id, port) = sc.key(key);
        match want {
            StatusWant::Is(s) => r.assert_status(id, port, *s),
            StatusWant::OneOf(v) => r.assert_status_in(id, port, v),
            StatusWant::Naming(Naming::SkipNaming(causes)) => {
                r.assert_skip_naming(id, port, causes)
            }
            StatusWant::Naming(Naming::PassOrSkipNaming(causes)) => {
                if r.status(id, port) != Status::Pass {
                    r.assert_skip_naming(id, port, causes);
                }
            }
        }
    }
    for (key, says) in &sc.says {
        let (id, port) = sc.key(key);
        for (part, needles) in [
            (Part::Summary, &says.summary),
            (Part::Evidence, &says.evidence),
            (Part::Explanation, &says.explanation),
            (Part::Fixes, &says.fixes),
            (Part::Text, &says.text),
        ] {
            let text = r.part(id, port, part);
            for needle in needles {
                assert!(
                    needle_matches(needle, &text, lab),
                    "{name}: {part:?} of {key} does not match {needle:?}:\n{}",
                    r.dump(id, port)
                );
            }
        }
    }
    for also in &sc.also {
        assert_also(sc, r, also);
    }
}

fn needle_matches(needle: &Needle, text: &str, lab: &Lab) -> bool {
    let x = |s: &String| expand(s, Some(lab));
    match needle {
        Needle::Has(s) => text.contains(&x(s)),
        Needle::AnyOf(v) => v.iter().any(|s| text.contains(&x(s))),
        Needle::Rule(Rule::Not(s)) => !text.contains(&x(s)),
        Needle::Rule(Rule::StartsWith(s)) => text.starts_with(&x(s)),
        Needle::Rule(Rule::InOrder(v)) => {
            let mut at = 0;
            v.iter().all(|s| match text[at..].find(&x(s)) {
                Some(i) => {
                    at += i + s.len();
                    true
                }
                None => false,
            })
        }
        Needle::Rule(Rule::Empty(empty)) => text.trim().is_empty() == *empty,
    }
}

fn assert_also(sc: &Scenario, r: &CheckRun, also: &Also) {
    let name = &sc.name;
    let all = &r.report.checks;
    let each = |ok: &dyn Fn(&Finding) -> bool, what: &str| {
        for c in all {
            assert!(ok(c), "{name}: {what}: {c:#?}\nproblems:\n{}", r.problems());
        }
    };
    match also {
        Also::Quiet => {
            r.assert_firewall_quiet();
            each(
                &|c| c.stage != Stage::Isp || c.status != Status::Error,
                "an isp probe ended in error",
            );
        }
        Also::FirewallQuiet => r.assert_firewall_quiet(),
        Also::AllPassOrSkip => each(
            &|c| matches!(c.status, Status::Pass | Status::Skip),
            "not pass or skip",
        ),
        Also::NoFail => each(&|c| c.status != Status::Fail, "a check fails"),
        Also::ErrorsNameRoot => each(
            &|c| {
                c.status != Status::Error
                    || c.summary.contains("root")
                    || c.summary.contains("CAP_")
            },
            "an error must say what is needed",
        ),
        Also::EveryContractCheckOnce => r.assert_all_contract_checks(),
        Also::IspErrorsOnly(ids) => each(
            &|c| c.stage != Stage::Isp || c.status != Status::Error || ids.contains(&c.id),
            "an unexpected isp error",
        ),
    }
}

/// Replaying the recorded facts gives exactly the live report: exit code, findings,
/// verdict, stages, target, host and the recording's time.
fn assert_replay_equals_live(lab: &Lab, facts: &Path, live: &CheckRun) {
    assert!(facts.exists(), "no snapshot written to {}", facts.display());
    let replayed = lab.replay(facts);
    let (a, b) = (&replayed.report, &live.report);
    assert_eq!(replayed.code, live.code, "replay: exit code");
    assert_eq!(a.checks, b.checks, "replay: findings differ");
    assert_eq!(a.verdict, b.verdict, "replay: verdict differs");
    assert_eq!(a.stages, b.stages, "replay: stages differ");
    assert_eq!(a.target, b.target, "replay: target differs");
    assert_eq!(a.host.hostname, b.host.hostname, "replay: hostname");
    assert_eq!(a.started_at, b.started_at, "replay: the recording's time");
}

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios")
}

/// The bundled recording of training scenario `name` still tells the story the lab
/// produces today (its verdict); with `DSD_RECORD_SCENARIOS` set, re-record it instead.
fn check_training(lab: &Lab, name: &str, facts: &Path, live: &CheckRun) {
    let bundled = scenario_dir().join(format!("{name}.json"));
    assert!(
        scenario_dir().join(format!("{name}.toml")).exists(),
        "{name}: no story"
    );
    if std::env::var_os("DSD_RECORD_SCENARIOS").is_some() {
        std::fs::copy(facts, &bundled).expect("record the scenario");
        return;
    }
    let recorded = lab.replay(&bundled);
    assert_eq!(
        recorded.report.verdict.check, live.report.verdict.check,
        "{name}: the bundled recording is stale; re-record"
    );
}

fn run_after(sc: &Scenario, lab: &Lab, facts: &Path, live: &CheckRun, after: &After) {
    let name = &sc.name;
    match after {
        After::Offline => {
            // (Offline, the gateway pings of the route stage do not run either: not
            // asserted here.)
            let r = lab.check(&["--offline"]);
            r.assert_stage(Stage::Isp, Status::Skip);
            for c in r.in_stage(Stage::Isp) {
                assert!(
                    c.status == Status::Skip && c.summary.contains("--offline"),
                    "{name} --offline: {c:#?}"
                );
            }
        }
        After::Formats(needles) => {
            let verdict = format!(
                "VERDICT {}",
                live.report.verdict.status.as_str().to_uppercase()
            );
            for (format, must) in [("text", verdict.as_str()), ("markdown", "## Verdict")] {
                let mut args = Lab::check_args(&[]);
                let i = args
                    .iter()
                    .position(|a| a == "json")
                    .expect("--format json");
                args[i] = format.to_string();
                let (code, out, err) = lab.run_dsdoctor(&args);
                assert_eq!(
                    code, live.code,
                    "{name} {format}: exit {code}\n{out}\n{err}"
                );
                assert!(out.contains(must), "{name} {format} report:\n{out}");
                assert!(
                    !out.contains('\x1b'),
                    "{name} {format} report has ESC:\n{out:?}"
                );
                if format == "markdown" {
                    assert!(out.contains("```sh"), "{name}: no ```sh fence:\n{out}");
                } else {
                    for n in needles {
                        assert!(out.contains(n), "{name}: text report lacks {n:?}:\n{out}");
                    }
                }
            }
        }
        After::ReplayOutsideLab => {
            let out = std::process::Command::new(DSDOCTOR)
                .args(replay_args(facts, "json"))
                .output()
                .expect("run dsdoctor");
            let r = CheckRun::parse(
                "replay in the root namespace",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
            assert_eq!(
                r.report.checks, live.report.checks,
                "{name}: replay outside"
            );
        }
    }
}
