//! The server's checkpoints of the write-ahead log, on a thread of their own.
//!
//! SQLite's automatic checkpoint runs in every commit that leaves the log at 1,000 frames or more: the
//! writer thread copies every page written since the last checkpoint into the database file and fsyncs
//! it, and every caller of that group waits for it. Here the writer's commit only wakes this thread,
//! which runs the same passive checkpoint on its own connection while the writer goes on (a passive
//! checkpoint never blocks a writer or a reader; SQLite lets one run beside a write transaction). Should
//! the log grow past 16,000 frames all the same, the writer checkpoints in its commit, so the log stays
//! bounded.

use std::ffi::c_int;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TrySendError, sync_channel};

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

/// Frames added to the log after which a commit wakes the checkpointer: SQLite's own automatic
/// threshold. Counted from the last wake-up, not from the log's start: a log that cannot start over
/// while writes never pause would otherwise wake it at every commit, and checkpoints back to back (each
/// with its fsyncs) cost the writer more than the ones they replace (the Okta mix lost 29 %).
const WAKE_EVERY_FRAMES: c_int = 1_000;
/// Frames in the log at which the writer checkpoints in its commit, as SQLite would on its own at 1,000
/// (about 66 MB of log at 4 KiB pages). The log starts over from its beginning only at a write
/// transaction that finds every frame copied, and the checkpointer, running beside a writer that never
/// pauses, ends a little behind the last commit each time: this bounds the log then, as SQLite's own
/// bound does (a reader holding an old snapshot stretches both). What the writer copies is only what the
/// checkpointer has not.
const WRITER_CHECKPOINTS_AFTER_FRAMES: c_int = 16_000;

/// Checkpoint runs so far (`scimbox_wal_checkpoints_total`): by the checkpointer, and by the writer once
/// the log has passed its bound. A run that a reader's snapshot kept from copying anything counts too.
#[derive(Debug, Default)]
pub(super) struct Counts {
    checkpointer: AtomicU64,
    writer: AtomicU64,
}

/// How many checkpoints of the write-ahead log ran, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointStats {
    /// On the checkpointer's thread, beside the writer.
    pub checkpointer: u64,
    /// In one of the writer's commits, because the log had grown past its bound.
    pub writer: u64,
}

impl Counts {
    pub(super) fn stats(&self) -> CheckpointStats {
        CheckpointStats {
            checkpointer: self.checkpointer.load(Ordering::Relaxed),
            writer: self.writer.load(Ordering::Relaxed),
        }
    }
}

/// Moves the checkpoints of `writer`'s commits onto a thread with a connection of its own (`conn`).
/// The thread ends when `writer` is closed (its hook, which holds the thread's wake-up, is dropped); the
/// writer thread joins it, so that a closed store has no thread left touching its files.
pub(super) fn start(
    writer: &mut Connection,
    conn: Connection,
    counts: &Arc<Counts>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (wake, woken) = sync_channel::<()>(1);
    let thread_counts = Arc::clone(counts);
    let thread = std::thread::Builder::new()
        .name("scimbox-checkpoint".into())
        .spawn(move || run(&conn, &woken, &thread_counts))?;
    let counts = Arc::clone(counts);
    // The log's frames at the last wake-up; fewer frames now means that the log started over.
    let mut woken_at: c_int = 0;
    let hook = move |wal: &mut Wal, frames: c_int| {
        let behind = frames >= WRITER_CHECKPOINTS_AFTER_FRAMES;
        if frames < woken_at {
            woken_at = 0;
        }
        let mut gone = false;
        // Past the bound the writer checkpoints itself: a wake-up would only have the two contend.
        if !behind && frames - woken_at >= WAKE_EVERY_FRAMES {
            woken_at = frames;
            // A wake-up already waiting covers this commit too.
            gone = matches!(wake.try_send(()), Err(TrySendError::Disconnected(())));
        }
        if behind || gone {
            // `gone`: the checkpointer has stopped (short of a panic it cannot), so do as SQLite would.
            match wal.checkpoint_v2(CheckpointMode::PASSIVE) {
                Ok(_) => {
                    counts.writer.fetch_add(1, Ordering::Relaxed);
                }
                // The checkpointer (or a command) is checkpointing right now: the next commit tries again.
                Err(error) if is_busy(&error) => {}
                Err(error) => {
                    tracing::warn!(%error, frames, "the writer's own checkpoint of the write-ahead log failed");
                }
            }
        }
        Ok(())
    };
    // The log's file keeps the size it grew to (up to about 66 MB under writes that never pause) when the
    // log starts over: a `journal_size_limit` of 8 MiB, which cut it back, made every commit that then
    // grew the file again pay for the file's new size in its fsync (creates at 32 connections: p99 from
    // 7.8 to 20 ms, 17 % fewer).
    writer.wal_hook(Some(hook)).map_err(std::io::Error::other)?;
    Ok(thread)
}

/// Ends the checkpointer of `writer` (started by [`start`]) and waits for it: removing the hook drops
/// its wake-up, so the thread finishes what it was doing and stops. Then copies the whole log into the
/// database and empties it.
pub(super) fn stop(writer: &mut Connection, thread: std::thread::JoinHandle<()>) {
    if let Err(error) = writer.wal_hook(None::<fn(&mut Wal, c_int) -> rusqlite::Result<()>>) {
        tracing::error!(%error, "cannot remove the writer's WAL hook; the checkpointer is left to end with the process");
        return;
    }
    if thread.join().is_err() {
        tracing::error!("the checkpointer thread panicked");
    }
    // A server that stops leaves everything in the database file and its log empty (the log's file
    // keeps the size it grew to while the server runs, up to about 66 MB). It waits for readers still
    // finishing, up to the connection's busy timeout; should one hold on, the log stays, as it may.
    if let Err(error) = writer.wal_checkpoint_v2(None::<&str>, CheckpointMode::TRUNCATE) {
        tracing::info!(%error, "the write-ahead log was left as it is at close");
    }
}

fn run(conn: &Connection, woken: &Receiver<()>, counts: &Counts) {
    while woken.recv().is_ok() {
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok(_) => {
                counts.checkpointer.fetch_add(1, Ordering::Relaxed);
            }
            // Another connection (a command's automatic checkpoint) is checkpointing: the next commit
            // past the threshold wakes this thread again.
            Err(error) if is_busy(&error) => {}
            Err(error) => tracing::warn!(%error, "cannot checkpoint the write-ahead log"),
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}
