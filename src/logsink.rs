//! Where log lines go: standard error, through one buffer that a small thread writes out every
//! [`FLUSH_EVERY`], or sooner when it fills. A request's log line is a copy into memory, not a `write(2)`
//! on the request path; lines of level WARN and above are written out at once. Dropping the returned
//! [`Flush`] guard writes out what is left, so a clean exit loses nothing; a SIGKILL can lose the last
//! [`FLUSH_EVERY`] of lines.

use std::io::{BufWriter, Stderr, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Bytes gathered before they are written out regardless.
const CAPACITY: usize = 64 * 1024;

/// The shared buffer in front of standard error.
#[derive(Debug, Clone)]
pub struct BufferedStderr {
    buffer: Arc<Mutex<BufWriter<Stderr>>>,
}

/// Writes out what is buffered when dropped.
#[derive(Debug)]
pub struct Flush(BufferedStderr);

impl BufferedStderr {
    /// The sink, with the thread that writes it out periodically, and the guard that writes out the rest.
    pub fn start() -> (BufferedStderr, Flush) {
        let sink =
            BufferedStderr { buffer: Arc::new(Mutex::new(BufWriter::with_capacity(CAPACITY, std::io::stderr()))) };
        let flusher = sink.clone();
        let spawned = std::thread::Builder::new().name("scimbox-log".into()).spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flusher.flush();
            }
        });
        if spawned.is_err() {
            // Without the thread, lines are still written when the buffer fills and at exit; say so.
            eprintln!("warning: cannot start the log flushing thread; log lines may arrive late");
        }
        (sink.clone(), Flush(sink))
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<Stderr>> {
        self.buffer.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn flush(&self) {
        // Nothing sensible can be done when stderr cannot be written.
        let _ = self.lock().flush();
    }
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.0.flush();
    }
}

/// One event's writer: appends to the buffer; WARN and ERROR lines are written out when it is dropped.
#[derive(Debug)]
pub struct Line<'a> {
    sink: &'a BufferedStderr,
    urgent: bool,
}

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.sink.lock().write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        // One lock per event: the formatter hands over a whole line at once.
        self.sink.lock().write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sink.lock().flush()
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        if self.urgent {
            self.sink.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line { sink: self, urgent: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        // Levels compare by verbosity: ERROR < WARN < INFO.
        Line { sink: self, urgent: *meta.level() <= Level::WARN }
    }
}
