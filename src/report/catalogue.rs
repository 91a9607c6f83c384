//! `dsdoctor check --list-checks`: the check catalogue for scripts and readers, derived
//! from the catalogue itself so it cannot drift from what runs.

use super::Format;
use crate::checks::catalogue::CATALOGUE;
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
struct Entry {
    id: &'static str,
    stage: &'static str,
    per_port: bool,
    /// `ipv4` or `ipv6` for a check of one family's pair, else null.
    family: Option<&'static str>,
    meaning: String,
}

fn entries() -> Vec<Entry> {
    CATALOGUE
        .iter()
        .map(|d| Entry {
            id: d.id.as_str(),
            stage: d.stage().as_str(),
            per_port: d.per_port(),
            family: d.id.family().map(|f| f.as_str()),
            meaning: crate::assets::check_text(d.id.as_str())
                .map(|t| t.establishes.clone())
                .unwrap_or_default(),
        })
        .collect()
}

pub fn list_checks(format: Format) -> String {
    let list = entries();
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
        Format::Markdown => {
            let mut o = String::from("| id | per port | stage | what it establishes |\n");
            o.push_str("| --- | --- | --- | --- |\n");
            for e in &list {
                let _ = writeln!(
                    o,
                    "| `{}` | {} | {} | {} |",
                    e.id,
                    if e.per_port { "yes" } else { "" },
                    e.stage,
                    e.meaning.replace('|', "\\|")
                );
            }
            o
        }
        Format::Text => {
            let mut o = String::new();
            let _ = writeln!(
                o,
                "{:<26} {:<9} {:<9} WHAT IT ESTABLISHES",
                "ID", "STAGE", "PER PORT"
            );
            for e in &list {
                let _ = writeln!(
                    o,
                    "{:<26} {:<9} {:<9} {}",
                    e.id,
                    e.stage,
                    if e.per_port { "yes" } else { "no" },
                    e.meaning
                );
            }
            o
        }
    }
}
