//! The state machine driven by actions, as the runtime would: no terminal, no probes.

use super::*;
use crate::checks::fixtures;
use crate::facts::{Facts, Probed};
use crate::model::CheckId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn theme() -> Theme {
    Theme {
        unicode: true,
        color: false,
    }
}

thread_local! {
    /// The engine session each test's wizard talks to (tests run on threads of their own).
    static SESSION: std::cell::RefCell<crate::engine::Stepper> = Default::default();
}

/// The engine's events for the run the effects ask for, the world being `f`.
pub fn events(app: &App, effects: &[Effect], f: &Facts) -> Vec<crate::engine::Event> {
    let (run, scope, opts) = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRun { run, scope, opts } => Some((*run, *scope, opts.clone())),
            _ => None,
        })
        .expect("a run was started");
    let _ = app;
    SESSION.with(|s| s.borrow_mut().run(run, scope, &opts, f))
}

/// Feed a whole run of `f` into the app, returning the run's id.
pub fn feed(app: &mut App, effects: Vec<Effect>, f: &Facts, at_ms: u64) -> u64 {
    let evs = events(app, &effects, f);
    let run = evs[0].run();
    for event in evs {
        app.update(Action::Engine { event, at_ms });
    }
    run
}

pub fn ipv4_only_nginx() -> Facts {
    let mut f = fixtures::healthy();
    f.listeners = Probed::ok(vec![fixtures::listener("0.0.0.0", 80, None)]);
    if let Ok(w) = f.web.result.as_mut() {
        w.nginx = vec![fixtures::nginx(
            "server {\n    listen 80;\n    server_name shop.example;\n}\n",
        )];
    }
    f
}

pub fn started(f: &Facts) -> App {
    SESSION.with(|s| {
        *s.borrow_mut() = crate::engine::Stepper::default();
        s.borrow_mut().duration_ms = 40;
    });
    let mut app = App::new(fixtures::options(), false, theme());
    let e = app.start();
    feed(&mut app, e, f, 40);
    app
}

#[test]
fn starting_with_a_domain_runs_every_stage() {
    let mut app = App::new(fixtures::options(), false, theme());
    let e = app.start();
    assert!(matches!(
        &e[..],
        [Effect::StartRun {
            scope: Scope::All,
            ..
        }]
    ));
    assert!(app.stages.iter().all(|s| *s == StageRun::Running));
    assert!(app.running());
}

#[test]
fn guided_mode_stops_at_the_first_failing_stage_with_its_fix() {
    let app = started(&ipv4_only_nginx());
    assert_eq!(app.selected_stage(), Stage::Listener);
    let f = app.selected_finding().expect("a finding is selected");
    assert_eq!(f.id, CheckId::ListenerIpv6);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(app.stages[Stage::Dns], StageRun::Done(Status::Pass));
    assert!(!app.running());
}

#[test]
fn stages_are_evaluated_as_their_facts_arrive() {
    let f = fixtures::healthy();
    let mut app = App::new(fixtures::options(), false, theme());
    let e = app.start();
    let mut evs = events(&app, &e, &f).into_iter();
    let mut step = |app: &mut App, want: crate::facts::PartKind| {
        let event = evs.next().expect("another event");
        if let crate::engine::Event::Evaluated { part, .. } = &event {
            assert_eq!(*part, want);
        }
        app.update(Action::Engine { event, at_ms: 1 });
    };
    use crate::facts::PartKind as P;
    step(&mut app, P::Netlink); // Started
    for p in [P::Netlink, P::Sysctl, P::SysctlFiles] {
        step(&mut app, p);
    }
    assert!(
        matches!(app.stages[Stage::Listener], StageRun::Running),
        "the listener stage needs the sockets"
    );
    for p in [P::Listeners, P::Web, P::Containers, P::Dns] {
        step(&mut app, p);
    }
    assert_eq!(app.stages[Stage::Listener], StageRun::Done(Status::Pass));
    assert!(
        matches!(app.stages[Stage::Address], StageRun::Running),
        "address.global_ipv4 waits for the address the ISP stage saw"
    );
    assert!(
        matches!(app.stages[Stage::Dns], StageRun::Running),
        "dns waits for the address the ISP stage saw (dns.a_target)"
    );
}

#[test]
fn recheck_after_the_fix_passes_and_the_wizard_moves_on() {
    let mut app = started(&ipv4_only_nginx());
    let e = app.update(key('r'));
    assert!(matches!(
        &e[..],
        [Effect::StartRun {
            scope: Scope::Stage(Stage::Listener),
            ..
        }]
    ));
    assert_eq!(app.stages[Stage::Listener], StageRun::Running);
    feed(&mut app, e, &fixtures::healthy(), 900);
    assert_eq!(app.stages[Stage::Listener], StageRun::Done(Status::Pass));
    assert_ne!(app.selected_stage(), Stage::Listener, "the wizard moved on");
    // the timeline recorded the change fail -> pass
    assert!(app.timeline.iter().any(|t| t.id == CheckId::ListenerIpv6
        && t.before == Some(Status::Fail)
        && t.after == Status::Pass
        && t.at_ms == 900));
}

#[test]
fn recheck_that_still_fails_stays() {
    let mut app = started(&ipv4_only_nginx());
    let e = app.update(key('r'));
    feed(&mut app, e, &ipv4_only_nginx(), 500);
    assert_eq!(app.selected_stage(), Stage::Listener);
    assert!(
        !app.timeline.iter().any(|t| t.at_ms == 500),
        "nothing changed, nothing logged"
    );
}

#[test]
fn back_and_skip_ahead_leave_guided_mode_until_g() {
    let mut app = started(&ipv4_only_nginx());
    app.update(code(KeyCode::Left));
    assert_eq!(app.selected_stage(), Stage::Address);
    assert!(!app.guided);
    app.update(code(KeyCode::Right));
    app.update(code(KeyCode::Right));
    assert_eq!(app.selected_stage(), Stage::Firewall);
    app.update(key('g'));
    assert!(app.guided);
    assert_eq!(app.selected_stage(), Stage::Listener);
}

#[test]
fn late_results_of_a_superseded_run_are_dropped() {
    let mut app = started(&ipv4_only_nginx());
    let first = app.update(key('R'));
    let old = match &first[0] {
        Effect::StartRun { run, .. } => *run,
        _ => unreachable!(),
    };
    let second = app.update(key('R'));
    let stale = SESSION.with(|s| {
        s.borrow_mut()
            .run(old, Scope::All, &app.opts, &fixtures::healthy())
    });
    for event in stale {
        app.update(Action::Engine { event, at_ms: 5 });
    }
    assert!(
        app.stages.iter().all(|s| *s == StageRun::Running),
        "old run ignored"
    );
    feed(&mut app, second, &fixtures::healthy(), 9);
    assert!(app.stages.iter().all(|s| matches!(s, StageRun::Done(_))));
}

/// Select a stage's check with the keys a user presses: right to the stage, down to it.
fn select(app: &mut App, stage: Stage, id: CheckId) {
    while app.selected_stage() != stage {
        app.update(code(KeyCode::Right));
    }
    let idx = app
        .stage_findings(stage)
        .iter()
        .position(|f| f.id == id)
        .unwrap();
    while app.check < idx {
        app.update(code(KeyCode::Down));
    }
}

#[test]
fn copy_sends_the_selected_fix_command() {
    let mut app = started(&ipv4_only_nginx());
    // listener.config has the nginx fix
    select(&mut app, Stage::Listener, CheckId::ListenerConfig);
    app.update(key('2'));
    let e = app.update(key('c'));
    match &e[..] {
        [Effect::Copy(text)] => assert!(text.contains("nginx -t"), "{text}"),
        other => panic!("{other:?}"),
    }
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("copied fix 2")
    );
}

/// A fix's instructions (where to find a value this host does not know) are read, not
/// typed: `c` and the digits pick only the commands.
#[test]
fn instructions_are_never_copied() {
    let mut f = fixtures::healthy();
    fixtures::drop_routes(&mut f, crate::model::Family::V6);
    f.boot_network = None;
    f.neighbours = crate::facts::Probed::ok(Vec::new());
    let mut app = started(&f);
    select(&mut app, Stage::Route, CheckId::RouteIpv6Default);
    let shown = &app.selected_finding().unwrap().fixes[0].commands;
    assert!(shown.iter().any(|c| c.starts_with('#')), "{shown:?}");
    assert_eq!(
        app.fix_commands(),
        vec!["ip -6 neigh show dev eth0 router   # routers that announced themselves on the link (none had when dsdoctor looked)".to_string()]
    );
    app.update(key('2'));
    match &app.update(key('c'))[..] {
        [Effect::Copy(text)] => assert!(text.starts_with("ip -6 neigh show"), "{text}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn overlays_toggle_and_escape_closes_before_quitting() {
    let mut app = started(&ipv4_only_nginx());
    app.update(key('o'));
    assert_eq!(app.overlay, Some(Overlay::Overview));
    app.update(key('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.overlay, None);
    assert!(!app.quit);
    let e = app.update(code(KeyCode::Esc));
    assert_eq!(e, vec![Effect::Quit]);
    assert!(app.quit);
}

#[test]
fn form_validates_then_starts() {
    let mut app = App::new(fixtures::options(), true, theme());
    assert!(app.start().is_empty(), "the form comes first");
    app.form.domain.clear();
    for c in "bad..name".chars() {
        app.update(key(c));
    }
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    assert!(app.form.error.is_some());
    for _ in 0..9 {
        app.update(code(KeyCode::Backspace));
    }
    for c in "shop.example".chars() {
        app.update(key(c));
    }
    app.update(code(KeyCode::Tab));
    for _ in 0..10 {
        app.update(code(KeyCode::Backspace));
    }
    for c in "8080".chars() {
        app.update(key(c));
    }
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Right));
    let e = app.update(code(KeyCode::Enter));
    assert_eq!(app.screen, Screen::Wizard);
    match &e[..] {
        [Effect::StartRun { opts, .. }] => {
            assert_eq!(opts.target.domain, "shop.example");
            assert_eq!(opts.target.ports, vec![8080]);
            assert_eq!(opts.target.expect, Expect::Ipv4);
        }
        other => panic!("{other:?}"),
    }
}

fn trainee() -> App {
    let mut app = App::new(fixtures::options(), false, theme());
    app.training = Some(Training {
        title: "The shop is slow on phones".into(),
        story: "Customers on mobile networks say the shop takes ages to load or never does; from the office everything is fine.".into(),
        answer: Some(Stage::Listener),
        picked: None,
    });
    app
}

#[test]
fn training_waits_for_the_guess_then_reveals() {
    let mut app = trainee();
    assert!(
        app.start().is_empty(),
        "nothing is revealed before the answer"
    );
    assert!(app.in_quiz());
    app.update(code(KeyCode::Right));
    app.update(code(KeyCode::Right));
    assert_eq!(app.selected_stage(), Stage::Listener);
    let e = app.update(code(KeyCode::Enter));
    assert!(!app.in_quiz());
    assert!(
        app.message.as_deref().unwrap_or("").starts_with("Right"),
        "{:?}",
        app.message
    );
    feed(&mut app, e, &ipv4_only_nginx(), 10);
    assert_eq!(app.selected_stage(), Stage::Listener);
    assert_eq!(
        app.selected_finding().map(|f| f.id),
        Some(CheckId::ListenerIpv6)
    );
}

#[test]
fn a_wrong_guess_is_corrected() {
    let mut app = trainee();
    app.start();
    let e = app.update(code(KeyCode::Enter)); // DNS
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("you picked DNS, the root cause is in Listener")
    );
    feed(&mut app, e, &ipv4_only_nginx(), 10);
    assert_eq!(
        app.training.as_ref().and_then(|t| t.picked),
        Some(Stage::Dns)
    );
    assert_eq!(
        app.selected_stage(),
        Stage::Listener,
        "guided mode shows the real cause"
    );
}

#[test]
fn the_wizard_ends_where_check_ends() {
    // Behind NAT, dns.a_target depends on the address the ISP stage saw: the final
    // findings must equal the headless report's, whatever the order the parts came in.
    for f in [
        fixtures::healthy(),
        ipv4_only_nginx(),
        fixtures::healthy_online(),
    ] {
        let app = started(&f);
        let report = crate::engine::report_from_facts(&f, &fixtures::options(), "t".into(), 0);
        assert_eq!(app.findings, report.checks);
    }
}

/// Whatever the sequence of `r` (on any stage) and `R` on replayed facts, the wizard ends
/// with the statuses and verdict `check --replay` gives for those facts.
#[test]
fn any_recheck_sequence_on_replayed_facts_ends_where_check_replay_ends() {
    let mut seed: u64 = 0x5eed_d5d0;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut worlds: Vec<(String, crate::snapshot::Snapshot)> = crate::train::list()
        .into_iter()
        .map(|(n, _)| (n.to_string(), crate::train::load(n).unwrap().snapshot))
        .collect();
    let mut healthy = worlds[0].1.clone();
    healthy.facts = fixtures::healthy();
    healthy.options = fixtures::options();
    worlds.push(("healthy fixture".into(), healthy));
    for (name, snap) in worlds {
        let report = crate::engine::replay(&snap);
        let expected: Vec<_> = report
            .checks
            .iter()
            .map(|f| (f.id, f.port, f.status, f.caused_by))
            .collect();
        SESSION.with(|s| *s.borrow_mut() = Default::default());
        let mut app = App::new(snap.options.clone(), false, theme());
        let e = app.start();
        feed(&mut app, e, &snap.facts, 1);
        let mut keys = Vec::new();
        for step in 0..10 {
            let k = next(7);
            let e = if k == 6 {
                keys.push("R".to_string());
                app.update(key('R'))
            } else {
                app.stage = Stage::ALL[k as usize];
                keys.push(format!("r@{}", app.stage.as_str()));
                app.update(key('r'))
            };
            feed(&mut app, e, &snap.facts, 10 + step);
            let shown: Vec<_> = app
                .findings
                .iter()
                .map(|f| (f.id, f.port, f.status, f.caused_by))
                .collect();
            assert_eq!(shown, expected, "{name} after {keys:?}");
            assert_eq!(app.verdict(), report.verdict, "{name} after {keys:?}");
            assert!(!app.running());
        }
    }
}

/// After a fix and `r` on the stage, nothing on screen is a stale failure: every
/// finding is from this run or marked older, and the verdict is `check`'s for the facts.
#[test]
fn recheck_after_a_fix_leaves_no_stale_failure() {
    let mut app = started(&ipv4_only_nginx());
    assert_eq!(app.verdict().check, Some(CheckId::ListenerIpv6));
    let e = app.update(key('r'));
    feed(&mut app, e, &fixtures::healthy(), 700);
    let report =
        crate::engine::report_from_facts(&fixtures::healthy(), &app.opts, String::new(), 0);
    assert_eq!(app.verdict(), report.verdict);
    for f in &app.findings {
        let age = app.age(f).expect("shown findings have an age");
        assert!(!age.pending);
        if age.run != app.current_run {
            assert!(
                app.is_older(f),
                "{} from run {} not marked",
                f.label(),
                age.run
            );
        }
        assert_ne!(f.status, Status::Fail, "{} still fails", f.label());
    }
    assert_eq!(
        app.last_run_ms,
        Some(40),
        "the header shows the run's own duration"
    );
}

#[test]
fn ask_the_world_is_a_key_of_the_isp_stage_and_its_answer_outlives_a_rerun() {
    let healthy = fixtures::healthy();
    let mut app = started(&healthy);
    app.update(code(KeyCode::Right));
    while app.selected_stage() != Stage::Isp {
        app.update(code(KeyCode::Right));
    }
    assert!(
        app.bindings()
            .iter()
            .flat_map(|l| l.iter())
            .any(|b| b.command == keys::Command::AskWorld),
        "the key bar and help show w"
    );
    let mut world = healthy.clone();
    world.regions = Some(Probed::ok(fixtures::regions()));
    let e = app.update(key('w'));
    let Some(Effect::StartRun { scope, opts, .. }) = e.first() else {
        panic!("no run: {e:?}");
    };
    assert_eq!((*scope, opts.regions), (Scope::World, WIZARD_REGIONS));
    assert!(
        app.stages[Stage::Dns] != StageRun::Running,
        "only the ISP stage runs"
    );
    feed(&mut app, e, &world, 80);
    let regions = |app: &App| {
        app.findings
            .iter()
            .find(|f| f.id == CheckId::IspRegions)
            .cloned()
            .expect("isp.regions on screen")
    };
    assert_eq!(regions(&app).status, Status::Pass);
    // R re-runs every stage without asking the world again: the answer stays, older.
    let e = app.update(key('R'));
    let Some(Effect::StartRun { opts, .. }) = e.first() else {
        panic!("no run: {e:?}");
    };
    assert_eq!(opts.regions, 0);
    feed(&mut app, e, &healthy, 120);
    let f = regions(&app);
    assert_eq!(f.status, Status::Pass);
    assert!(app.is_older(&f), "marked as an older result");
    // On another stage w does nothing.
    app.update(code(KeyCode::Left));
    assert!(app.update(key('w')).is_empty());
}
