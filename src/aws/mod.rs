//! The AWS side: one worker per deployment owns the SDK clients, takes typed
//! requests and answers with events tagged by the session generation.
//!
//! Nothing here names a ratatui type.

pub mod ca;
pub mod cloudformation;
pub mod error;
pub mod fleet;
pub mod http;
pub mod lambda;
pub mod logs;
pub mod opensearch;
pub mod search;
pub mod session;
pub mod sqs;
pub mod sts;
pub mod tail;
pub mod vpn;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use error::CallContext;
pub use session::Clients;

use crate::config::Deployment;
use crate::model::{
    DomainStatus, FunctionDetail, FunctionRow, Identity, LogGroupRow, Problem, QueueRow,
    StackDetail, StackRow,
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
    /// One page of a stack's event history; `next: None` is the newest.
    StackEvents {
        stack: String,
        next: Option<String>,
    },
    FunctionDetail(String),
    /// Start tail `id` (a long job: it answers with many `Response::Tail`).
    Tail {
        id: u64,
        spec: Box<tail::TailSpec>,
    },
    /// Stop tail `id`.
    StopTail(u64),
    /// The deployment's VPN certificate authority (local files) and its endpoint.
    Pki(std::path::PathBuf),
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
    /// The domain with its cluster health and indices (the Index panel).
    Index(Box<crate::model::IndexView>),
    StackDetail(String, StackDetail),
    /// A page of events, newest first, and the token of the next older page.
    StackEvents {
        events: Vec<crate::model::StackEvent>,
        next: Option<String>,
    },
    FunctionDetail(String, Box<FunctionDetail>),
    Tail {
        id: u64,
        update: tail::TailUpdate,
    },
    Ca(Box<ca::CaListing>),
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

/// Connecting is retried at most this often while it keeps failing.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

async fn run(
    deployment: Deployment,
    generation: u64,
    mut requests: mpsc::Receiver<Request>,
    events: mpsc::Sender<Event>,
) {
    let mut clients: Option<Clients> = None;
    let mut last_attempt: Option<(Instant, Problem)> = None;
    let mut tasks = JoinSet::new();
    let mut tails: std::collections::HashMap<u64, tokio::task::AbortHandle> = Default::default();
    loop {
        let request = tokio::select! {
            request = requests.recv() => match request {
                Some(r) => r,
                None => break,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        if let Request::Pki(dir) = &request
            && deployment.resources.vpn_endpoint.is_none()
        {
            // Local files only: never wait for the AWS config.
            let (dir, events) = (dir.clone(), events.clone());
            tasks.spawn(async move {
                let start = Instant::now();
                let outcome = ca::run(None, dir, None)
                    .await
                    .map(|l| Response::Ca(Box::new(l)));
                let _ = events
                    .send(Event {
                        generation,
                        request,
                        outcome,
                        took: start.elapsed(),
                    })
                    .await;
            });
            continue;
        }
        if clients.is_none() {
            // Connect lazily and again after a failure (the user may have
            // run `aws sso login` and pressed r), but not in a tight loop.
            let recent = last_attempt
                .as_ref()
                .filter(|(at, _)| at.elapsed() < RECONNECT_EVERY);
            let outcome = match recent {
                Some((_, problem)) => Err(problem.clone()),
                None => Clients::connect(&deployment).await,
            };
            match outcome {
                Ok(c) => clients = Some(c),
                Err(problem) => {
                    if recent.is_none() {
                        last_attempt = Some((Instant::now(), problem.clone()));
                    }
                    let event = Event {
                        generation,
                        request,
                        outcome: Err(problem),
                        took: Duration::ZERO,
                    };
                    if events.send(event).await.is_err() {
                        break;
                    }
                    continue;
                }
            }
        }
        let Some(c) = clients.clone() else { continue };
        match request {
            Request::StopTail(id) => {
                if let Some(h) = tails.remove(&id) {
                    h.abort();
                }
                continue;
            }
            Request::Tail { id, spec } => {
                let events = events.clone();
                let handle = tasks.spawn(run_tail(c, id, *spec, generation, events));
                tails.insert(id, handle);
                continue;
            }
            _ => {}
        }
        let d = deployment.clone();
        let events = events.clone();
        tasks.spawn(async move {
            let start = Instant::now();
            let outcome = match request {
                // The data plane needs the deployment's name and region, not only its resources.
                Request::Domain
                    if d.resources.opensearch_domain.is_some()
                        || d.resources.opensearch_url.is_some() =>
                {
                    search::view(&c, &d)
                        .await
                        .map(|v| Response::Index(Box::new(v)))
                }
                _ => fetch(&c, &d.resources, &request).await,
            };
            tracing::debug!(?request, took = ?start.elapsed(), ok = outcome.is_ok(), "fetched");
            let _ = events
                .send(Event {
                    generation,
                    request,
                    outcome,
                    took: start.elapsed(),
                })
                .await;
        });
    }
    // Dropping the JoinSet aborts requests still running for a session the user left.
}

/// Forwards a tail's updates as events until it ends or the UI stops it.
async fn run_tail(
    c: Clients,
    id: u64,
    spec: tail::TailSpec,
    generation: u64,
    events: mpsc::Sender<Event>,
) {
    let (tx, mut rx) = mpsc::channel(16);
    let budget = c.logs_budget.clone();
    let request = Request::StopTail(id);
    let started = Instant::now();
    let poll = tail::run(&c, spec, budget, tx);
    let forward = async {
        while let Some(update) = rx.recv().await {
            let event = Event {
                generation,
                request: request.clone(),
                outcome: Ok(Response::Tail { id, update }),
                took: started.elapsed(),
            };
            if events.send(event).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(poll, forward);
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
        Request::StackEvents { stack, next } => {
            let (events, next) = cloudformation::events_page(c, stack, next.clone()).await?;
            Response::StackEvents { events, next }
        }
        Request::FunctionDetail(name) => {
            Response::FunctionDetail(name.clone(), Box::new(lambda::detail(c, name).await?))
        }
        Request::Pki(dir) => Response::Ca(Box::new(
            ca::run(Some(c), dir.clone(), r.vpn_endpoint.as_deref()).await?,
        )),
        // Long jobs, handled by the worker loop, never fetched.
        Request::Tail { .. } | Request::StopTail(_) => {
            return Err(Problem::new(
                crate::model::ProblemKind::Other,
                "a tail is not a fetch",
            ));
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
