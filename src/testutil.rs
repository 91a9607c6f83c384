//! Test-only helpers: the property tests' strategies and budget ([`inputs`]), and small
//! builders the parsers' tests share.
//!
//! Every property test of a parser of outside data is named `…fuzz…`, so
//! `cargo test fuzz` runs them all; see [`inputs`] for the budget and the regression files.

/// Whether `s` is safe to print: no C0/C1 control (ESC, BEL, CSI …) and no bidi override.
pub fn is_inert(s: &str) -> bool {
    !s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    })
}

/// A fuzz test's inputs from `src/testdata/fuzz.toml`: `"SECTION.KEY"`, e.g. `"http.bases"`.
/// Panics on a name the file lacks: a test bug.
pub fn fuzz_data(name: &str) -> Vec<&'static str> {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;
    type Sections = BTreeMap<String, BTreeMap<String, Vec<String>>>;
    static DATA: OnceLock<Sections> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        toml::from_str(include_str!("testdata/fuzz.toml")).expect("src/testdata/fuzz.toml parses")
    });
    let (section, key) = name.split_once('.').expect("SECTION.KEY");
    data.get(section)
        .and_then(|s| s.get(key))
        .unwrap_or_else(|| panic!("no {name} in src/testdata/fuzz.toml"))
        .iter()
        .map(String::as_str)
        .collect()
}

/// Property tests (proptest): the inputs of a parser's harness, and how many.
///
/// Inputs mirror the fixed-seed generator they replaced (issue 17), with shrinking on top: a real
/// input from `src/testdata/fuzz.toml`'s `bases` (or a fixture file) with a few byte
/// mutations, a soup of `vocab` tokens with a sprinkle of arbitrary bytes, or arbitrary
/// bytes. A failure is shrunk to a small input and its seed is written under
/// `proptest-regressions/` (commit those files: every later run tries them first).
///
/// Budget: [`inputs::CASES`] cases per property, the old default round count
/// of the hand-rolled generator; `PROPTEST_CASES` overrides it, for a long local run:
///
/// ```text
/// PROPTEST_CASES=1000000 cargo test --release fuzz
/// ```
pub mod inputs {
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// Cases per property when `PROPTEST_CASES` is not set.
    pub const CASES: u32 = 1000;

    /// The harnesses' configuration: [`CASES`] unless `PROPTEST_CASES` says otherwise,
    /// regression files next to the sources (proptest's default).
    pub fn config() -> ProptestConfig {
        let default = ProptestConfig::default();
        let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            CASES
        };
        ProptestConfig { cases, ..default }
    }

    fn lossy(b: Vec<u8>) -> String {
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Up to `n` arbitrary bytes.
    pub fn bytes(n: usize) -> impl Strategy<Value = Vec<u8>> + Clone {
        proptest::collection::vec(any::<u8>(), 0..=n)
    }

    /// Up to `n` arbitrary bytes made valid UTF-8 the way the loaders do.
    pub fn junk(n: usize) -> impl Strategy<Value = String> + Clone {
        bytes(n).prop_map(lossy)
    }

    /// Up to `n` pieces from `vocab`, one in ten a few arbitrary bytes.
    pub fn soup(vocab: Vec<&'static str>, n: usize) -> impl Strategy<Value = String> + Clone {
        let piece = prop_oneof![
            9 => proptest::sample::select(vocab).prop_map(str::to_string),
            1 => junk(8),
        ];
        proptest::collection::vec(piece, 0..=n).prop_map(|v| v.concat())
    }

    /// [`soup`] over `SECTION.vocab` of `src/testdata/fuzz.toml`.
    pub fn soup_of(section: &str, n: usize) -> impl Strategy<Value = String> + Clone {
        soup(super::fuzz_data(&format!("{section}.vocab")), n)
    }

    /// One byte-wise change, as a fuzzer makes them.
    #[derive(Debug, Clone)]
    pub enum Mutation {
        Set(Index, u8),
        Cut(Index),
        Remove(Index),
        /// Copy up to 64 bytes from between two places to the first.
        Duplicate(Index, Index),
        /// Insert a byte that means something to the parsers: brackets, quotes, ESC...
        Insert(Index, Index),
    }

    const SPECIAL: &[u8] = b"{}[]\",:-!@ 0\r\n\x1b";

    fn mutation() -> impl Strategy<Value = Mutation> + Clone {
        let i = any::<Index>;
        prop_oneof![
            (i(), any::<u8>()).prop_map(|(a, b)| Mutation::Set(a, b)),
            i().prop_map(Mutation::Cut),
            i().prop_map(Mutation::Remove),
            (i(), i()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
            (i(), i()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        ]
    }

    /// `base` with `mutations` applied in turn.
    pub fn apply(base: &[u8], mutations: &[Mutation]) -> Vec<u8> {
        let mut b = base.to_vec();
        for m in mutations {
            if b.is_empty() {
                break;
            }
            let at = |i: &Index| i.index(b.len());
            match m {
                Mutation::Set(i, v) => {
                    let i = at(i);
                    b[i] = *v;
                }
                Mutation::Cut(i) => b.truncate(at(i)),
                Mutation::Remove(i) => {
                    b.remove(at(i));
                }
                Mutation::Duplicate(i, j) => {
                    let (i, j) = (at(i), at(j));
                    let (lo, hi) = (i.min(j), i.max(j));
                    let chunk = b[lo..hi.min(lo + 64)].to_vec();
                    b.splice(i..i, chunk);
                }
                Mutation::Insert(i, c) => {
                    let i = at(i);
                    b.insert(i, SPECIAL[c.index(SPECIAL.len())]);
                }
            }
        }
        b
    }

    /// One of `bases` with one to eight mutations.
    pub fn mutated(bases: Vec<&'static str>) -> impl Strategy<Value = Vec<u8>> + Clone {
        (
            proptest::sample::select(bases),
            proptest::collection::vec(mutation(), 1..=8),
        )
            .prop_map(|(base, ms)| apply(base.as_bytes(), &ms))
    }

    /// A binary `base` (a certificate) with one to eight mutations.
    pub fn mutated_bytes(base: &'static [u8]) -> impl Strategy<Value = Vec<u8>> + Clone {
        proptest::collection::vec(mutation(), 1..=8).prop_map(move |ms| apply(base, &ms))
    }

    /// [`mutated`] for text, made valid UTF-8 again.
    pub fn mutated_text(bases: Vec<&'static str>) -> impl Strategy<Value = String> + Clone {
        mutated(bases).prop_map(lossy)
    }

    /// A harness's input from `SECTION.bases` and `SECTION.vocab`: a base mutated, a soup
    /// of up to `n` tokens, or up to `n * 4` arbitrary bytes, in equal shares.
    pub fn input(section: &str, n: usize) -> impl Strategy<Value = Vec<u8>> + Clone {
        input_with(section, n, Vec::new())
    }

    /// [`input`] with real inputs (`fixtures`: configuration files as shipped) among the
    /// bases it mutates.
    pub fn input_with(
        section: &str,
        n: usize,
        fixtures: Vec<&'static str>,
    ) -> impl Strategy<Value = Vec<u8>> + Clone {
        let mut bases = super::fuzz_data(&format!("{section}.bases"));
        bases.extend(fixtures);
        prop_oneof![
            mutated(bases),
            soup_of(section, n).prop_map(String::into_bytes),
            bytes(n * 4),
        ]
    }

    /// [`input`] as text, made valid UTF-8 the way the loaders do.
    pub fn input_text(section: &str, n: usize) -> impl Strategy<Value = String> + Clone {
        input(section, n).prop_map(lossy)
    }

    #[test]
    fn the_budget_is_no_smaller_than_the_fixed_seed_rounds_it_replaced() {
        if std::env::var_os("PROPTEST_CASES").is_none() {
            assert!(config().cases >= 1000, "{}", config().cases);
        }
    }

    #[test]
    fn mutations_change_the_base_within_bounds() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = mutated(vec!["abcdefgh"]);
        let mut changed = 0;
        for _ in 0..200 {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            // Eight mutations at most, each adds at most 64 bytes.
            assert!(v.len() <= 8 + 8 * 64, "{v:?}");
            changed += usize::from(v != b"abcdefgh");
        }
        assert!(
            changed > 150,
            "only {changed} of 200 inputs differ from the base"
        );
    }
}

/// A single-threaded runtime with timers, for driving one async parser at a time.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
}

/// Some line of `lines` contains `needle` (a problem list, a walk's path).
#[track_caller]
pub fn assert_mentions(lines: &[String], needle: &str) {
    assert!(
        lines.iter().any(|l| l.contains(needle)),
        "no line mentions {needle:?}: {lines:#?}"
    );
}

/// Owned strings, as a command line arrives from `/proc/PID/cmdline`.
pub fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

/// An environment of these variables.
pub fn env(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Paths, as a listing or a walk returns them.
pub fn paths(p: &[&str]) -> Vec<std::path::PathBuf> {
    p.iter().map(std::path::PathBuf::from).collect()
}
