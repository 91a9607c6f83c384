//! Fact snapshots: every fact a run gathered, with what it was asked, so a colleague can
//! see exactly what the box saw (`--save-facts`, then `--replay`). Versioned on their
//! own: the report's schema and the facts' schema change for different reasons.

use crate::facts::Facts;
use crate::options::Options;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The facts layout this build writes and reads. Bump it when `Facts` changes in a way
/// older snapshots cannot be read as.
pub const FACTS_VERSION: u32 = 1;

/// Snapshots larger than this are refused rather than read into memory.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub facts_version: u32,
    /// The dsdoctor version that recorded it.
    pub tool_version: String,
    pub hostname: String,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    pub options: Options,
    pub facts: Facts,
}

impl Snapshot {
    pub fn new(options: &Options, facts: &Facts, recorded_at: String) -> Snapshot {
        Snapshot {
            facts_version: FACTS_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            hostname: facts.host.hostname.clone(),
            recorded_at,
            options: options.clone(),
            facts: facts.clone(),
        }
    }
}

/// Why a snapshot could not be written or read. Callers branch on the kind: a snapshot from
/// a newer dsdoctor asks for an upgrade, a damaged one for a fresh `--save-facts`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot encode the facts: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("larger than {} MiB: not a dsdoctor snapshot", MAX_BYTES >> 20)]
    TooLarge,
    #[error("not a dsdoctor fact snapshot ({0})")]
    NotASnapshot(#[source] serde_json::Error),
    #[error(
        "recorded by a newer dsdoctor (facts version {found}); this one ({}) reads up to version {FACTS_VERSION}: upgrade dsdoctor to replay it",
        env!("CARGO_PKG_VERSION")
    )]
    Newer { found: u32 },
    #[error("damaged snapshot: {0}")]
    Damaged(#[source] serde_json::Error),
    /// Any of the above for a named file, so the message says which.
    #[error("{}: {source}", path.display())]
    In {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },
}

/// Written atomically: a reader (or a full disk) never sees half a snapshot.
pub fn save(path: &Path, snap: &Snapshot) -> Result<(), Error> {
    let text = serde_json::to_vec_pretty(snap).map_err(Error::Encode)?;
    crate::atomic_file::write(path, &text).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[derive(Deserialize)]
struct VersionOnly {
    facts_version: u32,
}

/// Read a snapshot, refusing one from a newer, unknown layout with a clear message.
pub fn load(path: &Path) -> Result<Snapshot, Error> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut buf))
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    parse(&buf).map_err(|e| Error::In {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

pub fn parse(bytes: &[u8]) -> Result<Snapshot, Error> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Error::TooLarge);
    }
    let v: VersionOnly = serde_json::from_slice(bytes).map_err(Error::NotASnapshot)?;
    if v.facts_version > FACTS_VERSION {
        return Err(Error::Newer {
            found: v.facts_version,
        });
    }
    serde_json::from_slice(bytes).map_err(Error::Damaged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use proptest::prelude::*;

    fn snap() -> Snapshot {
        Snapshot::new(
            &fixtures::options(),
            &fixtures::healthy(),
            "2026-11-23T18:00:00Z".into(),
        )
    }

    #[test]
    fn round_trip_keeps_every_fact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("facts.json");
        save(&p, &snap()).expect("save");
        assert_eq!(load(&p).expect("load"), snap());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn newer_version_is_refused_clearly() {
        let mut v = serde_json::to_value(snap()).expect("json");
        v["facts_version"] = serde_json::json!(FACTS_VERSION + 1);
        let e = parse(v.to_string().as_bytes()).expect_err("refused");
        assert!(
            matches!(e, Error::Newer { found } if found == FACTS_VERSION + 1),
            "{e}"
        );
        assert!(e.to_string().contains("newer dsdoctor"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"facts_version\": 1}",
            b"\xff\xfe",
            b"{\"facts_version\": -1}",
        ] {
            assert!(parse(bad).is_err());
        }
        assert!(matches!(parse(b"[]"), Err(Error::NotASnapshot(_))));
        assert!(matches!(
            parse(b"{\"facts_version\": 1}"),
            Err(Error::Damaged(_))
        ));
    }

    #[test]
    fn unwritable_place_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("missing-dir").join("facts.json");
        assert!(matches!(save(&p, &snap()), Err(Error::Write { .. })));
        assert!(!p.exists());
        let e = load(&p).expect_err("nothing to read");
        assert!(matches!(e, Error::Read { .. }), "{e}");
        assert!(e.to_string().contains("missing-dir"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_snapshot_reader(bytes in {
            use crate::testutil::inputs;
            // A real snapshot (leaked: strategies hold 'static texts) mutated half the time.
            let base: &'static str = serde_json::to_string(&snap()).unwrap().leak();
            proptest::prop_oneof![
                2 => inputs::mutated(vec![base]),
                1 => inputs::soup_of("snapshot", 40).prop_map(String::into_bytes),
                1 => inputs::bytes(200),
            ]
        }) {
            if let Ok(s) = parse(&bytes) {
                // What parses can be written back.
                serde_json::to_string(&s).unwrap();
            }
        }
    }
}
