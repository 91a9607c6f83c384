//! Glyphs and colours. Glyphs carry the meaning without colour; ASCII fallbacks where
//! the locale is not UTF-8; no colour under NO_COLOR.

use crate::model::Status;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub unicode: bool,
    pub color: bool,
}

impl Theme {
    /// From `--color` (with `NO_COLOR`; the wizard always runs on a terminal) and the
    /// locale variables.
    pub fn from_env(color: crate::options::Color) -> Theme {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_default()
            .to_ascii_lowercase();
        Theme {
            unicode: locale.contains("utf-8") || locale.contains("utf8"),
            color: color.enabled(true),
        }
    }

    pub fn glyph(&self, s: Status) -> &'static str {
        match (s, self.unicode) {
            (Status::Pass, true) => "✓",
            (Status::Fail, true) => "✗",
            (Status::Warn, _) => "!",
            (Status::Error, _) => "?",
            (Status::Skip, true) => "·",
            (Status::Pass, false) => "+",
            (Status::Fail, false) => "x",
            (Status::Skip, false) => ".",
        }
    }

    pub fn waiting(&self) -> &'static str {
        if self.unicode { "·" } else { "." }
    }

    pub fn spinner(&self, n: usize) -> &'static str {
        const U: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
        const A: [&str; 4] = ["|", "/", "-", "\\"];
        if self.unicode {
            U[n % U.len()]
        } else {
            A[n % A.len()]
        }
    }

    pub fn pointer(&self) -> &'static str {
        if self.unicode { "◀" } else { "<" }
    }

    pub fn arrows(&self, label: &'static str) -> String {
        if self.unicode {
            label.to_string()
        } else {
            label
                .replace("←→", "<>")
                .replace("↑↓", "^v")
                .replace('→', ">")
                .replace('↓', "v")
        }
    }

    pub fn status(&self, s: Status) -> Style {
        if !self.color {
            return if s == Status::Fail {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
        }
        match s {
            Status::Pass => Style::default().fg(Color::Green),
            Status::Fail => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            Status::Warn => Style::default().fg(Color::Yellow),
            Status::Error => Style::default().fg(Color::Magenta),
            Status::Skip => Style::default().fg(Color::DarkGray),
        }
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    pub fn key(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}
