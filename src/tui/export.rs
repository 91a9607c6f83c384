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
    let mut out = render(&report, Format::Markdown, false);
    let _ = writeln!(
        out,
        "\n## Timeline\n\n| time | check | change | summary |\n| --- | --- | --- | --- |"
    );
    for e in &app.timeline {
        let (label, change) = (e.label(), e.change());
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
        match crate::atomic_file::write(&path, text.as_bytes()) {
            Ok(()) => return Ok(path),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no directory to write to")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::Action;
    use crate::tui::app::tests::{feed, ipv4_only_nginx, started};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn markdown_has_the_findings_and_the_timeline() {
        let mut app = started(&ipv4_only_nginx());
        let e = app.update(Action::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::NONE,
        )));
        feed(&mut app, e, &crate::checks::fixtures::healthy(), 2_000);
        let md = markdown(&app, "2026-11-23T18:00:00Z");
        assert!(md.contains("# dsdoctor report: shop.example"), "{md}");
        assert!(md.contains("## Timeline"));
        assert!(
            md.contains("| +2.000s | `listener.ipv6 :80` | fail → pass |"),
            "{md}"
        );
    }

    #[test]
    fn write_is_atomic_and_falls_back_to_the_temp_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(dir.path(), "shop.example", "20261123T180000Z", "hello").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "hello");
        assert!(
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("dsdoctor-shop.example-"))
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        // A directory that does not exist cannot be written: the temp dir is used.
        let p = write(&dir.path().join("missing"), "x/../y", "1", "t").expect("fallback");
        assert_eq!(
            p.parent(),
            Some(std::env::temp_dir().as_path()),
            "the domain cannot steer the path"
        );
        let _ = std::fs::remove_file(p);
    }
}
