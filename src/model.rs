//! Plain data that crosses the boundary between the AWS workers and the UI.
//!
//! Nothing here names an SDK type or a ratatui type: `aws` converts SDK
//! responses into these rows, `ui` renders them.

use std::time::SystemTime;

pub mod fleet;

/// Who the credentials of a deployment belong to (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// How a CloudFormation status ended, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    InProgress,
    Failed,
    /// Deleted, or a rollback that completed: nothing is broken, nothing is live.
    Neutral,
}

impl Outcome {
    /// Classifies a CloudFormation stack or resource status string.
    pub fn of_status(status: &str) -> Self {
        if status.ends_with("_IN_PROGRESS") {
            Outcome::InProgress
        } else if status.ends_with("_FAILED") || status.starts_with("ROLLBACK") {
            Outcome::Failed
        } else if status.contains("ROLLBACK") || status.starts_with("DELETE") {
            Outcome::Neutral
        } else {
            Outcome::Ok
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackRow {
    pub name: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Last update, or creation time when the stack was never updated.
    pub updated: Option<SystemTime>,
    pub description: Option<String>,
    pub outputs: Vec<KeyValue>,
    pub parameters: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// What the stack detail view shows beyond the row itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackDetail {
    pub resources: Vec<StackResource>,
    pub events: Vec<StackEvent>,
    /// The deployed template, pretty-printed when it is JSON; `Err` says
    /// why it could not be read; `None` when it was not asked for.
    pub template: Option<Result<String, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub kind: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub time: Option<SystemTime>,
    pub logical_id: String,
    pub status: String,
    pub reason: Option<String>,
}

/// Reserved concurrency of a Lambda function, as on-call reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// No reservation: the function draws from the account's pool.
    Unreserved,
    /// Reserved to a positive number of concurrent executions.
    Reserved(i32),
    /// Reserved to 0: the function is switched off (the emergency stop).
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    pub name: String,
    pub runtime: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub last_modified: Option<SystemTime>,
    pub concurrency: Concurrency,
    pub arn: Option<String>,
    /// What an enable restores, from the function's own tag (read for
    /// disabled functions only): `Unreserved` or `Reserved(n)`.
    pub remembered: Option<Concurrency>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub name: String,
    pub url: String,
    pub arn: Option<String>,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    /// Name of the dead-letter queue this queue's redrive policy sends to.
    pub dead_letter_queue: Option<String>,
    /// Names of the queues whose redrive policy targets this queue.
    pub dlq_of: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupRow {
    pub name: String,
    pub retention_days: Option<i32>,
    pub stored_bytes: Option<i64>,
    pub created: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DomainStatus {
    pub name: String,
    pub processing: bool,
    pub created: bool,
    pub deleted: bool,
    pub engine_version: Option<String>,
    pub instance_type: Option<String>,
    pub instance_count: Option<i32>,
    pub endpoint: Option<String>,
}

/// What kind of trouble an AWS call ran into, for colour and behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    NoCredentials,
    CredentialsExpired,
    NeedsMfa,
    CredentialsRejected,
    Unreachable,
    Throttled,
    AccessDenied,
    NotFound,
    Other,
}

/// A failed AWS call, told for a person: what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A message seen by a peek at a queue (received with visibility 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekedMessage {
    pub id: String,
    pub body: String,
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, …), sorted.
    pub attributes: Vec<KeyValue>,
    /// Message attributes with their data type (`key (String)` = value), sorted.
    pub message_attributes: Vec<KeyValue>,
    pub receive_count: Option<u64>,
    pub sent: Option<SystemTime>,
}
