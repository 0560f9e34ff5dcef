//! Drawing: a pure function of the state (and the clock) onto a frame.
//!
//! Nothing here names an SDK type or does I/O. [`draw`] returns where it put
//! things, so that mouse clicks can be mapped back to rows and tabs.

mod events;
mod fleet;
pub mod format;
mod function;
mod header;
mod health;
mod index;
mod jobs;
mod lambda_deploy;
mod logs;
mod overlays;
mod panels;
mod picker;
mod vpn;
mod widgets;

use std::time::{Instant, SystemTime};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::{Hitmap, Overlay, Screen, State};

/// The time a frame is drawn at: monotonic for ages of refreshes, wall
/// clock for ages of AWS timestamps. Tests pin both.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Instant,
    pub wall: SystemTime,
}

impl Clock {
    pub fn now() -> Self {
        Clock {
            now: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

pub fn draw(frame: &mut Frame, state: &State, clock: Clock) -> Hitmap {
    let mut hits = Hitmap::default();
    let [top, tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::draw(frame, top, state);
    match (state.screen, &state.session) {
        (Screen::Console, Some(session)) => {
            hits.tabs = header::tabs(frame, tabs, state, session);
            hits.list = panels::draw(frame, body, state, session, clock);
        }
        _ => {
            hits.list = picker::draw(frame, tabs.union(body), state);
        }
    }
    widgets::status_line(frame, status, state);
    // Toasts stay out of the way of a dialog.
    if state.overlay.is_none() {
        jobs::toasts(frame, body, state);
    }
    match &state.overlay {
        Some(Overlay::Job { key, scroll }) => jobs::output(frame, state, key, *scroll, clock),
        _ => overlays::draw(frame, state),
    }
    hits
}
