use super::super::app::{App, StageRun};
use super::safe;
use crate::model::{Fix, Status};
use crate::tui::keys::{self, Command};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let stage = app.selected_stage();
    if let Some(tr) = app.training.as_ref().filter(|t| t.quiz()) {
        let lines = vec![
            Line::styled(safe(&tr.title), t.title()),
            Line::raw(""),
            Line::styled("What the users reported", t.title()),
            Line::raw(safe(&tr.story)),
            Line::raw(""),
            Line::raw(format!(
                "Which stage is broken? Choose it in the tree with {} (now: {}) and press {}; then the wizard reveals the findings, why, and the fix.",
                keys::label_of(keys::TRAIN, Command::PrevStage),
                stage.title(),
                keys::label_of(keys::TRAIN, Command::Start),
            )),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" Training ")),
            area,
        );
        return;
    }
    let Some(f) = app.selected_finding() else {
        let text = match app.stages[app.stage] {
            StageRun::Running => format!(
                "{} gathering facts for the {} stage…",
                t.spinner(app.spinner),
                stage.title()
            ),
            _ => format!("The {} stage has not run yet.", stage.title()),
        };
        frame.render_widget(
            Paragraph::new(text).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", stage.title())),
            ),
            area,
        );
        return;
    };
    let title = match f.port {
        Some(p) => format!(" {} · {} :{p} ", stage.title(), f.id),
        None => format!(" {} · {} ", stage.title(), f.id),
    };
    let mut lines: Vec<Line> = vec![Line::from(vec![
        Span::styled(format!("{} ", t.glyph(f.status)), t.status(f.status)),
        Span::styled(safe(&f.summary), t.status(f.status)),
    ])];
    if app.age(f).is_some_and(|a| a.partial) {
        lines.push(Line::styled(
            "  measuring: the table fills as the probes answer",
            t.dim(),
        ));
    }
    if let Some(age) = app.age(f).filter(|_| app.is_older(f)) {
        let why = if age.pending {
            "being checked again".to_string()
        } else if age.run == 0 {
            "its facts were never gathered".to_string()
        } else {
            format!(
                "from run {} (this is run {}): R re-runs everything",
                age.run, app.current_run
            )
        };
        lines.push(Line::styled(format!("  older result: {why}"), t.dim()));
    }
    if let Some(cause) = &f.caused_by
        && matches!(f.status, Status::Fail | Status::Skip | Status::Error)
    {
        lines.push(Line::styled(
            format!("  consequence of {}", cause.label()),
            t.dim(),
        ));
    }
    if app.learn
        && let Some(lesson) = crate::assets::lesson(f.id.as_str())
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("Learn: {}", lesson.title), t.title()));
        lines.push(Line::raw(lesson.text.clone()));
    }
    if !f.fixes.is_empty() {
        lines.push(Line::raw(""));
        let mut n = 0;
        for fix in &f.fixes {
            lines.push(Line::styled(
                format!("Fix: {}", safe(&fix.title)),
                t.title(),
            ));
            for c in &fix.commands {
                // Said, not typed: no number, so `c` and the digits never pick it.
                if Fix::is_instruction(c) {
                    lines.push(Line::styled(format!("    {}", safe(c)), t.dim()));
                    continue;
                }
                let marker = if n == app.fix { t.pointer() } else { " " };
                let style = if n == app.fix {
                    t.selected()
                } else {
                    Default::default()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {:>2} ", n + 1), t.key()),
                    Span::styled(safe(c), style),
                    Span::raw(format!(" {marker}")),
                ]));
                n += 1;
            }
        }
    }
    if !f.explanation.is_empty() && f.status != Status::Pass {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("Why: ", t.title()),
            Span::raw(crate::sanitize::clean_prose(&f.explanation)),
        ]));
    } else if !f.explanation.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            crate::sanitize::clean_prose(&f.explanation),
            t.dim(),
        ));
    }
    if !f.evidence.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Evidence", t.title()));
        for e in &f.evidence {
            lines.push(Line::raw(format!(" {}", safe(e))));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}
