use super::super::app::App;
use crate::tui::keys::Command;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The key bar: the bindings marked for it, from the same lists the help screen shows,
/// as many as fit (`?` lists the rest).
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0usize;
    if let Some(m) = &app.message {
        let m = format!(" {m} ");
        used += m.chars().count() + 1;
        spans.push(Span::styled(m, t.selected()));
        spans.push(Span::raw(" "));
    }
    for list in app.bindings() {
        for b in list.iter().filter(|b| b.in_bar) {
            let label = format!(" {}", t.arrows(b.label));
            let short = b
                .desc
                .split([' ', ':'])
                .next()
                .unwrap_or(b.desc)
                .trim_end_matches(',');
            // Named by what the key does, not by how it looks: ↑↓ choose the stage in
            // training and the check in the wizard.
            let short = match b.command {
                Command::PrevStage => "stage",
                Command::PrevCheck => "check",
                Command::Recheck => "re-check",
                Command::RerunAll => "re-run all",
                Command::AskWorld => "ask the world",
                _ => short,
            };
            let width = label.chars().count() + short.chars().count() + 2;
            if used + width > area.width as usize {
                continue;
            }
            used += width;
            spans.push(Span::styled(label, t.key()));
            spans.push(Span::raw(format!(" {short} ")));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
