//! The AWS side: one worker per deployment owns the SDK clients, takes typed
//! requests and answers with events tagged by the session generation.
//!
//! Nothing here names a ratatui type.

pub mod cloudformation;
pub mod error;
pub mod lambda;
pub mod logs;
pub mod opensearch;
pub mod session;
pub mod sqs;
pub mod sts;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use error::CallContext;
pub use session::Clients;

use crate::config::Deployment;
use crate::model::{
    DomainStatus, FunctionRow, Identity, LogGroupRow, Problem, QueueRow, StackDetail, StackRow,
};

/// What the UI can ask a worker for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Identity,
    Stacks,
    Functions,
    Queues,
    LogGroups,
    Domain,
    StackDetail(String),
}

/// A worker's answer.
#[derive(Debug, Clone)]
pub enum Response {
    Identity(Identity),
    Stacks(Vec<StackRow>),
    Functions(Vec<FunctionRow>),
    Queues(Vec<QueueRow>),
    LogGroups(Vec<LogGroupRow>),
    /// `None`: the deployment names no search domain.
    Domain(Option<DomainStatus>),
    StackDetail(String, StackDetail),
}

#[derive(Debug, Clone)]
pub struct Event {
    /// The session this answers; events of a session the user left are dropped.
    pub generation: u64,
    pub request: Request,
    pub outcome: Result<Response, Problem>,
    pub took: Duration,
}

/// The UI's handle on a deployment's worker. Dropping it stops the worker
/// and aborts whatever it was doing.
#[derive(Debug)]
pub struct Worker {
    requests: mpsc::Sender<Request>,
}

/// Requests queued beyond this are refused (the UI coalesces, so this is slack).
const QUEUE: usize = 64;

impl Worker {
    pub fn spawn(deployment: Deployment, generation: u64, events: mpsc::Sender<Event>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(deployment, generation, rx, events));
        Worker { requests: tx }
    }

    /// Hands a request to the worker without waiting. False if it is gone or full.
    pub fn send(&self, request: Request) -> bool {
        self.requests.try_send(request).is_ok()
    }
}

async fn run(
    deployment: Deployment,
    generation: u64,
    mut requests: mpsc::Receiver<Request>,
    events: mpsc::Sender<Event>,
) {
    let started = Instant::now();
    let clients = match Clients::connect(&deployment).await {
        Ok(c) => c,
        Err(problem) => {
            // Every request gets the same answer: the session cannot start.
            while let Some(request) = requests.recv().await {
                let event = Event {
                    generation,
                    request,
                    outcome: Err(problem.clone()),
                    took: started.elapsed(),
                };
                if events.send(event).await.is_err() {
                    return;
                }
            }
            return;
        }
    };
    let resources = deployment.resources;
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            request = requests.recv() => {
                let Some(request) = request else { break };
                let clients = clients.clone();
                let resources = resources.clone();
                let events = events.clone();
                tasks.spawn(async move {
                    let start = Instant::now();
                    let outcome = fetch(&clients, &resources, &request).await;
                    tracing::debug!(?request, took = ?start.elapsed(), ok = outcome.is_ok(), "fetched");
                    let _ = events
                        .send(Event { generation, request, outcome, took: start.elapsed() })
                        .await;
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Dropping the JoinSet aborts requests still running for a session the user left.
}

/// Runs one request against AWS.
pub async fn fetch(
    c: &Clients,
    r: &crate::config::Resources,
    request: &Request,
) -> Result<Response, Problem> {
    Ok(match request {
        Request::Identity => Response::Identity(sts::identity(c).await?),
        Request::Stacks => Response::Stacks(cloudformation::stacks(c, r.stacks.as_ref()).await?),
        Request::Functions => Response::Functions(lambda::functions(c, r.lambdas.as_ref()).await?),
        Request::Queues => Response::Queues(sqs::queues(c, r.queues.as_ref()).await?),
        Request::LogGroups => {
            Response::LogGroups(logs::log_groups(c, r.log_groups.as_ref()).await?)
        }
        Request::Domain => Response::Domain(match &r.opensearch_domain {
            Some(name) => Some(opensearch::domain(c, name).await?),
            None => None,
        }),
        Request::StackDetail(name) => {
            Response::StackDetail(name.clone(), cloudformation::detail(c, name).await?)
        }
    })
}

pub(crate) fn system_time(t: &aws_smithy_types::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

pub(crate) fn millis_to_time(ms: i64) -> Option<SystemTime> {
    u64::try_from(ms)
        .ok()
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
}
