//! Everything the screen shows, as plain data. Render reads it; only
//! [`State::update`](super::update) changes it.

use std::time::Duration;

use super::list::{Fetch, ListPanel};
use crate::config::{Deployment, Diagnostic, Keymap, Loaded, Theme};
use crate::model::{
    DomainStatus, FunctionDetail, FunctionRow, Identity, LogGroupRow, ProblemKind, QueueRow,
    StackDetail, StackRow,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelId {
    Stacks,
    Functions,
    Queues,
    LogGroups,
    Index,
    Logs,
    Vpn,
    Jobs,
}

impl PanelId {
    pub const ALL: [PanelId; 8] = [
        PanelId::Stacks,
        PanelId::Functions,
        PanelId::Queues,
        PanelId::LogGroups,
        PanelId::Index,
        PanelId::Logs,
        PanelId::Vpn,
        PanelId::Jobs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            PanelId::Stacks => "Stacks",
            PanelId::Functions => "Functions",
            PanelId::Queues => "Queues",
            PanelId::LogGroups => "Log groups",
            PanelId::Index => "Index",
            PanelId::Logs => "Logs",
            PanelId::Vpn => "VPN",
            PanelId::Jobs => "Jobs",
        }
    }

    /// The panel's section in keymap files (`[panels.<key>]`); stable, since
    /// users write it.
    pub fn key(self) -> &'static str {
        match self {
            PanelId::Stacks => "stacks",
            PanelId::Functions => "functions",
            PanelId::Queues => "queues",
            PanelId::LogGroups => "log_groups",
            PanelId::Index => "index",
            PanelId::Logs => "logs",
            PanelId::Vpn => "vpn",
            PanelId::Jobs => "jobs",
        }
    }

    pub fn index(self) -> usize {
        PanelId::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn cycle(self, delta: isize) -> PanelId {
        let n = PanelId::ALL.len() as isize;
        PanelId::ALL[(self.index() as isize + delta).rem_euclid(n) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Console,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    Palette {
        input: super::text::TextField,
        selected: usize,
    },
    Problems {
        scroll: usize,
    },
    Confirm(Box<super::confirm::ConfirmDialog>),
    /// Which configured thing a verb is for, before its plan.
    Choose(Box<super::choose::Chooser>),
    /// The payload and type of an invoke, before its plan.
    Invoke(Box<super::invoke::InvokePopup>),
    /// A code deploy's zip, read or typed, before its plan.
    CodeDeploy(Box<super::lambda_deploy::CodePopup>),
    /// The version a rollback moves the alias to.
    Rollback(Box<super::lambda_deploy::RollbackPick>),
    /// A job's output (and, for a peek, the messages it saw).
    Job {
        key: String,
        scroll: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Warning,
    Error,
}

/// The status line's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub tone: Tone,
    pub text: String,
}

/// What a detail view (`enter` on a row) is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailOf {
    Stack(String),
    Function(String),
}

impl DetailOf {
    /// The request that fetches (and refreshes) it.
    pub fn request(&self) -> crate::aws::Request {
        match self {
            DetailOf::Stack(name) => crate::aws::Request::StackDetail(name.clone()),
            DetailOf::Function(name) => crate::aws::Request::FunctionDetail(name.clone()),
        }
    }
}

/// What a detail view shows once fetched.
#[derive(Debug, Clone)]
pub enum DetailAnswer {
    Stack(StackDetail),
    Function(Box<FunctionDetail>),
}

/// The detail view of one stack or function, over its panel.
#[derive(Debug, Clone)]
pub struct DetailView {
    pub of: DetailOf,
    pub fetch: Fetch,
    pub answer: Option<DetailAnswer>,
    pub scroll: usize,
    /// Environment values are shown: they may be secrets, so only when asked.
    pub reveal: bool,
}

impl DetailView {
    pub fn new(of: DetailOf) -> Self {
        DetailView {
            of,
            fetch: Fetch::default(),
            answer: None,
            scroll: 0,
            reveal: false,
        }
    }
}

/// Refreshes of a queue's depth its sparkline shows.
pub const DEPTHS_KEPT: usize = 40;

/// One connected deployment.
#[derive(Debug)]
pub struct Session {
    pub generation: u64,
    pub deployment: Deployment,
    pub identity_fetch: Fetch,
    pub identity: Option<Identity>,
    pub focus: PanelId,
    pub stacks: ListPanel<StackRow>,
    pub functions: ListPanel<FunctionRow>,
    pub queues: ListPanel<QueueRow>,
    pub log_groups: ListPanel<LogGroupRow>,
    pub index_fetch: Fetch,
    /// `Some(None)`: loaded, and the deployment names no domain.
    pub index: Option<Option<DomainStatus>>,
    /// The cluster's health and its indices.
    pub search: super::index::IndexPanel,
    pub detail: Option<DetailView>,
    /// A stack's whole event history, over the Stacks panel (and its detail).
    pub events: Option<super::events::EventHistory>,
    /// The filter of the focused list is being typed (into `filter_input`).
    pub editing_filter: bool,
    pub filter_input: super::text::TextField,
    /// Each queue's visible messages at the last refreshes, oldest first.
    pub depths: std::collections::HashMap<String, std::collections::VecDeque<u64>>,
    /// Log groups marked for tailing together.
    pub marked: std::collections::BTreeSet<String>,
    /// The live tail, once one was started.
    pub logs: Option<super::logs::LogView>,
    /// Certificates and pending requests of the VPN's PKI.
    pub vpn: ListPanel<super::vpn::VpnRow>,
    /// The PKI's last listing (CA, CRL, warnings); `None` before the first.
    pub ca: Option<Box<crate::aws::ca::CaListing>>,
    /// The fetch state of a panel that is not refreshed (Logs: its tail feeds
    /// it). Never begun, so it is never due and never failed.
    idle: Fetch,
}

impl Session {
    pub fn new(deployment: Deployment, generation: u64) -> Self {
        Session {
            generation,
            deployment,
            identity_fetch: Fetch::default(),
            identity: None,
            focus: PanelId::Stacks,
            stacks: ListPanel::default(),
            functions: ListPanel::default(),
            queues: ListPanel::default(),
            log_groups: ListPanel::default(),
            index_fetch: Fetch::default(),
            index: None,
            search: Default::default(),
            detail: None,
            events: None,
            editing_filter: false,
            filter_input: Default::default(),
            depths: Default::default(),
            marked: Default::default(),
            logs: None,
            vpn: ListPanel::default(),
            ca: None,
            idle: Fetch::default(),
        }
    }

    pub fn fetch(&self, panel: PanelId) -> &Fetch {
        match panel {
            PanelId::Stacks => &self.stacks.fetch,
            PanelId::Functions => &self.functions.fetch,
            PanelId::Queues => &self.queues.fetch,
            PanelId::LogGroups => &self.log_groups.fetch,
            PanelId::Index => &self.index_fetch,
            PanelId::Logs | PanelId::Jobs => &self.idle,
            PanelId::Vpn => &self.vpn.fetch,
        }
    }

    pub fn fetch_mut(&mut self, panel: PanelId) -> &mut Fetch {
        match panel {
            PanelId::Stacks => &mut self.stacks.fetch,
            PanelId::Functions => &mut self.functions.fetch,
            PanelId::Queues => &mut self.queues.fetch,
            PanelId::LogGroups => &mut self.log_groups.fetch,
            PanelId::Index => &mut self.index_fetch,
            PanelId::Logs | PanelId::Jobs => &mut self.idle,
            PanelId::Vpn => &mut self.vpn.fetch,
        }
    }

    /// The focused panel's list, if it is one.
    pub fn list_mut(&mut self) -> Option<&mut dyn super::list::ListOps> {
        Some(match (self.focus, self.events.as_mut()) {
            // The event history, when open, is the Stacks panel's list.
            (PanelId::Stacks, Some(history)) => &mut history.list,
            (PanelId::Stacks, None) => &mut self.stacks,
            (PanelId::Functions, _) => &mut self.functions,
            (PanelId::Queues, _) => &mut self.queues,
            (PanelId::LogGroups, _) => &mut self.log_groups,
            (PanelId::Vpn, _) => &mut self.vpn,
            (PanelId::Index, _) => &mut self.search.list,
            (PanelId::Logs | PanelId::Jobs, _) => return None,
        })
    }

    /// Rows shown in a panel, for the tab labels.
    pub fn count(&self, panel: PanelId) -> Option<usize> {
        let loaded = self.fetch(panel).is_loaded();
        let n = match panel {
            PanelId::Stacks => self.stacks.view.len(),
            PanelId::Functions => self.functions.view.len(),
            PanelId::Queues => self.queues.view.len(),
            PanelId::LogGroups => self.log_groups.view.len(),
            PanelId::Vpn => self.vpn.view.len(),
            // Only once the data plane answered: a domain alone has no list.
            PanelId::Index if self.search.health.is_some() => self.search.list.view.len(),
            PanelId::Index | PanelId::Logs | PanelId::Jobs => return None,
        };
        loaded.then_some(n)
    }

    pub fn filter(&self, panel: PanelId) -> &str {
        match panel {
            PanelId::Stacks => &self.stacks.filter,
            PanelId::Functions => &self.functions.filter,
            PanelId::Queues => &self.queues.filter,
            PanelId::LogGroups => &self.log_groups.filter,
            PanelId::Vpn => &self.vpn.filter,
            PanelId::Index => &self.search.list.filter,
            PanelId::Logs | PanelId::Jobs => "",
        }
    }

    /// Remembers each queue's visible depth, for the sparklines.
    pub fn record_depths(&mut self, rows: &[crate::model::QueueRow]) {
        for r in rows {
            let d = self.depths.entry(r.name.clone()).or_default();
            if d.len() == DEPTHS_KEPT {
                d.pop_front();
            }
            d.push_back(r.visible.unwrap_or(0));
        }
    }

    /// Whether the credentials problem blocks every panel (shown in the header).
    pub fn credentials_problem(&self) -> Option<&crate::model::Problem> {
        self.identity_fetch.error.as_ref().filter(|p| {
            matches!(
                p.kind,
                ProblemKind::NoCredentials
                    | ProblemKind::CredentialsExpired
                    | ProblemKind::NeedsMfa
                    | ProblemKind::CredentialsRejected
                    | ProblemKind::Unreachable
                    | ProblemKind::Other
            )
        })
    }
}

/// The whole UI state.
#[derive(Debug)]
pub struct State {
    pub deployments: Vec<Deployment>,
    pub diagnostics: Vec<Diagnostic>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub refresh_interval: Option<Duration>,
    pub screen: Screen,
    pub picker: usize,
    /// The first screen: every deployment's health.
    pub fleet: super::fleet::Overview,
    pub session: Option<Session>,
    pub next_generation: u64,
    pub overlay: Option<Overlay>,
    pub message: Option<Message>,
    pub quit: bool,
    /// Rows the focused list showed at the last draw (for paging and scrolling).
    pub list_height: usize,
    pub next_tail_id: u64,
    /// Lines a log tail buffers before dropping the oldest.
    pub log_cap: usize,
    /// Jobs of every deployment: they outlive a deployment switch.
    pub jobs: super::jobs::Jobs,
    pub toasts: Vec<super::jobs::Toast>,
}

impl State {
    pub fn new(loaded: Loaded) -> Self {
        let Loaded {
            config,
            theme,
            keymap,
            diagnostics,
        } = loaded;
        let message = (!diagnostics.is_empty()).then(|| Message {
            tone: if diagnostics.iter().any(Diagnostic::is_error) {
                Tone::Error
            } else {
                Tone::Warning
            },
            text: format!(
                "{} configuration problem{}: press ! to see {}",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" },
                if diagnostics.len() == 1 { "it" } else { "them" },
            ),
        });
        State {
            fleet: super::fleet::Overview::new(&config.deployments),
            deployments: config.deployments,
            diagnostics,
            keymap,
            theme,
            refresh_interval: config.refresh_interval,
            screen: Screen::Picker,
            picker: 0,
            session: None,
            next_generation: 1,
            overlay: None,
            message,
            quit: false,
            list_height: 10,
            next_tail_id: 1,
            log_cap: config.log_buffer_lines,
            jobs: Default::default(),
            toasts: Vec::new(),
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            tone: Tone::Info,
            text: text.into(),
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            tone: Tone::Warning,
            text: text.into(),
        });
    }
}
