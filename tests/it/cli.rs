//! Black-box tests of the built `scimbox` binary: the command line, start-up failures, signals, HTTPS,
//! backups and what survives a SIGKILL. Every test has its own temporary data directory; servers listen
//! on 127.0.0.1:0 and the test learns the real port from the first line `serve` prints, so nothing here
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

const BIN: &str = env!("CARGO_BIN_EXE_scimbox");
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The longest one command may take before the test gives up on it (argon2 on a busy two-core machine).
const COMMAND_BOUND: Duration = Duration::from_secs(60);
/// How long a signalled server may take to exit.
const STOP_BOUND: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------------

/// What a finished command left behind.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    fn last_stdout_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    /// The lines of stderr that start with `error: `.
    fn error_lines(&self) -> Vec<&str> {
        self.stderr.lines().filter(|line| line.starts_with("error: ")).collect()
    }

    /// Everything the command printed, for assertion messages.
    fn describe(&self) -> String {
        format!("status {}\n--- stdout ---\n{}--- stderr ---\n{}", self.status, self.stdout, self.stderr)
    }

    fn assert_success(&self, what: &str) {
        assert!(self.status.success(), "expected `{what}` to exit 0; {}", self.describe());
        assert_no_panic(&self.stderr, what);
    }

    /// Asserts exit `code` and exactly one `error: ` line on stderr containing `expected`.
    fn assert_error(&self, what: &str, code: i32, expected: &str) {
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

fn assert_no_panic(stderr: &str, what: &str) {
    assert!(!stderr.contains("panicked at"), "expected `{what}` not to panic; stderr:\n{stderr}");
}

/// A running `scimbox` process whose stdout arrives line by line and whose stderr is collected. Dropping
/// it kills the process.
struct Process {
    child: Child,
    what: String,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stdout_reader: Option<JoinHandle<()>>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Process {
    /// Starts `scimbox args…`, feeding `stdin` (then end of file) when given. `SCIMBOX_*` variables of
    /// the test's environment are not passed on: only the arguments configure the process.
    fn spawn(args: &[&str], stdin: Option<&str>) -> Process {
        Process::spawn_program(BIN, args, stdin)
    }

    /// Starts `program args…` as [`Process::spawn`] does.
    fn spawn_program(program: &str, args: &[&str], stdin: Option<&str>) -> Process {
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
    fn line_where(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
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

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("expected the kill command to run");
        assert!(status.success(), "expected `kill -{name}` of `{}` to succeed", self.what);
    }

    /// Waits up to `bound` for the process to exit; `None` if it is still running.
    fn wait_for_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
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
    fn finish(&mut self, bound: Duration) -> Finished {
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
    fn kill(&mut self) -> Finished {
        self.child.kill().expect("expected SIGKILL to be delivered");
        let status = self.child.wait().expect("wait after SIGKILL");
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Finished {
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
fn run(args: &[&str]) -> Finished {
    Process::spawn(args, None).finish(COMMAND_BOUND)
}

/// Runs `scimbox args…` with `input` on stdin.
fn run_with_stdin(args: &[&str], input: &str) -> Finished {
    Process::spawn(args, Some(input)).finish(COMMAND_BOUND)
}

/// A `scimbox serve` process and the address it printed.
struct Serve {
    process: Process,
    addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://…`, as printed.
    base: String,
}

impl Serve {
    /// Starts `serve` on 127.0.0.1:0 with `data_dir` and `extra` flags, and waits for its listening line.
    fn start(data_dir: &Path, extra: &[&str]) -> Serve {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and returns what the server printed once it exited. Call it only after the server
    /// answered a request: `serve` installs its signal handlers after printing the listening line, so an
    /// earlier SIGTERM kills it outright (that case is `sigterm_and_sigint_stop_the_server_cleanly`'s).
    fn stop(mut self) -> Finished {
        self.process.signal("TERM");
        self.process.finish(STOP_BOUND)
    }
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("expected temporary paths to be UTF-8")
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("expected a temporary directory")
}

/// Creates a token with the CLI and returns its text, checking its form.
fn create_token(data_dir: &Path, name: &str, scope: &str) -> String {
    let created = run(&["token", "create", "--data-dir", path_text(data_dir), "--name", name, "--scope", scope]);
    created.assert_success("token create");
    let token = created.last_stdout_line().to_owned();
    let (id, secret) = split_token(&token);
    assert!(is_lower_hex(id, 16) && is_lower_hex(secret, 64), "expected scimbox_<16 hex>_<64 hex>, got {token:?}");
    token
}

/// The id and the secret of `scimbox_<id>_<secret>`.
fn split_token(token: &str) -> (&str, &str) {
    token
        .strip_prefix("scimbox_")
        .and_then(|rest| rest.split_once('_'))
        .unwrap_or_else(|| panic!("expected a token of the form scimbox_<id>_<secret>, got {token:?}"))
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The cells of the `token list` row of token `id` (ID NAME SCOPE PREFIX CREATED LAST-USED EXPIRES
/// REVOKED; no cell of the tokens used here contains a space).
fn token_row(listing: &str, id: &str) -> Option<Vec<String>> {
    listing.lines().find(|line| line.starts_with(id)).map(|line| line.split_whitespace().map(str::to_owned).collect())
}

/// Whether `needle` occurs in any file of `dir` (the database, its WAL, the token epoch…).
fn data_dir_contains(dir: &Path, needle: &str) -> Option<String> {
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

fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("expected {} to open: {e}", path.display()))
}

fn integrity(conn: &rusqlite::Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("integrity_check runs")
}

fn user_ids(conn: &rusqlite::Connection) -> std::collections::HashSet<String> {
    let mut statement = conn.prepare("SELECT id FROM users").expect("expected a users table with an id column");
    statement.query_map([], |row| row.get(0)).expect("query users").map(|id| id.expect("user id")).collect()
}

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
    (generated.cert.pem(), generated.signing_key.serialize_pem())
}

// ---------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------

fn http_client() -> reqwest::Client {
    support::install_crypto();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

/// `POST /scim/v2/Users`: the status and the body (as JSON when it is JSON).
async fn create_user(
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

async fn get_status(client: &reqwest::Client, url: &str, token: Option<&str>) -> u16 {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap_or_else(|e| panic!("expected GET {url} to get an answer: {e}")).status().as_u16()
}

/// Tasks that create users as fast as the server acknowledges them, each with its own userNames, and
/// remember every acknowledged (201) user.
struct Writers {
    state: Arc<watch::Sender<Progress>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Progress {
    /// (id, userName) of every 201.
    acknowledged: Vec<(String, String)>,
    /// The first unexpected answer before the writers were told to stop.
    failure: Option<String>,
}

impl Writers {
    fn start(count: usize, base: &str, token: &str) -> Writers {
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
    async fn wait_for(&self, count: usize) {
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

    fn acknowledged(&self) -> Vec<(String, String)> {
        self.state.borrow().acknowledged.clone()
    }

    /// Stops issuing requests and waits for the tasks; returns every acknowledged user.
    async fn stop(self) -> Vec<(String, String)> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("expected the writer task not to panic");
        }
        let state = self.state.borrow();
        assert!(state.failure.is_none(), "expected no unexpected answer from the writers; {:?}", state.failure);
        state.acknowledged.clone()
    }

    /// Tells the writers that failures from now on are expected (the server is about to die).
    fn expect_failures(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Starts `serve` (output to files in `$2`) and sends it SIGTERM the instant its listening line
/// arrives: `sh` reads the line with its builtin `read` and signals with its builtin `kill`, far faster
/// than the test could spawn `kill`. A watchdog SIGKILLs a server that has not exited after 10 s. Prints
/// `status=N`, N being serve's exit status as `wait` reports it (128 + signal when killed by one).
const SIGTERM_AT_ONCE: &str = r#"
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

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

#[test]
fn version_help_and_unknown_flags() {
    let version = run(&["--version"]);
    version.assert_success("--version");
    assert_eq!(
        version.stdout.trim(),
        format!("scimbox {}", env!("CARGO_PKG_VERSION")),
        "expected `--version` to print the name and version"
    );
    assert_eq!(env!("CARGO_PKG_VERSION"), "0.1.0", "expected this test to run against scimbox 0.1.0");

    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["token"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["admin"],
        &["admin", "create"],
        &["backup"],
        &["migrate"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = run(&args);
        help.assert_success(&args.join(" "));
        assert!(
            help.stdout.contains("Usage: scimbox"),
            "expected `{}` to print a usage line; {}",
            args.join(" "),
            help.describe()
        );
    }

    let unknown: &[&[&str]] =
        &[&["--bogus"], &["serve", "--bogus"], &["token", "list", "--bogus"], &["frobnicate"], &[]];
    for args in unknown {
        let refused = run(args);
        assert_eq!(refused.code(), Some(2), "expected `scimbox {}` to exit 2; {}", args.join(" "), refused.describe());
        assert_no_panic(&refused.stderr, &args.join(" "));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_created_listed_and_revoked_beside_a_running_server() {
    let dir = temp_dir();
    let data = path_text(dir.path());
    let serve = Serve::start(dir.path(), &["--log-format", "json"]);
    let client = http_client();
    let probe = serve.url("/scim/v2/Users/x");

    // Without a token, and with a token of the wrong scope: 401 in SCIM's error form.
    let response = client.get(&probe).send().await.expect("GET without a token");
    assert_eq!(response.status().as_u16(), 401, "expected 401 without a token");
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "expected a WWW-Authenticate: Bearer challenge, got {challenge:?}");
    let body: Value = response.json().await.expect("expected a JSON error body");
    assert_eq!(body["status"], "401", "expected \"status\":\"401\" in {body}");
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "expected the SCIM error schema in {body}");
    let platform = create_token(dir.path(), "platform-tool", "platform");
    assert_eq!(
        get_status(&client, &probe, Some(&platform)).await,
        401,
        "expected 401 for a platform token on /scim/v2"
    );

    // A token created while the server runs is accepted on the next request.
    let token = create_token(dir.path(), "okta", "scim");
    let (id, secret) = split_token(&token);
    let listed = run(&["token", "list", "--data-dir", data]);
    listed.assert_success("token list");
    let row = token_row(&listed.stdout, id)
        .unwrap_or_else(|| panic!("expected token {id} in the list; {}", listed.describe()));
    assert_eq!(row[..3], [id, "okta", "scim"], "expected id, name and scope in the row {row:?}");
    assert_eq!(row[5], "-", "expected no last-used time before the first use: {row:?}");

    let status = get_status(&client, &probe, Some(&token)).await;
    assert!(status == 200 || status == 404, "expected 200 or 404 (not 401) with a fresh scim token, got {status}");

    // The last use is recorded off the request path: ask a bounded number of times.
    let mut last_used = String::from("-");
    for _ in 0..50 {
        let listed = run(&["token", "list", "--data-dir", data]);
        listed.assert_success("token list");
        assert!(
            !listed.stdout.contains(secret),
            "expected `token list` never to print a secret; {}",
            listed.describe()
        );
        last_used = token_row(&listed.stdout, id).expect("token still listed")[5].clone();
        if last_used != "-" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        last_used.len() == 24 && last_used.ends_with('Z'),
        "expected a last-used time like 2025-01-01T00:00:00.000Z after use, got {last_used:?}"
    );

    let revoked = run(&["token", "revoke", "--data-dir", data, id]);
    revoked.assert_success("token revoke");
    assert!(revoked.stdout.contains(id), "expected `token revoke` to name the token; {}", revoked.describe());
    assert_eq!(
        get_status(&client, &probe, Some(&token)).await,
        401,
        "expected 401 on the very next request with a revoked token"
    );
    let row = token_row(&run(&["token", "list", "--data-dir", data]).stdout, id).expect("revoked token still listed");
    assert_ne!(row[7], "-", "expected a revocation time in {row:?}");

    let again = run(&["token", "revoke", "--data-dir", data, id]);
    again.assert_success("a second token revoke");
    assert!(again.stdout.contains("already revoked"), "expected a second revoke to say so; {}", again.describe());
    run(&["token", "revoke", "--data-dir", data, "0123456789abcdef"]).assert_error(
        "revoke of an unknown id",
        1,
        "there is no token",
    );
    run(&["token", "revoke", "--data-dir", data, "not-an-id"]).assert_error(
        "revoke of a malformed id",
        2,
        "not a token id",
    );

    assert_eq!(
        data_dir_contains(dir.path(), secret),
        None,
        "expected the secret in no file of the data directory while serving"
    );
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert_eq!(
        data_dir_contains(dir.path(), secret),
        None,
        "expected the secret in no file of the data directory after stopping"
    );
    assert!(
        !stopped.stderr.contains(secret) && !stopped.stdout.contains(secret),
        "expected the secret nowhere in serve's output; {}",
        stopped.describe()
    );

    // One JSON line per request, carrying the token's name but never its secret.
    let requests: Vec<Value> = stopped
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("expected JSON log lines, got {line:?}: {e}"))
        })
        .filter(|line| line["path"] == "/scim/v2/Users/x")
        .collect();
    assert_eq!(requests.len(), 4, "expected one log line per request to the probe; {}", stopped.stderr);
    for line in &requests {
        assert!(
            line["request_id"].is_string() && line["status"].is_u64() && line["latency_us"].is_u64(),
            "expected request_id, status and latency_us in {line}"
        );
    }
    assert!(
        requests.iter().any(|line| line["token"] == "okta"),
        "expected the token's name in the log; {}",
        stopped.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_serving_holds_every_acknowledged_user() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "writer", "scim");
    let serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(4, &serve.base, &token);
    writers.wait_for(20).await;

    let before = writers.acknowledged();
    let target_dir = temp_dir();
    let target = target_dir.path().join("copy.db");
    let args = ["backup", "--data-dir", path_text(dir.path()), path_text(&target)].map(str::to_owned);
    let backup =
        tokio::task::spawn_blocking(move || run(&args.each_ref().map(String::as_str))).await.expect("backup thread");
    let all = writers.stop().await;
    backup.assert_success("backup while serving");
    assert!(all.len() >= before.len(), "expected the writers to keep their acknowledgements");

    let copy = sqlite(&target);
    assert_eq!(integrity(&copy), "ok", "expected the backup to pass integrity_check");
    let ids = user_ids(&copy);
    let missing: Vec<_> = before.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "expected every user acknowledged before the backup in the copy; missing {missing:?}");
    drop(copy);

    let second = run(&["backup", "--data-dir", path_text(dir.path()), path_text(&target)]);
    second.assert_error("a backup to an existing path", 1, "exists already");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
}

#[test]
fn a_database_of_a_newer_scimbox_is_refused_untouched() {
    let dir = temp_dir();
    let data = path_text(dir.path());
    run(&["migrate", "--data-dir", data]).assert_success("migrate");
    let database = dir.path().join("scimbox.db");
    {
        let conn = sqlite(&database);
        conn.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (9999, 'future', '2099-01-01T00:00:00Z', '1')",
            [],
        )
        .expect("expected to record a future migration");
    }
    let history = |path: &Path| -> Vec<(i64, String)> {
        let conn = sqlite(path);
        let mut statement = conn.prepare("SELECT version, name FROM refinery_schema_history ORDER BY version").unwrap();
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let rows_before = history(&database);
    let bytes_before = std::fs::read(&database).expect("read the database");

    let target = dir.path().join("copy.db");
    let commands: &[(&[&str], Option<&str>)] = &[
        (&["serve", "--listen", "127.0.0.1:0", "--data-dir", data], None),
        (&["migrate", "--data-dir", data], None),
        (&["token", "list", "--data-dir", data], None),
        (&["token", "create", "--data-dir", data, "--name", "late"], None),
        (&["backup", "--data-dir", data, path_text(&target)], None),
        (&["admin", "create", "--data-dir", data, "--username", "alice"], Some("a long enough password\n")),
    ];
    for (args, stdin) in commands {
        let mut process = Process::spawn(args, *stdin);
        if let Some(line) = process.line_where(|line| line.contains(" listening on ")) {
            panic!("expected `scimbox {}` to refuse the newer database, but it printed {line:?}", args.join(" "));
        }
        let refused = process.finish(COMMAND_BOUND);
        refused.assert_error(&args.join(" "), 1, "newer scimbox");
        assert!(
            refused.stderr.contains("9999"),
            "expected the error to name the version found; {}",
            refused.describe()
        );
    }
    assert!(!target.exists(), "expected no backup of a refused database");
    assert_eq!(
        std::fs::read(&database).expect("read the database"),
        bytes_before,
        "expected the database file unchanged"
    );
    assert_eq!(history(&database), rows_before, "expected the migration history unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_http1_and_http2_and_refuses_plain_http() {
    let dir = temp_dir();
    let (cert, key) = self_signed();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--tls-cert", path_text(&cert_path), "--tls-key", path_text(&key_path)]);
    assert!(serve.base.starts_with("https://"), "expected an https base URL, got {}", serve.base);

    support::install_crypto();
    let url = format!("https://localhost:{}/healthz", serve.addr.port());
    let trusting = || {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).expect("certificate")])
            .resolve("localhost", serve.addr)
            .timeout(Duration::from_secs(30))
    };
    let cases = [
        (trusting().http1_only().build().unwrap(), reqwest::Version::HTTP_11),
        (trusting().build().unwrap(), reqwest::Version::HTTP_2),
    ];
    for (client, version) in cases {
        let response = client.get(&url).send().await.unwrap_or_else(|e| panic!("expected {url} over {version:?}: {e}"));
        assert_eq!(response.version(), version, "expected ALPN to settle on {version:?}");
        assert_eq!(response.status().as_u16(), 200, "expected 200 from /healthz over {version:?}");
        let body: Value = response.json().await.expect("JSON health body");
        assert_eq!(body, json!({"status": "ok"}), "expected the health body over {version:?}");
    }

    let plain = http_client().get(format!("http://{}/healthz", serve.addr)).send().await;
    assert!(
        !matches!(&plain, Ok(response) if response.status().is_success()),
        "expected plain HTTP to the TLS port to fail, got {plain:?}"
    );

    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_users_survive_sigkill() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "crash", "scim");
    let mut serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(16, &serve.base, &token);
    writers.wait_for(300).await;

    writers.expect_failures();
    serve.process.kill();
    let acknowledged = writers.stop().await;
    assert!(acknowledged.len() >= 300, "expected at least 300 acknowledged creates, got {}", acknowledged.len());

    let conn = sqlite(&dir.path().join("scimbox.db"));
    assert_eq!(integrity(&conn), "ok", "expected the database to pass integrity_check after SIGKILL");
    let ids = user_ids(&conn);
    let lost: Vec<_> = acknowledged.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(
        lost.is_empty(),
        "expected every acknowledged user to survive SIGKILL; lost {} of {}: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    drop(conn);

    let serve = Serve::start(dir.path(), &[]);
    let (id, user_name) = &acknowledged[acknowledged.len() / 2];
    let response = http_client()
        .get(serve.url(&format!("/scim/v2/Users/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET user");
    assert_eq!(response.status().as_u16(), 200, "expected an acknowledged user to be served after the restart");
    let body: Value = response.json().await.expect("JSON user");
    assert_eq!(body["userName"], user_name.as_str(), "expected the user's userName after the restart: {body}");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected the restarted serve to stop cleanly; {}", stopped.describe());
}

#[test]
fn start_up_failures_print_one_error_line() {
    let dir = temp_dir();
    let fresh = |name: &str| {
        let path = dir.path().join(name);
        path_text(&path).to_owned()
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path_text(&path).to_owned()
    };
    let (cert, key) = self_signed();
    let (_, other_key) = self_signed();
    let (cert, key, other_key) = (
        write("cert.pem", cert.as_bytes()),
        write("key.pem", key.as_bytes()),
        write("other.pem", other_key.as_bytes()),
    );
    let garbage = write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    let plain_file = write("a-file", b"not a directory");
    let corrupt = fresh("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    // Bytes from a fixed xorshift sequence: random-looking, the same on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..16_384)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(Path::new(&corrupt).join("scimbox.db"), &noise).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
    let taken = taken.local_addr().map(|addr| (addr.to_string(), taken)).unwrap();

    let check = |what: &str, args: &[&str], expected: &str| {
        let mut full = vec!["serve"];
        full.extend_from_slice(args);
        let mut process = Process::spawn(&full, None);
        if let Some(line) = process.line_where(|line| line.contains(" listening on ")) {
            panic!("expected serve to refuse to start ({what}), but it printed {line:?}");
        }
        let failed = process.finish(COMMAND_BOUND);
        assert_ne!(failed.code(), Some(0), "expected a non-zero exit ({what}); {}", failed.describe());
        failed.assert_error(what, failed.code().unwrap_or(-1), expected);
    };
    let d = fresh("data");
    check("port in use", &["--listen", &taken.0, "--data-dir", &d], "cannot listen on");
    check("data dir is a file", &["--listen", "127.0.0.1:0", "--data-dir", &plain_file], "data directory");
    check(
        "corrupt database",
        &["--listen", "127.0.0.1:0", "--data-dir", &corrupt],
        "not a scimbox database or is damaged",
    );
    let left = std::fs::read(Path::new(&corrupt).join("scimbox.db")).unwrap();
    assert!(left == noise, "expected serve to leave a damaged database file untouched");
    let tls = |cert: &str, key: &str| {
        ["--listen", "127.0.0.1:0", "--data-dir", d.as_str(), "--tls-cert", cert, "--tls-key", key].map(str::to_owned)
    };
    let cases = [
        ("missing certificate", tls(&fresh("missing.pem"), &key), "TLS certificate"),
        ("missing key", tls(&cert, &fresh("missing.pem")), "TLS private key"),
        ("garbage certificate", tls(&garbage, &key), "TLS certificate"),
        ("garbage key", tls(&cert, &garbage), "TLS private key"),
        ("key of another certificate", tls(&cert, &other_key), "TLS"),
    ];
    for (what, args, expected) in &cases {
        check(what, &args.each_ref().map(String::as_str), expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_create_and_the_setup_link() {
    // Before any admin exists, serve prints a one-time setup link on its own base URL.
    let fresh = temp_dir();
    let mut serve = Serve::start(fresh.path(), &[]);
    let prefix = format!("{}/setup#code=", serve.base);
    let link = serve.process.line_where(|line| line.contains("/setup#code="));
    let link = link.unwrap_or_else(|| panic!("expected a setup link on stdout; got {:?}", serve.process.stdout));
    let code = link
        .split_once(&prefix)
        .map(|(_, code)| code.trim())
        .unwrap_or_else(|| panic!("expected {prefix:?} in {link:?}"));
    assert!(code.len() >= 16 && code.bytes().all(|b| b.is_ascii_hexdigit()), "expected a hex code in {link:?}");
    assert_eq!(get_status(&http_client(), &serve.url("/setup"), None).await, 200, "expected the setup page");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert!(!stopped.stderr.contains(code), "expected the setup code never to be logged; {}", stopped.stderr);

    let dir = temp_dir();
    let data = path_text(dir.path());
    let create = |name: &str, password: &str| {
        run_with_stdin(&["admin", "create", "--data-dir", data, "--username", name], password)
    };
    create("alice", "short\n").assert_error("admin create with a short password", 2, "at least 12 characters");
    create("alice", "aaaaaaaaaaaaaaaa\n").assert_error("admin create with a repeated character", 2, "repeated");
    let created = create("alice", "correct horse battery staple\n");
    created.assert_success("admin create");
    assert!(created.stdout.contains("alice"), "expected admin create to name the admin; {}", created.describe());
    create("ALICE", "another good password\n").assert_error(
        "admin create of the same name in another case",
        1,
        "exists already",
    );

    let serve = Serve::start(dir.path(), &[]);
    assert_eq!(get_status(&http_client(), &serve.url("/healthz"), None).await, 200, "expected /healthz to answer 200");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert!(
        !stopped.stdout.contains("/setup#code="),
        "expected no setup link once an admin exists; {}",
        stopped.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_sigint_stop_the_server_cleanly() {
    // The server answers a request first, so its handlers are surely installed; a signal the instant the
    // listening line appears is `sigterm_the_instant_the_listening_line_appears_stops_cleanly`'s case.
    for signal in ["TERM", "INT"] {
        let dir = temp_dir();
        let mut serve = Serve::start(dir.path(), &[]);
        let client = http_client();
        assert_eq!(get_status(&client, &serve.url("/readyz"), None).await, 200, "expected /readyz to answer 200");
        assert_eq!(get_status(&client, &serve.url("/healthz"), None).await, 200, "expected /healthz to answer 200");
        serve.process.signal(signal);
        let stopped = serve.process.finish(STOP_BOUND);
        assert_eq!(stopped.code(), Some(0), "expected SIG{signal} to stop serve with status 0; {}", stopped.describe());
        assert_no_panic(&stopped.stderr, "serve");
        assert!(stopped.error_lines().is_empty(), "expected no error line after SIG{signal}; {}", stopped.describe());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_stops_cleanly_and_keeps_every_acknowledged_user() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "load", "scim");
    let mut serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(8, &serve.base, &token);
    writers.wait_for(50).await;

    writers.expect_failures();
    serve.process.signal("TERM");
    let stopped = tokio::task::spawn_blocking(move || serve.process.finish(STOP_BOUND)).await.expect("wait thread");
    let acknowledged = writers.stop().await;
    assert_eq!(
        stopped.code(),
        Some(0),
        "expected SIGTERM under load to stop serve with status 0; {}",
        stopped.describe()
    );
    assert_no_panic(&stopped.stderr, "serve");

    let conn = sqlite(&dir.path().join("scimbox.db"));
    assert_eq!(integrity(&conn), "ok", "expected the database to pass integrity_check after a graceful stop");
    let ids = user_ids(&conn);
    let lost: Vec<_> = acknowledged.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(lost.is_empty(), "expected every acknowledged user after a graceful stop; lost {lost:?}");
}

#[test]
fn sigterm_the_instant_the_listening_line_appears_stops_cleanly() {
    let dir = temp_dir();
    let mut shell = Process::spawn_program("sh", &["-c", SIGTERM_AT_ONCE, "sh", BIN, path_text(dir.path())], None);
    let finished = shell.finish(COMMAND_BOUND);
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    assert!(
        finished.stdout.contains(" listening on "),
        "expected serve to print its listening line; {}",
        finished.describe()
    );
    assert!(
        finished.stdout.contains("status=0"),
        "expected SIGTERM right after the listening line to stop serve with status 0 (143 = killed by the \
         signal: the handler was not installed yet); {}serve's stderr:\n{stderr}",
        finished.describe()
    );
    assert_no_panic(&stderr, "serve");
}

/// The binary carries its own SQLite and TLS: it links no system libsqlite, libssl or libcrypto (the
/// release build links the same libraries as this test build).
#[test]
fn the_binary_links_no_system_sqlite_or_openssl() {
    let output = std::process::Command::new("ldd").arg(BIN).output().expect("ldd runs");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "ldd failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(libraries.contains("libc.so"), "ldd listed nothing usable: {libraries}");
    for forbidden in ["libsqlite", "libssl", "libcrypto"] {
        assert!(!libraries.contains(forbidden), "the binary links {forbidden}: {libraries}");
    }
}
