//! The read side: a bounded pool of read-only connections.
//!
//! In WAL mode every read transaction sees one consistent snapshot and never waits for the writer.
//! Connections are opened lazily, at most `size` of them. Two ways to read:
//! - [`Readers::read`] runs a short read (an indexed lookup, one page through an index) right where it is
//!   asked, on the calling tokio worker, when a connection is free at once: it costs a few microseconds
//!   of SQLite and no thread hand-off. When none is free it falls back to the blocking pool.
//! - [`Readers::read_long`] always runs on tokio's blocking pool: for reads that may take long (a scan of
//!   every user to evaluate a filter exactly, a deep page), which must not stall a worker that other
//!   requests are waiting on.
//!
//! Handing every read to the blocking pool, as the first version did, cost more than the reads: two
//! thread wake-ups per request dominated a profile of `userName eq` lookups.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{StoreError, open_connection, transaction_statement};

#[derive(Debug)]
pub(super) struct Readers {
    path: PathBuf,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, size: usize) -> Readers {
        Readers { path, permits: Arc::new(Semaphore::new(size)), idle: Arc::new(Mutex::new(Vec::with_capacity(size))) }
    }

    /// A short read: here and now when a connection is free, else on the blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
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
}

/// Runs `f` on a pooled connection (opening one if none is idle; the permit bounds how many exist).
fn run<T>(
    idle: &Mutex<Vec<Connection>>,
    path: &std::path::Path,
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
