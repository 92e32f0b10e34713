//! Asset kinds and permission levels: capsules and pipelines offer Viewer < Editor < Owner, data assets
//! Viewer < Owner. A level a kind does not offer is refused, never rounded to a neighbour.

use std::fmt;

use super::Error;

/// What kind of asset something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetKind {
    Capsule,
    DataAsset,
    Pipeline,
}

/// A permission level. The order is the order of power: `Viewer < Editor < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Viewer,
    Editor,
    Owner,
}

const CAPSULE_LEVELS: &[Level] = &[Level::Viewer, Level::Editor, Level::Owner];
const DATA_LEVELS: &[Level] = &[Level::Viewer, Level::Owner];

impl AssetKind {
    pub const ALL: [AssetKind; 3] = [AssetKind::Capsule, AssetKind::DataAsset, AssetKind::Pipeline];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Capsule => "capsule",
            AssetKind::DataAsset => "dataAsset",
            AssetKind::Pipeline => "pipeline",
        }
    }

    /// Reads a kind, whatever its case; `data` and `data_asset` are accepted for data assets.
    pub fn parse(text: &str) -> Result<AssetKind, Error> {
        let folded: String = text.trim().chars().filter(|c| !matches!(c, '_' | '-' | ' ')).collect();
        match folded.to_ascii_lowercase().as_str() {
            "capsule" => Ok(AssetKind::Capsule),
            "dataasset" | "data" => Ok(AssetKind::DataAsset),
            "pipeline" => Ok(AssetKind::Pipeline),
            _ => Err(Error::UnknownKind(text.to_owned())),
        }
    }

    /// The levels this kind offers, weakest first.
    pub fn levels(self) -> &'static [Level] {
        match self {
            AssetKind::Capsule | AssetKind::Pipeline => CAPSULE_LEVELS,
            AssetKind::DataAsset => DATA_LEVELS,
        }
    }

    /// `level`, if this kind offers it.
    pub fn check(self, level: Level) -> Result<Level, Error> {
        if self.levels().contains(&level) { Ok(level) } else { Err(Error::LevelNotOffered { kind: self, level }) }
    }
}

impl fmt::Display for AssetKind {
    /// The kind as a sentence names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AssetKind::Capsule => "capsule",
            AssetKind::DataAsset => "data asset",
            AssetKind::Pipeline => "pipeline",
        })
    }
}

impl Level {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Viewer => "viewer",
            Level::Editor => "editor",
            Level::Owner => "owner",
        }
    }

    /// Reads a level, whatever its case (`Viewer`, `viewer`, `VIEWER`).
    pub fn parse(text: &str) -> Result<Level, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Level::Viewer),
            "editor" => Ok(Level::Editor),
            "owner" => Ok(Level::Owner),
            _ => Err(Error::UnknownLevel(text.to_owned())),
        }
    }

    /// Reads a level and checks that `kind` offers it.
    pub fn parse_for(kind: AssetKind, text: &str) -> Result<Level, Error> {
        kind.check(Level::parse(text)?)
    }

    /// The number the database keeps: ordered like the levels, so `max()` in SQL is the strongest.
    pub fn rank(self) -> i64 {
        match self {
            Level::Viewer => 1,
            Level::Editor => 2,
            Level::Owner => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Level> {
        match rank {
            1 => Some(Level::Viewer),
            2 => Some(Level::Editor),
            3 => Some(Level::Owner),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `viewer, editor and owner`: levels as a sentence lists them.
pub(super) fn names(levels: &[Level]) -> String {
    match levels {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => {
            format!("{} and {last}", rest.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: &str, level: &str, expected: Result<Level, &str>) {
        let got = AssetKind::parse(kind).and_then(|kind| Level::parse_for(kind, level));
        match expected {
            Ok(level) => assert_eq!(got, Ok(level), "{kind} {level}"),
            Err(message) => {
                let error = got.expect_err(&format!("{kind} {level} must be refused"));
                assert!(error.to_string().contains(message), "{kind} {level}: {error}");
            }
        }
    }

    #[test]
    fn levels_per_kind() {
        check("capsule", "viewer", Ok(Level::Viewer));
        check("capsule", "Editor", Ok(Level::Editor));
        check("Capsule", "OWNER", Ok(Level::Owner));
        check("pipeline", "editor", Ok(Level::Editor));
        check("dataAsset", "viewer", Ok(Level::Viewer));
        check("data", "owner", Ok(Level::Owner));
        check("data_asset", "Owner", Ok(Level::Owner));
        check("dataAsset", "editor", Err("a data asset has no editor level; its levels are viewer and owner"));
        check("capsule", "admin", Err("unknown permission level \"admin\""));
        check("notebook", "viewer", Err("unknown asset kind \"notebook\""));
        check("capsule", "", Err("unknown permission level"));
    }

    #[test]
    fn order_and_ranks() {
        assert!(Level::Viewer < Level::Editor && Level::Editor < Level::Owner);
        for level in [Level::Viewer, Level::Editor, Level::Owner] {
            assert_eq!(Level::from_rank(level.rank()), Some(level));
            assert_eq!(Level::parse(level.as_str()), Ok(level));
        }
        assert_eq!(Level::from_rank(0), None);
        for kind in AssetKind::ALL {
            assert_eq!(AssetKind::parse(kind.as_str()), Ok(kind));
            assert!(kind.levels().contains(&Level::Viewer) && kind.levels().contains(&Level::Owner));
        }
        assert_eq!(names(CAPSULE_LEVELS), "viewer, editor and owner");
    }
}
