//! Dialogs drawn over everything: help, the command palette, config problems.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::widgets;
use crate::app::action::Action;
use crate::app::state::{Overlay, State};
use crate::app::update::palette_matches;
use crate::config::Severity;
use crate::config::theme::Slot;

pub fn draw(frame: &mut Frame, state: &State) {
    match &state.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(frame, state, *scroll),
        Some(Overlay::Palette { input, selected }) => {
            palette(frame, state, input.text(), *selected)
        }
        Some(Overlay::Problems { scroll }) => problems(frame, state, *scroll),
        Some(Overlay::Confirm(c)) => confirm(frame, state, c),
        // Drawn by `super::jobs`.
        Some(Overlay::Job { .. }) => {}
    }
}

/// The one confirm dialog: what will happen, and how to say yes.
fn confirm(frame: &mut Frame, state: &State, c: &crate::app::confirm::ConfirmDialog) {
    let t = &state.theme;
    let plan = &c.plan;
    let height = plan.lines.len() as u16 + 7;
    let area = centered(frame.area(), 84, height);
    frame.render_widget(Clear, area);
    let slot = if c.typed.is_some() {
        Slot::Protected
    } else {
        Slot::Warning
    };
    let block = widgets::block(
        state,
        Line::styled(format!(" {} ", plan.title), t.style(slot)),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = vec![Line::from(vec![
        Span::styled("deployment ", t.style(Slot::Muted)),
        Span::styled(plan.deployment.name.clone(), t.style(slot)),
        Span::styled(" · ", t.style(Slot::Muted)),
        Span::styled(plan.action, t.style(Slot::Key)),
        Span::styled(" · ", t.style(Slot::Muted)),
        Span::styled(plan.target.clone(), t.style(Slot::Text)),
    ])];
    lines.extend(
        plan.lines
            .iter()
            .map(|l| Line::styled(l.clone(), t.style(Slot::Text))),
    );
    lines.push(Line::raw(""));
    match &c.typed {
        Some(name) => {
            lines.push(Line::from(vec![
                Span::styled("This deployment is protected. Type ", t.style(Slot::Muted)),
                Span::styled(name.clone(), t.style(Slot::Protected)),
                Span::styled(
                    " and press enter to go ahead; esc cancels.",
                    t.style(Slot::Muted),
                ),
            ]));
            let mut field = vec![Span::styled("> ", t.style(Slot::Key))];
            field.extend(widgets::field(&c.input, t));
            lines.push(Line::from(field));
        }
        None => lines.push(Line::from(vec![
            Span::styled("y", t.style(Slot::Key)),
            Span::styled(" go ahead   ", t.style(Slot::Muted)),
            Span::styled("n", t.style(Slot::Key)),
            Span::styled("/", t.style(Slot::Muted)),
            Span::styled("esc", t.style(Slot::Key)),
            Span::styled(" cancel", t.style(Slot::Muted)),
        ])),
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn read_only(state: &State) -> bool {
    state
        .session
        .as_ref()
        .is_some_and(|s| s.deployment.read_only)
}

/// Help is generated from the action table and the active keymap.
fn help(frame: &mut Frame, state: &State, scroll: usize) {
    let t = &state.theme;
    let area = centered(frame.area(), 84, frame.area().height.saturating_sub(4));
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::from(vec![
            Span::styled(" Keys ", t.style(Slot::Title)),
            Span::styled("· ↑↓ scroll · esc closes ", t.style(Slot::Muted)),
        ]),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines: Vec<Line> = Action::ALL
        .iter()
        .filter(|a| !(read_only(state) && a.is_mutating()))
        .map(|a| {
            let keys = state.keymap.describe(*a);
            Line::from(vec![
                Span::styled(
                    format!(
                        " {:<20}",
                        if keys.is_empty() {
                            "(unbound)".into()
                        } else {
                            keys
                        }
                    ),
                    t.style(Slot::Key),
                ),
                Span::styled(format!("{:<20}", a.name()), t.style(Slot::Muted)),
                Span::styled(a.description(), t.style(Slot::Text)),
            ])
        })
        .collect();
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll.min(max) as u16, 0)),
        inner,
    );
}

fn palette(frame: &mut Frame, state: &State, input: &str, selected: usize) {
    let t = &state.theme;
    let matches = palette_matches(input, read_only(state));
    let height = (matches.len() as u16 + 4).clamp(6, 20);
    let full = frame.area();
    let area = Rect {
        y: full.y + full.height / 6,
        ..centered(full, 70, height)
    };
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::styled(" Commands ", t.style(Slot::Title)),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [prompt, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(": ", t.style(Slot::Key)),
            Span::styled(format!("{input}▏"), t.style(Slot::Input)),
        ])),
        prompt,
    );
    let visible = usize::from(list.height);
    let offset = selected.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = matches
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(i, a)| {
            let line = Line::from(vec![
                Span::styled(format!(" {:<20}", a.name()), t.style(Slot::Text)),
                Span::styled(format!("{:<36}", a.description()), t.style(Slot::Muted)),
                Span::styled(state.keymap.describe(*a), t.style(Slot::Key)),
            ]);
            if i == selected {
                line.style(t.style(Slot::Selection))
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(" no matching command", t.style(Slot::Muted))),
            list,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), list);
    }
}

fn problems(frame: &mut Frame, state: &State, scroll: usize) {
    let t = &state.theme;
    let area = centered(frame.area(), 100, frame.area().height.saturating_sub(4));
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::from(vec![
            Span::styled(" Configuration problems ", t.style(Slot::Title)),
            Span::styled("· esc closes ", t.style(Slot::Muted)),
        ]),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    if state.diagnostics.is_empty() {
        lines.push(Line::styled(
            "No problems: every file loaded cleanly.",
            t.style(Slot::Success),
        ));
    }
    for d in &state.diagnostics {
        let slot = match d.severity {
            Severity::Error => Slot::Error,
            Severity::Warning => Slot::Warning,
        };
        let place = if d.line > 0 {
            format!("{}:{}:{}", d.file.display(), d.line, d.column)
        } else {
            d.file.display().to_string()
        };
        lines.push(Line::from(vec![
            Span::styled(place, t.style(Slot::Muted)),
            Span::raw(" "),
            Span::styled(d.message.clone(), t.style(slot)),
        ]));
        if let Some(help) = &d.help {
            lines.push(Line::styled(format!("  help: {help}"), t.style(Slot::Text)));
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        inner,
    );
}
