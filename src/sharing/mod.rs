//! Sharing of the platform's assets (capsules, data assets, pipelines) with users and groups, as pure
//! rules: which permission levels each kind of asset offers, how a user's grants combine into one
//! effective level with its reasons, what deactivation and deletion do to access, how a new permission
//! list is checked and turned into changes, and how "extend ownership" is planned.
//!
//! Architecture invariant: like `scim/`, this module takes values and returns values. No IO, no async,
//! no SQL, no HTTP; the store loads what a rule needs, calls it, and writes what it decides. Deliberately
//! absent: who may call what (that is `http/`), and where grants live (that is `store/`).

pub mod access;
pub mod level;
pub mod plan;

pub use access::{Access, Decision, Source, UserStatus, Via, decide};
pub use level::{AssetKind, Level};
pub use plan::{
    Extension, Grant, Grantee, OwnerHolder, PermissionPlan, PrincipalState, check_name, check_new_owner,
    owner_reachable, plan_extension, plan_permissions,
};

/// Why a sharing request is refused. Every variant is the client's to fix (HTTP 400); the text says how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unknown asset kind {0:?}: use capsule, dataAsset or pipeline")]
    UnknownKind(String),
    #[error("unknown permission level {0:?}: use viewer, editor or owner")]
    UnknownLevel(String),
    #[error("a {kind} has no {level} level; its levels are {}", level::names(kind.levels()))]
    LevelNotOffered { kind: AssetKind, level: Level },
    #[error("the name {0}")]
    InvalidName(&'static str),
    #[error("{0} is listed more than once; give each user or group one level")]
    DuplicatePrincipal(String),
    #[error("these users or groups do not exist: {}", .0.join(", "))]
    UnknownPrincipals(Vec<String>),
    #[error("user {0:?} is deleted: a deleted user cannot be given access or ownership")]
    DeletedUser(String),
    #[error("user {0:?} is deactivated: ownership must go to an active user or to a group")]
    DeactivatedUser(String),
    #[error("user {0:?} cannot extend ownership to themselves; choose another user or a group")]
    ExtendToSelf(String),
}
