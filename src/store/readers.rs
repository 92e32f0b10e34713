//! The read side: a bounded pool of read-only connections, used from tokio's blocking threads.
//!
//! In WAL mode every read transaction sees one consistent snapshot and never waits for the writer.
//! Connections are opened lazily, at most `size` of them; a read that finds none free waits for a permit
//! rather than opening more, so a burst of reads cannot exhaust file descriptors.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use super::{StoreError, open_connection};

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

    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let idle = Arc::clone(&self.idle);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = idle.lock().unwrap_or_else(|poison| poison.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&path, true)?,
            };
            let result = in_read_transaction(&conn, f);
            idle.lock().unwrap_or_else(|poison| poison.into_inner()).push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("a read panicked: {e}")))?
    }
}

fn in_read_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let result = f(conn);
    conn.prepare_cached("COMMIT")?.execute([])?;
    result
}
