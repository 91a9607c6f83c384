//! What must come out of a row's live run: exit code, target, verdict, stage and check
//! statuses, texts in findings, report-wide invariants.

use super::row::*;
use crate::harness::*;

/// Every expectation of the row on the live report.
pub fn assert_row(sc: &Scenario, lab: &Lab, r: &CheckRun) {
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
            let at: Vec<Option<usize>> = v.iter().map(|s| text.find(&x(s))).collect();
            at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1])
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
