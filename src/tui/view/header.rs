use super::super::app::{App, StageRun};
use super::safe;
use crate::model::Status;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let ports = app.opts.target.ports_text(",");
    let host = app
        .host
        .as_ref()
        .map(|h| safe(&h.hostname))
        .unwrap_or_else(|| "…".into());
    let mut spans = vec![Span::styled(" dsdoctor ", t.title())];
    if let Some(tr) = &app.training {
        let badge = match (tr.picked, tr.answer) {
            (None, _) => " TRAINING ".to_string(),
            (Some(p), Some(a)) if p == a => format!(" TRAINING {} right ", t.glyph(Status::Pass)),
            (Some(_), Some(a)) => {
                format!(" TRAINING {} it was {} ", t.glyph(Status::Fail), a.title())
            }
            (Some(_), None) => " TRAINING ".to_string(),
        };
        spans.push(Span::styled(badge, t.selected()));
    }
    if let Some(r) = &app.replay {
        spans.push(Span::styled(
            format!(" REPLAY {} {} ", safe(&r.hostname), safe(&r.recorded_at)),
            t.selected(),
        ));
    }
    spans.push(Span::raw(format!(
        " {}  ports {ports}  on {host}   ",
        safe(&app.opts.target.domain)
    )));
    let running = app.stages.iter().any(|s| matches!(s, StageRun::Running));
    let v = app.verdict();
    if running {
        spans.push(Span::raw(format!("{} checking", t.spinner(app.spinner))));
    } else if let Some(stage) = v.stage {
        spans.push(Span::styled(
            format!("{} {}", t.glyph(v.status), stage.as_str()),
            t.status(v.status),
        ));
    } else if !app.findings.is_empty() {
        spans.push(Span::styled(
            format!("{} all clear", t.glyph(Status::Pass)),
            t.status(Status::Pass),
        ));
    }
    if let Some(ms) = app.last_run_ms {
        let took = if ms < 1000 {
            format!("  {ms} ms")
        } else {
            format!("  {:.1} s", ms as f64 / 1000.0)
        };
        spans.push(Span::styled(took, t.dim()));
    }
    if !app.guided {
        spans.push(Span::styled("  manual", t.dim()));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let help = "? help ";
    if used + help.len() < area.width as usize {
        spans.push(Span::raw(
            " ".repeat(area.width as usize - used - help.len()),
        ));
        spans.push(Span::styled(help, t.key()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
