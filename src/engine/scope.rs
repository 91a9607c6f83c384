//! What a run covers: the checks it re-checks and the fact parts it gathers again,
//! derived from the catalogue.

use crate::checks::catalogue::CATALOGUE;
use crate::facts::PartKind;
use crate::model::{CheckId, Stage};
use std::collections::BTreeSet;

/// What the user asked to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every check (`R`, `check`, `watch`).
    All,
    /// One stage and every check that depends on it (`r`).
    Stage(Stage),
    /// Ask the measurement network (`isp.regions`): the wizard's "ask the world" key.
    World,
}

/// The fact parts a stage's own findings are about: fixing something in that stage
/// changes these.
pub fn owned(stage: Stage) -> &'static [PartKind] {
    match stage {
        Stage::Dns => &[PartKind::Dns, PartKind::Mail],
        Stage::Address => &[
            PartKind::Netlink,
            PartKind::Sysctl,
            PartKind::SysctlFiles,
            PartKind::BootNetwork,
            PartKind::Ipv4Deps,
            PartKind::Mail,
        ],
        Stage::Listener => &[PartKind::Listeners, PartKind::Web, PartKind::Containers],
        Stage::Firewall => &[PartKind::Firewall],
        Stage::Route => &[PartKind::Netlink, PartKind::Sysctl, PartKind::Pings],
        Stage::Isp => &[PartKind::Isp, PartKind::Mail],
    }
}

/// The checks a run re-checks and the parts it gathers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub checks: BTreeSet<CheckId>,
    pub parts: BTreeSet<PartKind>,
}

impl Scope {
    /// The stage's checks; every check that reads a part the stage owns; and, until
    /// nothing changes, every check that may name one of those as its cause. The parts
    /// gathered are the stage's own and everything those cause-naming checks read: their
    /// observations were made before the fix and must be made again.
    pub fn plan(self) -> Plan {
        let stage = match self {
            Scope::All => {
                return Plan {
                    checks: CheckId::ALL.iter().copied().collect(),
                    parts: PartKind::ALL.into_iter().collect(),
                };
            }
            Scope::World => {
                return Plan {
                    checks: [CheckId::IspRegions].into_iter().collect(),
                    parts: [PartKind::Regions].into_iter().collect(),
                };
            }
            Scope::Stage(s) => s,
        };
        let own = owned(stage);
        let mut parts: BTreeSet<PartKind> = own.iter().copied().collect();
        let mut checks: BTreeSet<CheckId> = CATALOGUE
            .iter()
            .filter(|d| d.stage() == stage || d.reads.iter().any(|p| own.contains(p)))
            .map(|d| d.id)
            .collect();
        loop {
            let mut changed = false;
            for d in CATALOGUE {
                if d.causes().any(|c| c != d.id && checks.contains(&c)) {
                    changed |= checks.insert(d.id);
                    for p in d.reads {
                        changed |= parts.insert(*p);
                    }
                }
            }
            if !changed {
                break;
            }
        }
        Plan { checks, parts }
    }
}

impl Scope {
    /// The plan of a run with these options: a run that does not ask the measurement
    /// network (`--regions 0`) keeps the earlier run's answer instead of replacing it
    /// with "not asked" (a run with no earlier facts records "not asked").
    pub fn plan_for(self, opts: &crate::options::Options) -> Plan {
        let mut plan = self.plan();
        if opts.regions == 0 {
            plan.parts.remove(&PartKind::Regions);
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_gathers_everything() {
        let p = Scope::All.plan();
        assert_eq!(p.checks.len(), CheckId::ALL.len());
        assert_eq!(p.parts.len(), PartKind::ALL.len());
    }

    #[test]
    fn listener_recheck_takes_the_outside_view_that_names_it() {
        let p = Scope::Stage(Stage::Listener).plan();
        for c in [
            CheckId::ListenerIpv4,
            CheckId::ListenerIpv6,
            CheckId::ListenerConfig,
            CheckId::IspInboundIpv6,
            CheckId::IspHttpParity,
            CheckId::FirewallExposure,
        ] {
            assert!(p.checks.contains(&c), "{c}");
        }
        for k in [PartKind::Listeners, PartKind::Web, PartKind::Isp] {
            assert!(p.parts.contains(&k), "{k:?}");
        }
        // Nothing in the listener stage or its dependents reads the sysctl files.
        assert!(!p.parts.contains(&PartKind::SysctlFiles));
        assert!(!p.checks.contains(&CheckId::AddressIpv6Persistent));
    }

    #[test]
    fn every_stage_plan_contains_its_checks_and_every_dependent() {
        use crate::checks::catalogue::def;
        for s in Stage::ALL {
            let p = Scope::Stage(s).plan();
            for &c in CheckId::ALL {
                let d = def(c);
                if c.stage() == s {
                    assert!(p.checks.contains(&c), "{s:?} lacks its own {c}");
                }
                if d.causes().any(|x| p.checks.contains(&x)) {
                    assert!(p.checks.contains(&c), "{s:?}: {c} names a re-checked check");
                    for r in d.reads {
                        assert!(p.parts.contains(r), "{s:?}: {c} reads {r:?}, not gathered");
                    }
                }
            }
        }
    }
}
