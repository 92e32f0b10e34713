//! `POST /Bulk` (RFC 7644 §3.7): runs each operation as the ordinary handler would, in an order that
//! lets `bulkId` references resolve (an operation waits until the operations it refers to have run), and
//! reports every outcome. Each operation is atomic on its own (a savepoint); the operations share one
//! commit (`Store::in_one_commit`), and the answer is sent once it is durable. `failOnErrors` stops the
//! run after that many errors, and the operations not run are left out of the response.

use std::collections::{HashMap, HashSet};

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::{parse_json, tag_version};
use crate::audit::Actor;
use crate::http::App;
use crate::http::reply::{self, Body};
use crate::http::request::{actor, base_url, read_body};
use crate::scim::bulk::{self, Method, Operation, Outcome};
use crate::scim::schema::ResourceKind;
use crate::scim::{self};
use crate::store::Precondition;

pub async fn handle(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let request = bulk::parse_request(parse_json(&body)?, app.config.limits.bulk_max_operations)?;
    // The operations' writes share as few commits as they can (one, unless a password is hashed or the
    // request is very large); the answer waits for every commit, so what it reports is stored.
    let (outcomes, committed) = app.store.in_one_commit(run_all(app, &actor, &base, &request)).await;
    committed.map_err(reply::store_error)?;
    Ok(reply::scim_json(StatusCode::OK, &bulk::response(&outcomes)))
}

/// Runs the operations in an order that resolves their references, and answers their outcomes.
async fn run_all(app: &App, actor: &Actor, base: &str, request: &bulk::Request) -> Vec<Outcome> {
    let mut creators: HashMap<String, usize> = HashMap::new();
    let mut duplicates = HashSet::new();
    for (index, operation) in request.operations.iter().enumerate() {
        if let Ok(Operation { method: Method::Post, bulk_id: Some(bulk_id), .. }) = operation
            && creators.insert(bulk_id.clone(), index).is_some()
        {
            duplicates.insert(index);
        }
    }

    let mut progress = Progress::new(request.operations.len());
    let mut pending: Vec<usize> = (0..request.operations.len()).collect();
    // Operations without references, when no `failOnErrors` asks to stop at a count, are sent to the
    // store together (in their order) and their outcomes awaited together: the writer runs them back to
    // back instead of waiting for each answer to travel back before the next is sent.
    let pipelined = request.fail_on_errors.is_none();
    let mut batch: Vec<(usize, &Operation)> = Vec::new();
    'run: while !pending.is_empty() {
        let mut waiting = Vec::new();
        let mut progressed = false;
        for index in pending {
            if request.fail_on_errors.is_some_and(|limit| progress.errors >= limit) {
                break 'run;
            }
            if pipelined
                && let Ok(operation) = &request.operations[index]
                && !duplicates.contains(&index)
                && bulk::references(operation).is_empty()
            {
                batch.push((index, operation));
                continue;
            }
            progressed |= run_batch(app, actor, base, &mut batch, &request.operations, &mut progress).await;
            let outcome = match &request.operations[index] {
                Err(error) => Some(failure(None, None, error.clone())),
                Ok(operation) if duplicates.contains(&index) => Some(failure(
                    Some(operation),
                    None,
                    scim::Error::invalid_value("this bulkId is used by an earlier POST of the same request"),
                )),
                Ok(operation) => {
                    let references = bulk::references(operation);
                    if let Some(unknown) = references.iter().find(|r| !creators.contains_key(*r)) {
                        Some(failure(
                            Some(operation),
                            None,
                            scim::Error::invalid_value(format!("bulkId:{unknown} names no POST of this request")),
                        ))
                    } else if let Some(broken) = references.iter().find(|r| progress.failed.contains(*r)) {
                        Some(failure(
                            Some(operation),
                            Some(409),
                            scim::Error::invalid_value(format!("it refers to bulkId:{broken}, whose operation failed")),
                        ))
                    } else if references.iter().all(|r| progress.resolved.contains_key(r)) {
                        let outcome = run(app, actor, base, &bulk::substitute(operation, &progress.resolved)).await;
                        progress.settle(&request.operations[index], &outcome);
                        Some(outcome)
                    } else {
                        waiting.push(index);
                        None
                    }
                }
            };
            if let Some(outcome) = outcome {
                progressed = true;
                progress.record(index, outcome);
            }
        }
        progressed |= run_batch(app, actor, base, &mut batch, &request.operations, &mut progress).await;
        if !progressed {
            // Everything left waits on something else that is waiting: a cycle of references.
            for index in waiting {
                if let Ok(operation) = &request.operations[index] {
                    progress.outcomes[index] = Some(failure(
                        Some(operation),
                        Some(409),
                        scim::Error::invalid_value("its bulkId references form a cycle that cannot be resolved"),
                    ));
                }
            }
            break;
        }
        pending = waiting;
    }
    progress.outcomes.into_iter().flatten().collect()
}

/// What running a Bulk request's operations has given so far.
struct Progress {
    /// By operation; `None` for those not run (yet).
    outcomes: Vec<Option<Outcome>>,
    /// The ids the POSTs with a `bulkId` created, and the `bulkId`s whose POST failed.
    resolved: HashMap<String, String>,
    failed: HashSet<String>,
    errors: usize,
}

impl Progress {
    fn new(operations: usize) -> Progress {
        Progress { outcomes: vec![None; operations], resolved: HashMap::new(), failed: HashSet::new(), errors: 0 }
    }

    /// Keeps the outcome of operation `index`, counting it when it failed.
    fn record(&mut self, index: usize, outcome: Outcome) {
        self.errors += usize::from(outcome.error.is_some());
        self.outcomes[index] = Some(outcome);
    }

    /// Records what a POST with a `bulkId` created (or that it failed), for the operations that refer to it.
    fn settle(&mut self, operation: &Result<Operation, scim::Error>, outcome: &Outcome) {
        let Ok(Operation { bulk_id: Some(bulk_id), .. }) = operation else { return };
        match (&outcome.error, &outcome.location) {
            (None, Some(location)) => {
                let id = location.rsplit('/').next().unwrap_or_default().to_owned();
                self.resolved.insert(bulk_id.clone(), id);
            }
            _ => {
                self.failed.insert(bulk_id.clone());
            }
        }
    }
}

/// Runs the operations gathered in `batch` (those without references, with their indexes) together:
/// each is sent to the store as soon as it is ready, in their order. Answers whether there were any.
async fn run_batch(
    app: &App,
    actor: &Actor,
    base: &str,
    batch: &mut Vec<(usize, &Operation)>,
    operations: &[Result<Operation, scim::Error>],
    progress: &mut Progress,
) -> bool {
    if batch.is_empty() {
        return false;
    }
    let ran = std::mem::take(batch);
    let outcomes = futures_util::future::join_all(ran.iter().map(|(_, op)| run(app, actor, base, op))).await;
    for ((index, _), outcome) in ran.into_iter().zip(outcomes) {
        progress.settle(&operations[index], &outcome);
        progress.record(index, outcome);
    }
    true
}

/// A failed operation's outcome (`status` overrides the error's own status, e.g. 409 for references).
fn failure(operation: Option<&Operation>, status: Option<u16>, error: scim::Error) -> Outcome {
    Outcome {
        method: operation.map_or(Method::Post, |o| o.method),
        bulk_id: operation.and_then(|o| o.bulk_id.clone()),
        location: None,
        version: None,
        status: status.unwrap_or_else(|| error.status()),
        error: Some(error),
    }
}

/// Runs one operation whose references are all substituted.
async fn run(app: &App, actor: &Actor, base: &str, operation: &Operation) -> Outcome {
    let target = match bulk::parse_path(operation.method, &operation.path) {
        Ok(target) => target,
        Err(error) => return failure(Some(operation), None, error),
    };
    let precondition = operation.version.as_deref().map(|version| match version.trim() {
        "*" => Precondition::Any,
        tags => Precondition::Versions(tags.split(',').filter_map(tag_version).collect()),
    });
    let data = operation.data.as_ref().unwrap_or(&Value::Null);
    let id = target.id.as_deref().unwrap_or_default();
    let done = |location: Option<String>, version: Option<String>, status: u16| Outcome {
        method: operation.method,
        bulk_id: operation.bulk_id.clone(),
        location,
        version,
        status,
        error: None,
    };
    let location = |kind: ResourceKind, id: &str| Some(kind.location(base, id));
    let result = match (operation.method, target.kind) {
        (Method::Post, ResourceKind::User) => super::users::create_from(app, actor, data)
            .await
            .map(|u| done(location(target.kind, &u.id), Some(u.etag()), 201)),
        (Method::Post, ResourceKind::Group) => super::groups::create_from(app, actor, data)
            .await
            .map(|g| done(location(target.kind, &g.id), Some(g.etag()), 201)),
        (Method::Put, ResourceKind::User) => super::users::replace_from(app, actor, id, precondition, data)
            .await
            .map(|u| done(location(target.kind, &u.id), Some(u.etag()), 200)),
        (Method::Put, ResourceKind::Group) => super::groups::replace_from(app, actor, id, precondition, data)
            .await
            .map(|g| done(location(target.kind, &g.id), Some(g.etag()), 200)),
        (Method::Patch, ResourceKind::User) => super::users::patch_from(app, actor, id, precondition, data)
            .await
            .map(|u| done(location(target.kind, &u.id), Some(u.etag()), 200)),
        (Method::Patch, ResourceKind::Group) => super::groups::patch_from(app, actor, id, precondition, data)
            .await
            .map(|g| done(location(target.kind, &g.id), Some(g.etag()), 204)),
        (Method::Delete, ResourceKind::User) => app
            .store
            .delete_user(actor, id, precondition)
            .await
            .map_err(reply::store_error)
            .map(|()| done(None, None, 204)),
        (Method::Delete, ResourceKind::Group) => app
            .store
            .delete_group(actor, id, precondition)
            .await
            .map_err(reply::store_error)
            .map(|()| done(None, None, 204)),
    };
    result.unwrap_or_else(|error| failure(Some(operation), None, error))
}
