//! The command line: every flag (also readable from a `SCIMBOX_*` variable), parsed once by clap into
//! typed values, and the dispatch to the library. The commands that touch data work beside a running
//! `serve` on the same data directory: SQLite's locking and the token epoch keep them consistent.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{AdminSettings, Config, Limits, LogFormat, Matching, OidcSettings, PublicUrl, TlsFiles};
use crate::credentials::{self, Scope};
use crate::store::{RevokeOutcome, Store, StoreError};

/// scimbox: an on-prem SCIM 2.0 provisioning appliance.
#[derive(Debug, Parser)]
#[command(name = "scimbox", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the appliance: SCIM server, admin page and APIs.
    Serve(Box<ServeArgs>),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage admin accounts of the page.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent copy of the live database to PATH (safe while `serve` runs).
    Backup(BackupArgs),
    /// Apply pending database migrations and exit.
    Migrate(DataArgs),
    /// Check and export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the audit log's hash chain; name the first record that does not fit (exit status 1).
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write audit records to standard output as JSON Lines, oldest first.
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// Only records at or after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long, env = "SCIMBOX_AUDIT_SINCE", value_name = "TIME")]
        since: Option<String>,
    },
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Directory holding the database (created if missing).
    #[arg(long, env = "SCIMBOX_DATA_DIR", default_value = "./data", value_name = "DIR")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "SCIMBOX_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataArgs,
    /// Externally visible base URL (e.g. https://scim.example.com); derived from the request when unset.
    #[arg(long, env = "SCIMBOX_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// PEM certificate chain; serve HTTPS (with --tls-key). SIGHUP re-reads both files.
    #[arg(long, env = "SCIMBOX_TLS_CERT", value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key matching --tls-cert.
    #[arg(long, env = "SCIMBOX_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Log line format.
    #[arg(long, env = "SCIMBOX_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Log filter, in tracing's EnvFilter syntax (e.g. "info" or "warn,scimbox=debug").
    #[arg(long, env = "SCIMBOX_LOG_LEVEL", default_value = "info", value_name = "FILTER")]
    log_level: String,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "SCIMBOX_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Seconds a new connection may take from accept to the end of its first request head (TLS handshake
    /// included).
    #[arg(long, env = "SCIMBOX_HEADER_TIMEOUT_SECS", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds a request body may take to arrive (sign-in and setup: 5 at most).
    #[arg(long, env = "SCIMBOX_BODY_TIMEOUT_SECS", default_value_t = Limits::default().body_timeout.as_secs())]
    body_timeout_secs: u64,
    /// Seconds a connection may stay without traffic before it is closed (also the wait for the next
    /// request on a kept-alive connection).
    #[arg(long, env = "SCIMBOX_IDLE_TIMEOUT_SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    idle_timeout_secs: u64,
    /// Connections served at once.
    #[arg(long, env = "SCIMBOX_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Connections one client address may hold at once (raise it to --max-connections behind a reverse
    /// proxy, whose address every connection then has).
    #[arg(long, env = "SCIMBOX_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Limits::default().max_connections_per_address)]
    max_connections_per_address: usize,
    /// Seconds shutdown waits for requests in flight.
    #[arg(long, env = "SCIMBOX_SHUTDOWN_TIMEOUT_SECS", default_value_t = Limits::default().shutdown_timeout.as_secs())]
    shutdown_timeout_secs: u64,
    /// Largest page a SCIM list returns (at least 100).
    #[arg(long, env = "SCIMBOX_MAX_RESULTS", default_value_t = Limits::default().max_results)]
    max_results: usize,
    /// Most operations in one SCIM bulk request (its size is bounded by --max-body-bytes).
    #[arg(long, env = "SCIMBOX_BULK_MAX_OPERATIONS", default_value_t = Limits::default().bulk_max_operations)]
    bulk_max_operations: usize,
    /// Most operations in one SCIM PATCH request (also in each PATCH of a bulk request).
    #[arg(long, env = "SCIMBOX_PATCH_MAX_OPERATIONS", default_value_t = Limits::default().patch_max_operations)]
    patch_max_operations: usize,
    /// Minutes an admin stays signed in at most.
    #[arg(long, env = "SCIMBOX_SESSION_LIFETIME_MINS", default_value_t = AdminSettings::default().session_lifetime.as_secs() / 60)]
    session_lifetime_mins: u64,
    /// Minutes without a request after which an admin is signed out.
    #[arg(long, env = "SCIMBOX_SESSION_IDLE_MINS", default_value_t = AdminSettings::default().session_idle_timeout.as_secs() / 60)]
    session_idle_mins: u64,
    /// Most SCIM requests kept in the activity record (the newest).
    #[arg(long, env = "SCIMBOX_ACTIVITY_MAX_ROWS", default_value_t = AdminSettings::default().activity_max_rows)]
    activity_max_rows: u64,
    /// Days a SCIM request stays in the activity record at most (older entries are removed every 10 minutes).
    #[arg(long, env = "SCIMBOX_ACTIVITY_MAX_AGE_DAYS", default_value_t = AdminSettings::default().activity_max_age.as_secs() / 86_400)]
    activity_max_age_days: u64,
    /// Days an audit record is kept (removed from the oldest end, hourly); 0 keeps every record.
    #[arg(long, env = "SCIMBOX_AUDIT_RETENTION_DAYS", default_value_t = crate::config::AUDIT_RETENTION_DAYS)]
    audit_retention_days: u64,
    /// Also write every audit record as one JSON line to this file (appended), or to standard output
    /// with "-", for a SIEM to collect.
    #[arg(long, env = "SCIMBOX_AUDIT_LOG", value_name = "FILE|-")]
    audit_log: Option<String>,
    /// Serve Prometheus metrics at http://ADDR:PORT/metrics, on a listener of their own (off when unset).
    #[arg(long, env = "SCIMBOX_METRICS_LISTEN", value_name = "ADDR:PORT")]
    metrics_listen: Option<SocketAddr>,
    /// Threads that serve connections, each serving its connections whole (default: one more than the
    /// cores).
    #[arg(long, env = "SCIMBOX_HTTP_WORKERS", value_name = "N")]
    http_workers: Option<std::num::NonZeroUsize>,
    /// Whether local admin accounts may sign in with a password (the break-glass way in beside the
    /// identity provider); `scimbox admin create` works either way.
    #[arg(long, env = "SCIMBOX_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    password_sign_in: bool,
    #[command(flatten)]
    oidc: OidcArgs,
}

/// Sign-in with the identity provider (OpenID Connect). The client secret is read from
/// `SCIMBOX_OIDC_CLIENT_SECRET` or from `--oidc-client-secret-file`, never from the command line, where
/// other users of the machine could read it.
#[derive(Debug, Args)]
struct OidcArgs {
    /// The OpenID Provider's issuer URL (Okta: https://YOUR-ORG.okta.com); turns the sign-in on.
    #[arg(long, env = "SCIMBOX_OIDC_ISSUER", value_name = "URL", requires = "oidc_client_id")]
    oidc_issuer: Option<String>,
    /// The app integration's client id.
    #[arg(long, env = "SCIMBOX_OIDC_CLIENT_ID", value_name = "ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// A file holding the client secret (instead of SCIMBOX_OIDC_CLIENT_SECRET).
    #[arg(long, env = "SCIMBOX_OIDC_CLIENT_SECRET_FILE", value_name = "FILE", requires = "oidc_issuer")]
    oidc_client_secret_file: Option<PathBuf>,
    /// Scopes asked for, separated by spaces or commas (openid is always asked for).
    #[arg(long, env = "SCIMBOX_OIDC_SCOPES", default_value = "openid email profile", value_name = "SCOPES")]
    oidc_scopes: String,
    /// The ID token claim that finds the provisioned user: compared to the user's externalId (`sub` for
    /// Okta, `oid` for Microsoft Entra ID), or `email`: compared to userName and e-mail addresses, and
    /// only when the provider says the address is verified.
    #[arg(long, env = "SCIMBOX_OIDC_MATCH_CLAIM", default_value = "sub", value_name = "CLAIM")]
    oidc_match_claim: String,
    /// The SCIM group (its displayName) whose members are admins of this page.
    #[arg(long, env = "SCIMBOX_OIDC_ADMIN_GROUP", value_name = "NAME")]
    oidc_admin_group: Option<String>,
    /// What the sign-in button calls the provider: "Sign in with NAME".
    #[arg(long, env = "SCIMBOX_OIDC_NAME", default_value = "Okta", value_name = "NAME")]
    oidc_name: String,
}

/// The variable that may hold the client secret (no flag reads it: see [`OidcArgs`]).
const CLIENT_SECRET_ENV: &str = "SCIMBOX_OIDC_CLIENT_SECRET";

/// The OpenID Connect settings, when an issuer is configured.
fn oidc_settings(args: OidcArgs, public_url: Option<&PublicUrl>) -> Result<Option<OidcSettings>, Failure> {
    let usage = |e: crate::config::ConfigError| Failure::Usage(e.to_string());
    let (Some(issuer), Some(client_id)) = (args.oidc_issuer, args.oidc_client_id) else { return Ok(None) };
    let client_secret = match (&args.oidc_client_secret_file, std::env::var(CLIENT_SECRET_ENV)) {
        (Some(file), _) => std::fs::read_to_string(file)
            .map_err(|e| Failure::Usage(format!("cannot read --oidc-client-secret-file {}: {e}", file.display())))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, Ok(secret)) => secret,
        (None, Err(_)) => String::new(),
    };
    let settings = OidcSettings {
        // Exactly as given: the issuer is compared with the discovery document's and the ID tokens' `iss`,
        // and some providers' end with a slash.
        issuer: issuer.trim().to_owned(),
        client_id: client_id.trim().to_owned(),
        client_secret,
        scopes: OidcSettings::scopes_from(&args.oidc_scopes),
        matching: Matching::parse(&args.oidc_match_claim).map_err(usage)?,
        admin_group: args.oidc_admin_group.map(|g| g.trim().to_owned()),
        display_name: args.oidc_name.trim().to_owned(),
    };
    settings.validate(public_url).map_err(usage)?;
    Ok(Some(settings))
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it once, as the last line of standard output.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// A name that says who uses the token (e.g. "okta").
        #[arg(long, env = "SCIMBOX_TOKEN_NAME")]
        name: String,
        /// What the token may call: scim (/scim/v2) or platform (/api/v1).
        #[arg(long, env = "SCIMBOX_TOKEN_SCOPE", value_enum, default_value = "scim")]
        scope: Scope,
        /// Days until the token expires; never when unset.
        #[arg(long, env = "SCIMBOX_TOKEN_EXPIRES_IN_DAYS", value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=36500))]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token by its id (the <id> in scimbox_<id>_<secret>, as `token list` shows it).
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The token id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin; the password is read from standard input, never from the command line.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// The admin's user name.
        #[arg(long, env = "SCIMBOX_ADMIN_USERNAME")]
        username: String,
    },
}

#[derive(Debug, Args)]
struct BackupArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the copy; must not exist yet.
    path: PathBuf,
}

/// A command's failure: printed once as `error: …`, exit status 1.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Failed(error.to_string())
    }
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match &cli.command {
        Command::Serve(args) => (args.log_format, args.log_level.clone()),
        _ => (LogFormat::Text, "warn".to_owned()),
    };
    let logs = match init_logging(log.0, &log.1) {
        Ok(logs) => logs,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    warn_unknown_env();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("scimbox")
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the runtime: {e}")))
        .and_then(|runtime| runtime.block_on(dispatch(cli.command)));
    // Every log line is written out before the final word.
    drop(logs);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Token(TokenCommand::Create { data, name, scope, expires_in_days }) => {
            let name = name.trim();
            if name.is_empty() || name.len() > 100 {
                return Err(Failure::Usage("--name must be 1 to 100 characters".into()));
            }
            let store = open(&data).await?;
            let (record, token) = store.create_token(&command_actor(), name, scope, expires_in_days).await?;
            store.close().await;
            let expires = record.expires_at.as_deref().unwrap_or("never");
            println!("Created token {} \"{}\" (scope {}, expires {expires}).", record.id, record.name, scope.as_str());
            println!("Copy it now; it is not shown again:");
            println!("{}", token.text());
            Ok(())
        }
        Command::Token(TokenCommand::List { data }) => {
            let store = open_existing(&data).await?;
            let tokens = store.list_tokens().await?;
            store.close().await;
            print_tokens(&tokens);
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { data, id }) => {
            if !credentials::is_token_id(&id) {
                return Err(Failure::Usage(format!(
                    "{id:?} is not a token id (16 hex digits, as `scimbox token list` shows)"
                )));
            }
            let store = open_existing(&data).await?;
            let outcome = store.revoke_token(&command_actor(), &id).await;
            store.close().await;
            match outcome {
                Ok(RevokeOutcome::Revoked(token)) => println!("Revoked token {} \"{}\".", token.id, token.name),
                Ok(RevokeOutcome::AlreadyRevoked(token)) => println!(
                    "Token {} \"{}\" was already revoked at {}.",
                    token.id,
                    token.name,
                    token.revoked_at.unwrap_or_default()
                ),
                Err(StoreError::NotFound(_)) => return Err(Failure::Failed(format!("there is no token {id}"))),
                Err(error) => return Err(error.into()),
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Create { data, username }) => create_admin(&data, &username).await,
        Command::Backup(BackupArgs { data, path }) => {
            let store = open_existing(&data).await?;
            let outcome = store.backup(&command_actor(), &path).await;
            store.close().await;
            match outcome {
                Ok(()) => {
                    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    println!("Backed up {} to {} ({size} bytes).", store.path().display(), path.display());
                    Ok(())
                }
                Err(StoreError::Conflict(_)) => {
                    Err(Failure::Failed(format!("{} exists already; choose a new path", path.display())))
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Migrate(data) => {
            let store = open(&data).await?;
            store.close().await;
            println!("Database {} is up to date.", store.path().display());
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { data }) => verify_audit(&data).await,
        Command::Audit(AuditCommand::Export { data, since }) => export_audit(&data, since.as_deref()).await,
    }
}

/// The actor of what a command changes: the OS user running it.
fn command_actor() -> crate::audit::Actor {
    crate::audit::Actor::cli(crate::audit::os_user())
}

async fn verify_audit(data: &DataArgs) -> Result<(), Failure> {
    let store = open_existing(data).await?;
    let outcome = store.verify_audit().await;
    store.close().await;
    let report = outcome?;
    let Some((head, hash)) = &report.head else {
        println!("The audit log is empty.");
        return Ok(());
    };
    let first = report.first.unwrap_or(*head);
    match &report.broken {
        None => {
            println!(
                "The audit log holds: {} records, {first} to {head}, each chained to the one before.",
                report.records
            );
            println!("Head: record {head}, hash {hash}");
            Ok(())
        }
        Some(broken) => Err(Failure::Failed(format!(
            "the audit log is broken at record {}: {} ({} records checked, {first} to {head})",
            broken.seq, broken.reason, report.records
        ))),
    }
}

async fn export_audit(data: &DataArgs, since: Option<&str>) -> Result<(), Failure> {
    let since = match since {
        Some(text) => Some(crate::store::parse_time(text).ok_or_else(|| {
            Failure::Usage(format!("--since {text:?} is not an RFC 3339 time (2026-12-01T00:00:00Z)"))
        })?),
        None => None,
    };
    let store = open_existing(data).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = i64::MIN;
    let outcome = loop {
        let chunk = match store.audit_records_after(after, since, 10_000).await {
            Ok(chunk) => chunk,
            Err(error) => break Err(Failure::from(error)),
        };
        let Some(last) = chunk.last() else { break Ok(()) };
        after = last.seq;
        let written = chunk.iter().try_for_each(|record| record.write_line(&mut out));
        if let Err(error) = written {
            break Err(Failure::Failed(format!("cannot write the export: {error}")));
        }
    };
    store.close().await;
    outcome?;
    out.flush().map_err(|e| Failure::Failed(format!("cannot write the export: {e}")))
}

/// Opens the database, creating it if needed (for commands that may come before the first `serve`).
async fn open(data: &DataArgs) -> Result<Store, Failure> {
    let dir = data.data_dir.clone();
    Ok(tokio::task::spawn_blocking(move || Store::open_for_command(&dir))
        .await
        .map_err(|e| Failure::Failed(e.to_string()))??)
}

/// Opens an existing database only: a mistyped `--data-dir` must not yield an empty listing or backup.
async fn open_existing(data: &DataArgs) -> Result<Store, Failure> {
    let dir = data.data_dir.clone();
    Ok(tokio::task::spawn_blocking(move || Store::open_existing(&dir))
        .await
        .map_err(|e| Failure::Failed(e.to_string()))??)
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    let config = serve_config(args)?;
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure::Failed(format!("cannot listen on {}: {e}", config.listen)))?;
    let server = crate::Server::start(config, listener).await.map_err(|e| Failure::Failed(e.to_string()))?;
    let base = server.base_url();
    println!("scimbox {} listening on {base}", env!("CARGO_PKG_VERSION"));
    println!("SCIM base URL: {base}/scim/v2");
    if let Some(metrics) = server.metrics_addr() {
        println!("Prometheus metrics: http://{metrics}/metrics");
    }
    if let Some(link) = server.setup_link().await.map_err(|e| Failure::Failed(e.to_string()))? {
        println!("No admin exists yet. Create the first one at {link}");
        println!("(the link works once, until this server restarts; or run `scimbox admin create --username NAME`)");
    }
    let _ = std::io::stdout().flush();
    if let Some(slot) = server.certificate() {
        tokio::spawn(reload_on_hangup(slot));
    }
    server.run(shutdown).await.map_err(|e| Failure::Failed(e.to_string()))
}

fn serve_config(args: ServeArgs) -> Result<Config, Failure> {
    let usage = |e: crate::config::ConfigError| Failure::Usage(e.to_string());
    let public_url = args.public_url.as_deref().map(PublicUrl::parse).transpose().map_err(usage)?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(usage(crate::config::ConfigError::TlsHalf)),
    };
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        header_timeout: Duration::from_secs(args.header_timeout_secs),
        body_timeout: Duration::from_secs(args.body_timeout_secs),
        idle_timeout: Duration::from_secs(args.idle_timeout_secs),
        max_connections: args.max_connections,
        max_connections_per_address: args.max_connections_per_address,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout_secs),
        max_results: args.max_results,
        bulk_max_operations: args.bulk_max_operations,
        patch_max_operations: args.patch_max_operations,
    };
    limits.validate().map_err(usage)?;
    let admin = AdminSettings {
        session_lifetime: Duration::from_secs(args.session_lifetime_mins.saturating_mul(60)),
        session_idle_timeout: Duration::from_secs(args.session_idle_mins.saturating_mul(60)),
        activity_max_rows: args.activity_max_rows,
        activity_max_age: Duration::from_secs(args.activity_max_age_days.saturating_mul(86_400)),
        password_sign_in: args.password_sign_in,
    };
    admin.validate().map_err(usage)?;
    let audit = crate::config::AuditSettings {
        retention: (args.audit_retention_days > 0)
            .then(|| Duration::from_secs(args.audit_retention_days.saturating_mul(86_400))),
        stream: args.audit_log.as_deref().map(crate::config::AuditStream::parse),
    };
    let oidc = oidc_settings(args.oidc, public_url.as_ref())?;
    Ok(Config {
        listen: args.listen,
        data_dir: args.data.data_dir,
        public_url,
        tls,
        log_format: args.log_format,
        limits,
        admin,
        audit,
        metrics_listen: args.metrics_listen,
        oidc,
        http_workers: args.http_workers,
    })
}

async fn create_admin(data: &DataArgs, username: &str) -> Result<(), Failure> {
    let username = &credentials::check_admin_name(username).map_err(|e| Failure::Usage(format!("--username: {e}")))?;
    let password = read_password()?;
    credentials::check_password(username, &password).map_err(|e| Failure::Usage(e.to_string()))?;
    let hash = tokio::task::spawn_blocking(move || credentials::hash_secret(&password))
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let store = open(data).await?;
    let outcome = store.create_admin(&command_actor(), username, hash).await;
    store.close().await;
    match outcome {
        Ok(admin) => {
            println!("Created admin {:?}.", admin.username);
            Ok(())
        }
        Err(StoreError::Conflict(what)) => Err(Failure::Failed(format!("{what} exists already"))),
        Err(error) => Err(error.into()),
    }
}

/// Reads the password: prompted twice without echo on a terminal, else the first line of stdin.
fn read_password() -> Result<String, Failure> {
    let failed = |e: std::io::Error| Failure::Failed(format!("cannot read the password: {e}"));
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(failed)?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(failed)?;
        if first != second {
            return Err(Failure::Usage("the passwords do not match".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(failed)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

fn print_tokens(tokens: &[crate::store::TokenRecord]) {
    let header = ["ID", "NAME", "SCOPE", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"];
    let rows: Vec<[String; 8]> = tokens
        .iter()
        .map(|t| {
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            [
                t.id.clone(),
                t.name.clone(),
                t.scope.as_str().to_owned(),
                t.prefix(),
                t.created_at.clone(),
                or_dash(&t.last_used_at),
                or_dash(&t.expires_at),
                or_dash(&t.revoked_at),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    if rows.is_empty() {
        println!("(no tokens; create one with `scimbox token create --name NAME`)");
    }
}

/// Sets up logging to standard error through [`BufferedStderr`](crate::logsink::BufferedStderr): one
/// line per request must not cost a `write(2)` on the request path. The returned guard writes out what is
/// buffered when dropped.
fn init_logging(format: LogFormat, filter: &str) -> Result<crate::logsink::Flush, String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).map_err(|e| format!("--log-level {filter:?}: {e}"))?;
    let ansi = std::io::stderr().is_terminal();
    let (writer, flush) = crate::logsink::BufferedStderr::start();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    let result = match format {
        LogFormat::Text => builder.event_format(crate::logsink::TextFormat { ansi }).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| e.to_string())?;
    Ok(flush)
}

/// Every `SCIMBOX_*` variable some flag reads (what `packaging/scimbox.env` must document).
pub fn env_names() -> Vec<String> {
    let mut names = Vec::new();
    collect_env_names(&Cli::command(), &mut names);
    names.push(CLIENT_SECRET_ENV.to_owned());
    names.sort();
    names.dedup();
    names
}

/// Warns about `SCIMBOX_*` variables no flag reads: usually a typo that silently leaves a default.
fn warn_unknown_env() {
    let known = env_names();
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("SCIMBOX_") && !known.iter().any(|k| k == name) {
            tracing::warn!("ignoring unknown environment variable {name}");
        }
    }
}

fn collect_env_names(command: &clap::Command, names: &mut Vec<String>) {
    for arg in command.get_arguments() {
        if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
            names.push(env.to_owned());
        }
    }
    for sub in command.get_subcommands() {
        collect_env_names(sub, names);
    }
}

/// Listens for SIGTERM and SIGINT from now on (so that a signal arriving while the server starts is not
/// lost) and completes when either arrives.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let failed = |e: std::io::Error| Failure::Failed(format!("cannot listen for stop signals: {e}"));
    let mut terminate = signal(SignalKind::terminate()).map_err(failed)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(failed)?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    })
}

async fn reload_on_hangup(slot: std::sync::Arc<crate::http::tls::CertificateSlot>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else { return };
    while hangup.recv().await.is_some() {
        match slot.reload() {
            Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
            Err(error) => tracing::error!(%error, "SIGHUP: keeping the current TLS certificate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_has_a_scimbox_variable() {
        fn check(command: &clap::Command) {
            for arg in command.get_arguments() {
                if arg.is_positional() || ["help", "version"].contains(&arg.get_id().as_str()) {
                    continue;
                }
                let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_default();
                assert!(
                    env.starts_with("SCIMBOX_"),
                    "--{} of {} has no SCIMBOX_ variable",
                    arg.get_id(),
                    command.get_name()
                );
            }
            command.get_subcommands().for_each(check);
        }
        check(&Cli::command());
    }

    #[test]
    fn serve_defaults_are_the_embedded_defaults() {
        let cli = Cli::try_parse_from(["scimbox", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("not serve") };
        let config = serve_config(*args).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.limits, Limits::default());
        assert!(config.tls.is_none() && config.public_url.is_none());
    }

    #[test]
    fn bad_settings_are_refused() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(args).map_err(|e| e.to_string()).and_then(|cli| match cli.command {
                Command::Serve(args) => serve_config(*args).map(drop).map_err(|e| e.to_string()),
                _ => Ok(()),
            })
        };
        assert!(parse(&["scimbox", "serve", "--listen", "nowhere"]).is_err());
        assert!(parse(&["scimbox", "serve", "--tls-cert", "a.pem"]).is_err());
        assert!(parse(&["scimbox", "serve", "--public-url", "ftp://x"]).unwrap_err().contains("public-url"));
        assert!(parse(&["scimbox", "serve", "--max-results", "10"]).unwrap_err().contains("max-results"));
        assert!(parse(&["scimbox", "serve", "--bogus"]).is_err());
        assert!(parse(&["scimbox", "token", "create", "--name", "x", "--scope", "admin"]).is_err());
        assert!(parse(&["scimbox", "token", "create", "--name", "x", "--expires-in-days", "0"]).is_err());
        assert!(parse(&["scimbox", "serve", "--public-url", "https://scim.example.com/"]).is_ok());
    }

    #[test]
    fn the_client_secret_comes_from_a_file_or_the_environment_never_from_argv() {
        let serve = |args: &[&str]| -> Result<Config, String> {
            let cli = Cli::try_parse_from(args).map_err(|e| e.to_string())?;
            let Command::Serve(args) = cli.command else { panic!("not serve") };
            serve_config(*args).map_err(|e| e.to_string())
        };
        let base = [
            "scimbox",
            "serve",
            "--public-url",
            "https://scimbox.example.com",
            "--oidc-issuer",
            "https://corp.okta.com",
        ];
        // The issuer and the client id go together.
        assert!(serve(&base).unwrap_err().contains("oidc-client-id"));
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cr3t-from-a-file\n").unwrap();
        let mut args: Vec<&str> = base.to_vec();
        let secret_path = secret.to_str().unwrap();
        args.extend([
            "--oidc-client-id",
            "0oa1",
            "--oidc-client-secret-file",
            secret_path,
            "--oidc-admin-group",
            "scimbox admins",
        ]);
        let config = serve(&args).unwrap();
        let oidc = config.oidc.expect("sign-in is on");
        assert_eq!(oidc.client_secret, "s3cr3t-from-a-file", "read from the file, the newline left out");
        assert_eq!(oidc.matching, Matching::ExternalId("sub".into()));
        assert_eq!(oidc.admin_group.as_deref(), Some("scimbox admins"));
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        // There is no flag that takes the secret itself.
        let mut inline = base.to_vec();
        inline.extend(["--oidc-client-id", "0oa1", "--oidc-client-secret", "x"]);
        assert!(serve(&inline).unwrap_err().contains("--oidc-client-secret"));
        // Without --public-url there is no redirect URI to give the provider.
        let mut no_url = vec!["scimbox", "serve", "--oidc-issuer", "https://corp.okta.com", "--oidc-client-id", "0oa1"];
        no_url.extend(["--oidc-client-secret-file", secret_path]);
        assert!(serve(&no_url).unwrap_err().contains("--public-url"));
        assert!(env_names().iter().any(|name| name == CLIENT_SECRET_ENV));
    }
}
