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
    fn verdict_follows_cause_to_the_root() {
        let fs = vec![
            f(CheckId::DnsAaaaTarget, Status::Fail).caused_by(CheckId::AddressIpv6Enabled),
            f(CheckId::AddressIpv6Enabled, Status::Fail),
            f(CheckId::ListenerIpv6, Status::Fail).caused_by(CheckId::AddressIpv6Enabled),
        ];
        let v = verdict(&fs);
        assert_eq!(v.check, Some(CheckId::AddressIpv6Enabled));
        assert_eq!(v.stage, Some(Stage::Address));
        assert_eq!(v.status, Status::Fail);
        assert!(v.summary.contains(CheckId::DnsAaaaTarget.as_str()));
    }

    #[test]
    fn cause_that_passed_is_not_followed() {
        let fs = vec![
            f(CheckId::DnsAaaaTarget, Status::Fail).caused_by(CheckId::AddressGlobalIpv6),
            f(CheckId::AddressGlobalIpv6, Status::Pass),
        ];
        assert_eq!(verdict(&fs).check, Some(CheckId::DnsAaaaTarget));
    }

    #[test]
    fn cycle_in_causes_terminates() {
        let fs = vec![
            f(CheckId::DnsA, Status::Fail).caused_by(CheckId::DnsAaaa),
            f(CheckId::DnsAaaa, Status::Fail).caused_by(CheckId::DnsA),
        ];
        assert!(verdict(&fs).check.is_some());
    }

    #[test]
    fn no_failure_names_first_warning_or_null() {
        let fs = vec![
            f(CheckId::DnsA, Status::Pass),
            f(CheckId::DnsMx, Status::Warn),
            f(CheckId::RouteIpv6Ra, Status::Error),
        ];
        let v = verdict(&fs);
        assert_eq!(v.check, Some(CheckId::DnsMx));
        assert_eq!(v.status, Status::Error);
        let v = verdict(&[f(CheckId::DnsA, Status::Pass)]);
        assert_eq!(v.check, None);
        assert_eq!(v.stage, None);
    }
}
