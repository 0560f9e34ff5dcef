//! The fleet overview's data: one row per deployment, each cell loading,
//! answered or failed on its own, and the verdict drawn from them.
//!
//! Shared by the console's overview and `opsdeck fleet`, so both say the same
//! thing about a deployment. Nothing here names an SDK or ratatui type.

use serde::Serialize;

use super::{Identity, Problem, ProblemKind};

/// One cell of a row: what its answer is, so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell<T> {
    #[default]
    Loading,
    Ready(T),
    Failed(Problem),
    /// The deployment does not configure what this cell shows.
    Unset,
}

impl<T> Cell<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Cell::Ready(v) => Some(v),
            _ => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Cell::Failed(p) => Some(p),
            _ => None,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, Cell::Loading)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StacksHealth {
    pub total: u64,
    /// `*_FAILED`, and rollbacks that left the stack rolled back.
    pub failed: u64,
    pub rolled_back: u64,
    pub in_progress: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FunctionsHealth {
    pub total: u64,
    /// Reserved concurrency 0: switched off.
    pub disabled: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct QueuesHealth {
    pub visible: u64,
    pub dlq_messages: u64,
    /// Dead-letter queues holding messages, most first.
    pub dlqs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ErrorsHealth {
    /// ERROR-or-worse events in the window, up to the cap.
    pub count: u64,
    /// More than [`ERRORS_CAP`]: `count` is the cap.
    pub capped: bool,
    /// The log groups counted (the Logs panel opens on these).
    pub groups: Vec<String>,
}

/// Past this many errors the count stops ("1000+"): enough to page on.
pub const ERRORS_CAP: u64 = 1000;

/// How far back the errors cell looks.
pub const ERRORS_WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexHealth {
    pub domain: String,
    /// "active", "processing", "creating" or "deleted".
    pub state: String,
    /// green / yellow / red, once the cluster's health can be read.
    pub cluster_status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VpnHealth {
    /// `None`: the PKI has no CRL yet.
    pub crl_days_left: Option<i64>,
}

/// A CRL this close to its next update needs regenerating and publishing
/// (the PKI's own warning threshold, so `opsdeck vpn list` agrees).
pub const CRL_WARN_DAYS: i64 = crate::pki::EXPIRY_WARNING_DAYS;

/// A row's verdict, in the order rows sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Unreachable,
    Attention,
    /// Some cells are still loading and none needs attention yet.
    Loading,
    Ok,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Unreachable => "unreachable",
            Verdict::Attention => "attention",
            Verdict::Loading => "loading",
            Verdict::Ok => "ok",
        }
    }
}

/// Which cell of a row, for colouring its worst one and for keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Identity,
    Stacks,
    Functions,
    Queues,
    Errors,
    Index,
    Vpn,
}

/// How bad one cell is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Fine,
    Pending,
    Warn,
    Bad,
}

/// One deployment's health, as far as it is known.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetRow {
    pub deployment: String,
    pub protected: bool,
    pub identity: Cell<Identity>,
    pub stacks: Cell<StacksHealth>,
    pub functions: Cell<FunctionsHealth>,
    pub queues: Cell<QueuesHealth>,
    pub errors: Cell<ErrorsHealth>,
    pub index: Cell<IndexHealth>,
    pub vpn: Cell<VpnHealth>,
}

/// One answer for one cell of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum CellUpdate {
    Identity(Cell<Identity>),
    Stacks(Cell<StacksHealth>),
    Functions(Cell<FunctionsHealth>),
    Queues(Cell<QueuesHealth>),
    Errors(Cell<ErrorsHealth>),
    Index(Cell<IndexHealth>),
    Vpn(Cell<VpnHealth>),
}

/// Problems that mean the deployment as a whole cannot be asked anything.
pub fn blocks_everything(kind: ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::NoCredentials
            | ProblemKind::CredentialsExpired
            | ProblemKind::NeedsMfa
            | ProblemKind::CredentialsRejected
            | ProblemKind::Unreachable
    )
}

/// Problems that only a person can fix (a login): not retried on a timer.
pub fn needs_login(kind: ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::NoCredentials | ProblemKind::CredentialsExpired | ProblemKind::NeedsMfa
    )
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl FleetRow {
    pub fn new(deployment: &str, protected: bool) -> Self {
        FleetRow {
            deployment: deployment.to_string(),
            protected,
            ..FleetRow::default()
        }
    }

    pub fn apply(&mut self, update: CellUpdate) {
        match update {
            CellUpdate::Identity(c) => self.identity = c,
            CellUpdate::Stacks(c) => self.stacks = c,
            CellUpdate::Functions(c) => self.functions = c,
            CellUpdate::Queues(c) => self.queues = c,
            CellUpdate::Errors(c) => self.errors = c,
            CellUpdate::Index(c) => self.index = c,
            CellUpdate::Vpn(c) => self.vpn = c,
        }
    }

    /// Every cell has its answer (or its failure).
    pub fn is_complete(&self) -> bool {
        !(self.identity.is_loading()
            || self.stacks.is_loading()
            || self.functions.is_loading()
            || self.queues.is_loading()
            || self.errors.is_loading()
            || self.index.is_loading()
            || self.vpn.is_loading())
    }

    /// The problem that makes the whole deployment unreachable, if any.
    pub fn unreachable(&self) -> Option<&Problem> {
        self.identity
            .problem()
            .filter(|p| blocks_everything(p.kind))
    }

    /// How bad each cell is.
    pub fn severity(&self, column: Column) -> Severity {
        fn of<T>(c: &Cell<T>, judge: impl Fn(&T) -> Severity) -> Severity {
            match c {
                Cell::Loading => Severity::Pending,
                Cell::Ready(v) => judge(v),
                Cell::Failed(_) => Severity::Bad,
                Cell::Unset => Severity::Fine,
            }
        }
        let bad_if = |b: bool| if b { Severity::Bad } else { Severity::Fine };
        match column {
            Column::Identity => of(&self.identity, |_| Severity::Fine),
            Column::Stacks => of(&self.stacks, |s| {
                if s.failed > 0 {
                    Severity::Bad
                } else if s.rolled_back + s.in_progress > 0 {
                    Severity::Warn
                } else {
                    Severity::Fine
                }
            }),
            Column::Functions => of(&self.functions, |f| bad_if(!f.disabled.is_empty())),
            Column::Queues => of(&self.queues, |q| bad_if(q.dlq_messages > 0)),
            Column::Errors => of(&self.errors, |e| bad_if(e.count > 0)),
            Column::Index => of(&self.index, |i| match i.cluster_status.as_deref() {
                Some("red") => Severity::Bad,
                Some("yellow") => Severity::Warn,
                _ if i.state == "processing" || i.state == "creating" => Severity::Warn,
                _ if i.state == "deleted" => Severity::Bad,
                _ => Severity::Fine,
            }),
            Column::Vpn => of(&self.vpn, |v| match v.crl_days_left {
                Some(d) if d < 0 => Severity::Bad,
                Some(d) if d <= CRL_WARN_DAYS => Severity::Warn,
                _ => Severity::Fine,
            }),
        }
    }

    /// The column that looks worst (first of equals), if any is not fine.
    pub fn worst(&self) -> Option<Column> {
        use Column::*;
        let mut worst: Option<(Severity, Column)> = None;
        for c in [Identity, Stacks, Functions, Queues, Errors, Index, Vpn] {
            let s = self.severity(c);
            if s >= Severity::Warn && worst.is_none_or(|(w, _)| s > w) {
                worst = Some((s, c));
            }
        }
        worst.map(|(_, c)| c)
    }

    /// The verdict and its reasons, in short sentences.
    pub fn verdict(&self) -> (Verdict, Vec<String>) {
        if let Some(p) = self.unreachable() {
            return (Verdict::Unreachable, vec![p.message.clone()]);
        }
        let mut reasons = Vec::new();
        if let Some(p) = self.identity.problem() {
            reasons.push(format!("identity: {}", p.message));
        }
        if let Some(s) = self.stacks.ready() {
            if s.failed > 0 {
                reasons.push(plural(s.failed, "failed stack", "failed stacks"));
            }
            if s.rolled_back > 0 {
                reasons.push(plural(
                    s.rolled_back,
                    "rolled-back stack",
                    "rolled-back stacks",
                ));
            }
        }
        if let Some(f) = self.functions.ready()
            && !f.disabled.is_empty()
        {
            reasons.push(format!(
                "{} ({})",
                plural(
                    f.disabled.len() as u64,
                    "disabled function",
                    "disabled functions"
                ),
                f.disabled.join(", ")
            ));
        }
        if let Some(q) = self.queues.ready()
            && q.dlq_messages > 0
        {
            reasons.push(format!(
                "{} in dead-letter queues",
                plural(q.dlq_messages, "message", "messages")
            ));
        }
        if let Some(e) = self.errors.ready()
            && e.count > 0
        {
            reasons.push(format!(
                "{}{} ERROR lines in the last {ERRORS_WINDOW_MINUTES} minutes",
                e.count,
                if e.capped { "+" } else { "" }
            ));
        }
        if let Some(i) = self.index.ready() {
            match i.cluster_status.as_deref() {
                Some(c @ ("red" | "yellow")) => reasons.push(format!("search cluster is {c}")),
                _ if i.state == "deleted" => {
                    reasons.push(format!("search domain {} is deleted", i.domain))
                }
                _ => {}
            }
        }
        if let Some(VpnHealth {
            crl_days_left: Some(d),
        }) = self.vpn.ready()
        {
            if *d < 0 {
                reasons.push("the VPN's CRL has expired".into());
            } else if *d <= CRL_WARN_DAYS {
                reasons.push(format!(
                    "the VPN's CRL expires in {}",
                    plural(*d as u64, "day", "days")
                ));
            }
        }
        for (name, p) in [
            ("stacks", self.stacks.problem()),
            ("functions", self.functions.problem()),
            ("queues", self.queues.problem()),
            ("errors", self.errors.problem()),
            ("index", self.index.problem()),
            ("vpn", self.vpn.problem()),
        ] {
            if let Some(p) = p {
                reasons.push(format!("{name}: {}", p.message));
            }
        }
        if !reasons.is_empty() {
            (Verdict::Attention, reasons)
        } else if !self.is_complete() {
            (Verdict::Loading, reasons)
        } else {
            (Verdict::Ok, reasons)
        }
    }

    /// The row as `opsdeck fleet --json` prints it.
    pub fn report(&self) -> FleetReport {
        let (verdict, reasons) = self.verdict();
        let stacks = self.stacks.ready();
        let functions = self.functions.ready();
        let queues = self.queues.ready();
        let errors = self.errors.ready();
        FleetReport {
            deployment: self.deployment.clone(),
            status: verdict,
            reasons,
            account: self.identity.ready().map(|i| i.account.clone()),
            stacks: stacks.map(|s| s.total),
            stacks_failed: stacks.map(|s| s.failed),
            stacks_in_progress: stacks.map(|s| s.in_progress),
            functions: functions.map(|f| f.total),
            functions_disabled: functions.map(|f| f.disabled.len() as u64),
            queue_messages: queues.map(|q| q.visible),
            dlq_messages: queues.map(|q| q.dlq_messages),
            log_errors_15m: errors.map(|e| e.count),
            log_errors_capped: errors.is_some_and(|e| e.capped),
            domain_state: self.index.ready().map(|i| i.state.clone()),
            cluster_status: self.index.ready().and_then(|i| i.cluster_status.clone()),
            crl_days_left: self.vpn.ready().and_then(|v| v.crl_days_left),
        }
    }
}

/// One deployment in `opsdeck fleet --json`. Counts are `null` where the
/// cell failed (its reason says why) or is not configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    pub deployment: String,
    pub status: Verdict,
    pub reasons: Vec<String>,
    pub account: Option<String>,
    pub stacks: Option<u64>,
    pub stacks_failed: Option<u64>,
    pub stacks_in_progress: Option<u64>,
    pub functions: Option<u64>,
    pub functions_disabled: Option<u64>,
    pub queue_messages: Option<u64>,
    pub dlq_messages: Option<u64>,
    pub log_errors_15m: Option<u64>,
    pub log_errors_capped: bool,
    pub domain_state: Option<String>,
    pub cluster_status: Option<String>,
    pub crl_days_left: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> FleetRow {
        FleetRow {
            deployment: "dev".into(),
            protected: false,
            identity: Cell::Ready(Identity {
                account: "1".into(),
                arn: "arn".into(),
            }),
            stacks: Cell::Ready(StacksHealth {
                total: 3,
                ..Default::default()
            }),
            functions: Cell::Ready(FunctionsHealth {
                total: 4,
                disabled: vec![],
            }),
            queues: Cell::Ready(QueuesHealth::default()),
            errors: Cell::Ready(ErrorsHealth::default()),
            index: Cell::Unset,
            vpn: Cell::Unset,
        }
    }

    #[test]
    fn a_quiet_deployment_is_ok_and_a_loading_one_is_not_yet() {
        assert_eq!(healthy().verdict(), (Verdict::Ok, vec![]));
        let mut r = healthy();
        r.errors = Cell::Loading;
        assert_eq!(r.verdict().0, Verdict::Loading);
        assert_eq!(r.worst(), None);
    }

    #[test]
    fn reasons_name_what_needs_attention_and_the_worst_cell_is_found() {
        let mut r = healthy();
        r.queues = Cell::Ready(QueuesHealth {
            visible: 10,
            dlq_messages: 3,
            dlqs: vec!["dev-dlq".into()],
        });
        r.errors = Cell::Ready(ErrorsHealth {
            count: 1000,
            capped: true,
            groups: vec![],
        });
        let (v, reasons) = r.verdict();
        assert_eq!(v, Verdict::Attention);
        assert_eq!(
            reasons,
            [
                "3 messages in dead-letter queues",
                "1000+ ERROR lines in the last 15 minutes"
            ]
        );
        assert_eq!(r.worst(), Some(Column::Queues));
        assert!(r.report().log_errors_capped);
    }

    #[test]
    fn a_login_problem_makes_the_row_unreachable_and_one_denied_cell_attention() {
        let mut r = healthy();
        r.identity = Cell::Failed(Problem::new(ProblemKind::CredentialsExpired, "run login"));
        assert_eq!(
            r.verdict(),
            (Verdict::Unreachable, vec!["run login".into()])
        );
        let mut r = healthy();
        r.queues = Cell::Failed(Problem::new(ProblemKind::AccessDenied, "denied"));
        assert_eq!(
            r.verdict(),
            (Verdict::Attention, vec!["queues: denied".into()])
        );
    }

    #[test]
    fn verdicts_sort_worst_first() {
        let mut v = vec![
            Verdict::Ok,
            Verdict::Loading,
            Verdict::Attention,
            Verdict::Unreachable,
        ];
        v.sort();
        assert_eq!(
            v,
            [
                Verdict::Unreachable,
                Verdict::Attention,
                Verdict::Loading,
                Verdict::Ok
            ]
        );
    }
}
