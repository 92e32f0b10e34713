//! The single writer: one thread owns the read-write connection and commits queued writes in groups.
//!
//! Callers send a closure and wait for its answer. The thread takes every write waiting in the queue (up
//! to [`MAX_GROUP`]), opens one `BEGIN IMMEDIATE` transaction, runs each write inside its own savepoint,
//! and commits once: one fsync serves the whole group. A write that fails (or panics) is rolled back to
//! its savepoint alone and its neighbours still commit. Every caller is answered only after the commit
//! has returned, so an acknowledged write is durable (`synchronous=FULL`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, transaction_statement};

/// The most writes one transaction takes: bounds the latency a write can add to its group.
const MAX_GROUP: usize = 512;
/// Writes that may wait in the queue; senders beyond it wait (backpressure instead of unbounded memory).
const QUEUE_DEPTH: usize = 4096;
/// The longest the server's writer gives way to a command before its next transaction.
const GIVE_WAY_AT_MOST: Duration = Duration::from_secs(2);
/// A command's marker older than this is left over from a command that died: it is ignored.
const MARKER_STALE_AFTER: Duration = Duration::from_secs(30);

/// How a writer shares the database file with the writers of other processes (the CLI beside `serve`).
///
/// SQLite gives the write lock to whoever asks when it is free, and a busy server's writer commits one
/// transaction right after another: a command waiting in SQLite's busy handler, which sleeps and
/// retries, would almost never find the lock free, and `scimbox token revoke` would starve. So a command
/// announces itself with a marker file while it waits for and holds the lock, and the server's writer
/// looks for a fresh marker before each transaction (one `stat` per transaction, not per write) and
/// waits for it to go, up to [`GIVE_WAY_AT_MOST`].
#[derive(Debug, Clone)]
pub(super) enum Sharing {
    /// The server's writer: gives way to an announced command.
    GivesWay(PathBuf),
    /// A command's writer: announces itself around each of its transactions.
    Announces(PathBuf),
}

impl Sharing {
    /// Before a transaction: wait for an announced command, or announce this one.
    fn before(&self) {
        match self {
            Sharing::GivesWay(marker) => {
                let started = std::time::Instant::now();
                while started.elapsed() < GIVE_WAY_AT_MOST && is_fresh(marker) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            Sharing::Announces(marker) => {
                if let Err(error) = std::fs::write(marker, std::process::id().to_string()) {
                    tracing::debug!(%error, "cannot announce the command to a running server");
                }
            }
        }
    }

    /// After a transaction: a command takes its announcement back.
    fn after(&self) {
        if let Sharing::Announces(marker) = self {
            let _ = std::fs::remove_file(marker);
        }
    }
}

fn is_fresh(marker: &std::path::Path) -> bool {
    std::fs::metadata(marker)
        .and_then(|meta| meta.modified())
        .is_ok_and(|at| SystemTime::now().duration_since(at).unwrap_or_default() < MARKER_STALE_AFTER)
}

/// What a queued write reports back to the writer loop after it ran: whether to keep its savepoint, and
/// how to answer its caller once the commit outcome is known.
struct Ran {
    ok: bool,
    /// The transaction can no longer be committed (a write of a chunk failed after changing the
    /// database, with no savepoint to undo it with, or SQLite rolled the transaction back itself): the
    /// whole group is rolled back and every caller told so.
    spoiled: bool,
    answer: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

/// A queued write: given the connection (or the reason there is none), it runs and reports back.
type Job = Box<dyn FnOnce(Result<&Connection, StoreError>) -> Ran + Send>;

enum Message {
    Write(Job),
    /// A chunk's job: its items run in savepoints of their own (or need none), so it runs in the
    /// transaction itself, not inside a savepoint. Nested in one, every item's release would truncate
    /// SQLite's in-memory sub-journal, which is a list walked from its start, and that list would hold
    /// every page the chunk had touched so far: a chunk of 1,000 creates spent a third of its time there.
    Chunk(Job),
    Close(oneshot::Sender<()>),
}

/// A job of a group, and whether it runs in a savepoint of its own.
struct Queued {
    job: Job,
    own_savepoint: bool,
}

impl Message {
    /// The job this message carries, if it is one.
    fn queued(self) -> Result<Queued, Option<oneshot::Sender<()>>> {
        match self {
            Message::Write(job) => Ok(Queued { job, own_savepoint: true }),
            Message::Chunk(job) => Ok(Queued { job, own_savepoint: false }),
            Message::Close(done) => Err(Some(done)),
        }
    }
}

#[derive(Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Message>,
    stats: Arc<Counters>,
}

/// Called after each transaction with the number of writes it carried and how long it took from
/// `BEGIN` to the end of `COMMIT`: what the metrics' batch size and commit latency are made of.
pub type CommitObserver = Box<dyn Fn(usize, Duration) + Send + Sync>;

#[derive(Default)]
struct Counters {
    transactions: AtomicU64,
    writes: AtomicU64,
    failed_writes: AtomicU64,
    observer: std::sync::OnceLock<CommitObserver>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters")
            .field("transactions", &self.transactions)
            .field("writes", &self.writes)
            .field("failed_writes", &self.failed_writes)
            .finish_non_exhaustive()
    }
}

/// How much the writer has done since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed (or attempted).
    pub transactions: u64,
    /// Writes run, successful or not.
    pub writes: u64,
    /// Writes that failed and were rolled back to their savepoint.
    pub failed_writes: u64,
}

/// While alive, the writer thread is parked inside a write; dropping it lets the writer go on.
/// How long a chunk's transaction waits for the next write of its task before it commits what it has:
/// bounds how long a task that stopped writing (or waits on something else) keeps everyone else waiting.
const CHUNK_GAP: Duration = Duration::from_millis(10);
/// The most writes one chunk takes before it commits.
const CHUNK_MAX: usize = 2000;

/// One write of a chunk: runs on the connection, answers its caller itself, and says whether to keep it.
pub(super) struct Item {
    pub run: Box<dyn FnOnce(&Connection) -> bool + Send>,
    /// Whether it runs in a savepoint of its own. A write that checks everything before its first change
    /// (a create) changes nothing when it fails, and runs without one: a savepoint and the page copies
    /// it keeps were a sixth of a create's instructions in a Bulk request. Should such a write fail
    /// after a change all the same, nothing can undo that change alone, and the whole transaction is
    /// rolled back (`Ran::spoiled`).
    pub savepoint: bool,
}

/// The way into a chunk's open transaction: writes are sent while it is open; the writer closes it (under
/// this lock, then runs what was sent before) when it stops taking writes, so none is left unrun unless
/// the transaction was spoiled (then each caller is told its write did not run).
#[derive(Debug)]
pub(super) struct ChunkGate {
    items: Option<std::sync::mpsc::Sender<Item>>,
    /// The chunk's transaction was rolled back: the task's later writes must not go to a new chunk.
    spoiled: bool,
}

impl ChunkGate {
    /// Sends `item` into the chunk, or gives it back when the chunk no longer takes writes.
    pub(super) fn send(&mut self, item: Item) -> Result<(), Item> {
        match &self.items {
            Some(items) => items.send(item).map_err(|e| e.0),
            None => Err(item),
        }
    }

    /// Lets the chunk commit (or roll back, when `spoiled`): it takes no more writes.
    pub(super) fn finish(&mut self, spoiled: bool) {
        self.items = None;
        self.spoiled |= spoiled;
    }

    /// Whether the chunk's transaction was rolled back.
    pub(super) fn spoiled(&self) -> bool {
        self.spoiled
    }
}

/// A chunk of one task's writes in one transaction (`Store::in_one_commit`): its gate, and the outcome
/// of its commit.
pub(super) struct Chunk {
    pub gate: Arc<std::sync::Mutex<ChunkGate>>,
    pub committed: oneshot::Receiver<Result<(), StoreError>>,
}

/// Runs one write of a chunk, in its own savepoint if it asks for one. Answers whether the transaction
/// can still be committed: not when a write without a savepoint failed after changing the database, nor
/// when SQLite rolled the transaction back itself (as it does after some I/O errors).
fn run_item(conn: &Connection, item: Item) -> bool {
    let Item { run, savepoint } = item;
    if !savepoint {
        let before = conn.total_changes();
        let keep = catch_unwind(AssertUnwindSafe(|| run(conn))).unwrap_or(false);
        return (keep || conn.total_changes() == before) && !conn.is_autocommit();
    }
    if let Err(error) = transaction_statement(conn, "SAVEPOINT item") {
        tracing::error!(%error, "cannot open a savepoint");
        return !conn.is_autocommit();
    }
    let keep = catch_unwind(AssertUnwindSafe(|| run(conn))).unwrap_or(false);
    if !keep && let Err(error) = transaction_statement(conn, "ROLLBACK TO item") {
        tracing::error!(%error, "cannot roll a write back");
    }
    if let Err(error) = transaction_statement(conn, "RELEASE item") {
        tracing::error!(%error, "cannot release a savepoint");
    }
    !conn.is_autocommit()
}

#[derive(Debug)]
pub struct WriterHold {
    _release: std::sync::mpsc::Sender<()>,
}

impl Writer {
    /// Starts the writer thread on `conn`. `checkpointer` is the thread that the connection's WAL hook
    /// wakes (`checkpoint::start`): it ends with the connection, and the writer joins it before it
    /// reports itself closed.
    pub(super) fn start(
        conn: Connection,
        sharing: Sharing,
        checkpointer: Option<std::thread::JoinHandle<()>>,
    ) -> Result<Writer, StoreError> {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(Counters::default());
        let thread_stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("scimbox-writer".into())
            .spawn(move || run(conn, receiver, &thread_stats, &sharing, checkpointer))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { queue, stats })
    }

    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = conn.and_then(f);
            let ok = result.is_ok();
            let answer = Box::new(move |commit: Result<(), StoreError>| {
                let _ = reply.send(commit.and(result));
            });
            Ran { ok, spoiled: false, answer }
        });
        self.queue.send(Message::Write(job)).await.map_err(|_| StoreError::Closed)?;
        // A dropped reply means the write panicked: it was rolled back like any failed write.
        answer.await.unwrap_or_else(|_| Err(StoreError::Internal("a write panicked and was rolled back".into())))
    }

    pub(super) async fn hold(&self) -> Result<WriterHold, StoreError> {
        let (entered_tx, entered) = oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let job: Job = Box::new(move |_conn| {
            let _ = entered_tx.send(());
            // Returns when the hold is dropped (the sender disconnects).
            let _ = released.recv();
            Ran { ok: true, spoiled: false, answer: Box::new(|_| {}) }
        });
        self.queue.send(Message::Write(job)).await.map_err(|_| StoreError::Closed)?;
        entered.await.map_err(|_| StoreError::Closed)?;
        Ok(WriterHold { _release: release })
    }

    /// Sets the function told about every transaction (once; later calls are ignored).
    /// Opens a chunk: a transaction of the writer's that runs the writes sent through its gate, each in
    /// its own savepoint, until its task finishes it, stops sending for `CHUNK_GAP`, or has sent
    /// `CHUNK_MAX`; then it commits with its group. Each write answers as soon as it ran; the commit's
    /// outcome comes through `committed`.
    pub(super) async fn open_chunk(&self) -> Result<Chunk, StoreError> {
        let (items_tx, items) = std::sync::mpsc::channel::<Item>();
        let gate = Arc::new(std::sync::Mutex::new(ChunkGate { items: Some(items_tx), spoiled: false }));
        let (done, committed) = oneshot::channel();
        let job_gate = Arc::clone(&gate);
        let job: Job = Box::new(move |conn| {
            let mut ran = 0;
            let mut sound = true;
            if let Ok(conn) = conn {
                while ran < CHUNK_MAX && sound {
                    match items.recv_timeout(CHUNK_GAP) {
                        Ok(item) => {
                            sound = run_item(conn, item);
                            ran += 1;
                        }
                        Err(_) => break,
                    }
                }
            }
            job_gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finish(!sound);
            // What was sent before the gate closed still runs in this transaction (without a connection,
            // or once the transaction is spoiled, dropping an item answers its caller with an error).
            while let Ok(item) = items.try_recv() {
                if let Ok(conn) = conn
                    && sound
                {
                    sound = run_item(conn, item);
                }
            }
            Ran { ok: sound, spoiled: !sound, answer: Box::new(move |commit| drop(done.send(commit))) }
        });
        self.queue.send(Message::Chunk(job)).await.map_err(|_| StoreError::Closed)?;
        Ok(Chunk { gate, committed })
    }

    pub(super) fn observe(&self, observer: CommitObserver) {
        let _ = self.stats.observer.set(observer);
    }

    pub(super) fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            writes: self.stats.writes.load(Ordering::Relaxed),
            failed_writes: self.stats.failed_writes.load(Ordering::Relaxed),
        }
    }

    pub(super) async fn close(&self) {
        let (done_tx, done) = oneshot::channel();
        if self.queue.send(Message::Close(done_tx)).await.is_ok() {
            let _ = done.await;
        }
    }
}

fn run(
    mut conn: Connection,
    mut receiver: mpsc::Receiver<Message>,
    stats: &Counters,
    sharing: &Sharing,
    checkpointer: Option<std::thread::JoinHandle<()>>,
) {
    let mut group: Vec<Queued> = Vec::with_capacity(MAX_GROUP);
    let mut closing = None;
    let mut words = PendingWords::new(sharing);
    while closing.is_none() {
        let next = match receiver.try_recv() {
            Ok(message) => Some(message),
            Err(mpsc::error::TryRecvError::Empty) => {
                // Nothing to write: a moment to move new users' words into the index (the queue is
                // looked at again after each step).
                if words.while_idle(&conn, sharing, || receiver.is_empty()) {
                    continue;
                }
                receiver.blocking_recv()
            }
            Err(mpsc::error::TryRecvError::Disconnected) => None,
        };
        match next.map(Message::queued) {
            Some(Ok(queued)) => group.push(queued),
            Some(Err(done)) => closing = done,
            None => break,
        }
        while group.len() < MAX_GROUP && closing.is_none() {
            match receiver.try_recv().map(Message::queued) {
                Ok(Ok(queued)) => group.push(queued),
                Ok(Err(done)) => closing = done,
                Err(_) => break,
            }
        }
        if !group.is_empty() {
            let started = std::time::Instant::now();
            commit_group(&conn, group.drain(..), stats, sharing);
            words.after_group(&conn, sharing, started.elapsed());
        }
    }
    // Refuse what arrives from now on; writes already queued behind the close are still committed.
    receiver.close();
    while let Ok(message) = receiver.try_recv() {
        if let Ok(queued) = message.queued() {
            commit_group(&conn, std::iter::once(queued), stats, sharing);
        }
    }
    if let Some(checkpointer) = checkpointer {
        super::checkpoint::stop(&mut conn, checkpointer);
    }
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// How long a busy writer goes on without moving waiting words into the index: bounds how many wait (so
/// how much a search reads beside the index) when writes never stop coming.
const WORDS_AT_LEAST_EVERY: Duration = Duration::from_millis(20);
/// The longest transaction that `PendingWords::after_group` measures its budget against.
const WORDS_BUDGET_AT_MOST: Duration = Duration::from_millis(50);
/// How long the writer leaves waiting words alone after it failed to move them.
const WORDS_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The writer's share of the word index (`words::index_pending`): new users' words wait in
/// `pending_words` until the writer has nothing else to do, or, while it is never idle, for about
/// `WORDS_AT_LEAST_EVERY`. Only the server's writer moves them; a command's leaves them for the server.
struct PendingWords {
    /// Whether the writer moves words at all (the server's writer).
    moves: bool,
    /// Whether words may be waiting: at the start, and after every transaction, until a move finds none.
    maybe: bool,
    /// When the writer last found none waiting, or last failed to move them.
    settled: std::time::Instant,
    failed: bool,
}

impl PendingWords {
    fn new(sharing: &Sharing) -> PendingWords {
        let moves = matches!(sharing, Sharing::GivesWay(_));
        PendingWords { moves, maybe: moves, settled: std::time::Instant::now(), failed: false }
    }

    /// Moves waiting words while the queue stays empty (in one transaction, which ends at the first
    /// step after a write arrives); answers whether more may be waiting.
    fn while_idle(&mut self, conn: &Connection, sharing: &Sharing, idle: impl FnMut() -> bool) -> bool {
        if !self.maybe || (self.failed && self.settled.elapsed() < WORDS_RETRY_AFTER) {
            return false;
        }
        self.index(conn, sharing, idle)
    }

    /// After a transaction that took `took`: words may be waiting. If the writer has not found them all
    /// moved for `WORDS_AT_LEAST_EVERY`, it moves some now, for about half as long as the transaction
    /// took (one step at least): at most a third of a writer that is never idle, which moves words
    /// faster than creates make them, so the waiting rows stay few and no write waits long behind them.
    fn after_group(&mut self, conn: &Connection, sharing: &Sharing, took: Duration) {
        if !self.moves {
            return;
        }
        self.maybe = true;
        let due = if self.failed { WORDS_RETRY_AFTER } else { WORDS_AT_LEAST_EVERY };
        if self.settled.elapsed() >= due {
            // `took` counts a wait for a command's lock too: the budget stays a few milliseconds.
            let until = std::time::Instant::now() + took.min(WORDS_BUDGET_AT_MOST) / 2;
            self.index(conn, sharing, || std::time::Instant::now() < until);
        }
    }

    fn index(&mut self, conn: &Connection, sharing: &Sharing, more: impl FnMut() -> bool) -> bool {
        sharing.before();
        let moved = super::words::index_pending(conn, more);
        sharing.after();
        match moved {
            Ok(false) => true,
            Ok(true) => {
                (self.maybe, self.failed, self.settled) = (false, false, std::time::Instant::now());
                false
            }
            Err(error) => {
                tracing::error!(%error, "cannot move new users' words into the search index; searches still find them");
                (self.maybe, self.failed, self.settled) = (false, true, std::time::Instant::now());
                false
            }
        }
    }
}

fn commit_group(conn: &Connection, jobs: impl Iterator<Item = Queued>, stats: &Counters, sharing: &Sharing) {
    sharing.before();
    commit_jobs(conn, jobs, stats);
    sharing.after();
}

fn commit_jobs(conn: &Connection, jobs: impl Iterator<Item = Queued>, stats: &Counters) {
    stats.transactions.fetch_add(1, Ordering::Relaxed);
    let started = std::time::Instant::now();
    if let Err(error) = transaction_statement(conn, "BEGIN IMMEDIATE") {
        let error = StoreError::from(error);
        tracing::error!(%error, "cannot begin a write transaction");
        for Queued { job, .. } in jobs {
            stats.writes.fetch_add(1, Ordering::Relaxed);
            stats.failed_writes.fetch_add(1, Ordering::Relaxed);
            let Ran { answer, .. } = job(Err(error.clone()));
            answer(Err(error.clone()));
        }
        return;
    }
    let mut answers = Vec::new();
    let mut spoiled = false;
    for Queued { job, own_savepoint } in jobs {
        stats.writes.fetch_add(1, Ordering::Relaxed);
        if spoiled {
            // The transaction will be rolled back: the writes after the one that spoiled it do not run.
            stats.failed_writes.fetch_add(1, Ordering::Relaxed);
            answers.push(job(Err(StoreError::Internal("the write's transaction was rolled back".into()))).answer);
            continue;
        }
        if own_savepoint && let Err(error) = transaction_statement(conn, "SAVEPOINT write") {
            tracing::error!(%error, "cannot open a savepoint");
            stats.failed_writes.fetch_add(1, Ordering::Relaxed);
            answers.push(job(Err(StoreError::from(error))).answer);
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(Ok(conn)))) {
            Ok(Ran { ok: true, answer, .. }) => {
                answers.push(answer);
                if own_savepoint && let Err(error) = transaction_statement(conn, "RELEASE write") {
                    tracing::error!(%error, "cannot release a savepoint");
                }
            }
            Ok(Ran { ok: false, spoiled: job_spoiled, answer }) => {
                stats.failed_writes.fetch_add(1, Ordering::Relaxed);
                answers.push(answer);
                spoiled |= job_spoiled;
                if own_savepoint && !spoiled {
                    rollback_savepoint(conn);
                }
            }
            Err(_) => {
                stats.failed_writes.fetch_add(1, Ordering::Relaxed);
                if own_savepoint {
                    tracing::error!("a write panicked; it was rolled back alone");
                    rollback_savepoint(conn);
                } else {
                    // A chunk's items catch their own panics (`run_item`): each ran whole or not at all.
                    tracing::error!("a chunk panicked between its writes; the writes it ran are kept");
                }
            }
        }
        // SQLite rolls a transaction back itself after some errors (a full disk, an I/O error): what
        // follows would run outside any transaction, and what went before is gone.
        spoiled |= conn.is_autocommit();
    }
    let outcome = if spoiled {
        tracing::error!("a write failed after changing the database; the whole group is rolled back");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        Err(StoreError::Internal("the transaction was rolled back after a write failed".into()))
    } else {
        transaction_statement(conn, "COMMIT").map_err(|error| {
            tracing::error!(%error, "commit failed; the whole group is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            StoreError::from(error)
        })
    };
    if let Some(observe) = stats.observer.get() {
        observe(answers.len(), started.elapsed());
    }
    for answer in answers {
        answer(outcome.clone());
    }
}

fn rollback_savepoint(conn: &Connection) {
    if let Err(error) = conn.execute_batch("ROLLBACK TO write; RELEASE write") {
        tracing::error!(%error, "cannot roll back a savepoint");
    }
}
