//! The first screen: the fleet overview, from which a deployment is opened.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::widgets;
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
    Some(super::fleet::draw(frame, inner, state))
}
