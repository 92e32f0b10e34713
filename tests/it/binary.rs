//! The harness of the black-box tests: running the built `scimbox` binary (`Process`, `run`, `Serve`),
//! reading what it leaves in its data directory, and an HTTP client for it. Servers listen on
//! 127.0.0.1:0 and the test learns the real port from the first line `serve` prints, so nothing here
//! depends on a fixed port or on timing. Every child process is killed when its guard is dropped, also
//! when an assertion fails half-way.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use super::support;

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_scimbox");
pub(super) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The longest one command may take before the test gives up on it (argon2 on a busy two-core machine).
pub(super) const COMMAND_BOUND: Duration = Duration::from_secs(60);
/// How long a signalled server may take to exit.
pub(super) const STOP_BOUND: Duration = Duration::from_secs(10);
/// What a finished command left behind.
#[derive(Debug)]
pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Finished {
    pub(super) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub(super) fn last_stdout_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    /// The lines of stderr that start with `error: `.
    pub(super) fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|line| line.starts_with("error: ")).collect()
    }

    /// Everything the command printed, for assertion messages.
    pub(super) fn describe(&self) -> String {
        format!("status {}\n--- stdout ---\n{}--- stderr ---\n{}", self.status, self.stdout, self.stderr)
    }

    pub(super) fn assert_success(&self, what: &str) {
        assert!(self.status.success(), "expected `{what}` to exit 0; {}", self.describe());
        assert_no_panic(&self.stderr, what);
    }

    /// Asserts exit `code` and exactly one `error: ` line on stderr containing `expected`.
    pub(super) fn assert_error(&self, what: &str, code: i32, expected: &str) {
        assert_eq!(self.code(), Some(code), "expected `{what}` to exit {code}; {}", self.describe());
        let errors = self.error_lines();
        assert_eq!(errors.len(), 1, "expected `{what}` to print exactly one `error: ` line; {}", self.describe());
        assert!(
            errors[0].contains(expected),
            "expected the error of `{what}` to contain {expected:?}; {}",
            self.describe()
        );
        assert_no_panic(&self.stderr, what);
    }
}

pub(super) fn assert_no_panic(stderr: &str, what: &str) {
    assert!(!stderr.contains("panicked at"), "expected `{what}` not to panic; stderr:\n{stderr}");
}

/// A running `scimbox` process whose stdout arrives line by line and whose stderr is collected. Dropping
/// it kills the process.
pub(super) struct Process {
    pub(super) child: Child,
    what: String,
    lines: mpsc::Receiver<String>,
    pub(super) stdout: Vec<String>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Process {
    /// Starts `scimbox args…`, feeding `stdin` (then end of file) when given. `SCIMBOX_*` variables of
    /// the test's environment are not passed on: only the arguments configure the process.
    pub(super) fn spawn(args: &[&str], stdin: Option<&str>) -> Process {
        Process::spawn_program(BIN, args, stdin)
    }

    /// Starts `program args…` as [`Process::spawn`] does.
    pub(super) fn spawn_program(program: &str, args: &[&str], stdin: Option<&str>) -> Process {
        let mut command = Command::new(program);
        command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SCIMBOX_") {
                command.env_remove(name);
            }
        }
        let name = if program == BIN { "scimbox" } else { program };
        let what = format!("{name} {}", args.join(" "));
        let mut child = command.spawn().unwrap_or_else(|e| panic!("expected `{what}` to start: {e}"));
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input.as_bytes()).unwrap_or_else(|e| panic!("expected to write the stdin of `{what}`: {e}"));
        }
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Process {
            child,
            what,
            lines,
            stdout: Vec::new(),
            stdout_reader: Some(stdout_reader),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// The next stdout line for which `wanted` holds, skipping others; `None` once stdout is closed.
    pub(super) fn line_where(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + COMMAND_BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if wanted(&line) {
                        return Some(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("expected `{}` to print the awaited line within {COMMAND_BOUND:?}", self.what)
                }
            }
        }
    }

    pub(super) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("expected the kill command to run");
        assert!(status.success(), "expected `kill -{name}` of `{}` to succeed", self.what);
    }

    /// Waits up to `bound` for the process to exit; `None` if it is still running.
    pub(super) fn wait_for_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (bounded) for the exit and returns everything the process printed.
    pub(super) fn finish(&mut self, bound: Duration) -> Finished {
        let Some(status) = self.wait_for_exit(bound) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "expected `{}` to exit within {bound:?}; killed it; stderr:\n{}",
                self.what,
                self.stderr.lock().unwrap()
            );
        };
        self.collect(status)
    }

    /// Kills the process with SIGKILL and returns what it printed.
    pub(super) fn kill(&mut self) -> Finished {
        self.child.kill().expect("expected SIGKILL to be delivered");
        let status = self.child.wait().expect("wait after SIGKILL");
        self.collect(status)
    }

    pub(super) fn collect(&mut self, status: ExitStatus) -> Finished {
        if let Some(reader) = self.stdout_reader.take() {
            let _ = reader.join();
        }
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        self.stdout.extend(self.lines.try_iter());
        let mut stdout = self.stdout.join("\n");
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        Finished { status, stdout, stderr: self.stderr.lock().unwrap().clone() }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Harmless when the process already exited and was reaped: std then sends nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `scimbox args…` to its end (bounded).
pub(super) fn run(args: &[&str]) -> Finished {
    Process::spawn(args, None).finish(COMMAND_BOUND)
}

/// Runs `scimbox args…` with `input` on stdin.
pub(super) fn run_with_stdin(args: &[&str], input: &str) -> Finished {
    Process::spawn(args, Some(input)).finish(COMMAND_BOUND)
}

/// A `scimbox serve` process and the address it printed.
pub(super) struct Serve {
    pub(super) process: Process,
    pub(super) addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://…`, as printed.
    pub(super) base: String,
}

impl Serve {
    /// Starts `serve` on 127.0.0.1:0 with `data_dir` and `extra` flags, and waits for its listening line.
    pub(super) fn start(data_dir: &Path, extra: &[&str]) -> Serve {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data-dir", path_text(data_dir)];
        args.extend_from_slice(extra);
        let mut process = Process::spawn(&args, None);
        let Some(line) = process.line_where(|line| line.contains(" listening on ")) else {
            let finished = process.finish(COMMAND_BOUND);
            panic!("expected `serve` to print its listening line; {}", finished.describe());
        };
        let prefix = format!("scimbox {} listening on ", env!("CARGO_PKG_VERSION"));
        let base = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("expected the first line to start with {prefix:?}, got {line:?}"))
            .to_owned();
        let addr = base
            .split_once("://")
            .and_then(|(_, authority)| authority.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("expected an address like http://127.0.0.1:PORT in {line:?}"));
        assert!(
            addr.ip().is_loopback() && addr.port() != 0,
            "expected a loopback address with a real port, got {addr}"
        );
        Serve { process, addr, base }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and returns what the server printed once it exited. Call it only after the server
    /// answered a request: `serve` installs its signal handlers after printing the listening line, so an
    /// earlier SIGTERM kills it outright (that case is `sigterm_and_sigint_stop_the_server_cleanly`'s).
    pub(super) fn stop(mut self) -> Finished {
        self.process.signal("TERM");
        self.process.finish(STOP_BOUND)
    }
}

pub(super) fn path_text(path: &Path) -> &str {
    path.to_str().expect("expected temporary paths to be UTF-8")
}

pub(super) fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("expected a temporary directory")
}

/// Creates a token with the CLI and returns its text, checking its form.
pub(super) fn create_token(data_dir: &Path, name: &str, scope: &str) -> String {
    let created = run(&["token", "create", "--data-dir", path_text(data_dir), "--name", name, "--scope", scope]);
    created.assert_success("token create");
    let token = created.last_stdout_line().to_owned();
    let (id, secret) = split_token(&token);
    assert!(is_lower_hex(id, 16) && is_lower_hex(secret, 64), "expected scimbox_<16 hex>_<64 hex>, got {token:?}");
    token
}

/// The id and the secret of `scimbox_<id>_<secret>`.
pub(super) fn split_token(token: &str) -> (&str, &str) {
    token
        .strip_prefix("scimbox_")
        .and_then(|rest| rest.split_once('_'))
        .unwrap_or_else(|| panic!("expected a token of the form scimbox_<id>_<secret>, got {token:?}"))
}

pub(super) fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The cells of the `token list` row of token `id` (ID NAME SCOPE PREFIX CREATED LAST-USED EXPIRES
/// REVOKED; no cell of the tokens used here contains a space).
pub(super) fn token_row(listing: &str, id: &str) -> Option<Vec<String>> {
    listing.lines().find(|line| line.starts_with(id)).map(|line| line.split_whitespace().map(str::to_owned).collect())
}

/// Whether `needle` occurs in any file of `dir` (the database, its WAL, the token epoch…).
pub(super) fn data_dir_contains(dir: &Path, needle: &str) -> Option<String> {
    for entry in std::fs::read_dir(dir).expect("read the data directory") {
        let path = entry.expect("directory entry").path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        if bytes.windows(needle.len()).any(|window| window == needle.as_bytes()) {
            return Some(path.display().to_string());
        }
    }
    None
}

pub(super) fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("expected {} to open: {e}", path.display()))
}

pub(super) fn integrity(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("integrity_check runs")
}

pub(super) fn user_ids(conn: &rusqlite::Connection) -> std::collections::HashSet<String> {
    let mut statement = conn.prepare("SELECT id FROM users").expect("expected a users table with an id column");
    statement.query_map([], |row| row.get(0)).expect("query users").map(|id| id.expect("user id")).collect()
}

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM).
pub(super) fn self_signed() -> (String, String) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
    (generated.cert.pem(), generated.signing_key.serialize_pem())
}

pub(super) fn http_client() -> reqwest::Client {
    support::install_crypto();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

/// `POST /scim/v2/Users`: the status and the body (as JSON when it is JSON).
pub(super) async fn create_user(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    user_name: &str,
) -> Result<(u16, Value), String> {
    let body = json!({"schemas": [USER_SCHEMA], "userName": user_name});
    let response = client
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

pub(super) async fn get_status(client: &reqwest::Client, url: &str, token: Option<&str>) -> u16 {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap_or_else(|e| panic!("expected GET {url} to get an answer: {e}")).status().as_u16()
}

/// Tasks that create users as fast as the server acknowledges them, each with its own userNames, and
/// remember every acknowledged (201) user.
pub(super) struct Writers {
    state: Arc<watch::Sender<Progress>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Default)]
pub(super) struct Progress {
    /// (id, userName) of every 201.
    acknowledged: Vec<(String, String)>,
    /// The first unexpected answer before the writers were told to stop.
    failure: Option<String>,
}

impl Writers {
    pub(super) fn start(count: usize, base: &str, token: &str) -> Writers {
        use std::sync::atomic::Ordering;
        let state = Arc::new(watch::Sender::new(Progress::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = http_client();
        let tasks = (0..count)
            .map(|task| {
                let (state, stop, client) = (Arc::clone(&state), Arc::clone(&stop), client.clone());
                let (base, token) = (base.to_owned(), token.to_owned());
                tokio::spawn(async move {
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let user_name = format!("writer{task}-{n}@example.com");
                        let outcome = create_user(&client, &base, &token, &user_name).await;
                        let unexpected = match outcome {
                            Ok((201, body)) => match body["id"].as_str() {
                                Some(id) => {
                                    let id = id.to_owned();
                                    state.send_modify(|p| p.acknowledged.push((id, user_name)));
                                    continue;
                                }
                                None => format!("201 without an id: {body}"),
                            },
                            Ok((status, body)) => format!("POST /scim/v2/Users answered {status}: {body}"),
                            Err(error) => format!("POST /scim/v2/Users failed: {error}"),
                        };
                        // After `stop` (and a SIGKILL) requests in flight are expected to fail.
                        if !stop.load(Ordering::SeqCst) {
                            state.send_modify(|p| {
                                p.failure.get_or_insert(unexpected);
                            });
                        }
                        break;
                    }
                })
            })
            .collect();
        Writers { state, stop, tasks }
    }

    /// Waits until at least `count` creates were acknowledged; fails on an unexpected answer.
    pub(super) async fn wait_for(&self, count: usize) {
        let mut progress = self.state.subscribe();
        let reached = tokio::time::timeout(
            Duration::from_secs(120),
            progress.wait_for(|p| p.acknowledged.len() >= count || p.failure.is_some()),
        )
        .await;
        let state = self.state.borrow();
        assert!(
            reached.is_ok(),
            "expected {count} acknowledged creates within 120 s, got {}",
            state.acknowledged.len()
        );
        if let Some(failure) = &state.failure {
            panic!("expected every POST /scim/v2/Users to answer 201 with an id; {failure}");
        }
    }

    pub(super) fn acknowledged(&self) -> Vec<(String, String)> {
        self.state.borrow().acknowledged.clone()
    }

    /// Stops issuing requests and waits for the tasks; returns every acknowledged user.
    pub(super) async fn stop(self) -> Vec<(String, String)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("expected the writer task not to panic");
        }
        let state = self.state.borrow();
        assert!(state.failure.is_none(), "expected no unexpected answer from the writers; {:?}", state.failure);
        state.acknowledged.clone()
    }

    /// Tells the writers that failures from now on are expected (the server is about to die).
    pub(super) fn expect_failures(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Starts `serve` (output to files in `$2`) and sends it SIGTERM the instant its listening line
/// arrives: `sh` reads the line with its builtin `read` and signals with its builtin `kill`, far faster
/// than the test could spawn `kill`. A watchdog SIGKILLs a server that has not exited after 10 s. Prints
/// `status=N`, N being serve's exit status as `wait` reports it (128 + signal when killed by one).
pub(super) const SIGTERM_AT_ONCE: &str = r#"
bin=$1 dir=$2
mkfifo "$dir/stdout"
"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" >"$dir/stdout" 2>"$dir/stderr" &
pid=$!
exec 3<"$dir/stdout"
IFS= read -r line <&3
kill -s TERM "$pid"
( sleep 10; kill -s KILL "$pid" ) </dev/null >/dev/null 2>&1 &
watchdog=$!
wait "$pid"
status=$?
kill "$watchdog" 2>/dev/null
echo "line=$line"
echo "status=$status"
"#;
