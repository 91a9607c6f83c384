//! Training scenarios: real breakage recorded in the namespace lab, replayed for a
//! newcomer who first guesses the broken stage from what the users reported.

use crate::model::Stage;
use crate::snapshot::{self, Snapshot};
use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));

#[derive(Debug, Deserialize)]
struct Story {
    title: String,
    story: String,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    /// What the users reported: the symptom, not the cause.
    pub story: String,
    pub snapshot: Snapshot,
}

impl Scenario {
    /// The stage of the root cause, from the recording's own verdict.
    pub fn answer(&self) -> Option<Stage> {
        crate::engine::replay(&self.snapshot).verdict.stage
    }
}

/// (name, title) of every bundled scenario.
pub fn list() -> Vec<(&'static str, String)> {
    SCENARIOS
        .iter()
        .map(|(name, _, story)| {
            let title = toml::from_str::<Story>(story)
                .map(|s| s.title)
                .unwrap_or_else(|e| format!("(bad story: {e})"));
            (*name, title)
        })
        .collect()
}

/// Why a scenario could not be loaded. An unknown name is the user's typo (the message
/// lists the names there are); a broken bundled scenario is a bug in this build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no training scenario '{name}'; there are: {}", known.join(", "))]
    Unknown {
        name: String,
        known: Vec<&'static str>,
    },
    #[error("scenario {name}: story: {source}")]
    Story {
        name: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("scenario {name}: {source}")]
    Recording {
        name: String,
        #[source]
        source: snapshot::Error,
    },
}

pub fn load(name: &str) -> Result<Scenario, Error> {
    let (_, json, story) = SCENARIOS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| Error::Unknown {
            name: crate::sanitize::clean(name),
            known: SCENARIOS.iter().map(|(n, _, _)| *n).collect(),
        })?;
    let story: Story = toml::from_str(story).map_err(|source| Error::Story {
        name: name.to_string(),
        source,
    })?;
    let snapshot = snapshot::parse(json.as_bytes()).map_err(|source| Error::Recording {
        name: name.to_string(),
        source,
    })?;
    Ok(Scenario {
        name: name.to_string(),
        title: story.title,
        story: story.story,
        snapshot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_loads_and_has_a_root_cause() {
        for (name, title) in list() {
            assert!(!title.starts_with("(bad story"), "{name}: {title}");
            let s = load(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                s.answer().is_some(),
                "{name}: the recording shows no failure to find"
            );
            assert!(s.story.len() > 40, "{name}: tell the story");
        }
    }

    /// What a trainee learns to paste: every fix command of every scenario holds values
    /// of the recorded host only (its interfaces, no placeholders).
    #[test]
    fn every_scenarios_fixes_name_only_its_hosts_values() {
        for (name, _) in list() {
            let s = load(name).unwrap_or_else(|e| panic!("{e}"));
            let report = crate::engine::replay(&s.snapshot);
            let ifaces: Vec<String> = s
                .snapshot
                .facts
                .links()
                .iter()
                .map(|l| l.name.clone())
                .collect();
            let problems = crate::report::fix_problems(&report, &ifaces);
            assert!(problems.is_empty(), "{name}: {problems:#?}");
        }
    }

    #[test]
    fn unknown_name_lists_the_others() {
        let e = load("no-such-scenario\u{1b}[2J").expect_err("unknown");
        assert!(
            matches!(&e, Error::Unknown { known, .. } if known.len() == list().len()),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.contains("no training scenario"), "{text}");
        assert!(!text.contains('\u{1b}'), "the name is cleaned: {text:?}");
    }
}
