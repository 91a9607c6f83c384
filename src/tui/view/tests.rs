//! Snapshot tests of every screen, at 80x24 and a wide size, from the app driven by
//! actions (see app/tests.rs for the helpers).

use super::super::app::tests::{feed, ipv4_only_nginx, started, theme};
use super::super::app::{Action, App};
use super::draw;
use crate::checks::fixtures;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| draw(f, app)).expect("draw");
    format!("{}", t.backend())
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), render(app, 120, 40));
}

#[test]
fn form() {
    let app = App::new(fixtures::options(), true, theme());
    both("form", &app);
}

#[test]
fn running_before_any_result() {
    let mut app = App::new(fixtures::options(), false, theme());
    app.start();
    both("running", &app);
}

#[test]
fn failing_stage_with_its_fix() {
    let app = started(&ipv4_only_nginx());
    both("failing_listener", &app);
}

#[test]
fn fix_selected_and_learn_panel() {
    let mut app = started(&ipv4_only_nginx());
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Down,
        KeyModifiers::NONE,
    )));
    app.update(key('l'));
    both("learn", &app);
}

#[test]
fn overview() {
    let mut app = started(&ipv4_only_nginx());
    app.update(key('o'));
    both("overview", &app);
}

#[test]
fn help() {
    let mut app = started(&ipv4_only_nginx());
    app.update(key('?'));
    both("help", &app);
}

#[test]
fn timeline_after_a_fix() {
    let mut app = started(&ipv4_only_nginx());
    let e = app.update(key('r'));
    feed(&mut app, e, &fixtures::healthy(), 61_250);
    app.update(key('t'));
    both("timeline", &app);
}

#[test]
fn all_clear() {
    let app = started(&fixtures::healthy());
    both("all_clear", &app);
}

#[test]
fn ascii_fallback_without_utf8() {
    let mut app = started(&ipv4_only_nginx());
    app.theme.unicode = false;
    insta::assert_snapshot!("ascii_80x24", render(&app, 80, 24));
}

#[test]
fn hostile_strings_are_drawn_inert() {
    let mut f = ipv4_only_nginx();
    if let Ok(l) = f.listeners.result.as_mut() {
        l[0].process = Some("ngi\u{1b}]52;c;cm0gLXJmIC8=\u{7}nx\u{1b}[2J".into());
    }
    let app = started(&f);
    let screen = render(&app, 120, 40);
    assert!(!screen.contains('\u{1b}'), "escape reached the screen");
    assert!(!screen.contains('\u{7}'));
}

/// Process names, SMTP banners and HTTP redirect targets carrying OSC 52, screen clears,
/// C1 CSI and bidi overrides (raw, as a replayed snapshot may carry them): every screen
/// the wizard draws shows them inert.
#[test]
fn hostile_outside_strings_are_inert_on_every_screen() {
    use crate::facts::Probed;
    use crate::facts::isp::{SmtpAnswer, SmtpProbe};
    let payload = "\u{1b}]52;c;cm0gLXJmIC8K\u{7}\u{1b}[2J\u{9b}31m\u{202e}";
    let mut f = ipv4_only_nginx();
    if let Ok(l) = f.listeners.result.as_mut() {
        for x in l.iter_mut() {
            x.process = Some(format!("pwned{payload}"));
        }
    }
    if let Ok(isp) = f.isp.result.as_mut() {
        for h in isp.http.iter_mut() {
            if let Ok(r) = h.response.result.as_mut() {
                r.status = if h.ip.is_ipv6() { 301 } else { 200 };
                r.location = Some(format!("http://x/{payload}"));
                r.server = Some(payload.into());
            }
        }
        isp.smtp = ["203.0.113.10", "2001:db8:1::10"]
            .iter()
            .map(|a| SmtpProbe {
                port: 25,
                ip: a.parse().unwrap(),
                answer: Probed::ok(SmtpAnswer {
                    banner: vec![format!("220 mail{payload} ESMTP")],
                    ehlo: vec![format!("250 mail{payload}")],
                }),
            })
            .collect();
    }
    let mut app = started(&f);
    let mut screens = vec![render(&app, 120, 40), render(&app, 80, 24)];
    for _ in 0..40 {
        app.update(Action::Key(KeyEvent::new(
            KeyCode::Down,
            KeyModifiers::NONE,
        )));
        screens.push(render(&app, 120, 40));
    }
    app.update(key('o'));
    screens.push(render(&app, 120, 40));
    let all = screens.join("\n");
    for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!all.contains(c), "{c:?} reached the screen");
    }
    assert!(all.contains("pwned"), "the process name is shown");
}

#[test]
fn tiny_terminal_does_not_panic() {
    let mut app = started(&ipv4_only_nginx());
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10)] {
        render(&app, w, h);
        app.update(key('o'));
        render(&app, w, h);
        app.update(key('o'));
    }
}

#[test]
fn replay_badge_names_host_and_time() {
    let mut app = started(&fixtures::healthy());
    app.replay = Some(super::super::app::ReplayInfo {
        hostname: "web1".into(),
        recorded_at: "2026-11-23T07:00:00Z".into(),
    });
    let screen = render(&app, 120, 40);
    let header = screen.lines().next().unwrap_or("");
    assert!(
        header.contains("REPLAY web1 2026-11-23T07:00:00Z"),
        "{header}"
    );
}

/// The quiz of a training scenario whose answer is the listener stage, started.
fn training(story: &str) -> App {
    let mut app = App::new(fixtures::options(), false, theme());
    app.training = Some(super::super::app::Training {
        title: "The shop is slow on phones".into(),
        story: story.into(),
        answer: Some(crate::model::Stage::Listener),
        picked: None,
    });
    app.start();
    app
}

#[test]
fn training_quiz_and_reveal() {
    let mut app = training(
        "Customers on mobile networks say the shop takes ages to load or never does; from the office everything is fine.",
    );
    both("training_quiz", &app);
    let header = answer(&mut app);
    assert!(header.contains("TRAINING ✗ it was Listener"), "{header}");
}

/// Enter on the quiz, the recording's facts arrive: the header line.
fn answer(app: &mut App) -> String {
    let e = app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    feed(app, e, &ipv4_only_nginx(), 10);
    render(app, 80, 24).lines().next().unwrap_or("").to_string()
}

/// The facts behind these screens give fixes with this host's values only.
#[test]
fn fixtures_fixes_hold_only_their_hosts_values() {
    for f in [fixtures::healthy(), ipv4_only_nginx()] {
        let report = crate::engine::report_from_facts(&f, &fixtures::options(), String::new(), 0);
        let ifaces: Vec<String> = f.links().iter().map(|l| l.name.clone()).collect();
        let problems = crate::report::fix_problems(&report, &ifaces);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

/// The quiz's hint names the keys that move through the vertical tree, the same ones the
/// key bar shows, and they do: two steps down from DNS is Listener, the right answer.
#[test]
fn training_hint_matches_its_keys_and_layout() {
    let mut app = training("Customers on mobile networks cannot load the shop.");
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Choose it in the tree with ↑↓"), "{screen}");
    let bar = screen.lines().last().unwrap_or("");
    assert!(
        bar.contains("↑↓ stage"),
        "the key bar names the same keys: {bar}"
    );
    assert!(!screen.contains("←→"), "{screen}");
    for _ in 0..2 {
        let e = app.update(Action::Key(KeyEvent::new(
            KeyCode::Down,
            KeyModifiers::NONE,
        )));
        assert!(e.is_empty());
    }
    assert!(render(&app, 120, 40).contains("(now: Listener)"));
    let header = answer(&mut app);
    assert!(header.contains("TRAINING ✓ right"), "{header}");
}

/// After `r` on the listener stage, a check whose facts were not gathered again (the
/// sysctl files of address.ipv6_persistent) is marked as older, in the list and the
/// detail; the re-checked ones are not.
#[test]
fn older_findings_are_marked() {
    let mut app = started(&ipv4_only_nginx());
    let e = app.update(key('r'));
    feed(&mut app, e, &fixtures::healthy(), 500);
    app.guided = false;
    app.stage = crate::model::Stage::Address;
    app.check = app
        .stage_findings(crate::model::Stage::Address)
        .iter()
        .position(|f| f.id == crate::model::CheckId::AddressIpv6Persistent)
        .expect("persistent check shown");
    let s = render(&app, 120, 40);
    let marked =
        |s: &str, id: &str, mark: char| s.lines().any(|l| l.contains(id) && l.contains(mark));
    assert!(marked(&s, "ipv6_persistent", '◷'), "{s}");
    assert!(
        s.contains("older result: from run 1 (this is run 2)"),
        "{s}"
    );
    assert!(
        !marked(&s, "global_ipv6", '◷'),
        "re-gathered, not older: {s}"
    );
    app.theme.unicode = false;
    let s = render(&app, 120, 40);
    assert!(marked(&s, "ipv6_persistent", '~'), "{s}");
}

/// `w` on the ISP stage: the measurement network's answers streaming into isp.regions'
/// table, one probe still measuring, the stage still running.
#[test]
fn ask_the_world_while_the_probes_answer() {
    use super::super::app::tests::events;
    use crate::facts::Probed;
    use crate::facts::regions::TestStatus;
    let healthy = fixtures::healthy();
    let mut app = started(&healthy);
    let mut world = healthy.clone();
    let mut streaming = fixtures::regions();
    streaming.complete = false;
    if let Ok(m) = streaming.ports[0].v6.as_mut() {
        m.results[2].status = TestStatus::InProgress;
    }
    world.regions = Some(Probed::ok(streaming));
    let e = app.update(key('w'));
    let evs = events(&app, &e, &world);
    // Everything but the run's end: the last word has not come.
    for event in evs
        .into_iter()
        .filter(|e| !matches!(e, crate::engine::Event::Finished { .. }))
    {
        app.update(Action::Engine { event, at_ms: 900 });
    }
    for _ in 0..20 {
        app.update(Action::Key(KeyEvent::new(
            KeyCode::Down,
            KeyModifiers::NONE,
        )));
    }
    both("ask_the_world", &app);
}
