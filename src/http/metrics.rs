//! Prometheus metrics, in the classic text exposition format (the `prometheus` crate's encoder), served
//! at `/metrics` on a listener of their own (`--metrics-listen`), off by default.
//!
//! Why a listener of its own rather than a route behind a token: Prometheus is configured with a target
//! address, and a separate port is what operators firewall to the monitoring network; the SCIM port,
//! open to the identity provider and often to the internet, then reveals nothing about the appliance's
//! load or its users, and there is no further secret to hand Prometheus and rotate.
//!
//! Request counts and latencies are counted by the request envelope (`routes::handle`) as requests
//! finish. What other parts of the server count (the writer, the token cache, the recorders, the audit
//! stream) is read at each scrape from their own counters, so that none of them depends on this module.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tokio::net::TcpListener;

use super::App;
use super::reply::{self, Body};

/// Request latency buckets, in seconds: from a cached lookup to a slow bulk request.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Commit latency buckets, in seconds (an fsync is 1–10 ms on most disks).
const COMMIT_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// Writes per transaction: 1 when idle, up to the writer's group bound under load.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    scim_operations: IntCounterVec,
    /// Open client connections (the main listener's).
    pub open_connections: AtomicI64,
    connections: IntGauge,
    writer_queue: IntGauge,
    writer_batch: Histogram,
    writer_commit: Histogram,
    writer_transactions: IntCounter,
    writer_failed: IntCounter,
    activity: IntCounterVec,
    audit: IntCounterVec,
    audit_stream: IntCounterVec,
    token_cache_hits: IntCounter,
    argon2: IntCounterVec,
    database_bytes: IntGauge,
    checkpoints: IntCounterVec,
    words_waiting: IntGauge,
    directory: IntGaugeVec,
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter")
}

/// Raises a counter to `value`, a count kept elsewhere that only grows.
fn catch_up(counter: &IntCounter, value: u64) {
    counter.inc_by(value.saturating_sub(counter.get()));
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("scimbox".into()), None).expect("a valid prefix");
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec())).expect("a valid histogram")
        };
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("a valid gauge");
        let single = |name: &str, help: &str| IntCounter::new(name, help).expect("a valid counter");
        let metrics = Metrics {
            requests: counter(
                "http_requests_total",
                "HTTP requests answered, by route class (scim, platform, admin_api, page, health), method and status.",
                &["class", "method", "status"],
            ),
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time from a request's arrival to its answer, by route class, method and status.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["class", "method", "status"],
            )
            .expect("a valid histogram"),
            scim_operations: counter(
                "scim_operations_total",
                "SCIM operations by the name of the token that made them, the operation and its outcome.",
                &["token", "operation", "outcome"],
            ),
            open_connections: AtomicI64::new(0),
            connections: gauge("open_connections", "Client connections open now."),
            writer_queue: gauge("writer_queue_depth", "Writes waiting for the database writer."),
            writer_batch: histogram("writer_batch_size", "Writes committed per transaction.", &BATCH_BUCKETS),
            writer_commit: histogram(
                "writer_commit_duration_seconds",
                "Time from the start of a write transaction to the end of its commit.",
                &COMMIT_BUCKETS,
            ),
            writer_transactions: single("writer_transactions_total", "Write transactions run."),
            writer_failed: single("writer_failed_writes_total", "Writes refused or failed, rolled back alone."),
            activity: counter(
                "activity_records_total",
                "Activity records of SCIM requests, written or dropped when the queue was full.",
                &["result"],
            ),
            audit: counter(
                "audit_records_total",
                "Audit records appended with their changes, and refusals left out of the log by its per-address bound.",
                &["result"],
            ),
            audit_stream: counter(
                "audit_stream_total",
                "Audit records written to the JSON Lines stream, and failed attempts to write it.",
                &["result"],
            ),
            token_cache_hits: single(
                "token_cache_hits_total",
                "Requests whose token was accepted from the cache of verified tokens.",
            ),
            argon2: counter(
                "argon2_runs_total",
                "argon2 runs: token verifications, and every run of the pool (hashes included).",
                &["kind"],
            ),
            database_bytes: gauge("database_size_bytes", "Size of the database file and its write-ahead log."),
            checkpoints: counter(
                "wal_checkpoints_total",
                "Checkpoint runs of the write-ahead log: by the checkpointer thread beside the writer, or by the writer in a commit that leaves the log at 16,000 frames or more (writes that never pause, or a reader holding an old snapshot, keep it from starting over).",
                &["by"],
            ),
            words_waiting: gauge(
                "search_words_waiting",
                "New users whose words wait to be written into the admin page's search index (searches find them meanwhile).",
            ),
            directory: IntGaugeVec::new(
                Opts::new("directory_objects", "Live users and groups, and assets."),
                &["kind"],
            )
            .expect("a valid gauge"),
            registry,
        };
        let build = IntGaugeVec::new(Opts::new("build_info", "The running scimbox; always 1."), &["version"])
            .expect("a valid gauge");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(build),
            Box::new(metrics.requests.clone()),
            Box::new(metrics.latency.clone()),
            Box::new(metrics.scim_operations.clone()),
            Box::new(metrics.connections.clone()),
            Box::new(metrics.writer_queue.clone()),
            Box::new(metrics.writer_batch.clone()),
            Box::new(metrics.writer_commit.clone()),
            Box::new(metrics.writer_transactions.clone()),
            Box::new(metrics.writer_failed.clone()),
            Box::new(metrics.activity.clone()),
            Box::new(metrics.audit.clone()),
            Box::new(metrics.audit_stream.clone()),
            Box::new(metrics.token_cache_hits.clone()),
            Box::new(metrics.argon2.clone()),
            Box::new(metrics.database_bytes.clone()),
            Box::new(metrics.checkpoints.clone()),
            Box::new(metrics.words_waiting.clone()),
            Box::new(metrics.directory.clone()),
        ];
        for collector in collectors {
            metrics.registry.register(collector).expect("each metric is registered once");
        }
        metrics
    }

    /// Counts one answered request.
    pub fn request(&self, class: &str, method: &Method, status: u16, latency: Duration) {
        let status = status.to_string();
        let labels = [class, method.as_str(), status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(latency.as_secs_f64());
    }

    /// Counts one SCIM operation by `token`.
    pub fn scim_operation(&self, token: &str, operation: &str, status: u16) {
        let outcome = if status < 400 { "success" } else { "failure" };
        self.scim_operations.with_label_values(&[token, operation, outcome]).inc();
    }

    /// What the writer reports after each transaction.
    pub fn commit_observer(self: &Arc<Metrics>) -> crate::store::CommitObserver {
        let metrics = Arc::clone(self);
        Box::new(move |writes, took| {
            metrics.writer_batch.observe(writes as f64);
            metrics.writer_commit.observe(took.as_secs_f64());
        })
    }

    /// The exposition: reads what other parts count, then encodes every metric.
    pub async fn render(&self, app: &App) -> Result<String, String> {
        self.connections.set(self.open_connections.load(Ordering::Relaxed));
        self.writer_queue.set(i64::try_from(app.store.queued_writes()).unwrap_or(i64::MAX));
        let writer = app.store.writer_stats();
        catch_up(&self.writer_transactions, writer.transactions);
        catch_up(&self.writer_failed, writer.failed_writes);
        catch_up(&self.activity.with_label_values(&["written"]), app.recorder.written());
        catch_up(&self.activity.with_label_values(&["dropped"]), app.recorder.dropped());
        catch_up(&self.audit.with_label_values(&["appended"]), crate::store::audit_records_appended());
        catch_up(&self.audit.with_label_values(&["left_out"]), app.audit_budget.left_out());
        catch_up(&self.audit_stream.with_label_values(&["written"]), app.audit_stream.written.load(Ordering::Relaxed));
        catch_up(&self.audit_stream.with_label_values(&["failed"]), app.audit_stream.failures.load(Ordering::Relaxed));
        catch_up(&self.token_cache_hits, app.tokens.cache_hits());
        catch_up(&self.argon2.with_label_values(&["token_verification"]), app.tokens.argon2_runs());
        catch_up(&self.argon2.with_label_values(&["pool"]), app.store.argon2().runs());
        self.database_bytes.set(i64::try_from(app.store.size_on_disk()).unwrap_or(i64::MAX));
        let checkpoints = app.store.checkpoint_stats();
        catch_up(&self.checkpoints.with_label_values(&["checkpointer"]), checkpoints.checkpointer);
        catch_up(&self.checkpoints.with_label_values(&["writer"]), checkpoints.writer);
        let waiting = app.store.words_waiting().await.map_err(|e| e.to_string())?;
        self.words_waiting.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        let (users, groups, assets) = app.store.counts().await.map_err(|e| e.to_string())?;
        for (kind, count) in [("users", users), ("groups", groups), ("assets", assets)] {
            self.directory.with_label_values(&[kind]).set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text).map_err(|e| e.to_string())?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The route class of a path, as the request metrics label it.
pub fn route_class(path: &str) -> &'static str {
    if path.starts_with("/scim/") {
        "scim"
    } else if path.starts_with("/api/") {
        "platform"
    } else if path.starts_with("/admin/api/") {
        "admin_api"
    } else if path == "/healthz" || path == "/readyz" {
        "health"
    } else {
        "page"
    }
}

/// The SCIM operation a request is, for the per-token counts: the method and the endpoint, without ids.
pub fn scim_operation(method: &Method, path: &str) -> String {
    let mut segments = path.trim_start_matches("/scim/v2").split('/').filter(|s| !s.is_empty());
    let endpoint = match segments.next() {
        Some(first) => super::request::scim_endpoint(first).unwrap_or("other"),
        None => "root",
    };
    let item = match segments.next() {
        Some(".search") => "/.search",
        Some(_) => "/{id}",
        None => "",
    };
    // Pushed piece by piece: `format!` here cost more than the counting it labels.
    let mut operation = String::with_capacity(method.as_str().len() + 1 + endpoint.len() + item.len());
    operation.push_str(method.as_str());
    operation.push(' ');
    operation.push_str(endpoint);
    operation.push_str(item);
    operation
}

/// Serves `/metrics` on its own listener until `shutdown` fires.
pub async fn serve(app: Arc<App>, listener: TcpListener, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = Arc::clone(&app);
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let app = Arc::clone(&app);
                async move { Ok::<_, std::convert::Infallible>(answer(&app, &request).await) }
            });
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(app: &App, request: &Request<Incoming>) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => match app.metrics.render(app).await {
            Ok(text) => {
                let mut response = reply::with_body(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", text);
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot gather");
                reply::with_body(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "metrics unavailable")
            }
        },
        (_, "/metrics") => {
            reply::with_body(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "method not allowed")
        }
        _ => reply::with_body(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found: metrics are at /metrics"),
    }
}
