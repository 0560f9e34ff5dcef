//! Dialogs drawn over everything: help, the command palette, config
//! problems, the confirm, the invoke popup (the code deploy's and the
//! rollback's are in `lambda_deploy`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::widgets;
use crate::app::action::Action;
use crate::app::palette::palette_matches;
use crate::app::state::{Overlay, Screen, State};
use crate::config::Severity;
use crate::config::keymap::{self, Scope};
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
        Some(Overlay::Invoke(p)) => invoke(frame, state, p),
        Some(Overlay::Choose(c)) => choose(frame, state, c),
        Some(Overlay::CodeDeploy(p)) => super::lambda_deploy::code(frame, state, p),
        Some(Overlay::Rollback(p)) => super::lambda_deploy::rollback(frame, state, p),
        // Drawn by `super::jobs`.
        Some(Overlay::Job { .. }) => {}
    }
}

/// A pick list before a plan: each choice with what it runs.
fn choose(frame: &mut Frame, state: &State, c: &crate::app::choose::Chooser) {
    let t = &state.theme;
    let rows = c.items.len().min(16) as u16;
    let area = centered(frame.area(), 72, rows + 4);
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::styled(format!(" {} ", c.title), t.style(Slot::Title)),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = c.items.iter().map(|i| i.name.width()).max().unwrap_or(0);
    let first = c
        .selected
        .saturating_sub(usize::from(rows).saturating_sub(1));
    let mut lines: Vec<Line> = c
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(usize::from(rows))
        .map(|(i, item)| {
            let (name, detail) = if i == c.selected {
                (t.style(Slot::Selection), t.style(Slot::Selection))
            } else {
                (t.style(Slot::Text), t.style(Slot::Muted))
            };
            Line::from(vec![
                Span::styled(format!(" {:<width$}  ", item.name), name),
                Span::styled(item.detail.clone(), detail),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " enter chooses (then the usual confirm) · esc cancels",
        t.style(Slot::Muted),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The invoke popup: the payload, whether it is JSON, and the type.
fn invoke(frame: &mut Frame, state: &State, p: &crate::app::invoke::InvokePopup) {
    let t = &state.theme;
    let text = p.input.text();
    let rows = text.split('\n').count().clamp(3, 16) as u16;
    // Two lines for why the payload is wrong, which may wrap.
    let area = centered(frame.area(), 72, rows + 7);
    frame.render_widget(Clear, area);
    let block = widgets::block(
        state,
        Line::styled(
            format!(" Invoke {} ", p.function.name),
            t.style(Slot::Title),
        ),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut kinds = vec![Span::styled("type ", t.style(Slot::Muted))];
    for k in crate::jobs::lambdas::InvokeKind::ALL {
        let slot = if k == p.kind {
            Slot::Selection
        } else if p.dry_run_only {
            continue;
        } else {
            Slot::Muted
        };
        kinds.push(Span::styled(format!(" {k} "), t.style(slot)));
    }
    if p.dry_run_only {
        kinds.push(Span::styled(
            "  read-only: a dry run only",
            t.style(Slot::ReadOnly),
        ));
    }
    let mut lines = vec![Line::from(kinds), Line::raw("")];
    // The cursor's line and column, to draw it where it is.
    let before = &text[..text
        .char_indices()
        .nth(p.input.cursor_chars())
        .map_or(text.len(), |(i, _)| i)];
    let (cursor_row, cursor_col) = (
        before.matches('\n').count(),
        before.rsplit('\n').next().map_or(0, |l| l.chars().count()),
    );
    let style = if p.input.is_fresh() {
        t.style(Slot::Selection)
    } else {
        t.style(Slot::Text)
    };
    let skip = (cursor_row + 1).saturating_sub(usize::from(rows));
    for (i, l) in text
        .split('\n')
        .enumerate()
        .skip(skip)
        .take(usize::from(rows))
    {
        if i != cursor_row {
            lines.push(Line::styled(format!("  {l}"), style));
            continue;
        }
        let (head, tail) = l.split_at(l.char_indices().nth(cursor_col).map_or(l.len(), |(i, _)| i));
        let mut tail = tail.chars();
        let under = tail.next().map_or(" ".to_string(), String::from);
        lines.push(Line::from(vec![
            Span::styled(format!("  {head}"), style),
            Span::styled(under, t.style(Slot::Selection)),
            Span::styled(tail.collect::<String>(), style),
        ]));
    }
    while lines.len() < usize::from(rows) + 2 {
        lines.push(Line::raw(""));
    }
    let from = match &p.loaded {
        Some(Ok(path)) => format!(" · from {path}"),
        _ => String::new(),
    };
    lines.push(match (&p.loaded, &p.problem) {
        (Some(Err(why)), _) | (_, Some(why)) => Line::styled(why.clone(), t.style(Slot::Error)),
        (_, None) => Line::styled(
            format!("valid JSON · {} bytes{from}", text.len()),
            t.style(Slot::Success),
        ),
    });
    lines.push(match &p.file {
        Some(path) => {
            let mut spans = vec![Span::styled("load file: ", t.style(Slot::Muted))];
            spans.extend(widgets::field(path, t));
            spans.push(Span::styled(
                "  enter loads · esc back",
                t.style(Slot::Muted),
            ));
            Line::from(spans)
        }
        None if p.dry_run_only => Line::styled(
            "ctrl-s sends · ctrl-o loads a file · esc cancels",
            t.style(Slot::Muted),
        ),
        None => Line::styled(
            "ctrl-s sends · ctrl-o loads a file · tab next type · esc cancels",
            t.style(Slot::Muted),
        ),
    });
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The one confirm dialog: what will happen, and how to say yes.
fn confirm(frame: &mut Frame, state: &State, c: &crate::app::confirm::ConfirmDialog) {
    let t = &state.theme;
    let plan = &c.plan;
    let width: u16 = 84;
    let header = format!(
        "deployment {} · {} · {}",
        plan.deployment.name, plan.action, plan.target
    );
    // The plan's lines as wrapped inside the frame, the blank line, the
    // prompt (two lines when a name must be typed) and the frame.
    let inner = width.min(frame.area().width).saturating_sub(2).max(1);
    let body: Vec<Line> = std::iter::once(header.clone())
        .chain(plan.lines.iter().cloned())
        .map(Line::raw)
        .collect();
    let wrapped = Paragraph::new(body)
        .wrap(Wrap { trim: false })
        .line_count(inner);
    let prompt = if c.typed.is_some() { 2 } else { 1 };
    let height = (wrapped + 1 + prompt + 2) as u16;
    let area = centered(frame.area(), width, height);
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
    debug_assert_eq!(lines[0].width(), header.chars().count());
    lines.extend(plan.lines.iter().map(|l| {
        // A plan marks what deserves a second look (a replacement, a removal).
        let slot = if l.starts_with(crate::jobs::stacks::WARN) {
            Slot::Warning
        } else {
            Slot::Text
        };
        Line::styled(l.clone(), t.style(slot))
    }));
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

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
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

/// Help is generated from the action table and the active keymap: the
/// focused panel's own keys first, then the global ones, then what has no key
/// here (the palette still runs it).
fn help(frame: &mut Frame, state: &State, scroll: usize) {
    let t = &state.theme;
    let panel = state
        .session
        .as_ref()
        .filter(|_| state.screen == Screen::Console)
        .map(|s| s.focus);
    let offered = |a: &Action| !read_only(state) || a.offered_read_only();
    let local: Vec<(Action, String)> = panel
        .map(|p| state.keymap.bound_in(Scope::Panel(p)))
        .unwrap_or_default()
        .into_iter()
        .filter(|(a, _)| offered(a))
        .map(|(a, keys)| (a, keymap::join(keys)))
        .collect();
    let mut global = Vec::new();
    let mut elsewhere = Vec::new();
    for a in Action::ALL.iter().copied().filter(offered) {
        let keys = state.keymap.global_keys_in(panel, a);
        if !keys.is_empty() {
            global.push((a, keymap::join(&keys)));
        } else if !local.iter().any(|(l, _)| *l == a) {
            let keys = state.keymap.describe(a);
            elsewhere.push((
                a,
                if keys.is_empty() {
                    "(unbound)".into()
                } else {
                    keys
                },
            ));
        }
    }
    let sections = [
        (panel.map(|p| format!("{} panel", p.title())), local),
        (Some("Global".to_string()), global),
        (
            Some("Not bound here (run from the palette)".to_string()),
            elsewhere,
        ),
    ];
    let rows = || sections.iter().flat_map(|(_, rows)| rows);
    let natural = [
        rows().map(|(_, k)| k.width()).max().unwrap_or(0),
        rows().map(|(a, _)| a.name().width()).max().unwrap_or(0),
        rows()
            .map(|(a, _)| a.description().width())
            .max()
            .unwrap_or(0),
    ];
    let full = frame.area();
    let area = centered(
        full,
        overlay_width(full.width, &natural),
        full.height.saturating_sub(4),
    );
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
    let widths = split(inner.width, natural, 1, 2);
    let mut lines: Vec<Line> = Vec::new();
    for (heading, rows) in &sections {
        let Some(heading) = heading.as_ref().filter(|_| !rows.is_empty()) else {
            continue;
        };
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(
            fit(&format!(" {heading}"), usize::from(inner.width)),
            t.style(Slot::Title),
        ));
        for (a, keys) in rows {
            lines.push(columns(
                widths,
                [
                    (keys.as_str(), t.style(Slot::Key)),
                    (a.name(), t.style(Slot::Muted)),
                    (a.description(), t.style(Slot::Text)),
                ],
            ));
        }
    }
    let max = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll.min(max) as u16, 0)),
        inner,
    );
}

/// An overlay as wide as its columns want, within the terminal (two columns
/// of margin each side): borders, a leading space and a gap per column.
fn overlay_width(terminal: u16, natural: &[usize; 3]) -> u16 {
    let want = natural.iter().sum::<usize>() + natural.len() + 2;
    u16::try_from(want)
        .unwrap_or(u16::MAX)
        .min(terminal.saturating_sub(4))
}

/// Splits `width` among three columns (each after a one-space gap). When
/// they do not fit, the action name (which the user types in the palette)
/// gets up to half, the keys up to a third, and the description (`flex`)
/// what is left; no column is wider than its text needs, and what one leaves
/// over goes to the others.
fn split(width: u16, natural: [usize; 3], name: usize, flex: usize) -> [usize; 3] {
    let avail = usize::from(width).saturating_sub(natural.len());
    let mut w = [0; 3];
    for i in (0..3).filter(|i| *i != flex) {
        w[i] = natural[i].min(if i == name { avail / 2 } else { avail / 3 });
    }
    w[flex] = natural[flex].min(avail.saturating_sub(w.iter().sum()));
    let mut spare = avail.saturating_sub(w.iter().sum());
    for i in 0..3 {
        let more = (natural[i] - w[i]).min(spare);
        w[i] += more;
        spare -= more;
    }
    w
}

/// One row of three columns, each cut or padded to exactly its width.
fn columns<'a>(widths: [usize; 3], cells: [(&str, Style); 3]) -> Line<'a> {
    let mut spans = Vec::with_capacity(6);
    for (width, (text, style)) in widths.into_iter().zip(cells) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(fit(text, width), style));
    }
    Line::from(spans)
}

/// `text` in exactly `width` terminal columns: padded, or cut with `…`, so
/// that it never runs into the next column.
fn fit(text: &str, width: usize) -> String {
    let have = text.width();
    if have <= width {
        return format!("{text}{}", " ".repeat(width - have));
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out.push_str(&" ".repeat(width - used - 1));
    out
}

fn palette(frame: &mut Frame, state: &State, input: &str, selected: usize) {
    let t = &state.theme;
    let matches = palette_matches(input, read_only(state));
    let rows: Vec<(Action, String)> = matches
        .iter()
        .map(|a| (*a, state.keymap.describe(*a)))
        .collect();
    // Sized for every action, so the columns do not jump while typing.
    let natural = [
        Action::ALL
            .iter()
            .map(|a| a.name().width())
            .max()
            .unwrap_or(0),
        Action::ALL
            .iter()
            .map(|a| a.description().width())
            .max()
            .unwrap_or(0),
        Action::ALL
            .iter()
            .map(|a| state.keymap.describe(*a).width())
            .max()
            .unwrap_or(0),
    ];
    let height = (matches.len() as u16 + 4).clamp(6, 20);
    let full = frame.area();
    let area = Rect {
        y: full.y + full.height / 6,
        ..centered(full, overlay_width(full.width, &natural), height)
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
    let widths = split(inner.width, natural, 0, 1);
    let visible = usize::from(list.height);
    let offset = selected.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(i, (a, keys))| {
            let line = columns(
                widths,
                [
                    (a.name(), t.style(Slot::Text)),
                    (a.description(), t.style(Slot::Muted)),
                    (keys.as_str(), t.style(Slot::Key)),
                ],
            );
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
