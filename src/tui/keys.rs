//! Key bindings, one list per component. The help screen and the key bar are built from
//! these lists, so what the screen says and what the keys do cannot drift apart.

use crossterm::event::KeyCode::{
    BackTab, Char, Down, Enter, Esc, F, Left, PageDown, PageUp, Right, Tab, Up,
};
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
    /// Ask the measurement network (`isp.regions`), on the ISP stage.
    AskWorld,
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

/// A binding shown in the key bar and in help.
const fn bind(
    label: &'static str,
    desc: &'static str,
    command: Command,
    keys: &'static [KeyCode],
) -> Binding {
    Binding {
        label,
        desc,
        command,
        in_bar: true,
        keys,
    }
}

impl Binding {
    /// Listed in help only, not in the key bar.
    const fn help_only(self) -> Binding {
        Binding {
            in_bar: false,
            ..self
        }
    }
}

/// `→` is listed in help for completeness; the bar shows `←→` once.
const NEXT_STAGE: Binding = bind("→", "next stage", Command::NextStage, &[Right]).help_only();

#[rustfmt::skip]
pub const WIZARD: &[Binding] = &[
    bind("r", "re-check this stage", Command::Recheck, &[Char('r')]),
    bind("R", "re-run every stage", Command::RerunAll, &[Char('R')]),
    bind("←→", "previous / next stage", Command::PrevStage, &[Left]),
    NEXT_STAGE,
    bind("↑↓", "previous / next check", Command::PrevCheck, &[Up, Char('k')]),
    bind("↓", "next check", Command::NextCheck, &[Down, Char('j')]).help_only(),
    bind("1-9", "select a fix command", Command::SelectFix(0), &[]).help_only(),
    bind("c", "copy the selected fix command (OSC 52, works over SSH)", Command::Copy, &[Char('c')]),
    bind("e", "export the markdown report with the timeline", Command::Export, &[Char('e')]),
    bind("l", "learn: what this check is about", Command::Learn, &[Char('l')]),
    bind("g", "guided: jump to the first failing stage", Command::Guided, &[Char('g')]).help_only(),
    bind("PgUp/PgDn", "scroll the details", Command::ScrollUp, &[PageUp]).help_only(),
    bind("PgDn", "scroll down", Command::ScrollDown, &[PageDown]).help_only(),
];

/// The ISP stage's own key: the view from other regions takes seconds and spends the
/// measurement network's quota, so it runs when asked, not on every re-run.
#[rustfmt::skip]
pub const ISP: &[Binding] = &[
    bind("w", "ask the world: probes on other continents fetch the site over both families (isp.regions)", Command::AskWorld, &[Char('w')]),
];

#[rustfmt::skip]
pub const GLOBAL: &[Binding] = &[
    bind("o", "overview of every stage and check", Command::Overview, &[Char('o')]),
    bind("t", "timeline of every check run", Command::Timeline, &[Char('t')]).help_only(),
    bind("?", "help", Command::Help, &[Char('?'), F(1)]).help_only(),
    bind("Esc", "close the panel", Command::Back, &[Esc]).help_only(),
    bind("q", "quit", Command::Quit, &[Char('q')]),
];

/// Training, before the answer: the trainee picks the stage they think is broken. The
/// stages stand one under the other in the tree and there are no checks to move through
/// yet, so ↑↓ move through the stages (←→ too, as in the wizard).
#[rustfmt::skip]
pub const TRAIN: &[Binding] = &[
    bind("↑↓", "choose the stage you think is broken", Command::PrevStage, &[Up, Char('k')]),
    bind("↓", "next stage", Command::NextStage, &[Down, Char('j')]).help_only(),
    bind("←→", "previous / next stage, as in the wizard", Command::PrevStage, &[Left]).help_only(),
    NEXT_STAGE,
    bind("Enter", "answer, then see the findings", Command::Start, &[Enter]),
];

/// How `command`'s first binding in `list` is shown: hints in the panels name the keys
/// the way the key bar does.
pub fn label_of(list: &[Binding], command: Command) -> &'static str {
    list.iter()
        .find(|b| b.command == command)
        .map(|b| b.label)
        .unwrap_or("?")
}

#[rustfmt::skip]
pub const FORM: &[Binding] = &[
    bind("Tab", "next field", Command::NextField, &[Tab, Down]),
    bind("S-Tab", "previous field", Command::PrevField, &[BackTab, Up]),
    bind("Enter", "start the diagnosis", Command::Start, &[Enter]),
    bind("Esc", "quit", Command::Quit, &[Esc]),
];
/// The command bound to `key` among `lists`, in order.
pub fn lookup(lists: &[&[Binding]], key: &KeyEvent) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Command::Quit);
    }
    if let KeyCode::Char(d @ '1'..='9') = key.code
        && lists
            .iter()
            .flat_map(|l| l.iter())
            .any(|b| b.command == Command::SelectFix(0))
    {
        return Some(Command::SelectFix(d as u8 - b'0'));
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
