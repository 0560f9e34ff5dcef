//! The one confirm dialog: every confirmed change passes through it. It
//! holds the plan and nothing of any panel; on a protected deployment the
//! user types the deployment's name.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};

use super::state::{Overlay, State};
use super::text::{Edit, TextField};
use super::update::Command;
use crate::jobs::Plan;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub plan: Box<Plan>,
    /// On a protected deployment: the name the user must type.
    pub typed: Option<String>,
    pub input: TextField,
}

impl ConfirmDialog {
    pub fn new(plan: Plan) -> Self {
        ConfirmDialog {
            typed: plan
                .deployment
                .protected
                .then(|| plan.deployment.name.clone()),
            plan: Box::new(plan),
            input: TextField::new(),
        }
    }
}

impl State {
    /// `y` (or the typed deployment name and Enter) goes ahead; Esc (or `n`)
    /// cancels. Enter alone never confirms a plain dialog.
    pub(super) fn confirm_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let Some(Overlay::Confirm(c)) = self.overlay.as_mut() else {
            return;
        };
        let accept = match (&c.typed, key.code) {
            (_, KeyCode::Esc) | (None, KeyCode::Char('n')) => {
                let undo = c.plan.declined();
                self.overlay = None;
                self.info("cancelled; nothing was changed");
                if let Some(undo) = undo {
                    self.start_job(undo, now, out);
                }
                return;
            }
            (None, KeyCode::Char('y')) => true,
            (None, _) => false,
            (Some(name), _) => match c.input.key(key) {
                Edit::Submit if c.input.text().trim() == name.as_str() => true,
                Edit::Submit => {
                    let name = name.clone();
                    self.warn(format!(
                        "type the deployment name `{name}` exactly to go ahead, or Esc"
                    ));
                    false
                }
                _ => false,
            },
        };
        if !accept {
            return;
        }
        let Some(Overlay::Confirm(c)) = self.overlay.take() else {
            return;
        };
        self.start_job(*c.plan, now, out);
    }
}
