use super::super::app::{App, StageRun};
use crate::model::Stage;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [top, bottom] = Layout::vertical([Constraint::Length(8), Constraint::Min(2)]).areas(area);
    let lines: Vec<Line> = Stage::ALL
        .into_iter()
        .map(|s| {
            let (glyph, style) = match app.stages[s] {
                StageRun::Waiting => (t.waiting(), t.dim()),
                StageRun::Running => (t.spinner(app.spinner), t.dim()),
                StageRun::Done(st) => (t.glyph(st), t.status(st)),
            };
            let pointer = if s == app.stage {
                format!(" {}", t.pointer())
            } else {
                String::new()
            };
            let name = format!(" {:<10}{pointer}", s.title());
            let name_style = if s == app.stage {
                t.title()
            } else {
                Default::default()
            };
            Line::from(vec![
                Span::styled(format!(" {glyph}"), style),
                Span::styled(name, name_style),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Decision tree "),
        ),
        top,
    );

    let stage = app.selected_stage();
    let findings = app.stage_findings(stage);
    let width = bottom.width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if findings.is_empty() {
        let why = match app.stages[app.stage] {
            StageRun::Running => "checking…",
            _ => "not run yet",
        };
        lines.push(Line::styled(format!(" {why}"), t.dim()));
    }
    for (i, f) in findings.iter().enumerate() {
        let id = f.id.as_str();
        let short = id.split_once('.').map(|(_, r)| r).unwrap_or(id);
        let label = match f.port {
            Some(p) => format!("{short} :{p}"),
            None => short.to_string(),
        };
        let label: String = label.chars().take(width.saturating_sub(2)).collect();
        let style = if i == app.check {
            t.selected()
        } else {
            Default::default()
        };
        // A finding from an earlier run's facts says so: the screen never passes
        // an old answer off as this run's.
        let older = app.is_older(f);
        let label: String = if older {
            let mark = if t.unicode { " ◷" } else { " ~" };
            label
                .chars()
                .take(width.saturating_sub(4))
                .collect::<String>()
                + mark
        } else {
            label
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", t.glyph(f.status)), t.status(f.status)),
            Span::styled(label, if older { t.dim() } else { style }),
        ]));
    }
    // Keep the selected check visible in a short pane.
    let visible = bottom.height.saturating_sub(2) as usize;
    let offset = app.check.saturating_sub(visible.saturating_sub(1));
    frame.render_widget(
        Paragraph::new(lines).scroll((offset as u16, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Checks · {} ", stage.title())),
        ),
        bottom,
    );
}
