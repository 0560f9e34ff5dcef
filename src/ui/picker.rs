//! The first screen: which deployment to open.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use super::widgets::{self, Rows, styled};
use crate::app::State;
use crate::config::theme::Slot;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) -> Option<Rect> {
    let t = &state.theme;
    let block = widgets::block(
        state,
        Line::styled(" Deployments ", t.style(Slot::Title)),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.deployments.is_empty() {
        let text = vec![
            Line::styled("No deployments are configured.", t.style(Slot::Warning)),
            Line::raw(""),
            Line::raw(
                "Create ~/.config/opsdeck/config.toml (or pass --config FILE) with a [[deployment]]",
            ),
            Line::raw(
                "table; config/example.toml documents every key. `opsdeck --check-config` checks it.",
            ),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
        return None;
    }
    let rows = state
        .deployments
        .iter()
        .map(|d| {
            let flags: Vec<Span> = [
                d.protected
                    .then(|| Span::styled(" protected ", t.style(Slot::Protected))),
                d.read_only
                    .then(|| Span::styled(" read-only ", t.style(Slot::ReadOnly))),
            ]
            .into_iter()
            .flatten()
            .flat_map(|s| [s, Span::raw(" ")])
            .collect();
            vec![
                styled(d.name.clone(), t.style(Slot::Text)),
                styled(
                    match (&d.profile, d.sandbox_credentials) {
                        (Some(p), _) => p.clone(),
                        (None, true) => "(sandbox credentials)".into(),
                        (None, false) => "(default)".into(),
                    },
                    t.style(Slot::Muted),
                ),
                styled(
                    d.region.clone().unwrap_or_else(|| "(from profile)".into()),
                    t.style(Slot::Text),
                ),
                styled(
                    d.endpoint_url.clone().unwrap_or_else(|| "AWS".into()),
                    t.style(Slot::Muted),
                ),
                Cell::from(Line::from(flags)),
            ]
        })
        .collect();
    let list = widgets::table(
        frame,
        inner,
        state,
        Rows {
            header: &["Name", "Profile", "Region", "Endpoint", ""],
            widths: vec![
                Constraint::Length(14),
                Constraint::Fill(1),
                Constraint::Length(11),
                Constraint::Fill(1),
                Constraint::Length(21),
            ],
            rows,
            selected: Some(state.picker),
            sort_column: None,
        },
    );
    Some(list)
}
