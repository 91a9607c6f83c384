//! Key bindings, one list per component. The help screen and the key bar are built from
//! these lists, so what the screen says and what the keys do cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for; `App::update` decides what it does in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Back,
    Help,
    Overview,
    Timeline,
    Recheck,
    RerunAll,
    PrevStage,
    NextStage,
    PrevCheck,
    NextCheck,
    Copy,
    Export,
    Learn,
    Guided,
    ScrollUp,
    ScrollDown,
    SelectFix(u8),
    // form
    NextField,
    PrevField,
    Start,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// How the key is shown.
    pub label: &'static str,
    pub desc: &'static str,
    pub command: Command,
    /// Shown in the key bar (the rest only in help).
    pub in_bar: bool,
    keys: &'static [KeyCode],
}

const fn b(
    label: &'static str,
    desc: &'static str,
    command: Command,
    in_bar: bool,
    keys: &'static [KeyCode],
) -> Binding {
    Binding {
        label,
        desc,
        command,
        in_bar,
        keys,
    }
}

pub const WIZARD: &[Binding] = &[
    b(
        "r",
        "re-check this stage",
        Command::Recheck,
        true,
        &[KeyCode::Char('r')],
    ),
    b(
        "R",
        "re-run every stage",
        Command::RerunAll,
        true,
        &[KeyCode::Char('R')],
    ),
    b(
        "←→",
        "previous / next stage",
        Command::PrevStage,
        true,
        &[KeyCode::Left],
    ),
    b(
        "→",
        "next stage",
        Command::NextStage,
        false,
        &[KeyCode::Right],
    ),
    b(
        "↑↓",
        "previous / next check",
        Command::PrevCheck,
        true,
        &[KeyCode::Up, KeyCode::Char('k')],
    ),
    b(
        "↓",
        "next check",
        Command::NextCheck,
        false,
        &[KeyCode::Down, KeyCode::Char('j')],
    ),
    b(
        "1-9",
        "select a fix command",
        Command::SelectFix(0),
        false,
        &[],
    ),
    b(
        "c",
        "copy the selected fix command (OSC 52, works over SSH)",
        Command::Copy,
        true,
        &[KeyCode::Char('c')],
    ),
    b(
        "e",
        "export the markdown report with the timeline",
        Command::Export,
        true,
        &[KeyCode::Char('e')],
    ),
    b(
        "l",
        "learn: what this check is about",
        Command::Learn,
        true,
        &[KeyCode::Char('l')],
    ),
    b(
        "g",
        "guided: jump to the first failing stage",
        Command::Guided,
        false,
        &[KeyCode::Char('g')],
    ),
    b(
        "PgUp/PgDn",
        "scroll the details",
        Command::ScrollUp,
        false,
        &[KeyCode::PageUp],
    ),
    b(
        "PgDn",
        "scroll down",
        Command::ScrollDown,
        false,
        &[KeyCode::PageDown],
    ),
];

pub const GLOBAL: &[Binding] = &[
    b(
        "o",
        "overview of every stage and check",
        Command::Overview,
        true,
        &[KeyCode::Char('o')],
    ),
    b(
        "t",
        "timeline of every check run",
        Command::Timeline,
        false,
        &[KeyCode::Char('t')],
    ),
    b(
        "?",
        "help",
        Command::Help,
        false,
        &[KeyCode::Char('?'), KeyCode::F(1)],
    ),
    b(
        "Esc",
        "close the panel",
        Command::Back,
        false,
        &[KeyCode::Esc],
    ),
    b("q", "quit", Command::Quit, true, &[KeyCode::Char('q')]),
];

/// Training, before the answer: the trainee picks the stage they think is broken.
pub const TRAIN: &[Binding] = &[
    b(
        "←→",
        "choose the stage you think is broken",
        Command::PrevStage,
        true,
        &[KeyCode::Left],
    ),
    b(
        "→",
        "next stage",
        Command::NextStage,
        false,
        &[KeyCode::Right],
    ),
    b(
        "Enter",
        "answer, then see the findings",
        Command::Start,
        true,
        &[KeyCode::Enter],
    ),
];

pub const FORM: &[Binding] = &[
    b(
        "Tab",
        "next field",
        Command::NextField,
        true,
        &[KeyCode::Tab, KeyCode::Down],
    ),
    b(
        "S-Tab",
        "previous field",
        Command::PrevField,
        true,
        &[KeyCode::BackTab, KeyCode::Up],
    ),
    b(
        "Enter",
        "start the diagnosis",
        Command::Start,
        true,
        &[KeyCode::Enter],
    ),
    b("Esc", "quit", Command::Quit, true, &[KeyCode::Esc]),
];

/// The command bound to `key` among `lists`, in order.
pub fn lookup(lists: &[&[Binding]], key: &KeyEvent) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Command::Quit);
    }
    if let KeyCode::Char(d @ '1'..='9') = key.code {
        if lists
            .iter()
            .flat_map(|l| l.iter())
            .any(|b| b.command == Command::SelectFix(0))
        {
            return Some(Command::SelectFix(d as u8 - b'0'));
        }
    }
    lists
        .iter()
        .flat_map(|l| l.iter())
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn lookups() {
        assert_eq!(
            lookup(&[WIZARD, GLOBAL], &key(KeyCode::Char('r'))),
            Some(Command::Recheck)
        );
        assert_eq!(
            lookup(&[WIZARD, GLOBAL], &key(KeyCode::Char('3'))),
            Some(Command::SelectFix(3))
        );
        assert_eq!(lookup(&[FORM], &key(KeyCode::Char('3'))), None);
        assert_eq!(
            lookup(&[GLOBAL], &key(KeyCode::Char('q'))),
            Some(Command::Quit)
        );
        assert_eq!(
            lookup(
                &[FORM],
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Command::Quit)
        );
    }

    #[test]
    fn every_binding_but_the_digit_row_has_a_key() {
        for b in WIZARD.iter().chain(GLOBAL).chain(FORM) {
            assert!(
                !b.keys.is_empty() || b.command == Command::SelectFix(0),
                "{} has no key",
                b.label
            );
        }
    }
}
