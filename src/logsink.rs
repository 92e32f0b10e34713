//! Where log lines go: standard error, through one buffer that a small thread writes out every
//! [`FLUSH_EVERY`], or sooner when it fills. A request's log line is a copy into memory, not a `write(2)`
//! on the request path; lines of level WARN and above are written out at once. Dropping the returned
//! [`Flush`] guard writes out what is left, so a clean exit loses nothing; a SIGKILL can lose the last
//! [`FLUSH_EVERY`] of lines.

use std::fmt::{self, Write as _};
use std::io::{BufWriter, Stderr, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

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

/// The text format of a log line, written directly rather than through tracing-subscriber's `Full`
/// format, which paints every part with (disabled) ANSI styles and formats each field through
/// `core::fmt`: about a tenth of a lookup's instructions went into its request line. The line reads
/// the same: `2026-01-02T03:04:05.678901Z  INFO target: message name=value ...`, string fields quoted
/// and escaped as `{:?}` would, everything else as its `Debug`/`Display` form. scimbox has no spans, so
/// none are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextFormat {
    /// Colour the level (when standard error is a terminal).
    pub ansi: bool,
}

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = String::with_capacity(192);
        push_timestamp(&mut line, OffsetDateTime::now_utc());
        // A line from a library that logs through `log` (refinery) arrives with target `log` and the real
        // one in `log.*` fields: show it as its own target, as tracing-subscriber's formats do.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let (level, colour) = match *meta.level() {
            Level::ERROR => ("ERROR", "31"),
            Level::WARN => (" WARN", "33"),
            Level::INFO => (" INFO", "32"),
            Level::DEBUG => ("DEBUG", "34"),
            Level::TRACE => ("TRACE", "35"),
        };
        line.push(' ');
        if self.ansi {
            line.push_str("\x1b[");
            line.push_str(colour);
            line.push('m');
            line.push_str(level);
            line.push_str("\x1b[0m");
        } else {
            line.push_str(level);
        }
        line.push(' ');
        line.push_str(meta.target());
        line.push(':');
        event.record(&mut Fields { line: &mut line, skip_log_fields: normalized.is_some() });
        line.push('\n');
        writer.write_str(&line)
    }
}

/// Appends `2026-01-02T03:04:05.678901Z`.
fn push_timestamp(line: &mut String, at: OffsetDateTime) {
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    let (hour, minute, second, micro) = at.to_hms_micro();
    if (0..=9999).contains(&year) {
        push_digits(line, year.unsigned_abs(), 4);
    } else {
        let _ = write!(line, "{year:+}");
    }
    line.push('-');
    push_digits(line, u32::from(month), 2);
    line.push('-');
    push_digits(line, u32::from(day), 2);
    line.push('T');
    push_digits(line, u32::from(hour), 2);
    line.push(':');
    push_digits(line, u32::from(minute), 2);
    line.push(':');
    push_digits(line, u32::from(second), 2);
    line.push('.');
    push_digits(line, micro, 6);
    line.push('Z');
}

/// Appends `value` zero-padded to `width` digits (`value` has at most `width` digits).
fn push_digits(line: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        line.push(char::from(b'0' + u8::try_from(value / divisor % 10).unwrap_or(0)));
        divisor /= 10;
    }
}

/// Writes an event's fields: the message bare, the others as ` name=value`.
struct Fields<'a> {
    line: &'a mut String,
    /// The `log.target`, `log.file`, ... fields of a `log` record, already shown as its metadata.
    skip_log_fields: bool,
}

impl Fields<'_> {
    /// Writes what comes before a field's value; `false` for a field that is not shown.
    fn begin(&mut self, field: &Field) -> bool {
        if self.skip_log_fields && field.name().starts_with("log.") {
            return false;
        }
        self.line.push(' ');
        if field.name() != "message" {
            self.line.push_str(field.name());
            self.line.push('=');
        }
        true
    }
}

/// Strings and numbers are written here directly (a number's `Debug` is its decimal text, which `itoa`
/// writes without `core::fmt`: every request line has two); anything else goes through `record_debug`.
impl Visit for Fields<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.begin(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.begin(field) {
            self.line.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.begin(field) {
            self.line.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.begin(field) {
            return;
        }
        if field.name() == "message" {
            self.line.push_str(value);
        } else if value.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
            // What `{:?}` writes for such a string, without going through `core::fmt`.
            self.line.push('"');
            self.line.push_str(value);
            self.line.push('"');
        } else {
            let _ = write!(self.line, "{value:?}");
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.begin(field) {
            let _ = write!(self.line, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The lines written while `emit` runs, with the text format.
    fn lines(emit: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&out);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(Arc::clone(&sink)))
            .event_format(TextFormat { ansi: false })
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_line_reads_like_the_usual_text_format() {
        let out = lines(|| {
            let id = String::from("0a1b-0001");
            tracing::info!(
                target: "scimbox::request",
                request_id = %id,
                method = %http::Method::GET,
                version = ?http::Version::HTTP_11,
                status = 200u16,
                latency_us = 41u64,
                token = Some("okta"),
                "request"
            );
        });
        let (stamp, rest) = out.split_once(' ').unwrap();
        assert_eq!(
            rest,
            " INFO scimbox::request: request request_id=0a1b-0001 method=GET version=HTTP/1.1 status=200 \
             latency_us=41 token=\"okta\"\n"
        );
        // 2026-01-02T03:04:05.678901Z, and it parses as the time it says.
        assert_eq!(stamp.len(), 27, "{stamp}");
        let parsed = OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).unwrap();
        assert!((OffsetDateTime::now_utc() - parsed).abs() < time::Duration::minutes(1), "{stamp}");
    }

    #[test]
    fn strings_are_quoted_and_escaped_like_debug_and_other_values_keep_their_form() {
        let out = lines(|| {
            tracing::warn!(
                target: "scimbox::http",
                plain = "a b",
                awkward = "say \"hi\"\\\n\u{e9}",
                negative = -3i64,
                least = i64::MIN,
                most = u64::MAX,
                yes = true,
                no = false,
                absent = None::<&str>,
                "cannot {} the {}",
                "reach",
                "thing"
            );
        });
        let rest = out.split_once(' ').unwrap().1;
        assert_eq!(
            rest,
            " WARN scimbox::http: cannot reach the thing plain=\"a b\" awkward=\"say \\\"hi\\\"\\\\\\n\u{e9}\" \
             negative=-3 least=-9223372036854775808 most=18446744073709551615 yes=true no=false\n"
        );
    }

    #[test]
    fn a_line_logged_through_log_shows_its_own_target_and_no_log_fields() {
        let out = lines(|| {
            let logged = tracing_log::format_trace(
                &tracing_log::log::Record::builder()
                    .args(format_args!("applying migration: V9"))
                    .level(tracing_log::log::Level::Info)
                    .target("refinery_core::traits::sync")
                    .module_path_static(Some("refinery_core::traits::sync"))
                    .file_static(Some("src/traits/sync.rs"))
                    .line(Some(91))
                    .build(),
            );
            logged.unwrap();
        });
        assert_eq!(out.split_once(' ').unwrap().1, " INFO refinery_core::traits::sync: applying migration: V9\n");
    }

    #[test]
    fn timestamps_are_zero_padded() {
        let mut line = String::new();
        let at = time::macros::datetime!(0987-01-02 03:04:05.000006 UTC);
        push_timestamp(&mut line, at);
        assert_eq!(line, "0987-01-02T03:04:05.000006Z");
    }
}
