//! The differential test of the firewall stage with the kernel as the oracle (issue 14):
//! every ruleset of `tests/fixtures/firewall/oracle/` (rulesets written by others, each
//! with its source at the top) and a fixed number of generated ones are loaded into srv;
//! cli connects to each of [`ORACLE_PORTS`] over both families, and dsdoctor's
//! `firewall.ipv4@PORT` / `firewall.ipv6@PORT` must say what the kernel did (see
//! `harness/oracle.rs` for the rule, and for the `oracle-expect` lines with which a case
//! declares a known gap explicitly).

use crate::harness::*;
use crate::oracle_gen::{Rng, iptables_ruleset, ruleset};
use std::path::Path;

/// Generated rulesets per run: enough to cover the generator's shapes, few enough to keep
/// the lab fast (about 3 s each). `DSD_ORACLE_CASES` and `DSD_ORACLE_SEED` explore more.
const GENERATED_CASES: u64 = 8;
const DEFAULT_SEED: u64 = 14;

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/firewall/oracle")
}

/// Run `cases` in one lab (one after another, the ruleset undone in between) and fail
/// with the table of every case that disagrees.
fn run_cases(tag: &str, cases: &[Case]) {
    let mut lab = Lab::new(tag);
    lab.start_oracle_listeners(&ORACLE_PORTS);
    lab.start_oracle_container();
    let mut failures = Vec::new();
    for case in cases {
        let v = lab.oracle(case, &ORACLE_PORTS);
        if !v.agrees_all() {
            failures.push(format!("{}\nruleset loaded:\n{}", v.table(), lab.ruleset()));
        } else {
            eprintln!("{}", v.table());
        }
        lab.unload_case(case);
    }
    assert!(
        failures.is_empty(),
        "dsdoctor and the kernel disagree (pass <=> connected; over IPv6 a neighbour \
         solicitation that firewall.icmpv6 finds dropped shuts every port):\n{}",
        failures.join("\n")
    );
}

#[test]
fn corpus_rulesets_agree_with_the_kernel() {
    let cases = Case::load_dir(&corpus_dir());
    assert!(
        cases.len() >= 10,
        "the oracle corpus has {} cases: {:?}",
        cases.len(),
        cases.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    run_cases("oracle-corpus", &cases);
}

/// Whether a generated iptables case loads with the legacy tools (one in three).
fn rng_legacy(rng: &mut Rng) -> bool {
    rng.chance(33)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn generated_rulesets_agree_with_the_kernel() {
    let seed = env_u64("DSD_ORACLE_SEED", DEFAULT_SEED);
    let n = env_u64("DSD_ORACLE_CASES", GENERATED_CASES);
    let mut lab = Lab::new("oracle-gen");
    lab.start_oracle_listeners(&ORACLE_PORTS);
    lab.start_oracle_container();
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut made = 0;
    let mut tries = 0;
    while made < n {
        tries += 1;
        assert!(
            tries < n * 20,
            "the generator makes too many rulesets nft refuses"
        );
        let name = format!("gen-{seed}-{made}");
        // Every other case is in iptables-restore form, by iptables-nft or -legacy.
        let case = if made % 2 == 0 {
            Case::nft(&name, ruleset(&mut rng))
        } else {
            let legacy = rng_legacy(&mut rng);
            let files = [false, true].map(|v6| {
                let loader = if legacy {
                    Loader::IptablesLegacy { v6 }
                } else {
                    Loader::IptablesNft { v6 }
                };
                (loader, iptables_ruleset(&mut rng, v6))
            });
            Case {
                name,
                files: files.to_vec(),
                expects: Vec::new(),
                exposure: None,
            }
        };
        let text: String = case.files.iter().map(|(_, t)| t.as_str()).collect();
        // Overlapping elements of an anonymous set, say, make nft refuse a ruleset: draw
        // again (the checks load nothing).
        if !lab.ruleset_loads(&case) {
            continue;
        }
        // `--test` does not ask the kernel, which refuses some combinations of matches
        // (iptables-nft): draw again.
        if let Err(e) = lab.try_load_case(&case) {
            eprintln!("generated case refused by the kernel, drawn again: {e}");
            lab.unload_case(&case);
            continue;
        }
        let v = lab.oracle_loaded(&case, &ORACLE_PORTS);
        if !v.disagreements().is_empty() {
            failures.push(format!("{}\nruleset:\n{text}", v.table()));
        }
        lab.unload_case(&case);
        made += 1;
    }
    assert!(
        failures.is_empty(),
        "seed {seed}: dsdoctor and the kernel disagree on {} of {n} generated rulesets \
         (DSD_ORACLE_SEED={seed} replays them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The comparison rule itself (no lab): a `warn` never agrees unless declared, a declared
/// gap must still be a gap, and over IPv6 a shut neighbour solicitation explains silence.
#[test]
fn the_oracle_rule_counts_what_it_should() {
    use Kernel::*;
    assert!(agrees(&Connected, Status::Pass, NdShut::None, None));
    assert!(!agrees(&Connected, Status::Fail, NdShut::None, None));
    assert!(!agrees(&Connected, Status::Warn, NdShut::None, None));
    assert!(!agrees(&TimedOut, Status::Warn, NdShut::None, None));
    assert!(agrees(&Stalled, Status::Fail, NdShut::None, None));
    assert!(!agrees(&TimedOut, Status::Pass, NdShut::None, None));
    assert!(agrees(&TimedOut, Status::Pass, NdShut::Solicitations, None));
    assert!(!agrees(
        &Connected,
        Status::Pass,
        NdShut::Solicitations,
        None
    ));
    // Advertisements or srv's own discovery shut: it depends on the neighbour caches, either answer agrees.
    assert!(agrees(&Connected, Status::Pass, NdShut::Partly, None));
    assert!(agrees(&TimedOut, Status::Pass, NdShut::Partly, None));
    assert!(!agrees(&Connected, Status::Fail, NdShut::Partly, None));
    assert!(!agrees(&Connected, Status::Skip, NdShut::None, None));
    let gap = Expect {
        v6: false,
        port: 8080,
        status: Status::Warn,
        why: "DNAT".into(),
    };
    assert!(agrees(&TimedOut, Status::Warn, NdShut::None, Some(&gap)));
    assert!(
        !agrees(&TimedOut, Status::Fail, NdShut::None, Some(&gap)),
        "a closed gap shows"
    );
    let stale = Expect {
        status: Status::Pass,
        ..gap
    };
    assert!(
        !agrees(&Connected, Status::Pass, NdShut::None, Some(&stale)),
        "a declared gap that is none"
    );
}
