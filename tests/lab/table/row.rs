//! The rows of a scenario table as data: what a row of `tests/lab/tables/*.toml` may say
//! (read with serde), the check keys (`id` or `id@PORT`), and the placeholders for the
//! lab's addresses.

use crate::harness::*;
use dualstack_doctor::Cause;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One row. Every field but `name`, `about`, `exit` and `verdict` may be left out (a row
/// with `same_as` takes the other row's).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub(crate) name: String,
    /// What the row is about, in one sentence.
    pub(crate) about: String,
    /// A row whose expectations this one shares (its own are added to them).
    pub(super) same_as: Option<String>,
    /// The healthy row that must pass what this one expects to go wrong.
    pub(crate) twin: Option<String>,
    /// The bundled training scenario this row records.
    pub(crate) training: Option<String>,
    pub(super) zone: Zone,
    pub(super) steps: Vec<Step>,
    #[serde(default = "port_80")]
    pub(crate) ports: Vec<u16>,
    pub(super) args: Vec<String>,
    pub(super) run: How,
    pub(crate) exit: Option<i32>,
    pub(crate) verdict: Option<VerdictWant>,
    pub(super) verdict_status: Option<Status>,
    pub(super) target_expect: Option<String>,
    pub(super) stages: BTreeMap<Stage, StatusWant>,
    pub(crate) checks: BTreeMap<String, StatusWant>,
    pub(crate) says: BTreeMap<String, Says>,
    pub(super) also: Vec<Also>,
    /// The live run takes less than this many seconds.
    pub(super) within_s: Option<u64>,
    pub(super) after: Vec<After>,
}

fn port_80() -> Vec<u16> {
    vec![80]
}

/// Who runs dsdoctor, and how.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
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
#[serde(default, deny_unknown_fields)]
pub struct Zone {
    pub(super) shop_a: Option<Vec<String>>,
    pub(super) shop_aaaa: Option<Vec<String>>,
    /// `[name, address]`: the resolver answers that itself (see `DnsZone::resolver_address`).
    pub(super) resolver_address: Vec<(String, String)>,
    pub(super) hosts: Vec<Host>,
    /// `[owner, exchange, preference]`.
    pub(super) mx: Vec<(String, String, u16)>,
    /// The resolver does DNS64 with this prefix (a /96, e.g. `{NAT64}`).
    pub(super) dns64: Option<String>,
    /// shop.lab.example's SPF record instead of the lab's (`DEFAULT_SPF`); empty: none.
    pub(super) spf: Option<String>,
    /// `[owner, text]`: more TXT records (SPF records of included names).
    pub(super) txt: Vec<(String, String)>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub(super) name: String,
    pub(super) a: Option<String>,
    pub(super) aaaa: Option<String>,
}

/// One step of building or breaking the lab host, in the order of the row.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// nginx in srv whose `server` has these listen directives (line 3 of the site).
    Nginx(String),
    /// nginx in srv with this whole site file.
    NginxSite(String),
    /// Apache httpd in srv: line 2 of `ports.conf`, and the whole site file (default
    /// [`APACHE_SITE`]) (see `Lab::start_apache`).
    Apache {
        ports: String,
        site: Option<String>,
    },
    /// HAProxy in srv with these `bind` lines in its frontend (line 8).
    Haproxy(String),
    /// The same in front of `server` (`app ADDR:PORT` on line 11, see
    /// `Lab::start_haproxy_to`).
    HaproxyTo {
        binds: String,
        server: String,
    },
    /// Caddy in srv with this `bind` line in the site (line 9; empty for none).
    Caddy(String),
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
    /// Postfix in srv with these lines at the end of its `main.cf` (line 8 on; see
    /// `Lab::start_postfix`).
    Postfix(String),
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
    /// srv's own `/etc/<path>` (under `/etc/netns/<srv>`, which `ip netns exec` binds
    /// over `/etc`): its resolv.conf, or an `apt/` directory that hides the machine's.
    SrvEtc {
        path: String,
        content: String,
    },
    /// A file of the network configuration srv boots with, `/etc/<path>` (mode 0644
    /// unless `mode`), laid over srv's `/etc` for dsdoctor (`Lab::write_boot_etc`).
    Etc {
        path: String,
        content: String,
        mode: Option<u32>,
    },
    /// A symbolic link `/etc/<path>` -> `target` there: an enabled unit.
    EtcLink {
        path: String,
        target: String,
    },
    /// srv's own `/etc/netns` file `/etc/<path>` removed (the lab's netplan file).
    EtcRemove(String),
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
    /// srv's IPv4 default route leaves by a second link (`Lab::second_ipv4_uplink`).
    SecondIpv4Uplink,
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
    /// A TCP connection from srv (socat) to a listener started in net on
    /// `addr:port`, held open until teardown (see `Lab::hold_connection`).
    HeldConnection {
        addr: String,
        port: u16,
    },
    /// tayga in net translating `{NAT64}`/96, its tun device's MTU `mtu` (see
    /// `Lab::start_nat64`).
    Nat64 {
        mtu: Option<u32>,
    },
    /// A router on srv's link advertising this PREF64 prefix (`Lab::advertise_pref64`).
    Pref64(String),
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
pub enum Dad {
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
    pub fn problem(&self) -> bool {
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
pub enum VerdictWant {
    Check(CheckId),
    OneOf(Vec<CheckId>),
    Word(VerdictWord),
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictWord {
    /// No check named, status pass.
    Clear,
    /// The first finding that is warn or error, in report order (there is no fail).
    FirstProblem,
}

/// Text a finding must hold, part by part; every needle of a part must match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Says {
    pub(super) summary: Vec<Needle>,
    pub(super) evidence: Vec<Needle>,
    pub(super) explanation: Vec<Needle>,
    pub(super) fixes: Vec<Needle>,
    /// The whole finding.
    pub(super) text: Vec<Needle>,
}

/// A string the part contains, a list of which it contains at least one, or a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Needle {
    Has(String),
    AnyOf(Vec<String>),
    Rule(Rule),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    Not(String),
    StartsWith(String),
    /// All present, each first found after the one before.
    InOrder(Vec<String>),
    /// The part is empty (`true`) or not.
    Empty(bool),
}

/// Report-wide invariants.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Also {
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
pub enum After {
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
    pub fn inherit(&self, base: &Scenario) -> Scenario {
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
pub const PLACEHOLDERS: [(&str, &str); 13] = [
    ("DOMAIN", DOMAIN),
    ("SRV_V4", SRV_V4),
    ("SRV_V6", SRV_V6),
    ("SRV_GW_V4", SRV_GW_V4),
    ("SRV_GW_V6", SRV_GW_V6),
    ("CLI_V4", CLI_V4),
    ("CLI_V6", CLI_V6),
    ("RESOLVER_V4", RESOLVER_V4),
    ("RESOLVER_V6", RESOLVER_V6),
    ("NAT_PUBLIC_V4", NAT_PUBLIC_V4),
    ("HOME_V4", HOME_V4),
    ("ECHO_PORT", "8180"),
    ("NAT64", LAB_NAT64_PREFIX),
];

/// Placeholders whose value is one lab's path: the nginx site, the TLS directory, and
/// the other servers' configuration (see `expand`).
pub const LAB_PLACEHOLDERS: [&str; 5] = ["SITE", "TLS", "APACHE", "HAPROXY", "CADDYFILE"];

/// `s` with `{NAME}` replaced by the lab's value (see [`PLACEHOLDERS`]; the
/// [`LAB_PLACEHOLDERS`] from `lab`); panics on a name it does not know.
pub fn expand(s: &str, lab: Option<&Lab>) -> String {
    let mut out = s.to_string();
    for (name, value) in PLACEHOLDERS {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    if let Some(lab) = lab {
        out = out.replace("{SITE}", &lab.nginx_site_path().display().to_string());
        out = out.replace("{TLS}", &lab.dir().join("tls").display().to_string());
        out = out.replace("{APACHE}", &lab.apache_dir().display().to_string());
        out = out.replace("{HAPROXY}", &lab.haproxy_cfg().display().to_string());
        out = out.replace("{CADDYFILE}", &lab.caddyfile().display().to_string());
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
