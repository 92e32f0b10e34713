//! Turning requests into changes: a new permission list (the Share dialog's *Save*) checked against the
//! asset's kind and the principals' states and reduced to the rows that differ; "extend ownership"
//! reduced to the assets whose heir is not yet an owner; the checks on a new owner of record and on
//! asset names; and whether an asset still has an owner someone can reach.

use std::collections::{HashMap, HashSet};

use super::Error;
use super::access::UserStatus;
use super::level::{AssetKind, Level};

/// Longest asset name, in characters.
pub const NAME_MAX_CHARS: usize = 200;

/// Who a grant is to, by SCIM id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    User(String),
    Group(String),
}

impl Grantee {
    pub fn id(&self) -> &str {
        match self {
            Grantee::User(id) | Grantee::Group(id) => id,
        }
    }

    /// `user` or `group`, as on the wire.
    pub fn type_str(&self) -> &'static str {
        match self {
            Grantee::User(_) => "user",
            Grantee::Group(_) => "group",
        }
    }

    /// `user "…"`, as a sentence names it.
    pub fn describe(&self) -> String {
        format!("{} {:?}", self.type_str(), self.id())
    }
}

/// A level granted on an asset to a user or a group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    pub grantee: Grantee,
    pub level: Level,
}

/// What the store found for a principal a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalState {
    Missing,
    User(UserStatus),
    Group,
}

/// The rows a permission list changes: grants to insert or re-level, grants to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionPlan {
    pub set: Vec<Grant>,
    pub remove: Vec<Grantee>,
}

/// Checks the permission list `wanted` for an asset of `kind` that has `current`, and plans the change.
///
/// Refused: a level the kind does not offer, a principal listed twice, principals that do not exist, and
/// new or changed access for a deleted user. A deleted user's existing grant may stay as it is (it gives
/// nothing while they are deleted), so that saving a dialog that still lists them is not an error.
pub fn plan_permissions(
    kind: AssetKind,
    current: &[Grant],
    wanted: &[(Grant, PrincipalState)],
) -> Result<PermissionPlan, Error> {
    for (grant, _) in wanted {
        kind.check(grant.level)?;
    }
    let mut seen = HashSet::new();
    for (grant, _) in wanted {
        if !seen.insert(&grant.grantee) {
            return Err(Error::DuplicatePrincipal(grant.grantee.describe()));
        }
    }
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, state)| *state == PrincipalState::Missing)
        .map(|(grant, _)| grant.grantee.describe())
        .collect();
    if !missing.is_empty() {
        return Err(Error::UnknownPrincipals(missing));
    }
    let existing: HashMap<&Grantee, Level> = current.iter().map(|g| (&g.grantee, g.level)).collect();
    let mut plan = PermissionPlan::default();
    for (grant, state) in wanted {
        let unchanged = existing.get(&grant.grantee) == Some(&grant.level);
        if *state == PrincipalState::User(UserStatus::Deleted) && !unchanged {
            return Err(Error::DeletedUser(grant.grantee.id().to_owned()));
        }
        if !unchanged {
            plan.set.push(grant.clone());
        }
    }
    plan.remove = current.iter().filter(|g| !seen.contains(&g.grantee)).map(|g| g.grantee.clone()).collect();
    Ok(plan)
}

/// What extending a user's ownership does: the assets whose heir gets Owner, and how many already had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension<K> {
    pub upgrade: Vec<K>,
    pub unchanged: usize,
}

/// Plans "extend ownership" from user `from` to `to` (in state `to_state`) over the assets `from` owns,
/// each with the level `to` already holds there directly. The heir must be a group or an active user
/// other than `from`: ownership handed to someone who cannot use it would leave the assets unreachable.
pub fn plan_extension<K: Clone>(
    from: &str,
    to: &Grantee,
    to_state: PrincipalState,
    holdings: &[(K, Option<Level>)],
) -> Result<Extension<K>, Error> {
    match (to, to_state) {
        (_, PrincipalState::Missing) => return Err(Error::UnknownPrincipals(vec![to.describe()])),
        (Grantee::User(id), _) if id == from => return Err(Error::ExtendToSelf(from.to_owned())),
        (Grantee::User(id), PrincipalState::User(status)) => check_active(id, status)?,
        (Grantee::User(_), PrincipalState::Group) | (Grantee::Group(_), PrincipalState::User(_)) => {
            return Err(Error::UnknownPrincipals(vec![to.describe()]));
        }
        (Grantee::Group(_), PrincipalState::Group) => {}
    }
    let upgrade: Vec<K> =
        holdings.iter().filter(|(_, held)| *held != Some(Level::Owner)).map(|(key, _)| key.clone()).collect();
    Ok(Extension { unchanged: holdings.len() - upgrade.len(), upgrade })
}

/// Checks the user who is to become an asset's owner of record: they must exist and be active.
pub fn check_new_owner(id: &str, state: PrincipalState) -> Result<(), Error> {
    match state {
        PrincipalState::User(status) => check_active(id, status),
        PrincipalState::Missing | PrincipalState::Group => Err(Error::UnknownPrincipals(vec![format!("user {id:?}")])),
    }
}

fn check_active(id: &str, status: UserStatus) -> Result<(), Error> {
    match status {
        UserStatus::Active => Ok(()),
        UserStatus::Deactivated => Err(Error::DeactivatedUser(id.to_owned())),
        UserStatus::Deleted => Err(Error::DeletedUser(id.to_owned())),
    }
}

/// Checks and trims an asset's name: 1 to [`NAME_MAX_CHARS`] characters, none of them control characters.
pub fn check_name(text: &str) -> Result<String, Error> {
    let name = text.trim();
    if name.is_empty() {
        return Err(Error::InvalidName("must not be empty"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(Error::InvalidName("must be at most 200 characters long"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::InvalidName("must not contain control characters (line breaks, tabs)"));
    }
    Ok(name.to_owned())
}

/// Someone holding Owner on an asset, as far as reaching it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerHolder {
    User(UserStatus),
    /// A group granted Owner: reachable when an active user belongs to it (directly or nested).
    Group {
        has_active_member: bool,
    },
}

/// Whether some active user can act as the asset's owner: its owner of record, or anyone reaching an
/// Owner grant. When not, only an admin can (re-own it, or extend its owner's ownership).
pub fn owner_reachable(owner: UserStatus, holders: &[OwnerHolder]) -> bool {
    owner == UserStatus::Active
        || holders.iter().any(|holder| match holder {
            OwnerHolder::User(status) => *status == UserStatus::Active,
            OwnerHolder::Group { has_active_member } => *has_active_member,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;

    fn user(id: &str) -> Grantee {
        Grantee::User(id.into())
    }

    fn group(id: &str) -> Grantee {
        Grantee::Group(id.into())
    }

    fn grant(grantee: Grantee, level: Level) -> Grant {
        Grant { grantee, level }
    }

    const ACTIVE: PrincipalState = PrincipalState::User(UserStatus::Active);
    const DELETED: PrincipalState = PrincipalState::User(UserStatus::Deleted);
    const GROUP: PrincipalState = PrincipalState::Group;

    fn check(
        kind: AssetKind,
        current: &[Grant],
        wanted: &[(Grant, PrincipalState)],
        expected: Result<(&[Grant], &[Grantee]), &str>,
    ) {
        let got = plan_permissions(kind, current, wanted);
        match expected {
            Ok((set, remove)) => {
                let plan = got.unwrap_or_else(|e| panic!("{wanted:?}: {e}"));
                assert_eq!(plan.set, set, "{wanted:?}");
                assert_eq!(plan.remove, remove, "{wanted:?}");
            }
            Err(message) => {
                let error = got.expect_err("must be refused");
                assert!(error.to_string().contains(message), "{error}");
            }
        }
    }

    #[test]
    fn permission_lists() {
        use AssetKind::*;
        let a = || user("a");
        let g = || group("g");
        check(Capsule, &[], &[], Ok((&[], &[])));
        check(Capsule, &[], &[(grant(g(), Editor), GROUP)], Ok((&[grant(g(), Editor)], &[])));
        check(Capsule, &[grant(g(), Editor)], &[(grant(g(), Editor), GROUP)], Ok((&[], &[])));
        check(Capsule, &[grant(g(), Editor)], &[(grant(g(), Owner), GROUP)], Ok((&[grant(g(), Owner)], &[])));
        check(
            Pipeline,
            &[grant(g(), Editor), grant(a(), Viewer)],
            &[(grant(a(), Viewer), ACTIVE)],
            Ok((&[], &[group("g")])),
        );
        check(DataAsset, &[], &[(grant(a(), Editor), ACTIVE)], Err("a data asset has no editor level"));
        check(
            Capsule,
            &[],
            &[(grant(a(), Viewer), ACTIVE), (grant(a(), Owner), ACTIVE)],
            Err("user \"a\" is listed more"),
        );
        check(
            Capsule,
            &[],
            &[
                (grant(user("x"), Viewer), PrincipalState::Missing),
                (grant(group("y"), Viewer), PrincipalState::Missing),
            ],
            Err("do not exist: user \"x\", group \"y\""),
        );
        // A deleted user keeps an unchanged grant, but gains nothing new.
        check(Capsule, &[grant(a(), Viewer)], &[(grant(a(), Viewer), DELETED)], Ok((&[], &[])));
        check(Capsule, &[grant(a(), Viewer)], &[(grant(a(), Editor), DELETED)], Err("is deleted"));
        check(Capsule, &[], &[(grant(a(), Viewer), DELETED)], Err("is deleted"));
        let deactivated = PrincipalState::User(UserStatus::Deactivated);
        check(Capsule, &[], &[(grant(a(), Viewer), deactivated)], Ok((&[grant(a(), Viewer)], &[])));
    }

    #[test]
    fn extending_ownership() {
        let holdings = [(1, None), (2, Some(Viewer)), (3, Some(Owner)), (4, Some(Editor))];
        let plan = plan_extension("old", &group("team"), GROUP, &holdings).unwrap();
        assert_eq!(plan, Extension { upgrade: vec![1, 2, 4], unchanged: 1 });
        let plan = plan_extension("old", &user("heir"), ACTIVE, &holdings[..0]).unwrap();
        assert_eq!(plan, Extension { upgrade: Vec::<i32>::new(), unchanged: 0 });
        let refused = |to: Grantee, state| plan_extension("old", &to, state, &holdings).unwrap_err().to_string();
        assert!(refused(user("old"), ACTIVE).contains("themselves"));
        assert!(refused(user("heir"), DELETED).contains("is deleted"));
        assert!(refused(user("heir"), PrincipalState::User(UserStatus::Deactivated)).contains("deactivated"));
        assert!(refused(group("gone"), PrincipalState::Missing).contains("do not exist: group \"gone\""));
        assert!(refused(user("g"), GROUP).contains("do not exist"));
    }

    #[test]
    fn new_owners_names_and_reachability() {
        assert_eq!(check_new_owner("u", ACTIVE), Ok(()));
        assert!(check_new_owner("u", DELETED).is_err());
        assert!(check_new_owner("u", PrincipalState::Missing).is_err());
        assert_eq!(check_name("  Q3 forecast "), Ok("Q3 forecast".into()));
        assert!(check_name("   ").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(201)).is_err());
        assert!(check_name(&"é".repeat(200)).is_ok());

        use UserStatus::*;
        assert!(owner_reachable(Active, &[]));
        assert!(!owner_reachable(Deleted, &[]));
        assert!(!owner_reachable(
            Deactivated,
            &[OwnerHolder::User(Deleted), OwnerHolder::Group { has_active_member: false }]
        ));
        assert!(owner_reachable(Deleted, &[OwnerHolder::Group { has_active_member: true }]));
        assert!(owner_reachable(Deleted, &[OwnerHolder::User(Active)]));
    }
}
