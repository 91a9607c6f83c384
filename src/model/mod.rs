//! The report's vocabulary: stages, statuses, findings. Field names follow the public
//! contract (`shared/spec/contract.md`), so serialising these types *is* the JSON report.

mod check_id;

pub use check_id::{Cause, CheckId};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// An IP family. Checks, probes and fixes that come in pairs take one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// Both, IPv4 first (the order reports list them in).
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    pub fn from_v6(v6: bool) -> Family {
        if v6 { Family::V6 } else { Family::V4 }
    }

    /// The family of an address.
    pub fn of(ip: IpAddr) -> Family {
        Family::from_v6(ip.is_ipv6())
    }

    pub fn is_v6(self) -> bool {
        self == Family::V6
    }

    /// The family that is not this one.
    pub fn other(self) -> Family {
        self.pick(Family::V6, Family::V4)
    }

    /// One of a pair: `family.pick(CheckId::ListenerIpv4, CheckId::ListenerIpv6)`.
    pub fn pick<T>(self, v4: T, v6: T) -> T {
        match self {
            Family::V4 => v4,
            Family::V6 => v6,
        }
    }

    /// `ipv4` / `ipv6`, as identifiers and `--list-checks` write it.
    pub fn as_str(self) -> &'static str {
        self.pick("ipv4", "ipv6")
    }

    /// `IPv4` / `IPv6`, as summaries and explanations write it.
    pub fn name(self) -> &'static str {
        self.pick("IPv4", "IPv6")
    }

    /// The DNS record type of its addresses: `A` / `AAAA`.
    pub fn record_type(self) -> &'static str {
        self.pick("A", "AAAA")
    }

    /// The command-line flag of `ping`, `traceroute`, `curl`: `-4` / `-6`.
    pub fn flag(self) -> &'static str {
        self.pick("-4", "-6")
    }
}

/// One value per family, for what comes in pairs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ByFamily<T> {
    pub v4: T,
    pub v6: T,
}

impl<T> ByFamily<T> {
    /// Each family's value from `f`.
    pub fn new(mut f: impl FnMut(Family) -> T) -> ByFamily<T> {
        ByFamily {
            v4: f(Family::V4),
            v6: f(Family::V6),
        }
    }

    pub fn get(&self, family: Family) -> &T {
        family.pick(&self.v4, &self.v6)
    }
}

/// The decision tree's stages, in tree order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Dns,
    Address,
    Listener,
    Firewall,
    Route,
    Isp,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Dns,
        Stage::Address,
        Stage::Listener,
        Stage::Firewall,
        Stage::Route,
        Stage::Isp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Address => "address",
            Stage::Listener => "listener",
            Stage::Firewall => "firewall",
            Stage::Route => "route",
            Stage::Isp => "isp",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Stage::Dns => "DNS",
            Stage::Address => "Address",
            Stage::Listener => "Listener",
            Stage::Firewall => "Firewall",
            Stage::Route => "Route",
            Stage::Isp => "ISP",
        }
    }

    /// Position in tree order (0 for DNS).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stage after this one in tree order; the last stays last.
    pub fn next(self) -> Stage {
        Stage::ALL.get(self.index() + 1).copied().unwrap_or(self)
    }

    /// The stage before this one in tree order; the first stays first.
    pub fn prev(self) -> Stage {
        self.index().checked_sub(1).map_or(self, |i| Stage::ALL[i])
    }
}

/// One value per stage, indexed by [`Stage`] rather than by a bare position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerStage<T>([T; Stage::ALL.len()]);

impl<T: Copy> PerStage<T> {
    pub fn filled(v: T) -> PerStage<T> {
        PerStage([v; Stage::ALL.len()])
    }
}

impl<T> PerStage<T> {
    /// The values in tree order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// The first stage, in tree order, whose value matches.
    pub fn find(&self, mut pred: impl FnMut(&T) -> bool) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| pred(&self[*s]))
    }
}

impl<T> std::ops::Index<Stage> for PerStage<T> {
    type Output = T;
    fn index(&self, s: Stage) -> &T {
        &self.0[s.index()]
    }
}

impl<T> std::ops::IndexMut<Stage> for PerStage<T> {
    fn index_mut(&mut self, s: Stage) -> &mut T {
        &mut self.0[s.index()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    /// Rank for "worst status": fail > error > warn > pass > skip (contract).
    pub fn severity(self) -> u8 {
        match self {
            Status::Skip => 0,
            Status::Pass => 1,
            Status::Warn => 2,
            Status::Error => 3,
            Status::Fail => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }

    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses
            .into_iter()
            .max_by_key(|s| s.severity())
            .unwrap_or(Status::Skip)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub title: String,
    pub commands: Vec<String>,
}

impl Fix {
    /// A line of a fix that is said, not typed: where to find a value that this host does
    /// not know (the gateway your provider documents), or a step outside the shell. Front
    /// ends show it without a prompt and never copy it as a command.
    pub fn is_instruction(line: &str) -> bool {
        line.trim_start().starts_with('#')
    }

    /// The lines to type, in order.
    pub fn typed(&self) -> impl Iterator<Item = &String> {
        self.commands.iter().filter(|c| !Fix::is_instruction(c))
    }
}

/// One check's result: the contract's `checks[]` element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: CheckId,
    pub stage: Stage,
    pub port: Option<u16>,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<String>,
    pub explanation: String,
    pub fixes: Vec<Fix>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_ms: Option<u64>,
    /// The finding that explains this one (an AAAA that matches nothing because IPv6 is
    /// disabled points at `address.ipv6_enabled`): the contract's optional `caused_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    #[default]
    Both,
    Ipv4,
    Ipv6,
}

impl Expect {
    pub fn wants_v4(self) -> bool {
        matches!(self, Expect::Both | Expect::Ipv4)
    }
    pub fn wants_v6(self) -> bool {
        matches!(self, Expect::Both | Expect::Ipv6)
    }
    /// The contract's spelling (`--expect`, the JSON report).
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Both => "both",
            Expect::Ipv4 => "ipv4",
            Expect::Ipv6 => "ipv6",
        }
    }
    pub fn wants(self, family: Family) -> bool {
        family.pick(self.wants_v4(), self.wants_v6())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub domain: String,
    pub ports: Vec<u16>,
    pub expect: Expect,
}

impl Target {
    /// The ports as one line, `sep` between them.
    pub fn ports_text(&self, sep: &str) -> String {
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        ports.join(sep)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostId {
    pub hostname: String,
    pub kernel: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageStatus {
    pub id: Stage,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    pub stage: Option<Stage>,
    pub check: Option<CheckId>,
    pub summary: String,
}

/// The whole report (`--format json` serialises exactly this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub target: Target,
    pub host: HostId,
    pub started_at: String,
    pub duration_ms: u64,
    pub stages: Vec<StageStatus>,
    pub checks: Vec<Finding>,
    pub verdict: Verdict,
}

pub const SCHEMA_VERSION: u32 = 1;

impl Report {
    /// Nagios-compatible exit code: 2 on any fail, 1 on any warn or error, else 0.
    pub fn exit_code(&self) -> i32 {
        let worst = Status::worst(self.checks.iter().map(|c| c.status));
        match worst {
            Status::Fail => 2,
            Status::Warn | Status::Error => 1,
            Status::Pass | Status::Skip => 0,
        }
    }
}

/// Builder methods used by the checks to assemble findings.
impl Finding {
    /// A finding whose explanation defaults to the check's general description.
    pub fn new(
        id: CheckId,
        port: Option<u16>,
        status: Status,
        summary: impl Into<String>,
    ) -> Finding {
        Finding {
            id,
            stage: id.stage(),
            port,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            explanation: crate::assets::about(id.as_str()),
            fixes: Vec::new(),
            duration_ms: None,
            caused_by: None,
        }
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn evidence_all(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(lines);
        self
    }

    pub fn explain(mut self, key: &str, vars: &[(&str, &str)]) -> Self {
        self.explanation = crate::assets::explain(key, vars);
        self
    }

    /// Another sentence of explanation, chosen by the check from this run's facts (the
    /// other family's state, the server that owns the port); nothing when the assets have
    /// none for `key`.
    pub fn explain_also(mut self, key: &str, vars: &[(&str, &str)]) -> Self {
        if let Some(more) = crate::assets::explain_if_any(key, vars) {
            if !self.explanation.is_empty() {
                self.explanation.push(' ');
            }
            self.explanation.push_str(&more);
        }
        self
    }

    /// A sentence put before the explanation (what the host has, before what it means).
    pub fn explain_first(mut self, key: &str, vars: &[(&str, &str)]) -> Self {
        if let Some(first) = crate::assets::explain_if_any(key, vars) {
            self.explanation = format!("{first} {}", self.explanation);
        }
        self
    }

    /// The fixes of `keys`, in order, all filled from the same values.
    pub fn fixes(self, keys: &[&str], vars: &[(&str, &str)]) -> Self {
        keys.iter().fold(self, |fd, key| fd.fix(key, vars))
    }

    pub fn fix(mut self, key: &str, vars: &[(&str, &str)]) -> Self {
        let (title, commands) = crate::assets::fix(key, vars);
        if !commands.is_empty() {
            self.fixes.push(Fix { title, commands });
        }
        self
    }

    /// A fix from the assets followed by the commands of another, filled from the same
    /// values: a server's change, then that server's own configuration test and reload.
    pub fn fix_then(mut self, key: &str, then: &str, vars: &[(&str, &str)]) -> Self {
        let (title, mut commands) = crate::assets::fix(key, vars);
        commands.extend(crate::assets::fix(then, vars).1);
        if !commands.is_empty() {
            self.fixes.push(Fix { title, commands });
        }
        self
    }

    /// A fix from the assets with only the commands `keep` accepts (the lines for the
    /// families a finding concerns, say).
    pub fn fix_keeping(
        mut self,
        key: &str,
        vars: &[(&str, &str)],
        keep: impl Fn(&str) -> bool,
    ) -> Self {
        let (title, mut commands) = crate::assets::fix(key, vars);
        commands.retain(|c| keep(c));
        if !commands.is_empty() {
            self.fixes.push(Fix { title, commands });
        }
        self
    }

    /// A fix whose title comes from the assets and whose commands were computed (one
    /// per interface, say).
    pub fn fix_lines(mut self, key: &str, commands: Vec<String>) -> Self {
        if !commands.is_empty() {
            let (title, _) = crate::assets::fix(key, &[]);
            self.fixes.push(Fix { title, commands });
        }
        self
    }

    /// Name the check that explains this finding; a per-port cause is taken on this
    /// finding's own port.
    pub fn caused_by(mut self, id: CheckId) -> Self {
        let port = if id.per_port() { self.port } else { None };
        self.caused_by = Some(Cause { check: id, port });
        self
    }

    /// The check and port this finding is about, as a cause would name it.
    pub fn as_cause(&self) -> Cause {
        Cause {
            check: self.id,
            port: self.port,
        }
    }

    /// `listener.ipv6 :80`, or the bare id for a check without a port.
    pub fn label(&self) -> String {
        self.as_cause().label()
    }

    pub fn took(mut self, ms: u64) -> Self {
        self.duration_ms = Some(ms);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_step_in_tree_order_and_stop_at_the_ends() {
        assert_eq!(Stage::Dns.prev(), Stage::Dns);
        assert_eq!(Stage::Isp.next(), Stage::Isp);
        for pair in Stage::ALL.windows(2) {
            assert_eq!(pair[0].next(), pair[1]);
            assert_eq!(pair[1].prev(), pair[0]);
        }
    }

    #[test]
    fn expect_is_spelled_as_in_the_json() {
        for e in [Expect::Both, Expect::Ipv4, Expect::Ipv6] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
    }

    #[test]
    fn per_stage_is_indexed_by_stage() {
        let mut p = PerStage::filled(0);
        p[Stage::Route] = 5;
        assert_eq!(p[Stage::Route], 5);
        assert_eq!(p.find(|v| *v == 5), Some(Stage::Route));
        assert_eq!(p.find(|v| *v == 7), None);
        assert_eq!(p.iter().sum::<i32>(), 5);
    }
}
