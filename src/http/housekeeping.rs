//! What the server does on its own while it runs: ending expired sessions and recording expired tokens
//! (every minute), removing audit records past their retention (every hour, from the oldest end), and
//! streaming every audit record as one JSON line to a file or standard output for a SIEM.
//!
//! The stream reads the audit table itself, by `seq`, rather than being handed records by the code that
//! writes them: records written by a `scimbox` command beside the server reach it too, and a file stream
//! restarted after a crash goes on after the last record the file holds, with none lost or repeated.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::Actor;
use crate::config::{AuditStream, Config};
use crate::store::Store;

/// How often expired sessions and tokens are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often the audit log's retention is applied.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often the stream looks for new records.
const STREAM_EVERY: Duration = Duration::from_secs(1);
/// Records the stream reads at a time.
const STREAM_CHUNK: usize = 1000;

/// Counts the stream's work, for the metrics.
#[derive(Debug, Default)]
pub struct StreamCounters {
    pub written: AtomicU64,
    pub failures: AtomicU64,
}

/// The running background tasks; [`Housekeeping::stop`] ends them after a last stream pass.
#[derive(Debug)]
pub struct Housekeeping {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Housekeeping {
    /// Starts the tasks. The stream's starting point is fixed before this returns, so that a record the
    /// caller writes next (`server.started`) is streamed.
    pub async fn start(store: Store, config: &Config, counters: Arc<StreamCounters>) -> Result<Housekeeping, String> {
        let (stop, stopped) = watch::channel(false);
        let idle = time::Duration::try_from(config.admin.session_idle_timeout).unwrap_or(time::Duration::MAX);
        let mut tasks = Vec::new();
        if let Some(stream) = &config.audit.stream {
            let start = open_stream(&store, stream).await?;
            tasks.push(tokio::spawn(run_stream(store.clone(), start, counters, stopped.clone())));
        }
        tasks.push(tokio::spawn(sweep(store, idle, config.audit.retention, stopped)));
        Ok(Housekeeping { stop, tasks })
    }

    /// Stops the tasks; the stream writes what is left (the `server.stopped` record included) first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn sweep(store: Store, idle: time::Duration, retention: Option<Duration>, mut stopped: watch::Receiver<bool>) {
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        match store.sweep_expired(crate::store::now(), idle).await {
            Ok((sessions, tokens)) if sessions + tokens > 0 => {
                tracing::info!(sessions, tokens, "ended expired sessions and recorded expired tokens");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot sweep expired sessions and tokens"),
        }
        if let Some(retention) = retention
            && last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY)
        {
            last_prune = Some(tokio::time::Instant::now());
            let cutoff = crate::store::now() - time::Duration::try_from(retention).unwrap_or(time::Duration::MAX);
            match store.prune_audit(Actor::server(), cutoff).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed audit records past their retention"),
                Err(error) => tracing::warn!(%error, "cannot apply the audit log's retention"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// The seq of the last record in an existing stream file (0 when the file is new or empty).
fn last_streamed(path: &Path) -> std::io::Result<i64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    // A record line is well under 64 KiB: the last one is in the file's tail.
    let length = file.metadata()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(64 * 1024)))?;
    let mut tail = String::new();
    file.read_to_string(&mut tail)?;
    let last = tail.lines().rev().find_map(|line| serde_json::from_str::<crate::audit::Record>(line).ok());
    Ok(last.map_or(0, |record| record.seq))
}

/// Opens the stream file for appending (owner-only when it is new). A file that ends in the middle of a
/// line (a crash while writing) gets a line break first, so that the next record starts a line of its own.
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).mode(0o600).open(path)?;
    let length = file.metadata()?.len();
    if length > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(length - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

/// Where a stream starts: standard output after the newest record now (what this server writes from
/// its start on; `scimbox audit export` has what came before), a file after the last record it holds.
async fn open_stream(store: &Store, stream: &AuditStream) -> Result<(i64, Box<dyn Write + Send>), String> {
    match stream {
        AuditStream::Stdout => {
            let head = store.audit_head().await.map_err(|e| e.to_string())?;
            Ok((head, Box::new(std::io::stdout())))
        }
        AuditStream::File(path) => {
            let failed = |e: std::io::Error| format!("cannot open the audit stream file {}: {e}", path.display());
            let after = last_streamed(path).map_err(failed)?;
            let file = open_append(path).map_err(failed)?;
            Ok((after, Box::new(std::io::BufWriter::new(file))))
        }
    }
}

async fn run_stream(
    store: Store,
    (mut after, mut out): (i64, Box<dyn Write + Send>),
    counters: Arc<StreamCounters>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let stopping = *stopped.borrow();
        loop {
            let chunk = match store.audit_records_after(after, None, STREAM_CHUNK).await {
                Ok(chunk) => chunk,
                Err(error) => {
                    tracing::warn!(%error, "cannot read audit records for the stream");
                    counters.failures.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            };
            let Some(last) = chunk.last().map(|record| record.seq) else { break };
            let written = chunk.iter().try_for_each(|record| record.write_line(&mut out));
            if let Err(error) = written.and_then(|()| out.flush()) {
                // The records stay in the database; the next pass tries again from the same place.
                tracing::warn!(%error, "cannot write the audit stream");
                counters.failures.fetch_add(1, Ordering::Relaxed);
                break;
            }
            counters.written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            after = last;
            if chunk.len() < STREAM_CHUNK {
                break;
            }
        }
        if stopping {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(STREAM_EVERY) => {}
            _ = stopped.wait_for(|stop| *stop) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_file_goes_on_after_its_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        assert_eq!(last_streamed(&path).unwrap(), 0, "a new file starts from the first record");
        let record = |seq: i64| {
            let mut record = crate::audit::Record {
                seq,
                at: "2026-12-02T10:00:00.000Z".into(),
                actor: Actor::server(),
                action: "server.started".into(),
                outcome: "success".into(),
                target: None,
                details: "{}".into(),
                prev: crate::audit::GENESIS.into(),
                hash: String::new(),
            };
            record.hash = record.expected_hash(&record.prev.clone());
            serde_json::to_string(&record).unwrap()
        };
        // A crash can leave half a line at the end: the last whole record counts.
        std::fs::write(&path, format!("{}\n{}\n{{\"seq\": 9", record(6), record(7))).unwrap();
        assert_eq!(last_streamed(&path).unwrap(), 7);
        let mut file = open_append(&path).unwrap();
        file.write_all(record(8).as_bytes()).unwrap();
        drop(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(&format!("{{\"seq\": 9\n{}", record(8))), "the next record has a line of its own");
        assert_eq!(last_streamed(&path).unwrap(), 8);
    }
}
