//! The SQLite store: opening the database (pragmas, refinery migrations from `sql/`), the single writer
//! thread with group commit, the pool of read-only connections, and every SQL statement of the product.
//!
//! Architecture invariant: no rusqlite type crosses this module's boundary. Callers see domain records
//! and [`StoreError`]; closures over a `Connection` exist only inside `store/`. Writes go through the
//! writer thread (see `writer.rs`); reads run on read-only connections from the blocking pool (see
//! `readers.rs`), so a read never waits for a write and a write never waits for a read.

mod access;
mod activity;
mod admins;
mod assets;
mod audit;
mod checkpoint;
mod directory;
mod groups;
mod listing;
mod migrations;
mod query;
mod readers;
pub use readers::keep_own_reader_on_this_thread;
mod sessions;
mod tokens;
mod users;
mod words;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use time::OffsetDateTime;
use time::macros::format_description;

pub use access::{AccessDecision, GroupAssets, ReachableAsset, UserAssets};
pub use activity::{ActivityEntry, ActivityPage, ActivityQuery, ActivityRecord, StatusFilter, TokenActivity};
pub use admins::{AdminCredentials, AdminRecord, AdminRemoval};
pub use assets::{
    Asset, AssetChange, AssetQuery, AssetRef, ExtensionOutcome, GroupSummary, NewAsset, NewGrant, OwnedAsset, Page,
    Permission, Permissions, PrincipalView, UserSummary,
};
pub use audit::{AuditPage, AuditQuery, Verification, appended as audit_records_appended};
pub use checkpoint::CheckpointStats;
pub use directory::{
    DeletedUser, DirectoryGroup, DirectoryMember, DirectoryOrder, DirectoryPage, DirectoryQuery, DirectoryUser,
};
pub use sessions::{AnySession, NewUserSession, SessionRecord, SessionUser, SignInKey, SignInMatch, UserSessionRecord};
pub use tokens::{RevokeOutcome, TOKEN_EPOCH_TRUSTED_FOR, TokenAuthRow, TokenEpoch, TokenRecord};
pub use users::{PasswordChange, Precondition};
pub use writer::{CommitObserver, WriterHold, WriterStats};

/// How the store would answer `filter` for `kind`: the SQL condition for the conjuncts it has columns
/// for, and the residual it evaluates in memory (for benchmarks and operators; callers never need it).
pub fn plan_filter(
    kind: crate::scim::schema::ResourceKind,
    filter: Option<&crate::scim::filter::Filter>,
) -> (Option<String>, Option<crate::scim::filter::Filter>) {
    let (sql, residual) = query::plan(kind, filter);
    (sql.map(|sql| sql.text), residual)
}

/// The database's file name inside the data directory.
pub const DATABASE_FILE: &str = "scimbox.db";

/// How long the server's statements wait for another process's lock (the CLI and `serve` share the file):
/// a command holds it for milliseconds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The file a command holds while it waits for and holds the write lock, so that a running server's writer
/// gives way to it (`writer::Sharing`).
const COMMAND_MARKER_FILE: &str = "command.waiting";
/// How long a command's statements wait for the server's lock: a command run beside `serve` waits for the
/// writer's current transaction instead of failing (`token revoke` must land while a client is busy).
const COMMAND_BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the store could not do what was asked. What a client may read is decided by `http/`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("cannot use data directory {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("cannot open database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("database {path} is not a scimbox database or is damaged: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "database {path} was written by a newer scimbox (schema version {found}; this binary knows up to \
         {known}); upgrade scimbox or restore a backup made by this version"
    )]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error("applying migrations to {path} failed: {reason}")]
    Migration { path: PathBuf, reason: String },
    /// A unique value is taken; the text names it for a person ("userName \"bjensen\"").
    #[error("{0} is already taken")]
    Conflict(String),
    #[error("{0} was not found")]
    NotFound(String),
    /// `If-Match` named another version than the current one.
    #[error("the resource is at version {current}, not the one the request names")]
    VersionMismatch { current: i64 },
    /// The change was refused by the SCIM rules while being applied inside the write.
    #[error("{0}")]
    Rejected(crate::scim::Error),
    /// The change was refused by the sharing rules (a level the asset's kind does not offer, an unknown
    /// or deleted principal, …).
    #[error("{0}")]
    Sharing(crate::sharing::Error),
    #[error("the database is busy; try again")]
    Busy,
    #[error("the store is shut down")]
    Closed,
    #[error("database error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Internal(error.to_string()),
        }
    }
}

/// A handle on the open database. Cheap to clone; the writer thread stops when the last handle is
/// dropped or [`Store::close`] is called, after committing everything queued.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

tokio::task_local! {
    /// The chunks of the task running inside `Store::in_one_commit`.
    static ONE_COMMIT: Arc<std::sync::Mutex<OneCommit>>;
}

/// What `in_one_commit` keeps: the open chunk's gate and the commits of its chunks so far.
#[derive(Default)]
struct OneCommit {
    /// The store whose writes go into the chunks (`Store::identity`); another store's writes go their way.
    store: usize,
    gate: Option<Arc<std::sync::Mutex<writer::ChunkGate>>>,
    committed: Vec<tokio::sync::oneshot::Receiver<Result<(), StoreError>>>,
    /// A chunk's transaction was rolled back: the task's later writes are refused, not committed alone.
    spoiled: bool,
}

impl OneCommit {
    /// Lets the open chunk commit; the next write opens another.
    fn finish(&mut self) {
        if let Some(gate) = self.gate.take() {
            let mut gate = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            gate.finish(false);
            self.spoiled |= gate.spoiled();
        }
    }
}

#[derive(Debug)]
struct Inner {
    data_dir: PathBuf,
    path: PathBuf,
    writer: writer::Writer,
    readers: readers::Readers,
    argon2: Arc<crate::hashing::Argon2Pool>,
    /// Where recent pages of the unfiltered lists ended (import paging at any depth).
    positions: Arc<listing::Positions>,
    /// The server's checkpoints of the write-ahead log (none counted for a command's store).
    checkpoints: Arc<checkpoint::Counts>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, refuses one written by a newer scimbox,
    /// applies pending migrations, and starts the writer thread. Nothing is served before this returns.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let marker = data_dir.join(COMMAND_MARKER_FILE);
        Store::open_waiting(data_dir, BUSY_TIMEOUT, writer::Sharing::GivesWay(marker), &crate::audit::Actor::server())
    }

    /// Opens (creating if needed) the database for a command run beside a server: as [`Store::open`], but
    /// its writes wait for the server's writer as long as it takes (up to two minutes) instead of failing.
    pub fn open_for_command(data_dir: &Path) -> Result<Store, StoreError> {
        let marker = data_dir.join(COMMAND_MARKER_FILE);
        let actor = crate::audit::Actor::cli(crate::audit::os_user());
        Store::open_waiting(data_dir, COMMAND_BUSY_TIMEOUT, writer::Sharing::Announces(marker), &actor)
    }

    /// Opens the store; a migration it applies is recorded in the audit log as done by `actor`.
    fn open_waiting(
        data_dir: &Path,
        busy_timeout: Duration,
        sharing: writer::Sharing,
        actor: &crate::audit::Actor,
    ) -> Result<Store, StoreError> {
        prepare_data_dir(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = open_connection(&path, false)?;
        conn.busy_timeout(busy_timeout).map_err(|e| StoreError::Open { path: path.clone(), reason: e.to_string() })?;
        if let Some(migrated) = migrations::apply(&mut conn, &path)? {
            let entry = crate::audit::Entry::new(
                crate::audit::Action::MigrationsApplied,
                Some(crate::audit::Target::named("database", path.display().to_string())),
                serde_json::json!({ "fromVersion": migrated.from, "toVersion": migrated.to }),
            );
            // Immediate: a command and `serve` opening at the same moment append one after the other.
            let transaction = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            audit::append(&transaction, actor, &entry)?;
            transaction.commit()?;
        }
        words::build_if_new(&mut conn)?;
        let readers = readers::Readers::new(path.clone(), reader_pool_size());
        let checkpoints = Arc::<checkpoint::Counts>::default();
        // The server checkpoints beside its writer; a command keeps SQLite's checkpoint in its commit.
        let checkpointer = match sharing {
            writer::Sharing::GivesWay(_) => Some(
                checkpoint::start(&mut conn, open_connection(&path, false)?, &checkpoints)
                    .map_err(|e| StoreError::Internal(format!("cannot start the checkpointer: {e}")))?,
            ),
            writer::Sharing::Announces(_) => None,
        };
        let writer = writer::Writer::start(conn, sharing, checkpointer)?;
        let argon2 = Arc::new(crate::hashing::Argon2Pool::for_this_machine());
        let positions = Arc::default();
        Ok(Store {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_owned(),
                path,
                writer,
                readers,
                argon2,
                positions,
                checkpoints,
            }),
        })
    }

    /// Opens the database in `data_dir` for a command, as [`Store::open_for_command`], only if one exists
    /// there: for commands that read or change an existing installation, where a mistyped `--data-dir` must
    /// not quietly create an empty one.
    pub fn open_existing(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(StoreError::Open {
                path,
                reason: "there is no scimbox database here (check --data-dir)".into(),
            });
        }
        Store::open_for_command(data_dir)
    }

    /// The process's one argon2 pool: every password and token hash goes through it.
    pub fn argon2(&self) -> &Arc<crate::hashing::Argon2Pool> {
        &self.inner.argon2
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks that the database answers a query: what `/readyz` reports.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?)).await.map(drop)
    }

    /// Writes a consistent copy of the live database to `target`, which must not exist yet, and records
    /// it (by `actor`) in the audit log. Safe while the server is writing: the copy is one read snapshot
    /// (`VACUUM INTO`).
    pub async fn backup(&self, actor: &crate::audit::Actor, target: &Path) -> Result<(), StoreError> {
        if target.exists() {
            return Err(StoreError::Conflict(format!("backup target {}", target.display())));
        }
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(StoreError::Open {
                path: target.to_owned(),
                reason: format!("the folder {} does not exist", parent.display()),
            });
        }
        // The copy holds the same hashes as the database: only its owner may read it. VACUUM INTO
        // accepts an existing empty file, so create it first with the right mode.
        create_private_file(target).map_err(|e| StoreError::Open { path: target.to_owned(), reason: e.to_string() })?;
        let target_text = target
            .to_str()
            .ok_or_else(|| StoreError::Internal(format!("backup path {} is not UTF-8", target.display())))?
            .to_owned();
        let path = self.inner.path.clone();
        let copied = target_text.clone();
        tokio::task::spawn_blocking(move || {
            // VACUUM INTO needs a connection that may write its target; the source is only read.
            let conn = open_connection(&path, false)?;
            conn.execute("VACUUM INTO ?1", [copied])?;
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        let bytes = std::fs::metadata(target).map(|meta| meta.len()).unwrap_or(0);
        let entry = crate::audit::Entry::new(
            crate::audit::Action::BackupTaken,
            Some(crate::audit::Target::named("database", self.inner.path.display().to_string())),
            serde_json::json!({ "copy": target_text, "bytes": bytes }),
        );
        self.audit(actor.clone(), entry).await
    }

    /// Counts of the writer's work so far (for tests and metrics).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }

    /// Blocks the writer thread until the returned hold is dropped, so that a test can queue several
    /// writes and watch them commit as one group. Not for production code.
    #[doc(hidden)]
    pub async fn hold_writer(&self) -> Result<WriterHold, StoreError> {
        self.inner.writer.hold().await
    }

    /// Tells `observer` about every transaction the writer commits from now on (the metrics' batch size
    /// and commit latency). Set once per store; later calls are ignored.
    pub fn observe_commits(&self, observer: CommitObserver) {
        self.inner.writer.observe(observer);
    }

    /// The size of the database on disk, its write-ahead log included, in bytes.
    pub fn size_on_disk(&self) -> u64 {
        let file = |suffix: &str| {
            let mut path = self.inner.path.clone().into_os_string();
            path.push(suffix);
            std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
        };
        file("") + file("-wal")
    }

    /// Live users, groups and assets: what the metrics report.
    pub async fn counts(&self) -> Result<(u64, u64, u64), StoreError> {
        self.read_long(|conn| {
            let live = |kind: &str| -> Result<i64, StoreError> {
                Ok(conn
                    .prepare_cached("SELECT live FROM live_counts WHERE kind = ?1")?
                    .query_row([kind], |row| row.get(0))
                    .optional()?
                    .unwrap_or(0))
            };
            let assets: i64 = conn.prepare_cached("SELECT count(*) FROM assets")?.query_row([], |row| row.get(0))?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok((count(live("users")?), count(live("groups")?), count(assets)))
        })
        .await
    }

    /// New users whose words wait to be moved into the search index by the writer (`words::index_pending`).
    pub async fn words_waiting(&self) -> Result<u64, StoreError> {
        self.read_long(|conn| {
            let waiting: i64 =
                conn.prepare_cached("SELECT count(*) FROM pending_words")?.query_row([], |row| row.get(0))?;
            Ok(u64::try_from(waiting).unwrap_or(0))
        })
        .await
    }

    /// Checkpoints of the write-ahead log so far, by the checkpointer and by the writer.
    pub fn checkpoint_stats(&self) -> CheckpointStats {
        self.inner.checkpoints.stats()
    }

    /// Writes queued and not yet picked up by the writer thread.
    pub fn queued_writes(&self) -> usize {
        self.inner.writer.queued()
    }

    /// Commits what is queued and stops the writer thread; later writes fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.inner.writer.close().await;
    }

    /// Runs `f` in its own savepoint of the next group-commit transaction and answers after that
    /// transaction committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_in_savepoint(true, f).await
    }

    /// A write that makes every check that can refuse it before its first change, so that a refused
    /// write has changed nothing (a create: is the name free, then the inserts). Inside `in_one_commit`
    /// it runs without a savepoint of its own; should it fail after a change all the same (a full disk),
    /// the whole transaction is rolled back and the commit reports the error. Elsewhere it is `write`.
    async fn write_checked<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_in_savepoint(false, f).await
    }

    /// `write` and `write_checked`: inside `in_one_commit`, `savepoint` says whether the write gets one.
    async fn write_in_savepoint<T, F>(&self, savepoint: bool, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if let Some(chunks) = self.own_chunks() {
            return self.write_in_chunk(chunks, savepoint, f).await;
        }
        self.inner.writer.write(f).await
    }

    /// The chunks of `in_one_commit` when this task runs inside it for this store.
    fn own_chunks(&self) -> Option<Arc<std::sync::Mutex<OneCommit>>> {
        let chunks = ONE_COMMIT.try_with(Arc::clone).ok()?;
        let mine = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).store == self.identity();
        mine.then_some(chunks)
    }

    /// Which store this is (its shared state's address), to tell stores apart within one task.
    fn identity(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Runs `work` with every write (and read) it makes through this store in as few transactions as it
    /// allows: the
    /// writes go, one after another, into a transaction the writer keeps open for this task (each in its
    /// own savepoint, so a refused write still leaves the others), which commits when `work` ends, when
    /// it stops writing for a moment, or after 2,000 writes. A write answers as soon as it ran, before
    /// its commit: `work`'s result may only be given out once the answer of this function says every
    /// commit succeeded. `POST /Bulk` runs its operations this way: one commit instead of one each.
    pub async fn in_one_commit<T>(&self, work: impl Future<Output = T>) -> (T, Result<(), StoreError>) {
        let chunks = Arc::new(std::sync::Mutex::new(OneCommit { store: self.identity(), ..OneCommit::default() }));
        let value = ONE_COMMIT.scope(Arc::clone(&chunks), work).await;
        let committed = {
            let mut chunks = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            chunks.finish();
            std::mem::take(&mut chunks.committed)
        };
        let mut outcome = Ok(());
        for commit in committed {
            match commit.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => outcome = Err(error),
                Err(_) => outcome = Err(StoreError::Internal("the writer stopped before a commit".into())),
            }
        }
        (value, outcome)
    }

    /// Lets the open transaction of `in_one_commit`, if this task has one, commit now: called before
    /// work that takes long (argon2), so that nobody else's writes wait for it.
    pub fn end_chunk(&self) {
        let _ = ONE_COMMIT.try_with(|chunks| {
            let mut chunks = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if chunks.store == self.identity() {
                chunks.finish();
            }
        });
    }

    /// A write of a task inside `in_one_commit`: into its open chunk, or a new one.
    async fn write_in_chunk<T, F>(
        &self,
        chunks: Arc<std::sync::Mutex<OneCommit>>,
        savepoint: bool,
        f: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let run = Box::new(move |conn: &Connection| {
            let result = f(conn);
            let keep = result.is_ok();
            let _ = reply.send(result);
            keep
        });
        let mut item = writer::Item { run, savepoint };
        loop {
            let (gate, spoiled) = {
                let chunks = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                (chunks.gate.clone(), chunks.spoiled)
            };
            if spoiled {
                // The task's transaction was rolled back: what it sends now must not commit on its own.
                return Err(StoreError::Internal("the write's transaction was rolled back".into()));
            }
            let gate = match gate {
                Some(gate) => gate,
                None => {
                    let chunk = self.inner.writer.open_chunk().await?;
                    let mut chunks = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    chunks.gate = Some(Arc::clone(&chunk.gate));
                    chunks.committed.push(chunk.committed);
                    chunk.gate
                }
            };
            let sent = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(item);
            match sent {
                Ok(()) => break,
                Err(back) => {
                    // That chunk has stopped taking writes: the next one takes this.
                    item = back;
                    let mut chunks = chunks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    chunks.spoiled |= gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).spoiled();
                    if chunks.gate.as_ref().is_some_and(|g| Arc::ptr_eq(g, &gate)) {
                        chunks.gate = None;
                    }
                }
            }
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Internal("a write was not run".into())))
    }

    /// Runs `f` on a read-only connection inside one read transaction (one consistent snapshot).
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        // Inside `in_one_commit`, reads see the task's own writes not yet committed: they run in its chunk
        // (without a savepoint: a read changes nothing).
        if let Some(chunks) = self.own_chunks() {
            return self.write_in_chunk(chunks, false, f).await;
        }
        self.inner.readers.read(f).await
    }

    /// Like [`Store::read`], for a read that may take long (scans, deep pages): always on the blocking
    /// pool, so that it never stalls a worker thread.
    async fn read_long<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if let Some(chunks) = self.own_chunks() {
            return self.write_in_chunk(chunks, false, f).await;
        }
        self.inner.readers.read_long(f).await
    }
}

/// Creates the data directory (owner-only) or checks that the existing one is a directory, and creates
/// the database file owner-only before SQLite does (SQLite gives its `-wal` and `-shm` files the database
/// file's mode).
fn prepare_data_dir(data_dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    let failed = |reason: String| StoreError::DataDir { path: data_dir.to_owned(), reason };
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(failed("it exists but is not a directory".into()));
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(data_dir).map_err(|e| failed(e.to_string()))?;
    let path = data_dir.join(DATABASE_FILE);
    if !path.exists() {
        match create_private_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    Ok(())
}

/// Creates an empty file readable and writable by its owner only; fails if it exists.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map(drop)
}

fn reader_pool_size() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(4, 16)
}

/// Runs a transaction statement (`BEGIN`, `COMMIT`, a savepoint's) prepared once per connection: the
/// writer runs several for each write of a group, and `execute_batch` parsed them again every time (a
/// tenth of the writer's instructions under creates); readers run two for each read.
fn transaction_statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Opens one connection with the pragmas every connection needs. The writer's (read_only = false)
/// also puts the database in WAL mode, which persists in the file.
fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let open_error = |e: rusqlite::Error| StoreError::Open { path: path.to_owned(), reason: e.to_string() };
    let conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
    let classify = |e: rusqlite::Error| classify_open_error(path, e);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
    if !read_only {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(classify)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open { path: path.to_owned(), reason: format!("journal_mode is {mode}, not wal") });
        }
    }
    // Statements are prepared once per connection and reused: the default cache (16) is smaller than
    // the set of statements one connection serves, and re-preparing costs more than running most of them.
    conn.set_prepared_statement_cache_capacity(256);
    // The query planner stability guarantee: a cached statement keeps its plan whatever is bound to it.
    // Without it, SQLite (built with STAT4) re-prepares a statement each time a bound value that could
    // change the plan changes, which made every `userName eq` lookup parse its SQL again.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(|e| StoreError::Open { path: path.to_owned(), reason: e.to_string() })?;
    // FULL: an acknowledged write survives power loss (Okta never resends a request that got 201).
    conn.pragma_update(None, "synchronous", "FULL").map_err(classify)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(classify)?;
    // Every write runs in its own savepoint of a group transaction; a savepoint keeps the original of each
    // page it changes in a statement journal, which is a temporary file by default (a write(2) per page,
    // most of a create's cost once seen in a profile). In memory it costs a copy; it holds one write's
    // pages at a time.
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(classify)?;
    // Reading the schema here surfaces a file that is not a database at open time, with a clear message.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get::<_, i64>(0)).map_err(classify)?;
    Ok(conn)
}

fn classify_open_error(path: &Path, error: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Corrupt { path: path.to_owned(), reason: error.to_string() }
        }
        _ => StoreError::Open { path: path.to_owned(), reason: error.to_string() },
    }
}

/// The one text form of a timestamp in the database and on the wire: UTC, RFC 3339, exactly three
/// fractional digits, so that text order is time order.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let year = at.year();
    if !(0..=9999).contains(&year) {
        return described_time(at);
    }
    // Written digit by digit: every SCIM request's Activity entry and every write takes the time, and the
    // format description costs ten times as much. `described_time` is the reference (see the tests).
    let mut text = String::with_capacity(24);
    let mut push = |value: u32, digits: u32, after: char| {
        for place in (0..digits).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
        text.push(after);
    };
    push(year.unsigned_abs(), 4, '-');
    push(u32::from(u8::from(at.month())), 2, '-');
    push(u32::from(at.day()), 2, 'T');
    push(u32::from(at.hour()), 2, ':');
    push(u32::from(at.minute()), 2, ':');
    push(u32::from(at.second()), 2, '.');
    push(u32::from(at.millisecond()), 3, 'Z');
    text
}

/// [`format_time`] through `time`'s format description: its reference, and its form for years outside
/// 0–9999.
fn described_time(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Parses a timestamp written by [`format_time`] (or any RFC 3339 text).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// The JSON text of a resource's attributes, written from a borrow (the writer used to copy the whole
/// object into a `Value` first: 6 % of its time under Bulk creates).
pub(super) fn object_text(object: &serde_json::Map<String, serde_json::Value>) -> Result<String, StoreError> {
    serde_json::to_string(object).map_err(|error| StoreError::Internal(format!("cannot write attributes: {error}")))
}

/// Now, as stored.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_fixed_width_and_round_trip() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let text = format_time(at);
        assert_eq!(text, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_time(&text).unwrap().unix_timestamp(), 1_700_000_000);
        let whole = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(format_time(whole), "2023-11-14T22:13:20.000Z");
    }

    proptest::proptest! {
        // The digit-by-digit form is the format description's, to the character, over years 0–9999 and
        // whatever the offset the time comes in (the fraction is cut to milliseconds, not rounded).
        #[test]
        fn timestamps_are_written_as_the_format_description_writes_them(
            nanos in -62_167_219_200_000_000_000i128..253_402_300_800_000_000_000i128,
            offset_seconds in -86_399i32..86_400,
        ) {
            let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
            let offset = time::UtcOffset::from_whole_seconds(offset_seconds).unwrap();
            let at = at.to_offset(offset);
            proptest::prop_assert_eq!(format_time(at), described_time(at));
        }
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_panicking_write_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hold = store.hold_writer().await.unwrap();
        let insert = |name: &'static str, panic: bool| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(move |conn| {
                        add_admin(conn, name, "x")?;
                        assert!(!panic, "this write panics after its insert");
                        Ok(())
                    })
                    .await
            })
        };
        let before = insert("before", false);
        let panicking = insert("panics", true);
        let after = insert("after", false);
        while store.queued_writes() < 3 {
            tokio::task::yield_now().await;
        }
        drop(hold);
        assert!(before.await.unwrap().is_ok());
        assert!(matches!(panicking.await.unwrap(), Err(StoreError::Internal(_))));
        assert!(after.await.unwrap().is_ok());
        assert_eq!(admin_names(&store).await, ["after", "before"], "the panicking write left nothing behind");
    }

    /// The writes of one `in_one_commit` share a transaction but not their fate: one that fails or panics
    /// after writing is undone alone (its own savepoint), and those around it commit together.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_write_in_one_commit_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let insert = |name: &'static str, ending: Option<bool>| {
            store.write(move |conn| {
                add_admin(conn, name, "x")?;
                match ending {
                    None => Ok(()),
                    Some(false) => Err(StoreError::Conflict(format!("{name} is refused after its insert"))),
                    Some(true) => panic!("{name} panics after its insert"),
                }
            })
        };
        let (results, committed) = store
            .in_one_commit(async {
                let mut results = Vec::new();
                for (name, ending) in
                    [("a", None), ("refused", Some(false)), ("b", None), ("panics", Some(true)), ("c", None)]
                {
                    results.push(insert(name, ending).await.is_ok());
                }
                results
            })
            .await;
        committed.unwrap();
        assert_eq!(results, [true, false, true, false, true]);
        assert_eq!(
            admin_names(&store).await,
            ["a", "b", "c"],
            "each failed write left nothing, and its neighbours all committed"
        );
    }

    async fn admin_names(store: &Store) -> Vec<String> {
        store
            .read(|conn| {
                let mut statement = conn.prepare("SELECT username FROM admins ORDER BY username")?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
            .unwrap()
    }

    /// How a checked write (no savepoint of its own inside `in_one_commit`) ends.
    #[derive(Clone, Copy)]
    enum Checked {
        Inserts,
        RefusedBeforeInserting,
        FailsAfterInserting,
        PanicsAfterInserting,
    }

    fn checked(store: &Store, name: &'static str, how: Checked) -> impl Future<Output = Result<(), StoreError>> {
        store.write_checked(move |conn| {
            if matches!(how, Checked::RefusedBeforeInserting) {
                return Err(StoreError::Conflict(format!("{name} is refused before it changes anything")));
            }
            add_admin(conn, name, "x")?;
            match how {
                Checked::FailsAfterInserting => Err(StoreError::Conflict(format!("{name} fails after its insert"))),
                Checked::PanicsAfterInserting => panic!("{name} panics after its insert"),
                _ => Ok(()),
            }
        })
    }

    /// A checked write refused before any change needs no savepoint: its neighbours commit.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_checked_write_refused_before_any_change_leaves_its_neighbours_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (results, committed) = store
            .in_one_commit(async {
                vec![
                    checked(&store, "a", Checked::Inserts).await.is_ok(),
                    checked(&store, "refused", Checked::RefusedBeforeInserting).await.is_ok(),
                    checked(&store, "b", Checked::Inserts).await.is_ok(),
                ]
            })
            .await;
        committed.unwrap();
        assert_eq!(results, [true, false, true]);
        assert_eq!(admin_names(&store).await, ["a", "b"]);
    }

    /// A checked write that fails (or panics) after a change cannot be undone alone: the whole transaction
    /// is rolled back, the commit says so, and nothing of it is stored; the store goes on working.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_checked_write_failing_after_a_change_rolls_the_whole_commit_back() {
        for how in [Checked::FailsAfterInserting, Checked::PanicsAfterInserting] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let (_, committed) = store
                .in_one_commit(async {
                    insert_admin(&store, "before").await.unwrap();
                    checked(&store, "checked", Checked::Inserts).await.unwrap();
                    assert!(checked(&store, "spoils", how).await.is_err());
                    // Sent after the transaction was spoiled: not run, and told so.
                    assert!(insert_admin(&store, "after").await.is_err());
                })
                .await;
            assert!(matches!(committed, Err(StoreError::Internal(_))), "{committed:?}");
            assert_eq!(admin_names(&store).await, Vec::<String>::new(), "nothing of the spoiled commit is stored");
            insert_admin(&store, "later").await.unwrap();
            assert_eq!(admin_names(&store).await, ["later"]);
        }
    }

    /// A real failure mid-way: the database is full (`max_page_count`), and SQLite rolls the whole
    /// transaction back itself, in a group of writes and in a chunk of `in_one_commit` alike. Nothing of
    /// it is stored, every write in it is answered as failed (none runs after the failure outside a
    /// transaction), and once there is room again the store goes on.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_full_database_during_one_commit_fails_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let cap = |extra: Option<i64>| {
            store.write(move |conn| {
                let pages: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0))?;
                let limit = extra.map_or(1_073_741_823, |extra| pages + extra);
                conn.query_row(&format!("PRAGMA max_page_count = {limit}"), [], |_| Ok(()))?;
                Ok(())
            })
        };
        cap(Some(6)).await.unwrap();
        // Writes of a group (each in its own savepoint): the one that fills the database takes the
        // transaction with it, and those after it must not run outside any transaction.
        let hold = store.hold_writer().await.unwrap();
        let writes: Vec<_> = (0..12)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .write(move |conn| {
                            add_admin(conn, &format!("group{i:02}"), &"x".repeat(3000))?;
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        while store.queued_writes() < 12 {
            tokio::task::yield_now().await;
        }
        drop(hold);
        for write in writes {
            assert!(write.await.unwrap().is_err(), "the group's transaction was rolled back");
        }
        assert_eq!(admin_names(&store).await, Vec::<String>::new());
        let (results, committed) = store
            .in_one_commit(async {
                let mut results = Vec::new();
                for i in 0..40 {
                    let hash = "x".repeat(3000);
                    let insert = move |conn: &Connection| {
                        add_admin(conn, &format!("admin{i:02}"), &hash)?;
                        Ok(())
                    };
                    let result = if i % 2 == 0 { store.write(insert).await } else { store.write_checked(insert).await };
                    results.push(result.is_ok());
                }
                results
            })
            .await;
        let first_failure = results.iter().position(|ok| !ok).expect("the database filled up");
        assert!(first_failure > 0, "{results:?}");
        assert!(results[first_failure..].iter().all(|ok| !ok), "nothing runs after the failure: {results:?}");
        assert!(committed.is_err(), "{committed:?}");
        cap(None).await.unwrap();
        assert_eq!(admin_names(&store).await, Vec::<String>::new(), "nothing of the failed commit is stored");
        insert_admin(&store, "later").await.unwrap();
        assert_eq!(admin_names(&store).await, ["later"]);
    }

    async fn insert_admin(store: &Store, name: &'static str) -> Result<(), StoreError> {
        store
            .write(move |conn| {
                add_admin(conn, name, "x")?;
                Ok(())
            })
            .await
    }

    /// Inserts an admin row named `name` (any row of a table will do: these tests count rows).
    fn add_admin(conn: &Connection, name: &str, password_hash: &str) -> rusqlite::Result<usize> {
        conn.execute(
            "INSERT INTO admins (id, username, username_key, password_hash, created_at, password_changed_at)
             VALUES (?1, ?1, ?1, ?2, 'now', 'now')",
            rusqlite::params![name, password_hash],
        )
    }
}
