//! From findings to stage statuses and the root cause.

use crate::model::{Finding, Stage, StageStatus, Status, Verdict};

pub fn stages(findings: &[Finding]) -> Vec<StageStatus> {
    Stage::ALL
        .iter()
        .map(|&s| StageStatus {
            id: s,
            status: Status::worst(findings.iter().filter(|f| f.stage == s).map(|f| f.status)),
        })
        .collect()
}

/// Follow `caused_by` links from a failing finding to the finding that explains it.
/// Only a cause that is itself a problem (fail, error or warn) is followed, and the
/// walk is bounded so a cycle in the links cannot loop.
fn root_cause<'a>(findings: &'a [Finding], start: &'a Finding) -> &'a Finding {
    let mut current = start;
    for _ in 0..findings.len() {
        let Some(cause) = current.caused_by else {
            break;
        };
        let cause = findings.iter().find(|f| {
            f.id == cause.check
                && (cause.port.is_none() || f.port == cause.port)
                && matches!(f.status, Status::Fail | Status::Error | Status::Warn)
        });
        match cause {
            Some(c) => current = c,
            None => break,
        }
    }
    current
}

pub fn verdict(findings: &[Finding]) -> Verdict {
    let worst = Status::worst(findings.iter().map(|f| f.status));
    // Findings are in tree order, so the first failure is the earliest symptom.
    if let Some(first) = findings.iter().find(|f| f.status == Status::Fail) {
        let root = root_cause(findings, first);
        let summary = if std::ptr::eq(root, first) {
            root.summary.clone()
        } else {
            format!(
                "{} (this also explains {}: {})",
                root.summary, first.id, first.summary
            )
        };
        return Verdict {
            status: worst,
            stage: Some(root.stage),
            check: Some(root.id),
            summary,
        };
    }
    if let Some(w) = findings
        .iter()
        .find(|f| matches!(f.status, Status::Warn | Status::Error))
    {
        return Verdict {
            status: worst,
            stage: Some(w.stage),
            check: Some(w.id),
            summary: w.summary.clone(),
        };
    }
    Verdict {
        status: worst,
        stage: None,
        check: None,
        summary: "every check passed: the site is reachable over the families it serves, as far as this host can tell".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CheckId;

    fn f(id: CheckId, status: Status) -> Finding {
        Finding::new(id, None, status, id.as_str())
    }

    #[test]
    fn stage_status_is_worst_with_skip_lowest() {
        let fs = vec![
            f(CheckId::DnsA, Status::Pass),
            f(CheckId::DnsAaaa, Status::Error),
            f(CheckId::DnsMx, Status::Warn),
            f(CheckId::RouteIpv4Default, Status::Skip),
        ];
        let st = stages(&fs);
        assert_eq!(st[0].status, Status::Error);
        assert_eq!(st[4].status, Status::Skip);
        assert_eq!(st[1].status, Status::Skip, "a stage without checks is skip");
    }

    #[test]
    fn verdict_names_the_root_cause() {
        use CheckId::*;
        use Status::*;
        let cases = [
            // The first failure, followed along its causes.
            (
                vec![
                    f(DnsAaaaTarget, Fail).caused_by(AddressIpv6Enabled),
                    f(AddressIpv6Enabled, Fail),
                    f(ListenerIpv6, Fail).caused_by(AddressIpv6Enabled),
                ],
                Some(AddressIpv6Enabled),
            ),
            // A cause that passed is not followed.
            (
                vec![
                    f(DnsAaaaTarget, Fail).caused_by(AddressGlobalIpv6),
                    f(AddressGlobalIpv6, Pass),
                ],
                Some(DnsAaaaTarget),
            ),
            // A cycle in the causes ends.
            (
                vec![
                    f(DnsA, Fail).caused_by(DnsAaaa),
                    f(DnsAaaa, Fail).caused_by(DnsA),
                ],
                Some(DnsA),
            ),
            // No failure: the first warning or error names the check.
            (
                vec![f(DnsA, Pass), f(DnsMx, Warn), f(RouteIpv6Ra, Error)],
                Some(DnsMx),
            ),
            (vec![f(DnsA, Pass)], None),
        ];
        for (fs, root) in &cases {
            let v = verdict(fs);
            assert_eq!((v.check, v.stage), (*root, root.map(CheckId::stage)));
        }
        let v = verdict(&cases[0].0);
        assert_eq!(v.status, Fail);
        assert!(v.summary.contains(DnsAaaaTarget.as_str()));
        assert_eq!(verdict(&cases[3].0).status, Error);
    }
}
