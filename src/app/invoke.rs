//! The invoke popup: the payload typed in the one text field (multi-line),
//! checked as JSON while it is typed, and the invocation type. Sending
//! builds the same plan as the CLI, which then takes the one safety path.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};

use super::state::{Overlay, State};
use super::text::{Edit, TextField};
use super::update::Command;
use crate::jobs::lambdas::{self, InvokeKind};
use crate::model::FunctionRow;

#[derive(Debug, Clone, PartialEq)]
pub struct InvokePopup {
    pub function: FunctionRow,
    pub input: TextField,
    pub kind: InvokeKind,
    /// Why the payload cannot be sent as it is; `None` when it can.
    pub problem: Option<String>,
}

impl InvokePopup {
    /// Opens on `payload` (the last one sent to this function, or `{}`).
    pub fn new(function: FunctionRow, payload: String) -> Self {
        let problem = lambdas::check_payload(&payload).err();
        InvokePopup {
            function,
            input: TextField::multiline(payload),
            kind: InvokeKind::default(),
            problem,
        }
    }
}

impl State {
    /// Tab changes the invocation type, ctrl-s sends, Esc closes; every
    /// other key edits the payload.
    pub(super) fn invoke_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let Some(Overlay::Invoke(p)) = self.overlay.as_mut() else {
            return;
        };
        if key.code == KeyCode::Tab {
            let i = InvokeKind::ALL
                .iter()
                .position(|k| *k == p.kind)
                .unwrap_or(0);
            p.kind = InvokeKind::ALL[(i + 1) % InvokeKind::ALL.len()];
            return;
        }
        match p.input.key(key) {
            Edit::Cancel => {
                self.overlay = None;
                self.info("invoke cancelled; nothing was sent");
            }
            Edit::Changed => p.problem = lambdas::check_payload(p.input.text()).err(),
            Edit::Submit => {
                let Some(d) = self.session.as_ref().map(|s| s.deployment.clone()) else {
                    return;
                };
                match lambdas::invoke(&d, &p.function, p.input.text(), p.kind) {
                    // Nothing is sent while the payload is wrong; the popup says why.
                    Err(why) => p.problem = Some(why),
                    Ok(plan) => {
                        self.overlay = None;
                        self.propose(Ok(plan), now, out);
                    }
                }
            }
            Edit::Moved | Edit::Ignored => {}
        }
    }
}
