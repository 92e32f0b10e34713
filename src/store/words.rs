//! The word index behind every search of the admin page: the users, groups and assets lists, a group's
//! members and the pickers. A search term matches the start of any word of a name, a user name or an
//! e-mail address, so "singh" finds "Priya Singh", "corp" finds "priya@corp.example" and "0042" finds
//! "user0042". Each term is one range search of the `words` table's primary key; several terms must all
//! match (their row sets are intersected), so a search costs index range scans whatever the size.
//!
//! A word is a run of letters or a run of digits of the case-folded text: "Anne-Marie O'Neil" gives
//! anne, marie, o, neil; "user0042@corp.example" gives user, 0042, corp, example.
//!
//! A new user's words wait in `pending_words` (`sql/V16__pending_words.sql`), one row per user, until
//! the writer has a moment ([`index_pending`]): a create then appends one row instead of inserting about
//! ten entries at random places of the index. Changes and deletions of a waiting user change its row
//! there, and a search of users reads the waiting rows beside the index, so what a search finds does
//! not depend on whether the writer has caught up.

use std::collections::BTreeSet;

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::StoreError;
use super::transaction_statement;

/// What an indexed row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    User = 0,
    Group = 1,
    Asset = 2,
}

/// Words longer than this are cut: nobody types more of a word, and a hostile value cannot grow the index.
const WORD_CHARS: usize = 48;
/// Words kept for one row, at most (the first ones, in the order of the texts).
const ROW_WORDS: usize = 64;
/// Terms of a search that count; the rest are ignored.
const SEARCH_TERMS: usize = 8;

fn split(text: &str, mut each: impl FnMut(String)) {
    let folded = crate::scim::user::fold(text);
    let mut word = String::new();
    let mut digits = false;
    for c in folded.chars() {
        let alnum = c.is_alphanumeric();
        let digit = c.is_numeric();
        if !word.is_empty() && (!alnum || digit != digits) {
            each(std::mem::take(&mut word));
        }
        if alnum {
            if word.chars().count() < WORD_CHARS {
                word.push(c);
            }
            digits = digit;
        }
    }
    if !word.is_empty() {
        each(word);
    }
}

/// The distinct words of `texts`, at most `ROW_WORDS` of them.
pub(super) fn words<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for text in texts {
        split(text, |word| {
            if found.len() < ROW_WORDS {
                found.insert(word);
            }
        });
    }
    found
}

/// The texts of a user that searches look at: userName, displayName, the name's parts, e-mail addresses.
pub(super) fn user_texts<'a>(attributes: &'a Map<String, Value>) -> Vec<&'a str> {
    let mut texts = Vec::new();
    let mut add = |value: Option<&'a Value>| {
        if let Some(text) = value.and_then(Value::as_str) {
            texts.push(text);
        }
    };
    add(attributes.get("userName"));
    add(attributes.get("displayName"));
    if let Some(name) = attributes.get("name") {
        for part in ["formatted", "givenName", "middleName", "familyName"] {
            add(name.get(part));
        }
    }
    if let Some(emails) = attributes.get("emails").and_then(Value::as_array) {
        for email in emails {
            add(email.get("value"));
        }
    }
    texts
}

/// Changes the words of row `seq` from those of `old` to those of `new`: only the words that differ are
/// written, so an update that keeps the names (most of an identity provider's pushes) writes none. A
/// user whose words still wait has them changed in `pending_words` instead.
pub(super) fn reindex<'a, 'b>(
    conn: &Connection,
    kind: Kind,
    seq: i64,
    old: impl IntoIterator<Item = &'a str>,
    new: impl IntoIterator<Item = &'b str>,
) -> Result<(), StoreError> {
    let (old, new) = (words(old), words(new));
    // Most of an identity provider's pushes keep the names: nothing to write, waiting or indexed.
    if old == new {
        return Ok(());
    }
    if kind == Kind::User {
        let new_words: Vec<&String> = new.iter().collect();
        let waiting = conn
            .prepare_cached("UPDATE pending_words SET words = ?2 WHERE seq = ?1")?
            .execute(rusqlite::params![seq, json_array(&new_words)?])?;
        if waiting > 0 {
            return Ok(());
        }
    }
    change_index(conn, kind, seq, &old, &new)
}

/// Writes into the index the difference between row `seq`'s words `old` and `new`.
fn change_index(
    conn: &Connection,
    kind: Kind,
    seq: i64,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
) -> Result<(), StoreError> {
    // Each side is one statement over a JSON array of the words: a statement per word cost a new user
    // (about ten words) more than its row and its audit record together.
    let gone: Vec<&String> = old.difference(new).collect();
    if !gone.is_empty() {
        conn.prepare_cached(
            "DELETE FROM words WHERE kind = ?1 AND seq = ?2 AND word IN (SELECT value FROM json_each(?3))",
        )?
        .execute(rusqlite::params![kind as i64, seq, json_array(&gone)?])?;
    }
    let added: Vec<&String> = new.difference(old).collect();
    if !added.is_empty() {
        insert(conn, kind, seq, &json_array(&added)?)?;
    }
    Ok(())
}

/// Writes the words of the JSON array `words` for row `seq`.
fn insert(conn: &Connection, kind: Kind, seq: i64, words: &str) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO words (kind, word, seq) SELECT ?1, value, ?2 FROM json_each(?3)")?
        .execute(rusqlite::params![kind as i64, seq, words])?;
    Ok(())
}

/// The words of a new row, found before its write (splitting and folding text is no work for the writer
/// thread, which every write waits on); [`add_user`] writes them.
#[derive(Debug, Clone)]
pub(super) struct Listed(String);

impl Listed {
    pub(super) fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Listed, StoreError> {
        let words = words(texts);
        let words: Vec<&String> = words.iter().collect();
        json_array(&words).map(Listed)
    }
}

/// Adds the words of a new user, listed beforehand: to `pending_words`, for the writer to move into the
/// index when it has a moment ([`index_pending`]).
pub(super) fn add_user(conn: &Connection, seq: i64, listed: &Listed) -> Result<(), StoreError> {
    if listed.0 != "[]" {
        conn.prepare_cached("INSERT INTO pending_words (seq, words) VALUES (?1, ?2)")?
            .execute(rusqlite::params![seq, listed.0])?;
    }
    Ok(())
}

/// Users' words moved from `pending_words` into the index by one step of [`index_pending`]: about half a
/// millisecond of the writer's time, the longest a write that arrives during a move waits for it.
const PENDING_STEP: i64 = 50;
/// The most steps one transaction of [`index_pending`] takes (a bound on what one move keeps in the WAL).
const PENDING_STEPS: usize = 40;

/// Moves the words of waiting users into the index, the oldest first, a step of `PENDING_STEP` users at
/// a time, in one transaction of its own (`conn` must be outside any): one step, then more while `more`
/// says so. Answers whether every waiting user's words were moved.
pub(super) fn index_pending(conn: &Connection, more: impl FnMut() -> bool) -> Result<bool, StoreError> {
    // Nothing waiting is what the writer finds almost every time it looks: one read, no transaction.
    if waiting(conn)?.0 == 0 {
        return Ok(true);
    }
    // Without an fsync of its own: a move lost to a power cut leaves the words waiting, where searches
    // still find them, and the next durable commit makes it durable too. The write that arrives while
    // the writer moves words waits for the move, not for the disk.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let moved = move_pending(conn, more);
    // Every other transaction of the writer is acknowledged as durable: the writer does not go on
    // without FULL (SQLite refuses the change only inside a transaction, which is ended first).
    let restored = (|| {
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK")?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
    })();
    if let Err(error) = restored {
        panic!(
            "cannot set synchronous=FULL again after moving words ({error}): the writer stops rather than acknowledge writes that are not durable"
        );
    }
    moved
}

/// How many users' words wait, up to `PENDING_STEP`, and the `seq` of the last of them.
fn waiting(conn: &Connection) -> rusqlite::Result<(i64, Option<i64>)> {
    conn.prepare_cached("SELECT count(*), max(seq) FROM (SELECT seq FROM pending_words ORDER BY seq LIMIT ?1)")?
        .query_row([PENDING_STEP], |row| Ok((row.get(0)?, row.get(1)?)))
}

fn move_pending(conn: &Connection, mut more: impl FnMut() -> bool) -> Result<bool, StoreError> {
    transaction_statement(conn, "BEGIN IMMEDIATE")?;
    let moved = (|| -> Result<bool, StoreError> {
        for _ in 0..PENDING_STEPS {
            let (count, Some(last)) = waiting(conn)? else { return Ok(true) };
            conn.prepare_cached(
                "INSERT OR IGNORE INTO words (kind, word, seq)
                 SELECT 0, j.value, p.seq FROM pending_words p, json_each(p.words) j WHERE p.seq <= ?1",
            )?
            .execute([last])?;
            conn.prepare_cached("DELETE FROM pending_words WHERE seq <= ?1")?.execute([last])?;
            if count < PENDING_STEP {
                return Ok(true);
            }
            if !more() {
                break;
            }
        }
        Ok(false)
    })();
    let ended = transaction_statement(conn, if moved.is_ok() { "COMMIT" } else { "ROLLBACK" });
    if let Err(error) = ended {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return Err(error.into());
    }
    moved
}

fn json_array(words: &[&String]) -> Result<String, StoreError> {
    serde_json::to_string(words).map_err(|error| StoreError::Internal(format!("cannot list words: {error}")))
}

/// Adds the words of a new group or asset, or of a user while the index is rebuilt, straight into the
/// index (a new user's words wait: [`add_user`]).
pub(super) fn add<'a>(
    conn: &Connection,
    kind: Kind,
    seq: i64,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    change_index(conn, kind, seq, &BTreeSet::new(), &words(texts))
}

/// Removes the words of row `seq`, whose text is `texts` (a user who became a tombstone, a deleted group
/// or asset).
pub(super) fn forget<'a>(
    conn: &Connection,
    kind: Kind,
    seq: i64,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    if kind == Kind::User && conn.prepare_cached("DELETE FROM pending_words WHERE seq = ?1")?.execute([seq])? > 0 {
        return Ok(());
    }
    change_index(conn, kind, seq, &words(texts), &BTreeSet::new())
}

/// The search terms of `text`: its words, at most `SEARCH_TERMS`.
pub(super) fn terms(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    split(text, |word| {
        if found.len() < SEARCH_TERMS && !found.contains(&word) {
            found.push(word);
        }
    });
    found
}

/// A compound SELECT of the `seq`s whose words start with every term of `text`, or whose SCIM `id` is
/// exactly `text` when `id_table` names the table to look the id up in. Parameters are appended to
/// `values` and numbered after those already there.
pub(super) fn matching(kind: Kind, text: &str, id_table: Option<&str>, values: &mut Vec<SqlValue>) -> String {
    let mut parts = Vec::new();
    let mut waiting = Vec::new();
    for term in terms(text) {
        values.push(SqlValue::Text(term.clone()));
        let low = values.len();
        values.push(SqlValue::Text(format!("{term}\u{10FFFF}")));
        let high = low + 1;
        parts.push(format!("SELECT seq FROM words WHERE kind = {} AND word >= ?{low} AND word < ?{high}", kind as i64));
        waiting.push(format!("EXISTS (SELECT 1 FROM json_each(p.words) WHERE value >= ?{low} AND value < ?{high})"));
    }
    // A text without a word ("@@") matches no word: only an id can match it.
    let mut select = if parts.is_empty() { "SELECT NULL WHERE 0".to_owned() } else { parts.join(" INTERSECT ") };
    if kind == Kind::User && !waiting.is_empty() {
        // Compound operators bind left to right: (the index's matches) UNION (the waiting users').
        select.push_str(&format!(" UNION SELECT p.seq FROM pending_words p WHERE {}", waiting.join(" AND ")));
    }
    if let Some(table) = id_table {
        values.push(SqlValue::Text(text.trim().to_owned()));
        select.push_str(&format!(" UNION SELECT seq FROM {table} WHERE id = ?{}", values.len()));
    }
    select
}

/// Indexes every live user, group and asset: once, when the word index is new (`word_index_built` says
/// whether that was done), in the migration's wake. The table is emptied first, so that a build cut short
/// and redone leaves nothing behind.
pub(super) fn build_if_new(conn: &mut Connection) -> Result<(), StoreError> {
    let built: bool = conn.query_row("SELECT built FROM word_index_built", [], |row| row.get(0))?;
    if built {
        return Ok(());
    }
    let transaction = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    transaction.execute("DELETE FROM words", [])?;
    transaction.execute("DELETE FROM pending_words", [])?;
    {
        let mut users = transaction.prepare("SELECT seq, attributes FROM users WHERE deleted_at IS NULL")?;
        let rows = users.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
        for row in rows {
            let (seq, attributes) = row?;
            let attributes: Map<String, Value> = serde_json::from_str(&attributes).unwrap_or_default();
            add(&transaction, Kind::User, seq, user_texts(&attributes))?;
        }
        for (kind, sql) in
            [(Kind::Group, "SELECT seq, display_name FROM groups"), (Kind::Asset, "SELECT seq, name FROM assets")]
        {
            let mut statement = transaction.prepare(sql)?;
            let rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
            for row in rows {
                let (seq, name) = row?;
                add(&transaction, kind, seq, [name.as_str()])?;
            }
        }
    }
    transaction.execute("UPDATE word_index_built SET built = 1", [])?;
    transaction.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<String> {
        words([text]).into_iter().collect()
    }

    #[test]
    fn words_are_runs_of_letters_or_digits() {
        assert_eq!(all("Anne-Marie O'Neil"), ["anne", "marie", "neil", "o"]);
        assert_eq!(all("user0042@Corp.Example"), ["0042", "corp", "example", "user"]);
        assert_eq!(all("Ærøskøbing 2024"), ["2024", "ærøskøbing"]);
        assert!(all(" -- @@ ").is_empty());
    }

    #[test]
    fn words_are_bounded() {
        let long = "x".repeat(500);
        assert_eq!(all(&long), ["x".repeat(WORD_CHARS)]);
        let many: Vec<String> = (0..200).map(|n| format!("w{n:03}x")).collect();
        assert_eq!(words([many.join(" ").as_str()]).len(), ROW_WORDS);
    }

    #[test]
    fn search_terms_keep_their_order_without_repeats() {
        assert_eq!(terms("Singh, priya singh"), ["singh", "priya"]);
        assert_eq!(terms("corp.example"), ["corp", "example"]);
        assert_eq!(terms("a b c d e f g h i j").len(), SEARCH_TERMS);
    }

    #[test]
    fn a_search_is_an_intersection_of_prefix_ranges() {
        let mut values = Vec::new();
        let sql = matching(Kind::User, "pri sin", Some("users"), &mut values);
        assert_eq!(
            sql,
            "SELECT seq FROM words WHERE kind = 0 AND word >= ?1 AND word < ?2 INTERSECT \
             SELECT seq FROM words WHERE kind = 0 AND word >= ?3 AND word < ?4 \
             UNION SELECT p.seq FROM pending_words p WHERE \
             EXISTS (SELECT 1 FROM json_each(p.words) WHERE value >= ?1 AND value < ?2) AND \
             EXISTS (SELECT 1 FROM json_each(p.words) WHERE value >= ?3 AND value < ?4) \
             UNION SELECT seq FROM users WHERE id = ?5"
        );
        assert_eq!(values.len(), 5);
        let mut values = Vec::new();
        assert_eq!(
            matching(Kind::Group, "red", None, &mut values),
            "SELECT seq FROM words WHERE kind = 1 AND word >= ?1 AND word < ?2",
            "only users' words wait"
        );
        let mut values = Vec::new();
        assert_eq!(matching(Kind::Asset, "@@", None, &mut values), "SELECT NULL WHERE 0");
    }
}
