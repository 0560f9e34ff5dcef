//! The invoke popup: the payload typed in the one text field (multi-line),
//! checked as JSON while it is typed, and the invocation type. Sending
//! builds the same plan as the CLI, which then takes the one safety path.

use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    /// A read-only deployment: only a dry run (a read) is offered.
    pub dry_run_only: bool,
    /// The path of a payload file being typed (ctrl-o), loaded on Enter.
    pub file: Option<TextField>,
    /// The file the payload was last loaded from, or why it could not be.
    pub loaded: Option<Result<String, String>>,
}

impl InvokePopup {
    /// Opens on `payload` (the last one sent to this function, or `{}`).
    pub fn new(function: FunctionRow, payload: String, dry_run_only: bool) -> Self {
        let problem = lambdas::check_payload(&payload).err();
        InvokePopup {
            function,
            input: TextField::multiline(payload),
            kind: if dry_run_only {
                InvokeKind::DryRun
            } else {
                InvokeKind::default()
            },
            problem,
            dry_run_only,
            file: None,
            loaded: None,
        }
    }
}

/// `~/x` is in the home directory, as a shell would read it.
pub(super) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => PathBuf::from(path),
    }
}

impl State {
    /// Tab changes the invocation type, ctrl-s sends, Esc closes; every
    /// other key edits the payload.
    pub(super) fn invoke_key(&mut self, key: KeyEvent, now: Instant, out: &mut Vec<Command>) {
        let Some(Overlay::Invoke(p)) = self.overlay.as_mut() else {
            return;
        };
        if let Some(file) = p.file.as_mut() {
            match file.key(key) {
                Edit::Cancel => p.file = None,
                Edit::Submit if !file.text().trim().is_empty() => {
                    out.push(Command::LoadPayload(expand_home(file.text().trim())));
                    p.file = None;
                }
                _ => {}
            }
            return;
        }
        if key.code == KeyCode::Char('o') && key.modifiers.contains(KeyModifiers::CONTROL) {
            p.file = Some(TextField::new());
            return;
        }
        if key.code == KeyCode::Tab {
            if p.dry_run_only {
                return;
            }
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
            Edit::Changed => {
                p.problem = lambdas::check_payload(p.input.text()).err();
                p.loaded = None;
            }
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

    /// A payload file arrived: it replaces the payload (checked as typed
    /// text is), or the popup says why it could not be read.
    pub(super) fn payload_loaded(&mut self, path: PathBuf, text: Result<String, String>) {
        let Some(Overlay::Invoke(p)) = self.overlay.as_mut() else {
            return;
        };
        match text {
            Ok(text) => {
                p.problem = lambdas::check_payload(&text).err();
                p.input = TextField::multiline(text);
                p.loaded = Some(Ok(path.display().to_string()));
            }
            Err(why) => p.loaded = Some(Err(why)),
        }
    }
}
