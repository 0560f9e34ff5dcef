//! Pieces every screen uses: framed panels, tables of rows, the status line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Cell, Paragraph, Row, Table};

use crate::app::action::Action;
use crate::app::state::Tone;
use crate::app::{Screen, State};
use crate::config::theme::{Slot, Theme};

pub fn block<'a>(state: &State, title: Line<'a>, focused: bool) -> Block<'a> {
    let t = &state.theme;
    let protected = state
        .session
        .as_ref()
        .is_some_and(|s| s.deployment.protected && state.screen == Screen::Console);
    let border = match (protected, focused) {
        // A protected deployment's frame carries its accent everywhere: the
        // badge's background colour (its foreground is the badge's text).
        (true, _) => {
            let p = t.style(Slot::Protected);
            Style::default().fg(p.bg.or(p.fg).unwrap_or(ratatui::style::Color::Red))
        }
        (false, true) => t.style(Slot::BorderFocused),
        (false, false) => t.style(Slot::Border),
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(border)
        .title(title)
}

/// A table of rows where only the visible slice is built.
pub struct Rows<'a> {
    pub header: &'a [&'a str],
    pub widths: Vec<Constraint>,
    pub rows: Vec<Vec<Cell<'a>>>,
    /// Index (within `rows`) of the selected row.
    pub selected: Option<usize>,
    pub sort_column: Option<(usize, bool)>,
}

/// Draws `rows` inside `area`; returns the rectangle of the data rows.
pub fn table(frame: &mut Frame, area: Rect, state: &State, rows: Rows<'_>) -> Rect {
    let t = &state.theme;
    let header = Row::new(rows.header.iter().enumerate().map(|(i, h)| {
        let mark = match rows.sort_column {
            Some((c, false)) if c == i => " ▲",
            Some((c, true)) if c == i => " ▼",
            _ => "",
        };
        Cell::from(format!("{h}{mark}"))
    }))
    .style(t.style(Slot::Header));
    let body = rows.rows.into_iter().enumerate().map(|(i, cells)| {
        let row = Row::new(cells);
        if Some(i) == rows.selected {
            row.style(t.style(Slot::Selection))
        } else {
            row
        }
    });
    let table = Table::new(body, rows.widths)
        .header(header)
        .column_spacing(2)
        .style(t.style(Slot::Text));
    frame.render_widget(table, area);
    Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    }
}

/// The bottom line: the current message, or hints for the main keys.
pub fn status_line(frame: &mut Frame, area: Rect, state: &State) {
    let t = &state.theme;
    if let Some(s) = state
        .session
        .as_ref()
        .filter(|s| s.editing_filter && state.screen == Screen::Console)
    {
        let mut spans = vec![Span::styled("/", t.style(Slot::Key))];
        spans.extend(field(&s.filter_input, t));
        spans.push(Span::styled(
            "  enter keep · esc clear",
            t.style(Slot::Muted),
        ));
        let line = Line::from(spans);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(m) = &state.message {
        let slot = match m.tone {
            Tone::Info => Slot::Info,
            Tone::Warning => Slot::Warning,
            Tone::Error => Slot::Error,
        };
        frame.render_widget(
            Paragraph::new(Span::styled(m.text.clone(), t.style(slot))),
            area,
        );
        return;
    }
    let in_logs = state
        .session
        .as_ref()
        .is_some_and(|s| s.focus == crate::app::PanelId::Logs && s.logs.is_some());
    let in_log_groups = state
        .session
        .as_ref()
        .is_some_and(|s| s.focus == crate::app::PanelId::LogGroups);
    let in_function_detail = state.session.as_ref().is_some_and(|s| {
        s.focus == crate::app::PanelId::Functions
            && s.detail
                .as_ref()
                .is_some_and(|d| matches!(d.of, crate::app::state::DetailOf::Function(_)))
    });
    let hints: &[(Action, &str)] = match state.screen {
        Screen::Console if in_function_detail => &[
            (Action::RevealValues, "values"),
            (Action::LambdaInvoke, "invoke"),
            (Action::LambdaDisable, "disable"),
            (Action::LambdaEnable, "enable"),
            (Action::Refresh, "refresh"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ],
        Screen::Console if in_logs => &[
            (Action::Follow, "follow/pause"),
            (Action::Filter, "search"),
            (Action::SearchNext, "next"),
            (Action::LogFilter, "filter pattern"),
            (Action::LogSince, "since"),
            (Action::Open, "json"),
            (Action::ToggleWrap, "wrap"),
            (Action::ToggleUtc, "utc"),
            (Action::ToggleStream, "stream"),
            (Action::CopyLine, "copy"),
            (Action::SaveLogs, "save"),
            (Action::LogLevel, "level"),
            (Action::Help, "help"),
        ],
        Screen::Console if in_log_groups => &[
            (Action::Mark, "mark"),
            (Action::TailLogs, "tail"),
            (Action::Filter, "filter"),
            (Action::SortNext, "sort"),
            (Action::Refresh, "refresh"),
            (Action::SwitchDeployment, "deployments"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Screen::Picker => &[
            (Action::Open, "open"),
            (Action::OpenErrors, "errors"),
            (Action::OpenDlqs, "DLQs"),
            (Action::Refresh, "refresh"),
            (Action::Help, "help"),
            (Action::Palette, "commands"),
            (Action::Quit, "quit"),
        ],
        Screen::Console => &[
            (Action::NextPanel, "panel"),
            (Action::Open, "open"),
            (Action::Filter, "filter"),
            (Action::SortNext, "sort"),
            (Action::Refresh, "refresh"),
            (Action::SwitchDeployment, "deployments"),
            (Action::Help, "help"),
            (Action::Palette, "commands"),
            (Action::Quit, "quit"),
        ],
    };
    let mut spans = Vec::new();
    for (action, label) in hints {
        // Show the first key of each; an unbound action is left out.
        let Some(key) = state.keymap.keys_for(*action).first() else {
            continue;
        };
        if !spans.is_empty() {
            spans.push(Span::styled("  ", t.style(Slot::Muted)));
        }
        spans.push(Span::styled(key.to_string(), t.style(Slot::Key)));
        spans.push(Span::styled(format!(" {label}"), t.style(Slot::Muted)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A text field as typed: an untouched pre-filled value shows selected (the
/// first key replaces it), else a bar marks the cursor.
pub fn field<'a>(f: &crate::app::text::TextField, t: &Theme) -> Vec<Span<'a>> {
    if f.is_fresh() {
        return vec![
            Span::styled(f.text().to_string(), t.style(Slot::Selection)),
            Span::styled("▏", t.style(Slot::Input)),
        ];
    }
    let (before, after) = f.text().split_at(
        f.text()
            .char_indices()
            .nth(f.cursor_chars())
            .map_or(f.text().len(), |(i, _)| i),
    );
    vec![
        Span::styled(format!("{before}▏"), t.style(Slot::Input)),
        Span::styled(after.to_string(), t.style(Slot::Input)),
    ]
}

pub fn styled<'a>(text: impl Into<String>, style: Style) -> Cell<'a> {
    Cell::from(Span::styled(text.into(), style))
}
