//! Effective access: a user's access to an asset is the strongest of what they hold as its owner of
//! record, through their own grants, and through the grants of every group they belong to (directly or
//! through nested groups). A deactivated or deleted user has none, whatever they hold: their grants and
//! ownership are kept as records, so reactivation restores exactly what they had.

use super::level::Level;

/// Where a user stands, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Active,
    /// `active: false` over SCIM.
    Deactivated,
    /// Deleted over SCIM: a tombstone the page shows as "deleted user".
    Deleted,
}

impl UserStatus {
    /// The status of a stored user row.
    pub fn of(active: bool, deleted: bool) -> UserStatus {
        match (deleted, active) {
            (true, _) => UserStatus::Deleted,
            (false, true) => UserStatus::Active,
            (false, false) => UserStatus::Deactivated,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
            UserStatus::Deleted => "deleted",
        }
    }
}

/// Why a user holds a level on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Via {
    /// They are the asset's owner of record.
    Owner,
    /// A grant to them.
    Direct,
    /// A grant to a group they belong to; `nested` when they belong to it through another group.
    Group { id: String, display_name: String, nested: bool },
}

impl Via {
    /// The order reasons are shown in: ownership, own grants, direct groups, nested groups, by name.
    fn sort_key(&self) -> (u8, &str) {
        match self {
            Via::Owner => (0, ""),
            Via::Direct => (1, ""),
            Via::Group { display_name, nested: false, .. } => (2, display_name),
            Via::Group { display_name, nested: true, .. } => (3, display_name),
        }
    }
}

/// One thing that gives a user a level on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub level: Level,
    pub via: Via,
}

/// What an active user may do with an asset, and why: `reasons` are the sources that give `level`
/// (weaker ones are left out: they change nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub level: Level,
    pub reasons: Vec<Source>,
}

/// The answer to "may this user use this asset?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed(Access),
    /// The user is active but nothing gives them access.
    NoGrant,
    /// The user is deactivated or deleted: no access, whatever they hold.
    Inactive(UserStatus),
}

impl Decision {
    pub fn level(&self) -> Option<Level> {
        match self {
            Decision::Allowed(access) => Some(access.level),
            Decision::NoGrant | Decision::Inactive(_) => None,
        }
    }
}

/// Combines what a user holds on one asset into a decision.
pub fn decide(status: UserStatus, sources: Vec<Source>) -> Decision {
    if status != UserStatus::Active {
        return Decision::Inactive(status);
    }
    let Some(level) = sources.iter().map(|s| s.level).max() else {
        return Decision::NoGrant;
    };
    let mut reasons: Vec<Source> = sources.into_iter().filter(|s| s.level == level).collect();
    reasons.sort_by(|a, b| a.via.sort_key().cmp(&b.via.sort_key()));
    reasons.dedup();
    Decision::Allowed(Access { level, reasons })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, nested: bool) -> Via {
        Via::Group { id: format!("id-{name}"), display_name: name.into(), nested }
    }

    fn source(level: Level, via: Via) -> Source {
        Source { level, via }
    }

    fn check(status: UserStatus, sources: Vec<Source>, expected: Option<(Level, Vec<Via>)>) {
        let decision = decide(status, sources.clone());
        match (expected, decision) {
            (Some((level, vias)), Decision::Allowed(access)) => {
                assert_eq!(access.level, level, "{sources:?}");
                assert_eq!(access.reasons.into_iter().map(|r| r.via).collect::<Vec<_>>(), vias, "{sources:?}");
            }
            (None, Decision::NoGrant) => assert_eq!(status, UserStatus::Active),
            (None, Decision::Inactive(s)) => assert_eq!(s, status),
            (expected, got) => panic!("{sources:?}: expected {expected:?}, got {got:?}"),
        }
    }

    #[test]
    fn the_strongest_source_wins_and_names_its_reasons() {
        use Level::*;
        use UserStatus::Active;
        check(Active, vec![], None);
        check(Active, vec![source(Viewer, Via::Direct)], Some((Viewer, vec![Via::Direct])));
        check(
            Active,
            vec![source(Viewer, Via::Direct), source(Editor, group("eng", false))],
            Some((Editor, vec![group("eng", false)])),
        );
        check(
            Active,
            vec![source(Editor, group("b", true)), source(Editor, group("a", true)), source(Editor, group("z", false))],
            Some((Editor, vec![group("z", false), group("a", true), group("b", true)])),
        );
        check(
            Active,
            vec![source(Owner, group("eng", false)), source(Owner, Via::Owner), source(Viewer, Via::Direct)],
            Some((Owner, vec![Via::Owner, group("eng", false)])),
        );
        check(
            Active,
            vec![source(Editor, Via::Direct), source(Editor, Via::Direct)],
            Some((Editor, vec![Via::Direct])),
        );
    }

    #[test]
    fn deactivated_and_deleted_users_have_no_access_whatever_they_hold() {
        let everything = vec![source(Level::Owner, Via::Owner), source(Level::Owner, Via::Direct)];
        check(UserStatus::Deactivated, everything.clone(), None);
        check(UserStatus::Deleted, everything, None);
        assert_eq!(decide(UserStatus::Deleted, vec![]), Decision::Inactive(UserStatus::Deleted));
        assert_eq!(UserStatus::of(true, false), UserStatus::Active);
        assert_eq!(UserStatus::of(false, false), UserStatus::Deactivated);
        assert_eq!(UserStatus::of(true, true), UserStatus::Deleted);
    }
}
