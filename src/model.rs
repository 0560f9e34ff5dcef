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

/// One of a stack's events (DescribeStackEvents), as the detail, the event
/// history, a deploy job and `stacks events` show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackEvent {
    /// CloudFormation's event id: unique, so pages and refreshes merge on it.
    pub id: String,
    pub time: Option<SystemTime>,
    pub logical_id: String,
    /// The resource type (`AWS::SQS::Queue`).
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
}

/// Reserved concurrency of a Lambda function, as on-call reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    /// No reservation: the function draws from the account's pool.
    #[default]
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
    /// Lambda's `CodeSha256` of `$LATEST` (base64 SHA-256 of its zip).
    pub code_sha256: Option<String>,
    /// What an enable restores, from the function's own tag (read for
    /// disabled functions only): `Unreserved` or `Reserved(n)`.
    pub remembered: Option<Concurrency>,
}

/// What the function detail view shows beyond the row itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionDetail {
    pub description: Option<String>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub code_size: i64,
    pub code_sha256: Option<String>,
    pub architectures: Vec<String>,
    pub role: Option<String>,
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub last_modified: Option<SystemTime>,
    /// The environment's variables, by name; the view hides values until asked.
    pub environment: Vec<KeyValue>,
    pub concurrency: Concurrency,
    /// What an enable would restore (the `opsdeck:reserved-concurrency` tag).
    pub remembered: Option<Concurrency>,
    pub versions: Vec<FunctionVersion>,
    pub aliases: Vec<FunctionAlias>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionVersion {
    pub version: String,
    pub description: Option<String>,
    pub code_sha256: Option<String>,
    pub last_modified: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionAlias {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainStatus {
    pub name: String,
    pub processing: bool,
    pub created: bool,
    pub deleted: bool,
    pub engine_version: Option<String>,
    pub instance_type: Option<String>,
    pub instance_count: Option<i32>,
    pub endpoint: Option<String>,
    /// A service software or engine upgrade is being applied.
    pub upgrading: bool,
    /// Dedicated master nodes: how many, of which type.
    pub dedicated_masters: Option<(i32, String)>,
    /// "EBS gp3 100 GiB" (per data node).
    pub storage: Option<String>,
    /// The endpoint is in a VPC (reachable only from inside it, or a tunnel).
    pub vpc: bool,
}

/// A search cluster's colour, as `_cluster/health` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClusterColour {
    Green,
    Yellow,
    Red,
}

impl ClusterColour {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "green" => Some(ClusterColour::Green),
            "yellow" => Some(ClusterColour::Yellow),
            "red" => Some(ClusterColour::Red),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClusterColour::Green => "green",
            ClusterColour::Yellow => "yellow",
            ClusterColour::Red => "red",
        }
    }
}

/// `GET /_cluster/health`.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ClusterHealth {
    pub cluster_name: String,
    /// `None`: a colour this version of opsdeck does not know.
    #[serde(serialize_with = "colour_name")]
    pub status: Option<ClusterColour>,
    pub nodes: u64,
    pub data_nodes: u64,
    pub active_primary_shards: u64,
    pub active_shards: u64,
    pub relocating_shards: u64,
    pub initializing_shards: u64,
    pub unassigned_shards: u64,
    pub pending_tasks: u64,
    pub active_shards_percent: f64,
}

fn colour_name<S: serde::Serializer>(c: &Option<ClusterColour>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Some(c) => s.serialize_str(c.as_str()),
        None => s.serialize_none(),
    }
}

/// One index of `GET /_cat/indices`, with its aliases.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct IndexRow {
    pub name: String,
    pub health: Option<String>,
    /// open / close.
    pub status: String,
    pub docs: Option<u64>,
    pub deleted: Option<u64>,
    /// Bytes, every copy.
    pub size: Option<u64>,
    /// Bytes, primaries only.
    pub primary_size: Option<u64>,
    pub primaries: Option<u32>,
    pub replicas: Option<u32>,
    pub aliases: Vec<String>,
}

/// The Index panel's data: the domain from the control plane and, when its
/// data plane answered, the cluster and its indices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexView {
    /// `None`: no `opensearch_domain`, only an `opensearch_url`.
    pub domain: Option<DomainStatus>,
    /// Where the data plane was asked.
    pub endpoint: Option<String>,
    pub health: Option<ClusterHealth>,
    pub indices: Vec<IndexRow>,
    /// Why the data plane could not be read (the domain facts still show).
    pub problem: Option<Problem>,
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
