//! A stack's whole event history: a table over the Stacks panel, newest
//! first, with how much of the history is in and what the filter keeps.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Clock;
use super::format::utc;
use super::panels::{first_shown, list_rows, outcome_style, view_frame};
use super::widgets::{self, Rows, styled};
use crate::app::events::EventHistory;
use crate::app::list::Row;
use crate::app::state::State;
use crate::config::theme::Slot;
use crate::model::{Outcome, StackEvent};

/// Draws the history; returns the rectangle of its rows.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    h: &EventHistory,
    clock: Clock,
) -> Option<Rect> {
    let t = &state.theme;
    let list = &h.list;
    let mut spans = vec![Span::styled(
        format!(" Events of {} ", h.stack),
        t.style(Slot::Title),
    )];
    let loaded = list.rows.len();
    let extent = if h.complete() {
        format!("· all {loaded} ")
    } else if h.pages == 0 {
        String::new()
    } else if list.fetch.in_flight {
        format!("· {loaded} so far, loading older… ")
    } else {
        format!("· {loaded} newest, older on scroll ")
    };
    spans.push(Span::styled(extent, t.style(Slot::Muted)));
    if !list.filter.is_empty() {
        spans.push(Span::styled(
            format!("· filter “{}”: {} ", list.filter, list.view.len()),
            t.style(Slot::Info),
        ));
    }
    let inner = view_frame(frame, area, state, spans, &list.fetch, clock);
    let empty = match (&list.fetch.error, h.pages) {
        (Some(p), _) if loaded == 0 => Some(Line::styled(
            format!("✗ {}  (r tries again)", p.message),
            t.style(Slot::Error),
        )),
        (_, 0) => Some(Line::styled("loading…", t.style(Slot::Progress))),
        _ if list.view.is_empty() && !list.filter.is_empty() && h.complete() => Some(Line::styled(
            format!(
                "No event of the {loaded} matches “{}” (esc clears it).",
                list.filter
            ),
            t.style(Slot::Muted),
        )),
        _ if list.view.is_empty() && list.filter.is_empty() => {
            Some(Line::styled("No events.", t.style(Slot::Muted)))
        }
        _ => None,
    };
    if let Some(line) = empty {
        frame.render_widget(Paragraph::new(line), inner);
        return None;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    // The status column as wide as the longest status shown: statuses are
    // what the history is read for, and they are 13 to 44 characters long.
    let status_width = list
        .visible_rows()
        .skip(first_shown(list, height))
        .take(height)
        .map(|e| e.status.len())
        .max()
        .unwrap_or(0)
        .max("Status ▼".len());
    let rows = list_rows(list, height, |e: &StackEvent| {
        vec![
            styled(utc(e.time), t.style(Slot::Muted)),
            styled(e.logical_id.clone(), t.style(Slot::Text)),
            styled(e.kind.clone(), t.style(Slot::Muted)),
            styled(
                e.status.clone(),
                outcome_style(t, Outcome::of_status(&e.status)),
            ),
            styled(e.reason.clone().unwrap_or_default(), t.style(Slot::Muted)),
        ]
    })
    .widths(vec![
        Constraint::Length(20),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Length(status_width as u16),
        Constraint::Fill(3),
    ]);
    Some(widgets::table(
        frame,
        inner,
        state,
        Rows {
            header: StackEvent::COLUMNS,
            widths: rows.widths,
            rows: rows.cells,
            selected: rows.selected,
            sort_column: Some((list.sort_column, list.sort_reverse)),
        },
    ))
}
