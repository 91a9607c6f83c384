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

pub fn load(name: &str) -> Result<Scenario, String> {
    let (_, json, story) = SCENARIOS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            let names: Vec<&str> = SCENARIOS.iter().map(|(n, _, _)| *n).collect();
            format!(
                "no training scenario '{}'; there are: {}",
                crate::sanitize::clean(name),
                names.join(", ")
            )
        })?;
    let story: Story = toml::from_str(story).map_err(|e| format!("scenario {name}: story: {e}"))?;
    let snapshot = snapshot::parse(json.as_bytes()).map_err(|e| format!("scenario {name}: {e}"))?;
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

    #[test]
    fn unknown_name_lists_the_others() {
        let e = load("no-such-scenario").expect_err("unknown");
        assert!(e.contains("no training scenario"), "{e}");
    }
}
