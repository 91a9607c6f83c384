//! The report of one `dsdoctor check` run, read into the typed model
//! (`dualstack_doctor::Report`), and the assertions the tests make on it. Only
//! [`validate_report`] reads the raw JSON: it is about the contract's shape itself.

pub use dualstack_doctor::{CheckId, Finding, Report, Stage, Status};
use serde_json::Value;

/// The contract's check identifiers and whether each is per port: the list the report
/// must hold, written out here rather than taken from the model so that a check dropped
/// from the model shows.
pub const CONTRACT_CHECKS: [(&str, bool); 45] = [
    ("dns.a", false),
    ("dns.aaaa", false),
    ("dns.a_target", false),
    ("dns.aaaa_target", false),
    ("dns.consistency", false),
    ("dns.reverse", false),
    ("dns.nameservers", false),
    ("dns.mx", false),
    ("dns.spf", false),
    ("dns.blocklists", false),
    ("dns.geo", false),
    ("dns.dns64", false),
    ("address.ipv6_enabled", false),
    ("address.ipv6_persistent", false),
    ("address.global_ipv6", false),
    ("address.global_ipv4", false),
    ("address.ipv4_dependencies", false),
    ("address.mail_source", false),
    ("listener.ipv4", true),
    ("listener.ipv6", true),
    ("listener.config", true),
    ("firewall.ipv4", true),
    ("firewall.ipv6", true),
    ("firewall.icmpv6", false),
    ("firewall.exposure", false),
    ("route.ipv4_default", false),
    ("route.ipv6_default", false),
    ("route.ipv4_gateway", false),
    ("route.ipv6_gateway", false),
    ("route.ipv6_ra", false),
    ("isp.egress_ipv4", false),
    ("isp.egress_ipv6", false),
    ("isp.public_ipv4", false),
    ("isp.public_ipv6", false),
    ("isp.inbound_ipv4", true),
    ("isp.inbound_ipv6", true),
    ("isp.http_parity", true),
    ("isp.smtp_parity", true),
    ("isp.nat64", false),
    ("isp.mail_egress", false),
    ("isp.acme_http01", false),
    ("isp.resources", false),
    ("isp.redirects", true),
    ("isp.path_mtu_ipv4", false),
    ("isp.path_mtu_ipv6", false),
];

/// The parts of a finding an assertion can look into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Summary,
    Evidence,
    Explanation,
    /// Fix titles and commands.
    Fixes,
    /// All of the finding: id, summary, evidence, explanation, fixes, cause.
    Text,
}

/// One `dsdoctor check --format json` run: its exit code, the report, and the report as
/// printed.
pub struct CheckRun {
    pub code: i32,
    pub report: Report,
    pub stdout: String,
}

impl CheckRun {
    /// Read `stdout` as a report; panics with the output when it is not one, or when
    /// dsdoctor panicked.
    pub fn parse(what: &str, code: i32, stdout: String, stderr: String) -> CheckRun {
        let report: Report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("{what}: no report ({e}); exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}")
        });
        assert!(
            !stderr.contains("panicked"),
            "{what}: dsdoctor panicked:\n{stderr}"
        );
        CheckRun {
            code,
            report,
            stdout,
        }
    }

    /// The report as raw JSON, for assertions on the contract's shape.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).expect("the report is JSON")
    }

    /// The port a finding of `id` is looked up at: `port`, or for a per-port check given
    /// none, the run's one port.
    fn port_of(&self, id: CheckId, port: Option<u16>) -> Option<u16> {
        match (id.per_port(), port) {
            (true, None) => match self.report.target.ports[..] {
                [p] => Some(p),
                ref ports => panic!("{id} is per port and the run has ports {ports:?}: name one"),
            },
            (false, Some(p)) => panic!("{id} has no port, asked at {p}"),
            (_, port) => port,
        }
    }

    /// The finding of check `id` (at `port`, see `port_of`); panics listing the findings
    /// present when it is missing.
    pub fn finding(&self, id: CheckId, port: Option<u16>) -> &Finding {
        let port = self.port_of(id, port);
        self.report
            .checks
            .iter()
            .find(|c| c.id == id && c.port == port)
            .unwrap_or_else(|| {
                let present: Vec<String> = self.report.checks.iter().map(Finding::label).collect();
                panic!("{id} (port {port:?}) not in the report; present: {present:?}")
            })
    }

    pub fn status(&self, id: CheckId, port: Option<u16>) -> Status {
        self.finding(id, port).status
    }

    /// One part of a finding as text (lines joined by newlines).
    pub fn part(&self, id: CheckId, port: Option<u16>, part: Part) -> String {
        let f = self.finding(id, port);
        let fixes = || {
            f.fixes
                .iter()
                .flat_map(|x| std::iter::once(&x.title).chain(&x.commands))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        };
        match part {
            Part::Summary => f.summary.clone(),
            Part::Evidence => f.evidence.join("\n"),
            Part::Explanation => f.explanation.clone(),
            Part::Fixes => fixes(),
            Part::Text => [
                f.label(),
                f.summary.clone(),
                f.evidence.join("\n"),
                f.explanation.clone(),
                fixes(),
                f.caused_by.map(|c| c.to_string()).unwrap_or_default(),
            ]
            .join("\n"),
        }
    }

    /// The whole finding, pretty-printed (for assertion messages).
    pub fn dump(&self, id: CheckId, port: Option<u16>) -> String {
        serde_json::to_string_pretty(self.finding(id, port)).unwrap_or_default()
    }

    /// Every finding that is neither pass nor skip, and the verdict (for assertion
    /// messages).
    pub fn problems(&self) -> String {
        let mut s = String::new();
        for c in &self.report.checks {
            if !matches!(c.status, Status::Pass | Status::Skip) {
                s.push_str(&format!(
                    "  [{}] {}: {}\n",
                    c.status.as_str(),
                    c.label(),
                    c.summary
                ));
            }
        }
        let v = &self.report.verdict;
        s.push_str(&format!(
            "  verdict: {} {:?} {}\n",
            v.status.as_str(),
            v.check.map(|c| c.to_string()),
            v.summary
        ));
        s
    }

    /// The findings of one stage, in report order.
    pub fn in_stage(&self, stage: Stage) -> impl Iterator<Item = &Finding> {
        self.report.checks.iter().filter(move |c| c.stage == stage)
    }

    /// The status of stage `stage`.
    pub fn stage(&self, stage: Stage) -> Status {
        self.report
            .stages
            .iter()
            .find(|s| s.id == stage)
            .map(|s| s.status)
            .unwrap_or_else(|| panic!("stage {stage:?} not in the report"))
    }

    pub fn assert_exit(&self, want: i32) {
        assert_eq!(
            self.code,
            want,
            "exit code {}, expected {want}; problems:\n{}",
            self.code,
            self.problems()
        );
    }

    /// Check `id` at `port` has one of the statuses `want`.
    pub fn assert_status_in(&self, id: CheckId, port: Option<u16>, want: &[Status]) {
        let got = self.status(id, port);
        assert!(
            want.contains(&got),
            "{id} (port {port:?}) is {}, expected one of {want:?}:\n{}\nall problems:\n{}",
            got.as_str(),
            self.dump(id, port),
            self.problems()
        );
    }

    pub fn assert_status(&self, id: CheckId, port: Option<u16>, want: Status) {
        self.assert_status_in(id, port, &[want]);
    }

    /// Check `id` at `port` is `want` and its summary contains every one of `summary`.
    pub fn assert_finding(&self, id: CheckId, port: Option<u16>, want: Status, summary: &[&str]) {
        self.assert_status(id, port, want);
        self.assert_says(id, port, Part::Summary, summary);
    }

    /// `part` of the finding contains every one of `needles`.
    pub fn assert_says(&self, id: CheckId, port: Option<u16>, part: Part, needles: &[&str]) {
        let text = self.part(id, port, part);
        for n in needles {
            assert!(
                text.contains(n),
                "{part:?} of {id} (port {port:?}) lacks {n:?}:\n{}",
                self.dump(id, port)
            );
        }
    }

    /// A check that could not run for lack of something else (`skip`) names that thing.
    pub fn assert_skip_naming(&self, id: CheckId, port: Option<u16>, causes: &[CheckId]) {
        self.assert_status(id, port, Status::Skip);
        let s = &self.finding(id, port).summary;
        assert!(
            causes.iter().any(|c| s.contains(c.as_str())),
            "{id} is skip but its summary names none of {causes:?}:\n{}",
            self.dump(id, port)
        );
    }

    /// The verdict names `check` (and its stage), or nothing.
    pub fn assert_verdict(&self, check: Option<CheckId>) {
        let v = &self.report.verdict;
        assert_eq!(
            v.check,
            check,
            "verdict check; problems:\n{}",
            self.problems()
        );
        assert_eq!(
            v.stage,
            check.map(CheckId::stage),
            "verdict stage; problems:\n{}",
            self.problems()
        );
    }

    pub fn assert_stage(&self, stage: Stage, want: Status) {
        let got = self.stage(stage);
        assert_eq!(
            got,
            want,
            "stage {stage:?} is {}, expected {}; problems:\n{}",
            got.as_str(),
            want.as_str(),
            self.problems()
        );
    }

    /// The firewall stage in a lab without packet-filter rules: every check passes, or is
    /// skipped for a cause found earlier (IPv6 disabled, no global address, `--expect`), or
    /// cannot run unprivileged (`error` naming root).
    pub fn assert_firewall_quiet(&self) {
        for c in self.in_stage(Stage::Firewall) {
            let s = &c.summary;
            let ok = match c.status {
                Status::Pass => s.contains("admits") || s.contains("no listening service"),
                Status::Skip => {
                    s.contains("address.") || s.contains("--expect") || s.contains("both families")
                }
                Status::Error => s.contains("root"),
                _ => false,
            };
            assert!(
                ok,
                "firewall check not clean in a lab without rules (a skip must name its \
                 cause): {c:#?}\nproblems:\n{}",
                self.problems()
            );
        }
    }

    /// Every contract check appears exactly once (per port for per-port checks).
    pub fn assert_all_contract_checks(&self) {
        for (name, per_port) in CONTRACT_CHECKS {
            let id = CheckId::parse(name).unwrap_or_else(|| panic!("the model lacks {name}"));
            assert_eq!(id.per_port(), per_port, "{name}: per port");
            let ports: Vec<Option<u16>> = if per_port {
                self.report.target.ports.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for port in ports {
                let n = self
                    .report
                    .checks
                    .iter()
                    .filter(|c| c.id == id && c.port == port)
                    .count();
                assert_eq!(n, 1, "{name} (port {port:?}) appears {n} times");
            }
        }
    }
}

const STAGES: [&str; 6] = ["dns", "address", "listener", "firewall", "route", "isp"];
const STATUSES: [&str; 5] = ["pass", "warn", "fail", "skip", "error"];

/// The report against shared/spec/report.schema.json and the contract's rules, by hand,
/// on the raw JSON: this is about the document's shape (keys, types, order, the
/// statuses and exit code that follow from the checks), which the typed model would hide.
pub fn validate_report(run: &CheckRun) {
    let v = &run.json();
    let code = run.code;
    let obj = v.as_object().expect("report is a JSON object");
    for key in [
        "schema_version",
        "tool",
        "target",
        "host",
        "started_at",
        "duration_ms",
        "stages",
        "checks",
        "verdict",
    ] {
        assert!(obj.contains_key(key), "report lacks {key:?}:\n{v:#}");
    }
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "dsdoctor");
    assert!(v["tool"]["version"].is_string(), "{}", v["tool"]);
    assert!(v["target"]["domain"].is_string(), "{}", v["target"]);
    let ports = v["target"]["ports"]
        .as_array()
        .unwrap_or_else(|| panic!("target.ports is not an array: {}", v["target"]));
    assert!(!ports.is_empty(), "target.ports is empty");
    for p in ports {
        let p = p
            .as_u64()
            .unwrap_or_else(|| panic!("port {p} not an integer"));
        assert!((1..=65535).contains(&p), "port {p} out of range");
    }
    assert!(
        ["both", "ipv4", "ipv6"].contains(&v["target"]["expect"].as_str().unwrap_or("")),
        "target.expect: {}",
        v["target"]
    );
    assert!(v["host"]["hostname"].is_string(), "host: {}", v["host"]);
    if let Some(k) = v["host"].get("kernel") {
        assert!(k.is_string(), "host.kernel: {k}");
    }
    let started = v["started_at"].as_str().expect("started_at is a string");
    assert!(
        started.len() >= 20
            && started.as_bytes()[4] == b'-'
            && started.as_bytes()[10] == b'T'
            && (started.ends_with('Z') || started[19..].contains(['+', '-'])),
        "started_at is not an RFC 3339 date-time: {started}"
    );
    assert!(
        v["duration_ms"].is_u64(),
        "duration_ms: {}",
        v["duration_ms"]
    );

    // Stages: all six, in tree order, statuses from the enum.
    let stages = v["stages"].as_array().expect("stages is an array");
    let ids: Vec<&str> = stages
        .iter()
        .map(|s| s["id"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(ids, STAGES, "stages not the six in tree order");
    for s in stages {
        assert!(
            STATUSES.contains(&s["status"].as_str().unwrap_or("?")),
            "stage status: {s}"
        );
    }

    // Checks.
    let checks = v["checks"].as_array().expect("checks is an array");
    let rank = |s: &str| match s {
        "fail" => 4,
        "error" => 3,
        "warn" => 2,
        "pass" => 1,
        _ => 0,
    };
    let mut last_stage = 0;
    for c in checks {
        for key in [
            "id",
            "stage",
            "port",
            "status",
            "summary",
            "evidence",
            "explanation",
            "fixes",
        ] {
            assert!(c.get(key).is_some(), "check lacks {key:?}: {c:#}");
        }
        let id = c["id"].as_str().unwrap_or_else(|| panic!("id: {c}"));
        let (prefix, rest) = id
            .split_once('.')
            .unwrap_or_else(|| panic!("check id {id:?} has no dot"));
        assert!(STAGES.contains(&prefix), "check id {id:?}: unknown stage");
        assert!(
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "check id {id:?} does not match ^(stage)\\.[a-z0-9_]+$"
        );
        assert_eq!(c["stage"], prefix, "stage of {id}");
        let si = STAGES.iter().position(|s| *s == prefix).unwrap();
        assert!(si >= last_stage, "check {id} out of tree order");
        last_stage = si;
        match &c["port"] {
            Value::Null => {}
            p => {
                let p = p
                    .as_u64()
                    .unwrap_or_else(|| panic!("port of {id} not null or integer: {p}"));
                assert!((1..=65535).contains(&p), "port of {id}: {p}");
            }
        }
        assert!(
            STATUSES.contains(&c["status"].as_str().unwrap_or("?")),
            "status of {id}: {}",
            c["status"]
        );
        assert!(c["summary"].is_string(), "summary of {id}");
        assert!(c["explanation"].is_string(), "explanation of {id}");
        for e in c["evidence"].as_array().expect("evidence is an array") {
            assert!(e.is_string(), "evidence of {id}: {e}");
        }
        for f in c["fixes"].as_array().expect("fixes is an array") {
            assert!(f["title"].is_string(), "fix title of {id}: {f}");
            for cmd in f["commands"].as_array().expect("fix commands array") {
                assert!(cmd.is_string(), "fix command of {id}: {cmd}");
            }
        }
        if let Some(d) = c.get("duration_ms") {
            assert!(d.is_u64(), "duration_ms of {id}: {d}");
        }
        // caused_by: null or `stage.check(@PORT)`, naming a check of this same report.
        match c.get("caused_by") {
            None | Some(Value::Null) => {}
            Some(Value::String(cause)) => {
                let (cid, cport) = match cause.split_once('@') {
                    Some((i, p)) => (
                        i,
                        Some(p.parse::<u64>().unwrap_or_else(|_| {
                            panic!("caused_by of {id}: port of {cause:?} not a number")
                        })),
                    ),
                    None => (cause.as_str(), None),
                };
                let stage = cid.split_once('.').map(|(s, _)| s).unwrap_or("");
                assert!(
                    STAGES.contains(&stage),
                    "caused_by of {id}: {cause:?} names no stage"
                );
                assert!(
                    checks
                        .iter()
                        .any(|x| x["id"] == cid && x["port"].as_u64() == cport),
                    "caused_by of {id} names {cause:?}, which is not in the report"
                );
            }
            Some(other) => panic!("caused_by of {id} is not a string or null: {other}"),
        }
    }

    // Each stage's status is the worst of its checks (skip lowest).
    for s in stages {
        let id = s["id"].as_str().unwrap();
        let worst = checks
            .iter()
            .filter(|c| c["stage"] == id)
            .map(|c| c["status"].as_str().unwrap_or("skip"))
            .max_by_key(|st| rank(st))
            .unwrap_or("skip");
        assert_eq!(
            s["status"], worst,
            "stage {id} is not the worst of its checks"
        );
    }

    // Verdict.
    let verdict = &v["verdict"];
    for key in ["status", "stage", "check", "summary"] {
        assert!(
            verdict.get(key).is_some(),
            "verdict lacks {key:?}: {verdict}"
        );
    }
    assert!(verdict["summary"].is_string(), "verdict summary: {verdict}");
    let worst = checks
        .iter()
        .map(|c| c["status"].as_str().unwrap_or("skip"))
        .max_by_key(|st| rank(st))
        .unwrap_or("skip");
    let vs = verdict["status"].as_str().unwrap_or("?");
    // All-skip reports aside, the verdict status is the worst check status.
    if worst != "skip" {
        assert_eq!(vs, worst, "verdict status is not the worst status");
    } else {
        assert!(STATUSES.contains(&vs), "verdict status: {verdict}");
    }
    match (&verdict["stage"], &verdict["check"]) {
        (Value::Null, Value::Null) => {
            assert!(
                rank(worst) <= 1,
                "verdict names no check though something is {worst}"
            );
        }
        (Value::String(st), Value::String(ch)) => {
            assert!(STAGES.contains(&st.as_str()), "verdict stage {st}");
            assert!(
                checks.iter().any(|c| c["id"] == ch.as_str()),
                "verdict check {ch} not among the checks"
            );
            assert!(ch.starts_with(&format!("{st}.")), "verdict {st} / {ch}");
        }
        (s, c) => panic!("verdict stage/check must both be null or both strings: {s} / {c}"),
    }

    // The exit code follows the statuses (error counts as warn).
    let want = match worst {
        "fail" => 2,
        "error" | "warn" => 1,
        _ => 0,
    };
    assert_eq!(
        code, want,
        "exit code {code} does not match worst status {worst}"
    );
}
