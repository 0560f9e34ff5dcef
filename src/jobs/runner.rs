//! The console's job runner: owned by the runtime, not by a deployment's
//! worker, so jobs outlive a deployment switch. Each job is a task that
//! forwards its progress and output to the UI and ends with its outcome.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::{AuditLog, Ctx, Outcome, Plan, Progress, Source};
use crate::aws::Clients;
use crate::model::Identity;

/// Something a running job says.
#[derive(Debug, Clone, PartialEq)]
pub enum JobUpdate {
    Progress(Progress),
    Line(String),
    Finished(Outcome),
}

/// A job's update, named by the job's id (the UI's, given at start).
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub id: u64,
    pub update: JobUpdate,
}

#[derive(Debug)]
pub struct Runner {
    events: mpsc::Sender<JobEvent>,
    audit: AuditLog,
    /// One set of clients per deployment, connected on a job's first need.
    clients: Arc<Mutex<HashMap<String, Clients>>>,
    cancels: HashMap<u64, CancellationToken>,
}

impl Runner {
    pub fn new(audit: AuditLog, events: mpsc::Sender<JobEvent>) -> Self {
        Runner {
            events,
            audit,
            clients: Default::default(),
            cancels: HashMap::new(),
        }
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Starts job `id`. Its updates arrive as [`JobEvent`]s, the last one
    /// `Finished`.
    pub fn start(&mut self, id: u64, plan: Plan, who: Option<Identity>) {
        let cancel = CancellationToken::new();
        self.cancels.retain(|_, t| !t.is_cancelled());
        self.cancels.insert(id, cancel.clone());
        let events = self.events.clone();
        let audit = self.audit.clone();
        let cache = self.clients.clone();
        tokio::spawn(async move {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let ctx = Ctx::new(tx, cancel);
            let work = async {
                let clients = if plan.op.needs_aws() {
                    match clients_for(&cache, &plan).await {
                        Ok(c) => Some(c),
                        Err(p) => {
                            return Outcome::Refused(format!("nothing was changed: {}", p.message));
                        }
                    }
                } else {
                    None
                };
                super::run(&plan, &audit, Source::Console, who, clients, ctx).await
            };
            let forward = async {
                while let Some(update) = rx.recv().await {
                    if events.send(JobEvent { id, update }).await.is_err() {
                        return;
                    }
                }
            };
            // `work` owns the only sender: when it ends, `forward` drains and ends.
            let (outcome, ()) = tokio::join!(work, forward);
            let _ = events
                .send(JobEvent {
                    id,
                    update: JobUpdate::Finished(outcome),
                })
                .await;
        });
    }

    /// Asks job `id` to stop at its next safe point. False if it is not running.
    pub fn cancel(&mut self, id: u64) -> bool {
        match self.cancels.remove(&id) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }
}

async fn clients_for(
    cache: &Mutex<HashMap<String, Clients>>,
    plan: &Plan,
) -> Result<Clients, crate::model::Problem> {
    let mut cache = cache.lock().await;
    if let Some(c) = cache.get(&plan.deployment.name) {
        return Ok(c.clone());
    }
    let c = Clients::connect(&plan.deployment).await?;
    cache.insert(plan.deployment.name.clone(), c.clone());
    Ok(c)
}
