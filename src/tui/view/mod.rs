//! Drawing: one module per widget. Pure functions of `App`; nothing here probes.

mod detail;
mod form;
mod header;
mod keybar;
mod overlay;
mod tree;

use super::app::{App, Overlay, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if app.screen == Screen::Form {
        form::draw(frame, area, app);
        return;
    }
    let [head, body, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw(frame, head, app);
    let left_width = if area.width >= 100 { 32 } else { 26 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(20)]).areas(body);
    tree::draw(frame, left, app);
    detail::draw(frame, right, app);
    keybar::draw(frame, bar, app);
    if let Some(o) = app.overlay {
        let r = body;
        match o {
            Overlay::Help => overlay::help(frame, r, app),
            Overlay::Overview => overlay::overview(frame, r, app),
            Overlay::Timeline => overlay::timeline(frame, r, app),
        }
    }
}

/// Outside text made safe to draw.
fn safe(s: &str) -> String {
    crate::sanitize::clean(s)
}

#[cfg(test)]
mod tests;
