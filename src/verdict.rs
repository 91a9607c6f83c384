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
        let Some(cause_id) = &current.caused_by else {
            break;
        };
        let cause = findings.iter().find(|f| {
            &f.id == cause_id && matches!(f.status, Status::Fail | Status::Error | Status::Warn)
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
            check: Some(root.id.clone()),
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
            check: Some(w.id.clone()),
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

    fn f(id: &str, status: Status) -> Finding {
        Finding::new(id, None, status, id)
    }

    #[test]
    fn stage_status_is_worst_with_skip_lowest() {
        let fs = vec![
            f("dns.a", Status::Pass),
            f("dns.aaaa", Status::Error),
            f("dns.mx", Status::Warn),
            f("route.ipv4_default", Status::Skip),
        ];
        let st = stages(&fs);
        assert_eq!(st[0].status, Status::Error);
        assert_eq!(st[4].status, Status::Skip);
        assert_eq!(st[1].status, Status::Skip, "a stage without checks is skip");
    }

    #[test]
    fn verdict_follows_cause_to_the_root() {
        let fs = vec![
            f("dns.aaaa_target", Status::Fail).caused_by("address.ipv6_enabled"),
            f("address.ipv6_enabled", Status::Fail),
            f("listener.ipv6", Status::Fail).caused_by("address.ipv6_enabled"),
        ];
        let v = verdict(&fs);
        assert_eq!(v.check.as_deref(), Some("address.ipv6_enabled"));
        assert_eq!(v.stage, Some(Stage::Address));
        assert_eq!(v.status, Status::Fail);
        assert!(v.summary.contains("dns.aaaa_target"));
    }

    #[test]
    fn cause_that_passed_is_not_followed() {
        let fs = vec![
            f("dns.aaaa_target", Status::Fail).caused_by("address.global_ipv6"),
            f("address.global_ipv6", Status::Pass),
        ];
        assert_eq!(verdict(&fs).check.as_deref(), Some("dns.aaaa_target"));
    }

    #[test]
    fn cycle_in_causes_terminates() {
        let fs = vec![
            f("dns.a", Status::Fail).caused_by("dns.aaaa"),
            f("dns.aaaa", Status::Fail).caused_by("dns.a"),
        ];
        assert!(verdict(&fs).check.is_some());
    }

    #[test]
    fn no_failure_names_first_warning_or_null() {
        let fs = vec![
            f("dns.a", Status::Pass),
            f("dns.mx", Status::Warn),
            f("route.ipv6_ra", Status::Error),
        ];
        let v = verdict(&fs);
        assert_eq!(v.check.as_deref(), Some("dns.mx"));
        assert_eq!(v.status, Status::Error);
        let v = verdict(&[f("dns.a", Status::Pass)]);
        assert_eq!(v.check, None);
        assert_eq!(v.stage, None);
    }
}
