//! Report renderers for `dsdoctor check --format text|json|markdown`.

mod catalogue;
mod fix_lint;
mod json;
mod markdown;
#[cfg(test)]
mod situations_tests;
mod text;

use crate::model::{Finding, Report, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
    Markdown,
}

pub use catalogue::list_checks;
pub use fix_lint::fix_problems;

pub use text::status_line;

/// The report in `format`; `color` paints the text format's status tags (for a terminal).
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => text::render(report, color),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// Checks worth explaining in the human reports: the ones with something to say.
fn needs_detail(f: &Finding) -> bool {
    matches!(f.status, Status::Fail | Status::Warn | Status::Error)
}

fn check_label(f: &Finding) -> String {
    f.label()
}
