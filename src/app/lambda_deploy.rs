//! New code and rollbacks from the Functions panel.
//!
//! A deploy reads the zip before its plan, so the one confirm can say what
//! will be uploaded (size, SHA-256) and whether it is what runs already. The
//! zip is the function's configured one (`[[deployment.function]]`, built
//! first in the job when a build command is configured), or a path typed in
//! a small prompt: when none is configured, or on `lambda_deploy_zip`. The
//! file is read by the runtime ([`Command::InspectZip`]), never here.
//!
//! A rollback picks the version from the function's published ones, read by
//! the function's detail view (opened under the pick list), with the one the
//! alias names now marked. Both end in the same plans as the CLI's, through
//! [`State::propose`].

use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::KeyEvent;

use super::action::Action;
use super::invoke::expand_home;
use super::state::{DetailAnswer, DetailOf, DetailView, Overlay, PanelId, State};
use super::text::{Edit, TextField};
use super::update::Command;
use crate::jobs::lambda_code::{self, CodeSource, ZipFacts};
use crate::model::{FunctionDetail, FunctionVersion};

/// The deploy of one function's code, before its plan: the zip being read,
/// or its path being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct CodePopup {
    pub function: String,
    /// The zip (and its build, if configured and not overridden by a path).
    pub source: CodeSource,
    /// The alias the deploy moves (the configured one; none otherwise).
    pub alias: Option<String>,
    /// The path being typed; `None` while the configured zip is read.
    pub input: Option<TextField>,
    /// Why the last path cannot be deployed.
    pub problem: Option<String>,
    /// The zip the runtime is reading for the plan.
    pub reading: Option<PathBuf>,
}

/// Choosing the version a function's alias goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPick {
    pub function: String,
    pub alias: String,
    /// The highlighted row; `None`: the version before the alias's (or the first).
    pub selected: Option<usize>,
}

/// What the pick list has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Versions<'a> {
    /// The function's detail (versions and aliases) is on its way.
    Loading,
    Failed(String),
    /// The alias does not exist: there is nothing to move back.
    NoAlias,
    Ready {
        /// Published versions, newest first (`$LATEST` is not one).
        rows: Vec<&'a FunctionVersion>,
        /// The version the alias names now.
        current: &'a str,
        selected: usize,
    },
}

/// Published versions, newest first.
fn published(d: &FunctionDetail) -> Vec<&FunctionVersion> {
    let mut rows: Vec<&FunctionVersion> = d
        .versions
        .iter()
        .filter(|v| v.version.parse::<u64>().is_ok())
        .collect();
    rows.sort_by_key(|v| std::cmp::Reverse(v.version.parse::<u64>().unwrap_or(0)));
    rows
}

impl RollbackPick {
    /// The rows and the highlighted one, from the detail view of the function.
    pub fn versions<'a>(&self, detail: Option<&'a DetailView>) -> Versions<'a> {
        let Some(view) = detail.filter(|v| v.of == DetailOf::Function(self.function.clone()))
        else {
            return Versions::Loading;
        };
        let d = match (&view.answer, &view.fetch.error) {
            (_, Some(p)) => return Versions::Failed(p.message.clone()),
            (Some(DetailAnswer::Function(d)), None) => d,
            _ => return Versions::Loading,
        };
        let Some(current) = d
            .aliases
            .iter()
            .find(|a| a.name == self.alias)
            .map(|a| a.version.as_str())
        else {
            return Versions::NoAlias;
        };
        let rows = published(d);
        let before = current.parse::<u64>().ok().and_then(|now| {
            rows.iter()
                .position(|v| v.version.parse::<u64>().is_ok_and(|n| n < now))
        });
        let last = rows.len().saturating_sub(1);
        let selected = self.selected.or(before).unwrap_or(0).min(last);
        Versions::Ready {
            rows,
            current,
            selected,
        }
    }
}

impl State {
    /// The selected function of the Functions panel (or of its open detail).
    fn code_target(&self, action: Action) -> Result<String, String> {
        let s = self
            .session
            .as_ref()
            .ok_or_else(|| "open a deployment first".to_string())?;
        if s.focus != PanelId::Functions {
            return Err(format!(
                "`{action}` works on the Functions panel: select a function there"
            ));
        }
        s.functions
            .selected_row()
            .map(|f| f.name.clone())
            .ok_or_else(|| "select a function first".to_string())
    }

    /// `lambda_deploy` (the configured zip, else a path) and
    /// `lambda_deploy_zip` (always a path).
    pub(super) fn code_deploy(&mut self, action: Action, out: &mut Vec<Command>) {
        let function = match self.code_target(action) {
            Ok(f) => f,
            Err(why) => return self.warn(why),
        };
        let Some(d) = self.session.as_ref().map(|s| &s.deployment) else {
            return;
        };
        let configured = CodeSource::configured(d, &function);
        let alias = configured.as_ref().map(|(_, a)| a.clone());
        let mut popup = CodePopup {
            function,
            source: CodeSource::zip(""),
            alias,
            input: None,
            problem: None,
            reading: None,
        };
        match configured {
            Some((source, _)) if action == Action::LambdaDeploy => {
                popup.reading = Some(source.zip.clone());
                out.push(Command::InspectZip(source.zip.clone()));
                popup.source = source;
            }
            configured => {
                let path = configured
                    .map(|(s, _)| s.zip.display().to_string())
                    .unwrap_or_default();
                popup.input = Some(TextField::prefilled(path));
            }
        }
        self.overlay = Some(Overlay::CodeDeploy(Box::new(popup)));
    }

    /// Enter reads the typed zip, Esc cancels; every other key edits the path.
    pub(super) fn code_deploy_key(&mut self, key: KeyEvent, out: &mut Vec<Command>) {
        let Some(Overlay::CodeDeploy(p)) = self.overlay.as_mut() else {
            return;
        };
        let Some(input) = p.input.as_mut() else {
            // Reading the zip: only Esc does anything.
            if key.code == crossterm::event::KeyCode::Esc {
                self.overlay = None;
                self.info("deploy cancelled; nothing was sent");
            }
            return;
        };
        match input.key(key) {
            Edit::Cancel => {
                self.overlay = None;
                self.info("deploy cancelled; nothing was sent");
            }
            Edit::Submit if input.text().trim().is_empty() => {
                p.problem = Some("type the path of a zip to deploy".into());
            }
            Edit::Submit => {
                let path = expand_home(input.text().trim());
                // A typed path is deployed as it is: the configured build makes another file.
                p.source = CodeSource::zip(path.clone());
                p.reading = Some(path.clone());
                p.input = None;
                p.problem = None;
                out.push(Command::InspectZip(path));
            }
            Edit::Changed => p.problem = None,
            Edit::Moved | Edit::Ignored => {}
        }
    }

    /// The zip was read: its plan goes to the one confirm, or the prompt
    /// says why it cannot be deployed.
    pub(super) fn zip_inspected(
        &mut self,
        path: PathBuf,
        facts: Result<ZipFacts, String>,
        now: Instant,
        out: &mut Vec<Command>,
    ) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let Some(Overlay::CodeDeploy(p)) = self.overlay.as_ref() else {
            return;
        };
        if p.reading.as_ref() != Some(&path) {
            return;
        }
        // The freshest hash of what runs: the open detail's, else the list's.
        let deployed = match s.detail.as_ref() {
            Some(DetailView {
                of: DetailOf::Function(f),
                answer: Some(DetailAnswer::Function(d)),
                ..
            }) if *f == p.function => d.code_sha256.clone(),
            _ => s
                .functions
                .rows
                .iter()
                .find(|r| r.name == p.function)
                .and_then(|r| r.code_sha256.clone()),
        };
        let plan = lambda_code::deploy(
            &s.deployment,
            &p.function,
            &p.source,
            p.alias.as_deref(),
            facts,
            deployed.as_deref(),
        );
        match plan {
            Ok(plan) => {
                self.overlay = None;
                self.propose(Ok(plan), now, out);
            }
            Err(why) => {
                if let Some(Overlay::CodeDeploy(p)) = self.overlay.as_mut() {
                    // Another path, or esc: the prompt holds the one that failed.
                    p.reading = None;
                    p.source = CodeSource::zip(path.clone());
                    p.input = Some(TextField::editing(path.display().to_string()));
                    p.problem = Some(why);
                }
            }
        }
    }

    /// `lambda_rollback`: the pick list over the function's detail, which
    /// (re)reads its versions and aliases.
    pub(super) fn rollback_open(&mut self, now: Instant, out: &mut Vec<Command>) {
        let function = match self.code_target(Action::LambdaRollback) {
            Ok(f) => f,
            Err(why) => return self.warn(why),
        };
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let alias = lambda_code::rollback_alias(&s.deployment, &function);
        let of = DetailOf::Function(function.clone());
        if s.detail.as_ref().is_none_or(|d| d.of != of) {
            s.detail = Some(DetailView::new(of));
        }
        if let Some(d) = s.detail.as_mut()
            && d.fetch.begin(now)
        {
            out.push(Command::Send(d.of.request()));
        }
        self.overlay = Some(Overlay::Rollback(Box::new(RollbackPick {
            function,
            alias,
            selected: None,
        })));
    }

    /// Moves the pick list's highlight (up, down, page, first, last).
    pub(super) fn rollback_move(&mut self, action: Action) {
        let height = self.list_height;
        let detail = self.session.as_ref().and_then(|s| s.detail.as_ref());
        let Some(Overlay::Rollback(p)) = self.overlay.as_ref() else {
            return;
        };
        let Versions::Ready { rows, selected, .. } = p.versions(detail) else {
            return;
        };
        let last = rows.len().saturating_sub(1) as isize;
        let delta: isize = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -(height as isize),
            Action::PageDown => height as isize,
            Action::Top => isize::MIN / 2,
            Action::Bottom => isize::MAX / 2,
            _ => 0,
        };
        let to = (selected as isize).saturating_add(delta).clamp(0, last) as usize;
        if let Some(Overlay::Rollback(p)) = self.overlay.as_mut() {
            p.selected = Some(to);
        }
    }

    /// Enter on the pick list: the rollback's plan, to the one confirm.
    pub(super) fn rollback_choose(&mut self, now: Instant, out: &mut Vec<Command>) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let Some(Overlay::Rollback(p)) = self.overlay.as_ref() else {
            return;
        };
        let (to, current) = match p.versions(s.detail.as_ref()) {
            Versions::Ready {
                rows,
                current,
                selected,
            } => match rows.get(selected) {
                Some(v) => (v.version.clone(), current.to_string()),
                None => return self.warn(format!("{} has no published version", p.function)),
            },
            Versions::NoAlias => {
                return self.warn(format!(
                    "{} has no alias {}: nothing to roll back",
                    p.function, p.alias
                ));
            }
            Versions::Loading | Versions::Failed(_) => return,
        };
        if to == current {
            return self.warn(format!(
                "alias {} already names version {to}: pick another",
                p.alias
            ));
        }
        let plan = lambda_code::rollback(
            &s.deployment,
            &p.function,
            &p.alias,
            Some(&to),
            Some(&current),
        );
        self.overlay = None;
        self.propose(Ok(plan), now, out);
    }
}
