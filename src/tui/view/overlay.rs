use super::super::app::{App, StageRun};
use super::safe;
use crate::model::{Stage, Status};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn panel(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} · Esc closes ")),
        ),
        area,
    );
}

/// A table-like panel: one line per entry, cut at the edge, scrolled to its end when
/// it is taller than the panel (the newest entries matter most).
fn list_panel(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, follow_end: bool) {
    let visible = area.height.saturating_sub(2) as usize;
    let offset = if follow_end {
        lines.len().saturating_sub(visible)
    } else {
        0
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).scroll((offset as u16, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} · Esc closes ")),
        ),
        area,
    );
}

/// Every key of the active lists, from the same tables as the key bar.
pub fn help(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut lines = Vec::new();
    for (name, list) in [
        ("Wizard", super::super::keys::WIZARD),
        ("Everywhere", super::super::keys::GLOBAL),
    ] {
        lines.push(Line::styled(name, t.title()));
        for b in list
            .iter()
            .filter(|b| !matches!(b.label, "→" | "↓" | "PgDn"))
        {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<10}", t.arrows(b.label)), t.key()),
                Span::raw(b.desc),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "Guided mode stops at the first failing stage; fix it in another terminal and press r.",
        t.dim(),
    ));
    panel(frame, area, "Help", lines);
}

pub fn overview(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let v = app.verdict();
    let head = Line::from(vec![
        Span::styled("Verdict: ", t.title()),
        Span::styled(format!("{} ", t.glyph(v.status)), t.status(v.status)),
        Span::raw(match &v.check {
            Some(c) => format!("{c}: {}", safe(&v.summary)),
            None if app.findings.is_empty() => "not known yet".into(),
            None => safe(&v.summary),
        }),
    ]);
    let build = |collapse: bool| {
        let mut lines = vec![head.clone()];
        for s in Stage::ALL {
            let (g, style) = match app.stages[s] {
                StageRun::Done(st) => (t.glyph(st), t.status(st)),
                StageRun::Running => (t.spinner(app.spinner), t.dim()),
                StageRun::Waiting => (t.waiting(), t.dim()),
            };
            let findings = app.stage_findings(s);
            let quiet = findings
                .iter()
                .filter(|f| matches!(f.status, Status::Pass | Status::Skip))
                .count();
            let mut stage_line = vec![
                Span::styled(format!("{g} "), style),
                Span::styled(s.title(), t.title()),
            ];
            if collapse && quiet > 0 {
                stage_line.push(Span::styled(
                    format!("  ({quiet} passed or skipped)"),
                    t.dim(),
                ));
            }
            lines.push(stage_line.into());
            for f in findings
                .iter()
                .filter(|f| !collapse || !matches!(f.status, Status::Pass | Status::Skip))
            {
                let label = f.label();
                lines.push(Line::from(vec![
                    Span::styled(format!("  {} ", t.glyph(f.status)), t.status(f.status)),
                    Span::raw(format!("{label:<26} ")),
                    Span::styled(safe(&f.summary), t.dim()),
                ]));
            }
        }
        lines
    };
    let full = build(false);
    let lines = if full.len() + 2 > area.height as usize {
        build(true)
    } else {
        full
    };
    list_panel(frame, area, "Overview", lines, false);
}

pub fn timeline(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut lines = Vec::new();
    if app.timeline.is_empty() {
        lines.push(Line::styled("No check has finished yet.", t.dim()));
    }
    for e in &app.timeline {
        let (label, change) = (e.label(), e.change());
        lines.push(Line::from(vec![
            Span::styled(format!("+{:>7.3}s ", e.at_ms as f64 / 1000.0), t.dim()),
            Span::styled(format!("{} ", t.glyph(e.after)), t.status(e.after)),
            Span::raw(format!("{label:<24} {change:<12} ")),
            Span::styled(safe(&e.summary), t.dim()),
        ]));
    }
    list_panel(frame, area, "Timeline", lines, true);
}
