//! The audit log's model: who did what to whom, from where, and the hash chain that makes the log
//! tamper-evident. Pure: the store writes records in the same transaction as the change they describe
//! (`store/audit.rs`), the HTTP side and the CLI name the actor.
//!
//! Every record is chained to the one before it: its `hash` is the SHA-256 of the previous record's hash
//! and of the record's own canonical bytes ([`Record::canonical`]: its fields as one JSON array, in a fixed
//! order, `details` as the very text stored). Changing, inserting or removing a record in the middle
//! breaks the chain at that record, which [`Chain`] names. Pruning removes records only from the oldest
//! end, so the records that remain still chain from the first one's stored `prev`. Someone able to
//! rewrite the whole database could recompute every hash: a copy of the records outside the machine (the
//! JSON Lines stream, an export) or the head hash `scimbox audit verify` prints is the anchor against that.
//!
//! Records never hold a secret: tokens appear by id and name, passwords only as "changed".

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev` of the very first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// An admin signed in to the page.
    Admin,
    /// An API token: the identity provider's (SCIM) or a platform service's.
    Token,
    /// A `scimbox` command run on the machine, by the OS user it names.
    Cli,
    /// The server itself (start, stop, migrations, expiry, retention).
    Server,
    /// Someone not (or not yet) authenticated: a failed sign-in, a refused token.
    Anonymous,
    /// A person provisioned over SCIM, signed in through the identity provider (an admin when they are in
    /// the admin group).
    User,
}

impl ActorKind {
    pub const ALL: [ActorKind; 6] =
        [ActorKind::Admin, ActorKind::Token, ActorKind::Cli, ActorKind::Server, ActorKind::Anonymous, ActorKind::User];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Admin => "admin",
            ActorKind::Token => "token",
            ActorKind::Cli => "cli",
            ActorKind::Server => "server",
            ActorKind::Anonymous => "anonymous",
            ActorKind::User => "user",
        }
    }

    pub fn parse(text: &str) -> Option<ActorKind> {
        ActorKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The actor of a record: its kind, its id and name where it has them (an admin's id and user name, a
/// token's id and name, the OS user of a command), and the address a request came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
}

impl Actor {
    pub fn admin(id: &str, username: &str, address: Option<IpAddr>) -> Actor {
        Actor {
            kind: ActorKind::Admin,
            id: Some(id.to_owned()),
            name: Some(username.to_owned()),
            address: address.map(|a| a.to_string()),
        }
    }

    /// A provisioned user (SCIM id and userName) signed in through the identity provider.
    pub fn user(id: &str, user_name: &str, address: Option<IpAddr>) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: Some(id.to_owned()),
            name: Some(user_name.to_owned()),
            address: address.map(|a| a.to_string()),
        }
    }

    pub fn token(id: &str, name: &str, address: Option<IpAddr>) -> Actor {
        Actor {
            kind: ActorKind::Token,
            id: Some(id.to_owned()),
            name: Some(name.to_owned()),
            address: address.map(|a| a.to_string()),
        }
    }

    pub fn anonymous(address: Option<IpAddr>) -> Actor {
        Actor { kind: ActorKind::Anonymous, id: None, name: None, address: address.map(|a| a.to_string()) }
    }

    pub fn server() -> Actor {
        Actor {
            kind: ActorKind::Server,
            id: None,
            name: Some(format!("scimbox {}", env!("CARGO_PKG_VERSION"))),
            address: None,
        }
    }

    /// A command run by `os_user` (as [`os_user`] finds it).
    pub fn cli(os_user: String) -> Actor {
        Actor { kind: ActorKind::Cli, id: None, name: Some(os_user), address: None }
    }
}

/// The OS user running this process, as a command's actor names it: the user name of the real uid (from
/// `/etc/passwd`, else `uid N`), and the user `sudo` was run by, when it was.
pub fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|meta| meta.uid()).ok();
    let name = uid.and_then(|uid| {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse::<u32>().ok()?;
            (id == uid).then(|| name.to_owned())
        })
    });
    let mut text = match (name, uid) {
        (Some(name), _) => name,
        (None, Some(uid)) => format!("uid {uid}"),
        (None, None) => "unknown user".to_owned(),
    };
    if let Ok(by) = std::env::var("SUDO_USER")
        && !by.is_empty()
    {
        text.push_str(&format!(" (sudo by {by})"));
    }
    text
}

/// What was done. The names are stable: filters, exports and a SIEM's rules use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ServerStarted,
    ServerStopped,
    MigrationsApplied,
    BackupTaken,
    AuditPruned,
    SetupCompleted,
    SignedIn,
    SignInFailed,
    LockedOut,
    SignedOut,
    SessionExpired,
    CsrfRefused,
    PasswordChanged,
    PasswordChangeFailed,
    AdminCreated,
    AdminRemoved,
    TokenCreated,
    TokenRevoked,
    TokenExpired,
    TokenRefused,
    TokenLockedOut,
    AssetCreated,
    AssetRenamed,
    AssetReowned,
    AssetDeleted,
    PermissionsChanged,
    OwnershipExtended,
    UserCreated,
    UserChanged,
    UserDeleted,
    GroupCreated,
    GroupChanged,
    GroupDeleted,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Action::ServerStarted,
        Action::ServerStopped,
        Action::MigrationsApplied,
        Action::BackupTaken,
        Action::AuditPruned,
        Action::SetupCompleted,
        Action::SignedIn,
        Action::SignInFailed,
        Action::LockedOut,
        Action::SignedOut,
        Action::SessionExpired,
        Action::CsrfRefused,
        Action::PasswordChanged,
        Action::PasswordChangeFailed,
        Action::AdminCreated,
        Action::AdminRemoved,
        Action::TokenCreated,
        Action::TokenRevoked,
        Action::TokenExpired,
        Action::TokenRefused,
        Action::TokenLockedOut,
        Action::AssetCreated,
        Action::AssetRenamed,
        Action::AssetReowned,
        Action::AssetDeleted,
        Action::PermissionsChanged,
        Action::OwnershipExtended,
        Action::UserCreated,
        Action::UserChanged,
        Action::UserDeleted,
        Action::GroupCreated,
        Action::GroupChanged,
        Action::GroupDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ServerStarted => "server.started",
            Action::ServerStopped => "server.stopped",
            Action::MigrationsApplied => "database.migrated",
            Action::BackupTaken => "database.backed_up",
            Action::AuditPruned => "audit.pruned",
            Action::SetupCompleted => "setup.completed",
            Action::SignedIn => "session.signed_in",
            Action::SignInFailed => "session.sign_in_failed",
            Action::LockedOut => "session.locked_out",
            Action::SignedOut => "session.signed_out",
            Action::SessionExpired => "session.expired",
            Action::CsrfRefused => "session.csrf_refused",
            Action::PasswordChanged => "admin.password_changed",
            Action::PasswordChangeFailed => "admin.password_change_failed",
            Action::AdminCreated => "admin.created",
            Action::AdminRemoved => "admin.removed",
            Action::TokenCreated => "token.created",
            Action::TokenRevoked => "token.revoked",
            Action::TokenExpired => "token.expired",
            Action::TokenRefused => "token.refused",
            Action::TokenLockedOut => "token.locked_out",
            Action::AssetCreated => "asset.created",
            Action::AssetRenamed => "asset.renamed",
            Action::AssetReowned => "asset.owner_changed",
            Action::AssetDeleted => "asset.deleted",
            Action::PermissionsChanged => "asset.permissions_changed",
            Action::OwnershipExtended => "user.ownership_extended",
            Action::UserCreated => "user.created",
            Action::UserChanged => "user.changed",
            Action::UserDeleted => "user.deleted",
            Action::GroupCreated => "group.created",
            Action::GroupChanged => "group.changed",
            Action::GroupDeleted => "group.deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.as_str() == text)
    }

    /// Whether the action is a refusal or failure rather than a change.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Action::SignInFailed
                | Action::LockedOut
                | Action::CsrfRefused
                | Action::PasswordChangeFailed
                | Action::TokenRefused
                | Action::TokenLockedOut
        )
    }
}

/// What a record is about: a user, group, asset, token, admin or the database, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Target {
    pub fn new(kind: &str, id: impl Into<String>, name: impl Into<String>) -> Target {
        Target { kind: kind.to_owned(), id: Some(id.into()), name: Some(name.into()) }
    }

    /// A target known by name only (a failed sign-in's name when no admin has it is not recorded).
    pub fn named(kind: &str, name: impl Into<String>) -> Target {
        Target { kind: kind.to_owned(), id: None, name: Some(name.into()) }
    }
}

/// One action to record: what the code that makes a change hands to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub action: Action,
    pub target: Option<Target>,
    /// What changed (grants before and after, fields changed), never a secret. `null` when there is
    /// nothing to add.
    pub details: Value,
}

impl Entry {
    pub fn new(action: Action, target: Option<Target>, details: Value) -> Entry {
        Entry { action, target, details }
    }
}

/// A stored record, as exported (one JSON line each) and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: i64,
    pub at: String,
    pub actor: Actor,
    pub action: String,
    pub outcome: String,
    pub target: Option<Target>,
    /// The details as stored: JSON text (kept as text so that the hash covers exactly these bytes).
    #[serde(with = "details_text")]
    pub details: String,
    pub prev: String,
    pub hash: String,
}

/// `details` is JSON text in the database and a JSON value in an export line.
mod details_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        let value: Box<serde_json::value::RawValue> =
            serde_json::value::RawValue::from_string(text.to_owned()).map_err(serde::ser::Error::custom)?;
        serde::Serialize::serialize(&value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw: Box<serde_json::value::RawValue> = Deserialize::deserialize(deserializer)?;
        Ok(raw.get().to_owned())
    }
}

impl Record {
    /// The bytes the hash covers: every field but `prev` and `hash`, as one JSON array in a fixed order.
    pub fn canonical(&self) -> Vec<u8> {
        let target = self.target.as_ref();
        let fields = (
            self.seq,
            &self.at,
            self.actor.kind.as_str(),
            &self.actor.id,
            &self.actor.name,
            &self.actor.address,
            &self.action,
            &self.outcome,
            target.map(|t| t.kind.as_str()),
            target.and_then(|t| t.id.as_deref()),
            target.and_then(|t| t.name.as_deref()),
            &self.details,
        );
        // Strings, numbers and options always serialise.
        serde_json::to_vec(&fields).unwrap_or_default()
    }

    /// Writes the record as one line of JSON Lines (with `prev` and `hash`, so that the line can be
    /// checked): the form of `scimbox audit export`, the page's export and the stream for a SIEM.
    pub fn write_line(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, self).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }

    /// The hash this record must carry, given the previous record's.
    pub fn expected_hash(&self, prev: &str) -> String {
        chain_hash(prev, &self.canonical())
    }
}

/// `SHA-256(prev ‖ "\n" ‖ canonical)`, `prev` being the previous hash in hex: the digest as stored.
pub fn chain_digest(prev: &str, canonical: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(prev.as_bytes());
    digest.update(b"\n");
    digest.update(canonical);
    digest.finalize().into()
}

/// [`chain_digest`] in hex, as records and exports show it.
pub fn chain_hash(prev: &str, canonical: &[u8]) -> String {
    crate::credentials::hex(&chain_digest(prev, canonical))
}

/// Why the chain does not hold at a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Checks records handed over in `seq` order, one at a time, and remembers the first that does not fit.
#[derive(Debug, Default)]
pub struct Chain {
    last: Option<(i64, String)>,
    first: Option<i64>,
    count: u64,
    broken: Option<Break>,
}

impl Chain {
    /// Checks `record` against the one before it; once the chain is broken, later records are only
    /// counted.
    pub fn push(&mut self, record: &Record) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(record.seq);
        }
        if self.broken.is_none() {
            let reason = match &self.last {
                Some((seq, _)) if record.seq != seq + 1 => {
                    Some(format!("follows record {seq}: the records between them are missing"))
                }
                Some((seq, hash)) if &record.prev != hash => {
                    Some(format!("its prev does not match the hash of record {seq}"))
                }
                _ if record.hash != record.expected_hash(&record.prev) => {
                    Some("its content does not match its hash: the record was changed".to_owned())
                }
                _ => None,
            };
            if let Some(reason) = reason {
                self.broken = Some(Break { seq: record.seq, reason });
            }
        }
        self.last = Some((record.seq, record.hash.clone()));
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn first(&self) -> Option<i64> {
        self.first
    }

    /// The last record's seq and hash: the head to anchor elsewhere.
    pub fn head(&self) -> Option<(i64, &str)> {
        self.last.as_ref().map(|(seq, hash)| (*seq, hash.as_str()))
    }

    pub fn broken(&self) -> Option<&Break> {
        self.broken.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, prev: &str, details: &str) -> Record {
        let mut record = Record {
            seq,
            at: "2026-12-02T10:00:00.000Z".into(),
            actor: Actor::admin("a1", "root", Some("10.0.0.1".parse().unwrap())),
            action: Action::TokenCreated.as_str().into(),
            outcome: "success".into(),
            target: Some(Target::new("token", "t1", "okta")),
            details: details.into(),
            prev: prev.into(),
            hash: String::new(),
        };
        record.hash = record.expected_hash(prev);
        record
    }

    fn chain(n: i64) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            out.push(record(seq, &prev, &format!("{{\"n\":{seq}}}")));
        }
        out
    }

    fn check(records: &[Record]) -> Option<Break> {
        let mut chain = Chain::default();
        records.iter().for_each(|r| chain.push(r));
        chain.broken().cloned()
    }

    #[test]
    fn an_intact_chain_holds() {
        let records = chain(5);
        assert_eq!(check(&records), None);
        assert_eq!(check(&records[2..]), None, "a chain pruned from the oldest end still holds");
    }

    #[test]
    fn a_changed_record_breaks_the_chain_at_itself() {
        let mut records = chain(5);
        records[2].details = "{\"n\":99}".into();
        assert_eq!(check(&records).unwrap().seq, 3);
        let mut records = chain(5);
        records[3].actor.name = Some("someone else".into());
        assert_eq!(check(&records).unwrap().seq, 4);
    }

    #[test]
    fn a_removed_or_rehashed_record_is_found() {
        let mut records = chain(5);
        records.remove(2);
        let broken = check(&records).unwrap();
        assert_eq!(broken.seq, 4);
        assert!(broken.reason.contains("missing"), "{}", broken.reason);
        // Rewriting a record and its own hash still breaks the link to the next one.
        let mut records = chain(5);
        records[1].details = "{}".into();
        records[1].hash = records[1].expected_hash(&records[1].prev.clone());
        assert_eq!(check(&records).unwrap().seq, 3);
    }

    #[test]
    fn canonical_bytes_are_fixed() {
        let record = record(7, GENESIS, "{\"b\":1,\"a\":2}");
        let text = String::from_utf8(record.canonical()).unwrap();
        assert_eq!(
            text,
            "[7,\"2026-12-02T10:00:00.000Z\",\"admin\",\"a1\",\"root\",\"10.0.0.1\",\"token.created\",\"success\",\
             \"token\",\"t1\",\"okta\",\"{\\\"b\\\":1,\\\"a\\\":2}\"]"
        );
    }

    #[test]
    fn export_lines_round_trip() {
        let record = record(1, GENESIS, "{\"before\":[],\"after\":[{\"level\":\"view\"}]}");
        let line = serde_json::to_string(&record).unwrap();
        assert!(line.contains("\"details\":{\"before\":[]"), "{line}");
        let back: Record = serde_json::from_str(&line).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.expected_hash(GENESIS), record.hash);
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()), "{}", action.as_str());
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        for kind in ActorKind::ALL {
            assert_eq!(ActorKind::parse(kind.as_str()), Some(kind));
        }
    }
}
