//! The focused panel: a framed list (or the index summary, or a stack's detail).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::Clock;
use super::format::{ago, ago_since, bytes, opt, utc};
use super::widgets::{self, Rows, styled};
use crate::app::action::Action;
use crate::app::list::{Fetch, ListPanel, Row};
use crate::app::state::{DetailAnswer, DetailOf, DetailView, PanelId, Session, State};
use crate::config::theme::{Slot, Theme};
use crate::model::{Concurrency, Outcome};

/// Draws the focused panel; returns the rectangle of its data rows.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    s: &Session,
    clock: Clock,
) -> Option<Rect> {
    if s.focus == PanelId::Logs {
        return super::logs::draw(frame, area, state, s);
    }
    if s.focus == PanelId::Vpn {
        return super::vpn::draw(frame, area, state, s, clock);
    }
    if s.focus == PanelId::Jobs {
        return super::jobs::draw(frame, area, state, clock);
    }
    if s.focus == PanelId::Index && s.detail.is_none() {
        return super::index::draw(frame, area, state, s, clock);
    }
    if let Some(history) = s.events.as_ref().filter(|_| s.focus == PanelId::Stacks) {
        return super::events::draw(frame, area, state, history, clock);
    }
    if let Some(detail) = &s.detail {
        match &detail.of {
            DetailOf::Stack(name) => stack_detail(frame, area, state, s, detail, name, clock),
            DetailOf::Function(name) => {
                super::function::draw(frame, area, state, s, detail, name, clock);
            }
        }
        return None;
    }
    let fetch = s.fetch(s.focus);
    let title = title(state, s, fetch, clock);
    let block = widgets::block(state, title, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(msg) = placeholder(state, s, fetch) {
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), inner);
        return None;
    }
    let t = &state.theme;
    let height = usize::from(inner.height.saturating_sub(1));
    let rows = match s.focus {
        PanelId::Stacks => list_rows(&s.stacks, height, |r| {
            vec![
                styled(r.name.clone(), t.style(Slot::Text)),
                styled(
                    r.status.clone(),
                    outcome_style(t, Outcome::of_status(&r.status)),
                ),
                styled(ago_since(r.updated, clock.wall), t.style(Slot::Muted)),
            ]
        })
        .widths(vec![
            Constraint::Fill(3),
            Constraint::Length(28),
            Constraint::Length(14),
        ]),
        PanelId::Functions => list_rows(&s.functions, height, |r| {
            let (text, slot) = match r.concurrency {
                Concurrency::Unreserved => ("enabled".to_string(), Slot::Success),
                Concurrency::Reserved(n) => (format!("enabled ({n} reserved)"), Slot::Success),
                Concurrency::Disabled => ("disabled (0)".to_string(), Slot::Failed),
            };
            vec![
                styled(r.name.clone(), t.style(Slot::Text)),
                styled(opt(r.runtime.clone()), t.style(Slot::Muted)),
                styled(
                    r.memory_mb.map_or("–".into(), |m| format!("{m} MB")),
                    t.style(Slot::Text),
                ),
                styled(
                    r.timeout_s.map_or("–".into(), |s| format!("{s} s")),
                    t.style(Slot::Text),
                ),
                styled(ago_since(r.last_modified, clock.wall), t.style(Slot::Muted)),
                styled(text, t.style(slot)),
            ]
        })
        .widths(vec![
            Constraint::Fill(3),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(14),
            Constraint::Length(22),
        ]),
        PanelId::Queues => list_rows(&s.queues, height, |r| {
            // Messages waiting in a dead-letter queue are what on-call looks for.
            let is_dlq = !r.dlq_of.is_empty();
            let depth = if is_dlq && r.visible.unwrap_or(0) > 0 {
                Slot::Failed
            } else {
                Slot::Text
            };
            vec![
                styled(r.name.clone(), t.style(Slot::Text)),
                styled(opt(r.visible), t.style(depth)),
                styled(opt(r.in_flight), t.style(Slot::Text)),
                styled(opt(r.delayed), t.style(Slot::Text)),
                styled(
                    r.dead_letter_queue.clone().unwrap_or_default(),
                    t.style(Slot::Muted),
                ),
                styled(r.dlq_of.join(", "), t.style(Slot::Warning)),
                styled(
                    s.depths
                        .get(&r.name)
                        .map(|d| sparkline(d, SPARK_WIDTH))
                        .unwrap_or_default(),
                    t.style(depth),
                ),
            ]
        })
        .widths(vec![
            Constraint::Fill(2),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(SPARK_WIDTH as u16 + 1),
        ]),
        PanelId::LogGroups => list_rows(&s.log_groups, height, |r| {
            let marked = s.marked.contains(&r.name);
            vec![
                if marked {
                    styled(format!("● {}", r.name), t.style(Slot::Key))
                } else {
                    styled(format!("  {}", r.name), t.style(Slot::Text))
                },
                styled(
                    r.retention_days
                        .map_or("never expire".into(), |d| format!("{d} days")),
                    t.style(Slot::Muted),
                ),
                styled(
                    r.stored_bytes.map_or("–".into(), bytes),
                    t.style(Slot::Text),
                ),
            ]
        })
        .widths(vec![
            Constraint::Fill(3),
            Constraint::Length(14),
            Constraint::Length(12),
        ]),
        // Drawn by their own modules above.
        PanelId::Index | PanelId::Logs | PanelId::Vpn | PanelId::Jobs => return None,
    };
    let (columns, sort) = columns_of(s);
    Some(widgets::table(
        frame,
        inner,
        state,
        Rows {
            header: columns,
            widths: rows.widths,
            rows: rows.cells,
            selected: rows.selected,
            sort_column: Some(sort),
        },
    ))
}

/// Refreshes a queue's sparkline shows.
const SPARK_WIDTH: usize = 11;

/// The last `width` depths as bars, scaled to the largest of them; a queue
/// that stayed empty is a flat line.
pub fn sparkline(depths: &std::collections::VecDeque<u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown: Vec<u64> = depths.iter().rev().take(width).rev().copied().collect();
    let max = shown.iter().copied().max().unwrap_or(0);
    shown
        .iter()
        .map(|&d| {
            if max == 0 {
                BARS[0]
            } else {
                // Any message at all shows above the floor.
                let i = (d * 7).div_ceil(max) as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

pub(super) struct Built<'a> {
    pub(super) cells: Vec<Vec<Cell<'a>>>,
    pub(super) selected: Option<usize>,
    pub(super) widths: Vec<Constraint>,
}

impl<'a> Built<'a> {
    pub(super) fn widths(mut self, w: Vec<Constraint>) -> Self {
        self.widths = w;
        self
    }
}

/// Builds cells for the visible slice only: a list of thousands costs a screenful.
pub(super) fn list_rows<'a, T: Row>(
    list: &ListPanel<T>,
    height: usize,
    cells: impl Fn(&T) -> Vec<Cell<'a>>,
) -> Built<'a> {
    let offset = first_shown(list, height);
    let cells = list
        .visible_rows()
        .skip(offset)
        .take(height)
        .map(cells)
        .collect();
    Built {
        cells,
        selected: list.selected.checked_sub(offset),
        widths: Vec::new(),
    }
}

/// The first row a list of `height` rows shows. The offset is kept by
/// update; clamped here so a resize never hides the selection.
pub(super) fn first_shown<T>(list: &ListPanel<T>, height: usize) -> usize {
    let mut offset = list
        .offset
        .min(list.view.len().saturating_sub(height.max(1)));
    if list.selected >= offset + height.max(1) {
        offset = list.selected + 1 - height.max(1);
    }
    offset
}

fn columns_of(s: &Session) -> (&'static [&'static str], (usize, bool)) {
    use crate::model::{FunctionRow, LogGroupRow, QueueRow, StackRow};
    match s.focus {
        PanelId::Stacks => (
            StackRow::COLUMNS,
            (s.stacks.sort_column, s.stacks.sort_reverse),
        ),
        PanelId::Functions => (
            FunctionRow::COLUMNS,
            (s.functions.sort_column, s.functions.sort_reverse),
        ),
        PanelId::Queues => (
            QueueRow::COLUMNS,
            (s.queues.sort_column, s.queues.sort_reverse),
        ),
        PanelId::LogGroups => (
            LogGroupRow::COLUMNS,
            (s.log_groups.sort_column, s.log_groups.sort_reverse),
        ),
        PanelId::Index | PanelId::Logs | PanelId::Vpn | PanelId::Jobs => (&[], (0, false)),
    }
}

pub(super) fn title<'a>(state: &State, s: &Session, fetch: &Fetch, clock: Clock) -> Line<'a> {
    let t = &state.theme;
    let mut spans = vec![Span::styled(
        format!(" {} ", s.focus.title()),
        t.style(Slot::Title),
    )];
    let filter = s.filter(s.focus);
    if !filter.is_empty() {
        spans.push(Span::styled(
            format!("· filter “{filter}” "),
            t.style(Slot::Info),
        ));
    }
    spans.push(Span::styled("· ", t.style(Slot::Muted)));
    spans.extend(freshness(t, fetch, clock));
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// "loading…", "updated 20s ago", "refreshing…", "✗ failed: …".
fn freshness<'a>(t: &Theme, fetch: &Fetch, clock: Clock) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    match fetch.updated_at {
        Some(at) => spans.push(Span::styled(
            format!("updated {}", ago(clock.now.saturating_duration_since(at))),
            t.style(Slot::Muted),
        )),
        None if fetch.in_flight => spans.push(Span::styled("loading…", t.style(Slot::Progress))),
        None => {}
    }
    if fetch.in_flight && fetch.updated_at.is_some() {
        spans.push(Span::styled(" · refreshing…", t.style(Slot::Progress)));
    }
    if fetch.error.is_some() {
        let lead = if spans.is_empty() { "" } else { " · " };
        spans.push(Span::styled(
            format!("{lead}refresh failed"),
            t.style(Slot::Error),
        ));
    }
    spans
}

/// What to show instead of rows: loading, an error before any data, or "none".
pub(super) fn placeholder<'a>(state: &State, s: &Session, fetch: &Fetch) -> Option<Vec<Line<'a>>> {
    let t = &state.theme;
    if let Some(p) = &fetch.error {
        let mut lines = vec![Line::styled(
            format!("✗ {}", p.message),
            t.style(Slot::Error),
        )];
        if fetch.is_loaded() {
            // Keep the rows; the error shows above them in the title and here.
            return None;
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("Press r to try again.", t.style(Slot::Muted)));
        return Some(lines);
    }
    if !fetch.is_loaded() {
        return Some(vec![Line::styled("loading…", t.style(Slot::Progress))]);
    }
    let empty = match s.focus {
        PanelId::Stacks => s.stacks.view.is_empty(),
        PanelId::Functions => s.functions.view.is_empty(),
        PanelId::Queues => s.queues.view.is_empty(),
        PanelId::LogGroups => s.log_groups.view.is_empty(),
        PanelId::Index | PanelId::Logs | PanelId::Vpn | PanelId::Jobs => false,
    };
    if !empty {
        return None;
    }
    let what = s.focus.title().to_lowercase();
    let msg = if s.filter(s.focus).is_empty() {
        format!("No {what} match this deployment's configuration.")
    } else {
        format!(
            "No {what} match the filter “{}” (esc clears it).",
            s.filter(s.focus)
        )
    };
    Some(vec![Line::styled(msg, t.style(Slot::Muted))])
}

pub(super) fn outcome_style(t: &Theme, o: Outcome) -> Style {
    t.style(match o {
        Outcome::Ok => Slot::Success,
        Outcome::InProgress => Slot::Progress,
        Outcome::Failed => Slot::Failed,
        Outcome::Neutral => Slot::Neutral,
    })
}

/// A detail view's frame: what it is of, how fresh, how to leave. Returns
/// the area inside.
pub(super) fn detail_frame(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    title: &str,
    view: &DetailView,
    clock: Clock,
) -> Rect {
    let t = &state.theme;
    let title = vec![Span::styled(format!(" {title} "), t.style(Slot::Title))];
    view_frame(frame, area, state, title, &view.fetch, clock)
}

/// The frame of a view over a panel: its title, how fresh its data is, how
/// to leave. Returns the area inside.
pub(super) fn view_frame(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    mut spans: Vec<Span<'_>>,
    fetch: &Fetch,
    clock: Clock,
) -> Rect {
    let t = &state.theme;
    spans.push(Span::styled("· ", t.style(Slot::Muted)));
    spans.extend(freshness(t, fetch, clock));
    spans.push(Span::styled(" · esc back ", t.style(Slot::Muted)));
    let block = widgets::block(state, Line::from(spans), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn stack_detail(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    s: &Session,
    view: &DetailView,
    stack: &str,
    clock: Clock,
) {
    let t = &state.theme;
    let inner = detail_frame(frame, area, state, &format!("Stack {stack}"), view, clock);

    let heading = |text: &str| Line::styled(text.to_string(), t.style(Slot::Title));
    let mut lines = Vec::new();
    if let Some(row) = s.stacks.rows.iter().find(|r| r.name == stack) {
        lines.push(Line::from(vec![
            Span::styled("Status          ", t.style(Slot::Muted)),
            Span::styled(
                row.status.clone(),
                outcome_style(t, Outcome::of_status(&row.status)),
            ),
            Span::styled(
                format!("  {}", row.status_reason.clone().unwrap_or_default()),
                t.style(Slot::Muted),
            ),
        ]));
        lines.push(Line::from(vec![
            Span::styled("Last updated    ", t.style(Slot::Muted)),
            Span::raw(format!(
                "{} ({})",
                utc(row.updated),
                ago_since(row.updated, clock.wall)
            )),
        ]));
        if let Some(desc) = &row.description {
            lines.push(Line::from(vec![
                Span::styled("Description     ", t.style(Slot::Muted)),
                Span::raw(desc.clone()),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(heading("Outputs"));
        if row.outputs.is_empty() {
            lines.push(Line::styled("  none", t.style(Slot::Muted)));
        }
        for o in &row.outputs {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<28}", o.key), t.style(Slot::Muted)),
                Span::raw(o.value.clone()),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(heading("Parameters"));
        if row.parameters.is_empty() {
            lines.push(Line::styled("  none", t.style(Slot::Muted)));
        }
        for p in &row.parameters {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<28}", p.key), t.style(Slot::Muted)),
                Span::raw(p.value.clone()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    let detail = match &view.answer {
        Some(DetailAnswer::Stack(d)) => Some(d),
        _ => None,
    };
    match (detail, &view.fetch.error) {
        (_, Some(p)) => lines.push(Line::styled(
            format!("✗ {}", p.message),
            t.style(Slot::Error),
        )),
        (None, None) => lines.push(Line::styled(
            "loading resources and events…",
            t.style(Slot::Progress),
        )),
        (Some(detail), None) => {
            lines.push(heading("Resources"));
            for r in &detail.resources {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<28}", r.logical_id), t.style(Slot::Text)),
                    Span::styled(format!("{:<28}", r.kind), t.style(Slot::Muted)),
                    Span::styled(
                        format!("{:<20}", r.status),
                        outcome_style(t, Outcome::of_status(&r.status)),
                    ),
                    Span::styled(
                        r.physical_id.clone().unwrap_or_default(),
                        t.style(Slot::Muted),
                    ),
                ]));
            }
            lines.push(Line::raw(""));
            let mut head = vec![Span::styled("Recent events", t.style(Slot::Title))];
            if let Some(key) = state.keymap.keys_for(Action::StackEvents).first() {
                head.push(Span::styled(
                    format!("  ({key}: the whole history, filterable)"),
                    t.style(Slot::Muted),
                ));
            }
            lines.push(Line::from(head));
            for e in &detail.events {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {}  ", utc(e.time)), t.style(Slot::Muted)),
                    Span::styled(format!("{:<28}", e.logical_id), t.style(Slot::Text)),
                    Span::styled(
                        format!("{:<20}", e.status),
                        outcome_style(t, Outcome::of_status(&e.status)),
                    ),
                    Span::styled(e.reason.clone().unwrap_or_default(), t.style(Slot::Muted)),
                ]));
            }
            match &detail.template {
                Some(Ok(body)) => {
                    lines.push(Line::raw(""));
                    lines.push(heading("Template"));
                    lines.extend(body.lines().map(|l| {
                        Line::from(vec![Span::raw("  "), Span::styled(l, t.style(Slot::Text))])
                    }));
                }
                Some(Err(why)) => {
                    lines.push(Line::raw(""));
                    lines.push(heading("Template"));
                    lines.push(Line::styled(format!("  ✗ {why}"), t.style(Slot::Error)));
                }
                None => {}
            }
        }
    }
    let max_scroll = lines.len().saturating_sub(usize::from(inner.height));
    let scroll = view.scroll.min(max_scroll) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
