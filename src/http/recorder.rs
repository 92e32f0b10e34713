//! Recording SCIM requests for the Activity page without slowing provisioning down: the request envelope
//! pushes a small entry into a bounded in-memory queue (never waiting), and one task writes what has
//! gathered in batches (up to [`BATCH`] entries, at most every [`EVERY`]), trimming the table to its
//! number of rows in the same write, and removes entries past their age every [`AGE_SWEEP`]. When the
//! queue is full an entry is dropped and counted, rather than making a SCIM client wait on the admin
//! page's bookkeeping.
//!
//! Entries carry no bodies and no query strings. A summary ("created user alice@example.com") comes from
//! an [`ActivityNote`] a handler attached to its response, or else from the method, the path and the
//! few top-level fields of the (small) JSON response that name the resource.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::header;
use hyper::{Method, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::AdminSettings;
use crate::http::App;
use crate::http::auth::Principal;
use crate::http::reply::{self, Body};
use crate::store::{ActivityEntry, Store};

/// Entries written in one batch at most.
const BATCH: usize = 500;
/// How long the writer lets entries gather after the first one arrives.
const EVERY: Duration = Duration::from_millis(250);
/// How often entries older than the retention age are removed (it reads the whole table; the age is in
/// days, so an entry may outlive it by this much).
const AGE_SWEEP: Duration = Duration::from_secs(600);
/// Entries waiting at most; beyond, new ones are dropped (and counted).
const QUEUE: usize = 20_000;
/// Responses larger than this are not read for a summary.
pub const PEEK_LIMIT: usize = 64 * 1024;

/// A handler's own words for what a request changed, attached to its response's extensions; it takes
/// precedence over the summary the recorder would derive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityNote(pub String);

/// What a handler attaches to a response whose resource id the path does not carry (a create): the id
/// of the user or group it touched, for the Activity page's link.
#[derive(Debug, Clone)]
pub struct ActivityTarget(pub String);

/// How much activity is kept: the newest `max_rows`, none older than `max_age`.
#[derive(Debug, Clone, Copy)]
struct Retention {
    max_rows: u64,
    max_age: time::Duration,
}

/// The queue and its writer task.
#[derive(Debug)]
pub struct Recorder {
    queue: Mutex<Option<mpsc::Sender<ActivityEntry>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    dropped: AtomicU64,
    written: std::sync::Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the writer task on the current runtime. It ends when [`Recorder::close`] is called or the
    /// recorder is dropped, after writing what is queued.
    pub fn start(store: Store, settings: &AdminSettings) -> Recorder {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let retention = Retention {
            max_rows: settings.activity_max_rows,
            max_age: time::Duration::try_from(settings.activity_max_age).unwrap_or(time::Duration::days(90)),
        };
        let written = std::sync::Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(write_batches(store, receiver, retention, std::sync::Arc::clone(&written)));
        Recorder { queue: Mutex::new(Some(sender)), task: Mutex::new(Some(task)), dropped: AtomicU64::new(0), written }
    }

    /// Queues an entry without waiting; a full queue drops it.
    pub fn record(&self, entry: ActivityEntry) {
        let queue = self.queue.lock().unwrap_or_else(|poison| poison.into_inner());
        let Some(sender) = queue.as_ref() else { return };
        if sender.try_send(entry).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the activity queue is full; SCIM requests are not all being recorded");
            }
        }
    }

    /// Entries dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Entries written to the database.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Stops accepting entries and waits until every queued one is written.
    pub async fn close(&self) {
        self.queue.lock().unwrap_or_else(|poison| poison.into_inner()).take();
        let task = self.task.lock().unwrap_or_else(|poison| poison.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn write_batches(
    store: Store,
    mut receiver: mpsc::Receiver<ActivityEntry>,
    retention: Retention,
    written: std::sync::Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    // The first sweep runs at start: entries may have aged while scimbox was stopped.
    let mut next_sweep = tokio::time::Instant::now();
    loop {
        // Waiting for entries is cut short when a sweep is due (`recv_many` loses nothing when it is).
        match tokio::time::timeout_at(next_sweep, receiver.recv_many(&mut batch, BATCH)).await {
            Ok(0) => return,
            Ok(_) => {
                let count = write_batch(&store, &mut receiver, &mut batch, retention.max_rows).await;
                written.fetch_add(count, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        if tokio::time::Instant::now() >= next_sweep {
            next_sweep = tokio::time::Instant::now() + AGE_SWEEP;
            if let Err(error) = store.remove_activity_before(crate::store::now() - retention.max_age).await {
                tracing::warn!(%error, "cannot remove aged SCIM activity");
            }
        }
    }
}

/// Lets a burst gather behind the entries in `batch` (so that it costs one transaction, not one per
/// request), then writes them all; answers how many were written.
async fn write_batch(
    store: &Store,
    receiver: &mut mpsc::Receiver<ActivityEntry>,
    batch: &mut Vec<ActivityEntry>,
    max_rows: u64,
) -> u64 {
    if batch.len() < BATCH {
        tokio::time::sleep(EVERY).await;
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
    }
    let entries = std::mem::replace(batch, Vec::with_capacity(BATCH));
    let count = entries.len();
    match store.record_activity(entries, max_rows).await {
        Ok(()) => count as u64,
        Err(error) => {
            tracing::warn!(%error, count, "cannot record SCIM activity");
            0
        }
    }
}

/// What the envelope knows about a finished SCIM request.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub request_id: &'a str,
    pub method: &'a Method,
    pub path: &'a str,
    pub latency_us: u64,
    /// The public id of the token a refused request presented (never its secret), when it had one.
    pub presented_token: Option<&'a str>,
}

/// Queues the activity entry of a finished SCIM request and hands the response back (rebuilt around the
/// same bytes when its small JSON body was read for the summary).
pub async fn record(
    app: &App,
    response: Response<Body>,
    facts: Facts<'_>,
    principal: Option<&Principal>,
) -> Response<Body> {
    let status = response.status().as_u16();
    let note = response.extensions().get::<ActivityNote>().map(|note| note.0.clone());
    let created = response.extensions().get::<ActivityTarget>().map(|target| target.0.clone());
    let is_json =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    let small = response.body().size_hint().exact().is_some_and(|n| n > 0 && n <= PEEK_LIMIT as u64);
    // A handler's own note says what a success did; only failures (for their detail) and responses
    // without a note are read back, which keeps lookups from parsing their answer twice.
    let wants_peek = note.is_none() || status >= 400;
    let (response, peek) = if is_json && small && wants_peek {
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let peek = Peek::read(&bytes);
                (Response::from_parts(parts, reply::full(bytes)), peek)
            }
            Err(never) => match never {},
        }
    } else {
        (response, Peek::default())
    };
    let summary = note.or_else(|| summarize(facts.method, facts.path, status, &peek));
    let target_id = created
        .or_else(|| target_of(facts.path))
        .or_else(|| if status == 201 { peek.id.clone() } else { None })
        .map(|id| id.chars().take(200).collect());
    let arrived = crate::store::now() - time::Duration::microseconds(i64::try_from(facts.latency_us).unwrap_or(0));
    app.recorder.record(ActivityEntry {
        at: crate::store::format_time(arrived),
        request_id: facts.request_id.to_owned(),
        token_id: principal.map(|p| p.token_id.clone()).or_else(|| facts.presented_token.map(str::to_owned)),
        token_name: principal.map(|p| p.token_name.clone()),
        method: facts.method.as_str().to_owned(),
        path: facts.path.chars().take(512).collect(),
        resource: resource_of(facts.path),
        status,
        latency_us: facts.latency_us,
        summary,
        error: if status >= 400 { peek.detail.map(|d| d.chars().take(1000).collect()) } else { None },
        target_id,
    });
    response
}

/// The few fields of a SCIM response that say what it was about.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peek {
    pub id: Option<String>,
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub active: Option<serde_json::Value>,
    pub total_results: Option<u64>,
    pub detail: Option<String>,
    #[serde(rename = "Operations")]
    pub operations: Option<Vec<serde::de::IgnoredAny>>,
}

impl Peek {
    pub fn read(body: &[u8]) -> Peek {
        serde_json::from_slice(body).unwrap_or_default()
    }

    fn deactivated(&self) -> bool {
        match &self.active {
            Some(serde_json::Value::Bool(active)) => !active,
            Some(serde_json::Value::String(active)) => active.eq_ignore_ascii_case("false"),
            _ => false,
        }
    }
}

/// What a group PATCH body does to the group, in a few words ("added 2 members to group Engineering"),
/// read from its operations as sent; `None` when it names nothing this can say better than the
/// recorder's own summary.
pub fn group_patch_note(body: &serde_json::Value, group_name: &str) -> Option<ActivityNote> {
    use serde_json::Value;
    let operations = body.get("Operations").or_else(|| body.get("operations"))?.as_array()?;
    let (mut added, mut removed, mut cleared, mut replaced, mut renamed) = (0usize, 0usize, false, false, false);
    for operation in operations {
        let op = operation.get("op").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
        let path = operation.get("path").and_then(Value::as_str).unwrap_or("").trim().to_ascii_lowercase();
        let value = operation.get("value");
        let values = value.and_then(Value::as_array).map_or(0, Vec::len);
        let members = path == "members" || path.starts_with("members[") || path.starts_with("members.");
        match (op.as_str(), members) {
            ("add", true) => added += values.max(1),
            ("remove", true) if path.starts_with("members[") => removed += 1,
            ("remove", true) if values > 0 => removed += values,
            ("remove", true) => cleared = true,
            ("replace", true) => replaced = true,
            (_, false) if path == "displayname" => renamed = true,
            ("add" | "replace", false) if path.is_empty() => {
                let object = value.and_then(Value::as_object);
                renamed |= object.is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("displayName")));
                let listed = object
                    .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("members")))
                    .and_then(|(_, v)| v.as_array())
                    .map_or(0, Vec::len);
                if op == "add" {
                    added += listed;
                } else {
                    replaced |= listed > 0;
                }
            }
            _ => {}
        }
    }
    let count = |n: usize| format!("{n} member{}", plural(n));
    let mut parts = Vec::new();
    if renamed {
        parts.push("renamed".to_owned());
    }
    if replaced {
        parts.push("replaced the members of".to_owned());
    }
    if cleared {
        parts.push("removed every member from".to_owned());
    }
    if added > 0 {
        parts.push(format!("added {} to", count(added)));
    }
    if removed > 0 {
        parts.push(format!("removed {} from", count(removed)));
    }
    if parts.is_empty() {
        return None;
    }
    Some(ActivityNote(format!("{} group {group_name}", parts.join(", "))))
}

/// The id a SCIM path names (`/scim/v2/Users/{id}`, `/scim/v2/Groups/{id}`), if it names one.
pub fn target_of(path: &str) -> Option<String> {
    let mut segments = path.strip_prefix("/scim/v2/")?.split('/');
    let resource = segments.next()?;
    let id = segments.next().filter(|id| !id.is_empty() && *id != ".search")?;
    (resource.eq_ignore_ascii_case("Users") || resource.eq_ignore_ascii_case("Groups")).then(|| id.to_owned())
}

/// The resource a SCIM path is about: its first segment under `/scim/v2/`.
pub fn resource_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/scim/v2")?.trim_start_matches('/');
    let first = rest.split('/').next().filter(|s| !s.is_empty())?;
    Some(crate::http::request::scim_endpoint(first).unwrap_or("other").to_owned())
}

/// A few words on what a SCIM request did, from its method, path, status and response.
pub fn summarize(method: &Method, path: &str, status: u16, peek: &Peek) -> Option<String> {
    let rest = path.strip_prefix("/scim/v2")?.trim_matches('/');
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (noun, nouns) = match segments.first().copied() {
        Some("Users") => ("user", "users"),
        Some("Groups") => ("group", "groups"),
        Some("Bulk") => {
            let operations = peek.operations.as_ref().map(Vec::len);
            return Some(match (status < 400, operations) {
                (true, Some(n)) => format!("bulk request: {n} operation{}", plural(n)),
                (true, None) => "bulk request".to_owned(),
                (false, _) => "bulk request failed".to_owned(),
            });
        }
        Some(".search") => return Some(search_summary("resources", status, peek)),
        Some(other) if status < 400 && *method == Method::GET => return Some(format!("read {other}")),
        _ => return None,
    };
    let name = peek.user_name.as_deref().or(peek.display_name.as_deref());
    let target = |fallback: Option<&&str>| {
        name.map(str::to_owned).or_else(|| fallback.map(|id| id.to_string())).unwrap_or_default()
    };
    let id = segments.get(1).filter(|s| **s != ".search");
    let ok = status < 400;
    Some(match (method, segments.len()) {
        (&Method::GET, 1) => search_summary(nouns, status, peek),
        (&Method::POST, 2) if segments[1] == ".search" => search_summary(nouns, status, peek),
        (&Method::POST, 1) if ok => format!("created {noun} {}", target(None)),
        (&Method::POST, 1) => format!("create {noun} failed"),
        (&Method::GET, _) if ok => format!("read {noun} {}", target(id)),
        (&Method::GET, _) => format!("read {noun} {} failed", target(id)),
        (&Method::PUT | &Method::PATCH, _) if ok && noun == "user" && peek.deactivated() => {
            format!("deactivated user {}", target(id))
        }
        (&Method::PUT, _) if ok => format!("replaced {noun} {}", target(id)),
        (&Method::PATCH, _) if ok => format!("updated {noun} {}", target(id)),
        (&Method::PUT | &Method::PATCH, _) => format!("update of {noun} {} failed", target(id)),
        (&Method::DELETE, _) if ok => format!("deleted {noun} {}", target(id)),
        (&Method::DELETE, _) => format!("delete of {noun} {} failed", target(id)),
        _ => return None,
    })
}

/// The note a successful create attaches: the same words `summarize` would find in the answer.
pub fn created_note(noun: &str, name: &str) -> ActivityNote {
    ActivityNote(format!("created {noun} {name}"))
}

/// The note a successful list or search attaches: the same words `summarize` would find.
pub fn list_note(nouns: &str, total: u64) -> ActivityNote {
    // Pushed piece by piece: every lookup's answer carries one.
    let mut note = String::with_capacity(32);
    note.push_str("listed ");
    note.push_str(nouns);
    note.push_str(": ");
    note.push_str(itoa::Buffer::new().format(total));
    note.push_str(" result");
    note.push_str(plural(usize::try_from(total).unwrap_or(usize::MAX)));
    ActivityNote(note)
}

fn search_summary(nouns: &str, status: u16, peek: &Peek) -> String {
    match (status < 400, peek.total_results) {
        (true, Some(n)) => list_note(nouns, n).0,
        (true, None) => format!("listed {nouns}"),
        (false, _) => format!("listing {nouns} failed"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_a_path_names() {
        assert_eq!(target_of("/scim/v2/Users/0190c0de-1").as_deref(), Some("0190c0de-1"));
        assert_eq!(target_of("/scim/v2/groups/g-7").as_deref(), Some("g-7"));
        assert_eq!(target_of("/scim/v2/Users"), None);
        assert_eq!(target_of("/scim/v2/Users/.search"), None);
        assert_eq!(target_of("/scim/v2/Schemas/urn:x"), None);
        assert_eq!(target_of("/api/v1/assets/a"), None);
    }

    fn check(method: Method, path: &str, status: u16, body: &str, expected: Option<&str>) {
        let peek = Peek::read(body.as_bytes());
        assert_eq!(summarize(&method, path, status, &peek).as_deref(), expected, "{method} {path} {status}");
    }

    #[test]
    fn summaries() {
        check(
            Method::POST,
            "/scim/v2/Users",
            201,
            r#"{"userName":"alice@example.com"}"#,
            Some("created user alice@example.com"),
        );
        check(Method::POST, "/scim/v2/Users", 409, r#"{"detail":"taken"}"#, Some("create user failed"));
        check(
            Method::GET,
            "/scim/v2/Users",
            200,
            r#"{"totalResults":0,"Resources":[]}"#,
            Some("listed users: 0 results"),
        );
        check(Method::GET, "/scim/v2/Groups/", 200, r#"{"totalResults":1}"#, Some("listed groups: 1 result"));
        check(Method::GET, "/scim/v2/Users/abc", 200, r#"{"userName":"bob"}"#, Some("read user bob"));
        check(Method::GET, "/scim/v2/Users/abc", 404, r#"{"detail":"no"}"#, Some("read user abc failed"));
        check(
            Method::PATCH,
            "/scim/v2/Users/abc",
            200,
            r#"{"userName":"bob","active":false}"#,
            Some("deactivated user bob"),
        );
        check(
            Method::PUT,
            "/scim/v2/Users/abc",
            200,
            r#"{"userName":"bob","active":"False"}"#,
            Some("deactivated user bob"),
        );
        check(Method::PUT, "/scim/v2/Users/abc", 200, r#"{"userName":"bob","active":true}"#, Some("replaced user bob"));
        check(Method::PATCH, "/scim/v2/Groups/g1", 204, "", Some("updated group g1"));
        check(
            Method::PUT,
            "/scim/v2/Groups/g1",
            200,
            r#"{"displayName":"Engineering"}"#,
            Some("replaced group Engineering"),
        );
        check(Method::DELETE, "/scim/v2/Users/abc", 204, "", Some("deleted user abc"));
        check(Method::POST, "/scim/v2/Users/.search", 200, r#"{"totalResults":3}"#, Some("listed users: 3 results"));
        check(Method::POST, "/scim/v2/Bulk", 200, r#"{"Operations":[{},{}]}"#, Some("bulk request: 2 operations"));
        check(Method::GET, "/scim/v2/ServiceProviderConfig", 200, "{}", Some("read ServiceProviderConfig"));
        check(Method::GET, "/scim/v2/Nothing", 404, "{}", None);
    }

    fn check_note(body: serde_json::Value, expected: Option<&str>) {
        let note = group_patch_note(&body, "Engineering").map(|n| n.0);
        assert_eq!(note.as_deref(), expected, "{body}");
    }

    #[test]
    fn group_patch_notes() {
        use serde_json::json;
        let ops = |ops: serde_json::Value| json!({"schemas": [], "Operations": ops});
        check_note(
            ops(json!([{"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])),
            Some("added 2 members to group Engineering"),
        );
        check_note(
            ops(json!([{"op": "Remove", "path": "members[value eq \"a\"]"}])),
            Some("removed 1 member from group Engineering"),
        );
        check_note(
            ops(json!([{"op": "remove", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}])),
            Some("removed 2 members from group Engineering"),
        );
        check_note(
            ops(json!([{"op": "remove", "path": "members"}])),
            Some("removed every member from group Engineering"),
        );
        check_note(
            ops(json!([{"op": "replace", "value": {"id": "x", "displayName": "Eng"}}])),
            Some("renamed group Engineering"),
        );
        check_note(
            ops(json!([{"op": "replace", "path": "members", "value": []}])),
            Some("replaced the members of group Engineering"),
        );
        check_note(ops(json!([{"op": "replace", "path": "externalId", "value": "x"}])), None);
        check_note(json!({}), None);
    }

    #[test]
    fn resources() {
        assert_eq!(resource_of("/scim/v2/Users/abc").as_deref(), Some("Users"));
        assert_eq!(resource_of("/scim/v2/groups").as_deref(), Some("Groups"));
        assert_eq!(resource_of("/scim/v2/.search").as_deref(), Some(".search"));
        assert_eq!(resource_of("/scim/v2/whatever").as_deref(), Some("other"));
        assert_eq!(resource_of("/scim/v2/"), None);
        assert_eq!(resource_of("/healthz"), None);
    }
}
