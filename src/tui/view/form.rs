use super::super::app::App;
use super::super::keys;
use crate::model::Expect;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [body, bar] = Layout::vertical([Constraint::Min(5), Constraint::Length(1)]).areas(area);
    let expect = |e: Expect, label: &'static str| {
        if app.form.expect == e {
            Span::styled(format!("[{label}]"), t.selected())
        } else {
            Span::raw(format!(" {label} "))
        }
    };
    let field = |i: usize, label: &str, value: &str| {
        let cursor = if app.form.focus == i { "_" } else { "" };
        let style = if app.form.focus == i {
            t.title()
        } else {
            Default::default()
        };
        Line::from(vec![
            Span::styled(format!("  {label:<10}"), style),
            Span::raw(format!("{}{cursor}", super::safe(value))),
        ])
    };
    let mut lines = vec![
        Line::raw(""),
        Line::raw("  Which site should dsdoctor examine on this host?"),
        Line::raw(""),
        field(0, "Domain", &app.form.domain),
        field(1, "Ports", &app.form.ports),
        Line::from(vec![
            Span::styled(
                "  Families  ",
                if app.form.focus == 2 {
                    t.title()
                } else {
                    Default::default()
                },
            ),
            expect(Expect::Both, "both"),
            Span::raw(" "),
            expect(Expect::Ipv4, "IPv4 only"),
            Span::raw(" "),
            expect(Expect::Ipv6, "IPv6 only"),
        ]),
        Line::raw(""),
    ];
    if let Some(e) = &app.form.error {
        lines.push(Line::styled(
            format!("  {}", super::safe(e)),
            t.status(crate::model::Status::Fail),
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" dsdoctor ")),
        body,
    );
    let mut spans = Vec::new();
    for b in keys::FORM.iter().filter(|b| b.in_bar) {
        spans.push(Span::styled(format!(" {}", b.label), t.key()));
        spans.push(Span::raw(format!(" {} ", b.desc)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), bar);
}
