//! The read side: a bounded pool of read-only connections, and one connection of its own for each thread
//! that asks for one (the connection workers, `http::workers`).
//!
//! In WAL mode every read transaction sees one consistent snapshot and never waits for the writer.
//! Connections are opened lazily, at most `size` of them in the pool. Two ways to read:
//! - [`Readers::read`] runs a short read (an indexed lookup, one page through an index) right where it is
//!   asked: it costs a few microseconds of SQLite and no thread hand-off. On a thread that keeps its own
//!   reader ([`keep_own_reader_on_this_thread`]) it runs on that thread's connection, touching nothing
//!   another thread touches; elsewhere on a pooled connection when one is free at once, else on the
//!   blocking pool.
//! - [`Readers::read_long`] always runs on tokio's blocking pool: for reads that may take long (a scan of
//!   every user to evaluate a filter exactly, a deep page), which must not stall a worker that other
//!   requests are waiting on.
//!
//! Handing every read to the blocking pool, as the first version did, cost more than the reads: two
//! thread wake-ups per request dominated a profile of `userName eq` lookups. Taking a pooled connection
//! costs a semaphore permit and two locks of the idle list, on cache lines every worker writes; with a
//! connection per worker, lookups on 1,000,000 users went from 49,500 to 54,000 requests/s and from 27.6
//! to 24.5 µs of server CPU each (ARCHITECTURE.md, Durability and concurrency).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{StoreError, open_connection, transaction_statement};

#[derive(Debug)]
pub(super) struct Readers {
    /// Tells this store's connection from another's in a thread's own slot (tests open many stores).
    id: u64,
    path: PathBuf,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, size: usize) -> Readers {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Readers {
            id,
            path,
            permits: Arc::new(Semaphore::new(size)),
            idle: Arc::new(Mutex::new(Vec::with_capacity(size))),
        }
    }

    /// A short read: here and now on this thread's own connection or a free pooled one, else on the
    /// blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let f = match OWN.with_borrow_mut(|own| match own {
            Own::Pooled => Err(f),
            Own::Kept(slot) => Ok(self.run_own(slot, f)),
        }) {
            Ok(result) => return result,
            Err(f) => f,
        };
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => run(&self.idle, &self.path, permit, f),
            Err(_) => self.read_long(f).await,
        }
    }

    /// A read that may take long: on the blocking pool, never on a worker.
    pub(super) async fn read_long<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let idle = Arc::clone(&self.idle);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || run(&idle, &path, permit, f))
            .await
            .map_err(|e| StoreError::Internal(format!("a read panicked: {e}")))?
    }

    /// Runs `f` on this thread's own connection to this store, opening it first if the thread has none
    /// or one to another store.
    fn run_own<T>(
        &self,
        slot: &mut Option<(u64, Connection)>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if slot.as_ref().is_none_or(|(id, _)| *id != self.id) {
            *slot = Some((self.id, open_connection(&self.path, true)?));
        }
        let (_, conn) = slot.as_ref().expect("filled above");
        // A read that panicked left its transaction open (the pool drops such a connection; this one
        // stays): end it, or `BEGIN` would fail and the connection keep an old snapshot.
        if !conn.is_autocommit() {
            transaction_statement(conn, "ROLLBACK")?;
        }
        in_read_transaction(conn, f)
    }
}

/// What this thread's short reads run on.
enum Own {
    /// A pooled connection (every thread, unless it asked otherwise).
    Pooled,
    /// This thread's own: the store it reads and the connection, once it has read.
    Kept(Option<(u64, Connection)>),
}

thread_local! {
    static OWN: RefCell<Own> = const { RefCell::new(Own::Pooled) };
}

/// From now on, this thread's short reads run on a connection of its own, opened at its first read and
/// closed when the thread ends. For threads that run reads all their life and end before their store
/// closes (the connection workers, stopped before the store at shutdown); other threads use the pool, so
/// that a test's or a command's store leaves no connection behind on a thread that outlives it.
pub fn keep_own_reader_on_this_thread() {
    OWN.with_borrow_mut(|own| {
        if matches!(own, Own::Pooled) {
            *own = Own::Kept(None);
        }
    });
}

/// Runs `f` on a pooled connection (opening one if none is idle; the permit bounds how many exist).
fn run<T>(
    idle: &Mutex<Vec<Connection>>,
    path: &Path,
    permit: OwnedSemaphorePermit,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let _permit = permit;
    let pooled = idle.lock().unwrap_or_else(|poison| poison.into_inner()).pop();
    let conn = match pooled {
        Some(conn) => conn,
        None => open_connection(path, true)?,
    };
    let result = in_read_transaction(&conn, f);
    idle.lock().unwrap_or_else(|poison| poison.into_inner()).push(conn);
    result
}

fn in_read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    transaction_statement(conn, "BEGIN")?;
    let result = f(conn);
    transaction_statement(conn, "COMMIT")?;
    result
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A database in WAL mode holding `value` in a one-row table, and a writable connection to it.
    fn database(dir: &Path, value: &str) -> (PathBuf, Connection) {
        let path = dir.join("readers.db");
        let conn = open_connection(&path, false).unwrap();
        conn.execute_batch("CREATE TABLE t (value TEXT NOT NULL)").unwrap();
        conn.execute("INSERT INTO t (value) VALUES (?1)", [value]).unwrap();
        (path, conn)
    }

    fn values(conn: &Connection) -> Result<Vec<String>, StoreError> {
        let mut statement = conn.prepare_cached("SELECT value FROM t ORDER BY rowid")?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs `test` on a thread of its own (the thread-local choice must not outlive the test) with a
    /// single-threaded runtime, as a connection worker runs.
    fn on_a_worker_like_thread(test: impl FnOnce(&tokio::runtime::Runtime) + Send + 'static) {
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            test(&runtime);
        })
        .join()
        .expect("the test thread");
    }

    #[test]
    fn a_thread_that_keeps_its_own_reader_reads_without_the_pool_and_sees_each_commit() {
        on_a_worker_like_thread(|runtime| {
            let dir = tempfile::tempdir().unwrap();
            let (path, writer) = database(dir.path(), "first");
            let readers = Readers::new(path, 1);
            // The pool's one connection is taken: a read that needed it would wait as long as this lives.
            let _taken = Arc::clone(&readers.permits).try_acquire_owned().unwrap();
            keep_own_reader_on_this_thread();
            let read = |readers: &Readers| {
                runtime
                    .block_on(async { tokio::time::timeout(Duration::from_secs(10), readers.read(values)).await })
                    .expect("the read ran on the thread's own connection, not waiting for the pool")
                    .unwrap()
            };
            assert_eq!(read(&readers), ["first"]);

            // Each read is a transaction of its own: the kept connection sees what was committed since.
            writer.execute("INSERT INTO t (value) VALUES ('second')", []).unwrap();
            assert_eq!(read(&readers), ["first", "second"]);

            // A read that panics leaves its transaction open on the kept connection; the next read ends
            // it and sees a new snapshot, not the one the panicking read had.
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(readers.read(|conn| -> Result<(), StoreError> {
                    values(conn)?;
                    panic!("a read that panics inside its transaction");
                }))
            }));
            assert!(panicked.is_err());
            writer.execute("INSERT INTO t (value) VALUES ('third')", []).unwrap();
            assert_eq!(read(&readers), ["first", "second", "third"]);
        });
    }

    #[test]
    fn a_kept_reader_reads_the_store_it_is_asked_about() {
        on_a_worker_like_thread(|runtime| {
            let (one, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let (one, _one_writer) = database(one.path(), "one");
            let (other, _other_writer) = database(other.path(), "other");
            let (one, other) = (Readers::new(one, 1), Readers::new(other, 1));
            keep_own_reader_on_this_thread();
            for (readers, expected) in [(&one, "one"), (&other, "other"), (&one, "one")] {
                assert_eq!(runtime.block_on(readers.read(values)).unwrap(), [expected]);
            }
        });
    }
}
