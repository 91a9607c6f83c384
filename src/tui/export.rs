//! The markdown report for the incident channel: the findings plus the timeline.

use super::app::App;
use crate::facts::HostFacts;
use crate::report::{Format, render};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub fn markdown(app: &App, started_at: &str) -> String {
    let host = app.host.clone().unwrap_or_else(|| HostFacts {
        hostname: "unknown".into(),
        kernel: String::new(),
        euid: 0,
        ipv6_kernel: true,
        ipv6_cmdline_disabled: false,
        os_id: None,
    });
    let report = crate::engine::assemble(
        app.findings.clone(),
        &app.opts,
        &host,
        started_at.to_string(),
        app.last_run_ms.unwrap_or(0),
    );
    let mut out = render(&report, Format::Markdown);
    let _ = writeln!(
        out,
        "\n## Timeline\n\n| time | check | change | summary |\n| --- | --- | --- | --- |"
    );
    for e in &app.timeline {
        let label = match e.port {
            Some(p) => format!("{} :{p}", e.id),
            None => e.id.clone(),
        };
        let change = match e.before {
            Some(b) => format!("{} → {}", b.as_str(), e.after.as_str()),
            None => e.after.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "| +{:.3}s | `{label}` | {change} | {} |",
            e.at_ms as f64 / 1000.0,
            crate::sanitize::clean(&e.summary).replace('|', "\\|")
        );
    }
    out
}

/// Write `text` next to the user (current directory), else in the temp directory;
/// atomically, so a full disk never leaves half a report.
pub fn write(dir_first: &Path, domain: &str, stamp: &str, text: &str) -> std::io::Result<PathBuf> {
    let name: String = format!("dsdoctor-{domain}-{stamp}.md")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut last = None;
    for dir in [dir_first.to_path_buf(), std::env::temp_dir()] {
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        match std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path)) {
            Ok(()) => return Ok(path),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no directory to write to")))
}
