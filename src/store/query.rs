//! Filter → SQL: the one place where a SCIM filter becomes a `WHERE` clause, through an allow-list of
//! attribute → column, with every value bound as a parameter (never spliced into the SQL text).
//!
//! Only attributes the store keeps in columns are translated; everything else stays a *residual* filter
//! that the store evaluates exactly, in memory, on the candidates the SQL part selected (see
//! [`plan`]). Translated predicates are written so that they never yield SQL NULL, which keeps `NOT`
//! equal to the filter's `not` (and `ne`, which is `not eq`).
//!
//! The columns hold values as the filter evaluator would compare them: case-insensitive attributes in
//! `*_key` columns folded with `schema::fold_case`, timestamps as fixed-width UTC text whose text order is
//! time order.

use rusqlite::types::Value as SqlValue;

use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::schema::{ResourceKind, fold_case};

/// A SQL boolean expression and its parameters, in order (`?` placeholders).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Sql {
    pub text: String,
    pub params: Vec<SqlValue>,
    /// Whether a predicate is a range on an index (`gt`, `ge`, `lt`, `le`, `sw`). SQLite cannot know
    /// how selective a range is and would rather scan the table in `seq` order; a list with a range
    /// orders by `+seq` so that the range's index is used and the (usually few) matches are sorted.
    pub range: bool,
}

impl Sql {
    fn new(text: impl Into<String>, params: Vec<SqlValue>) -> Sql {
        Sql { text: text.into(), params, range: false }
    }

    fn ranged(mut self, range: bool) -> Sql {
        self.range = range;
        self
    }

    fn and(self, other: Sql) -> Sql {
        let mut params = self.params;
        params.extend(other.params);
        Sql { text: format!("({} AND {})", self.text, other.text), params, range: self.range || other.range }
    }

    fn or(self, other: Sql) -> Sql {
        let mut params = self.params;
        params.extend(other.params);
        Sql { text: format!("({} OR {})", self.text, other.text), params, range: self.range || other.range }
    }

    fn not(self) -> Sql {
        Sql { text: format!("(NOT {})", self.text), params: self.params, range: self.range }
    }
}

/// How an attribute is kept in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// A text column; `folded` when it holds `fold_case` of a case-insensitive attribute.
    Text { name: &'static str, folded: bool, nullable: bool },
    /// A 0/1 column.
    Bool { name: &'static str },
    /// A timestamp column in the store's fixed-width text form.
    Time { name: &'static str },
    /// A set of values in a side table `(owner, value)`, folded when the attribute is case-insensitive.
    Set { table: &'static str, owner: &'static str, value: &'static str, folded: bool },
}

/// The allow-list: which canonical attribute paths of which resource type have a column.
fn column(kind: ResourceKind, path: &AttrPath) -> Option<Column> {
    if path.uri.is_some() {
        return None;
    }
    let sub = path.sub_attr.as_deref();
    match (kind, path.attr.as_str(), sub) {
        (_, "id", None) => Some(Column::Text { name: "id", folded: false, nullable: false }),
        (_, "externalId", None) => Some(Column::Text { name: "external_id", folded: false, nullable: true }),
        (_, "meta", Some("created")) => Some(Column::Time { name: "created_at" }),
        (_, "meta", Some("lastModified")) => Some(Column::Time { name: "last_modified" }),
        (ResourceKind::User, "userName", None) => {
            Some(Column::Text { name: "user_name_key", folded: true, nullable: false })
        }
        (ResourceKind::User, "displayName", None) => {
            Some(Column::Text { name: "display_name_key", folded: true, nullable: true })
        }
        (ResourceKind::User, "active", None) => Some(Column::Bool { name: "active" }),
        (ResourceKind::User, "emails", Some("value")) => {
            Some(Column::Set { table: "user_emails", owner: "user_seq", value: "value_key", folded: true })
        }
        (ResourceKind::Group, "displayName", None) => {
            Some(Column::Text { name: "display_name_key", folded: true, nullable: false })
        }
        (ResourceKind::Group, "members", Some("value")) => {
            Some(Column::Set { table: "group_members", owner: "group_seq", value: "member_id", folded: false })
        }
        _ => None,
    }
}

/// The SQL expression that orders by `path`, when it has a column.
pub(super) fn sort_column(kind: ResourceKind, path: &AttrPath) -> Option<&'static str> {
    match column(kind, path)? {
        Column::Text { name, .. } | Column::Bool { name } | Column::Time { name } => Some(name),
        Column::Set { .. } => None,
    }
}

/// Splits a resolved filter into the part SQL answers and the residual evaluated in memory. The split is
/// along the top-level `and` chain: a conjunct is translated whole or not at all.
pub(super) fn plan(kind: ResourceKind, filter: Option<&Filter>) -> (Option<Sql>, Option<Filter>) {
    let Some(filter) = filter else { return (None, None) };
    let mut conjuncts = Vec::new();
    flatten_and(filter, &mut conjuncts);
    let mut sql: Option<Sql> = None;
    let mut residual: Option<Filter> = None;
    for conjunct in conjuncts {
        match translate(kind, conjunct) {
            Some(part) => {
                sql = Some(match sql.take() {
                    Some(done) => done.and(part),
                    None => part,
                })
            }
            None => {
                residual = Some(match residual.take() {
                    Some(done) => Filter::and(done, conjunct.clone()),
                    None => conjunct.clone(),
                })
            }
        }
    }
    (sql, residual)
}

fn flatten_and<'a>(filter: &'a Filter, out: &mut Vec<&'a Filter>) {
    match filter {
        Filter::And(left, right) => {
            flatten_and(left, out);
            flatten_and(right, out);
        }
        other => out.push(other),
    }
}

/// The SQL for a whole filter, or `None` if any part of it has no column.
fn translate(kind: ResourceKind, filter: &Filter) -> Option<Sql> {
    match filter {
        Filter::And(left, right) => Some(translate(kind, left)?.and(translate(kind, right)?)),
        Filter::Or(left, right) => Some(translate(kind, left)?.or(translate(kind, right)?)),
        Filter::Not(inner) => Some(translate(kind, inner)?.not()),
        Filter::Present { path } => present(column(kind, path)?),
        Filter::Compare { path, op, value } => compare(column(kind, path)?, *op, value),
        Filter::ValuePath { attr, filter } => translate_element(kind, attr, filter),
    }
}

/// A value filter `attr[…]` whose condition holds of one element exactly when the same condition on
/// `attr.sub` holds of the resource: comparisons and presence joined by `or` ("some element matches a
/// or b" is "some element matches a, or some matches b"). `and`, `not` and `ne` do not distribute that
/// way (`emails[type eq "work" and value co "x"]` needs both on the same element) and stay residual.
fn translate_element(kind: ResourceKind, attr: &AttrPath, filter: &Filter) -> Option<Sql> {
    let full = |path: &AttrPath| -> Option<AttrPath> {
        if path.uri.is_some() || path.sub_attr.is_some() || attr.sub_attr.is_some() {
            return None;
        }
        Some(AttrPath { uri: attr.uri.clone(), attr: attr.attr.clone(), sub_attr: Some(path.attr.clone()) })
    };
    match filter {
        Filter::Or(left, right) => Some(translate_element(kind, attr, left)?.or(translate_element(kind, attr, right)?)),
        Filter::Compare { op: CompareOp::Ne, .. } => None,
        Filter::Compare { path, op, value } => compare(column(kind, &full(path)?)?, *op, value),
        Filter::Present { path } => present(column(kind, &full(path)?)?),
        Filter::And(..) | Filter::Not(..) | Filter::ValuePath { .. } => None,
    }
}

fn present(column: Column) -> Option<Sql> {
    Some(match column {
        Column::Text { name, nullable: true, .. } => Sql::new(format!("({name} IS NOT NULL AND {name} <> '')"), vec![]),
        Column::Text { name, nullable: false, .. } => Sql::new(format!("({name} <> '')"), vec![]),
        Column::Bool { .. } | Column::Time { .. } => Sql::new("1", vec![]),
        Column::Set { table, owner, .. } => {
            Sql::new(format!("EXISTS (SELECT 1 FROM {table} WHERE {owner} = seq)"), vec![])
        }
    })
}

fn compare(column: Column, op: CompareOp, value: &CompValue) -> Option<Sql> {
    if op == CompareOp::Ne {
        return Some(compare(column, CompareOp::Eq, value)?.not());
    }
    match (column, value) {
        (Column::Bool { name }, CompValue::Bool(flag)) if op == CompareOp::Eq => {
            Some(Sql::new(format!("({name} = ?)"), vec![SqlValue::Integer(i64::from(*flag))]))
        }
        (Column::Text { name, folded, nullable }, CompValue::Str(text)) => {
            let text = if folded { fold_case(text) } else { text.clone() };
            let guard = if nullable { format!("{name} IS NOT NULL AND ") } else { String::new() };
            let range = op.is_ordering() || op == CompareOp::Sw;
            Some(text_predicate(name, &guard, op, text).ranged(range))
        }
        (Column::Time { name }, CompValue::Str(text)) => {
            time_predicate(name, op, text).map(|sql| sql.ranged(op.is_ordering()))
        }
        (Column::Set { table, owner, value, folded }, CompValue::Str(text)) => {
            let text = if folded { fold_case(text) } else { text.clone() };
            let inner = text_predicate(value, "", op, text);
            Some(Sql::new(format!("(seq IN (SELECT {owner} FROM {table} WHERE {}))", inner.text), inner.params))
        }
        _ => None,
    }
}

/// `name op text` on a text column, using the index where the operator allows (`eq`, `sw` as a range,
/// orderings).
fn text_predicate(name: &str, guard: &str, op: CompareOp, text: String) -> Sql {
    let one = |sql: String| Sql::new(format!("({guard}{sql})"), vec![SqlValue::Text(text.clone())]);
    match op {
        CompareOp::Eq | CompareOp::Ne => one(format!("{name} = ?")),
        CompareOp::Gt => one(format!("{name} > ?")),
        CompareOp::Ge => one(format!("{name} >= ?")),
        CompareOp::Lt => one(format!("{name} < ?")),
        CompareOp::Le => one(format!("{name} <= ?")),
        CompareOp::Co if text.is_empty() => Sql::new(format!("({guard}1)"), vec![]),
        CompareOp::Co => one(format!("instr({name}, ?) > 0")),
        CompareOp::Sw => {
            // Every string that starts with `text` sorts between `text` and `text` + U+10FFFF.
            let upper = format!("{text}\u{10FFFF}");
            Sql::new(format!("({guard}{name} >= ? AND {name} < ?)"), vec![SqlValue::Text(text), SqlValue::Text(upper)])
        }
        CompareOp::Ew if text.is_empty() => Sql::new(format!("({guard}1)"), vec![]),
        CompareOp::Ew => {
            let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
            Sql::new(format!("({guard}substr({name}, -?) = ?)"), vec![SqlValue::Integer(length), SqlValue::Text(text)])
        }
    }
}

/// `name op text` on a timestamp column. The column has millisecond precision; a value with finer
/// precision is compared exactly by truncating it and adjusting the operator.
fn time_predicate(name: &str, op: CompareOp, text: &str) -> Option<Sql> {
    let at = super::parse_time(text)?;
    let truncated = at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000).ok()?;
    let exact = truncated == at;
    let stored = SqlValue::Text(super::format_time(truncated));
    let sql = |operator: &str| Sql::new(format!("({name} {operator} ?)"), vec![stored.clone()]);
    Some(match (op, exact) {
        (CompareOp::Eq | CompareOp::Ne, true) => sql("="),
        (CompareOp::Eq | CompareOp::Ne, false) => Sql::new("0", vec![]),
        (CompareOp::Gt, _) => sql(">"),
        (CompareOp::Ge, true) => sql(">="),
        (CompareOp::Ge, false) => sql(">"),
        (CompareOp::Lt, true) => sql("<"),
        (CompareOp::Lt, false) | (CompareOp::Le, _) => sql("<="),
        (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(filter: &str, sql: Option<&str>, residual: Option<&str>) {
        let filter = Filter::parse_for(filter, ResourceKind::User).unwrap();
        let (got_sql, got_residual) = plan(ResourceKind::User, Some(&filter));
        assert_eq!(got_sql.map(|s| s.text).as_deref(), sql, "{filter}");
        assert_eq!(got_residual.map(|f| f.to_string()).as_deref(), residual, "{filter}");
    }

    #[test]
    fn indexed_attributes_become_sql_and_the_rest_stays_residual() {
        check(r#"userName eq "BJensen""#, Some("(user_name_key = ?)"), None);
        check(r#"email eq "a@b.c""#, Some("(seq IN (SELECT user_seq FROM user_emails WHERE (value_key = ?)))"), None);
        check(r#"externalId eq "x""#, Some("(external_id IS NOT NULL AND external_id = ?)"), None);
        check(r#"externalId ne "x""#, Some("(NOT (external_id IS NOT NULL AND external_id = ?))"), None);
        check("active eq true", Some("(active = ?)"), None);
        check(r#"userName sw "j""#, Some("(user_name_key >= ? AND user_name_key < ?)"), None);
        check(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, Some("(last_modified > ?)"), None);
        check(r#"title pr"#, None, Some("title pr"));
        check(r#"userName eq "a" and title eq "b""#, Some("(user_name_key = ?)"), Some(r#"title eq "b""#));
        check(r#"userName eq "a" or title eq "b""#, None, Some(r#"userName eq "a" or title eq "b""#));
        check(r#"emails[type eq "work"]"#, None, Some(r#"emails[type eq "work"]"#));
        check(
            r#"emails[value eq "a" or value sw "b"]"#,
            Some(
                "((seq IN (SELECT user_seq FROM user_emails WHERE (value_key = ?))) OR (seq IN (SELECT user_seq FROM user_emails WHERE (value_key >= ? AND value_key < ?))))",
            ),
            None,
        );
        check(r#"emails[value ne "a"]"#, None, Some(r#"emails[value ne "a"]"#));
        check(r#"emails[type eq "work" and value eq "a"]"#, None, Some(r#"emails[type eq "work" and value eq "a"]"#));
        check(
            r#"not (userName eq "a") and active eq false"#,
            Some("((NOT (user_name_key = ?)) AND (active = ?))"),
            None,
        );
    }

    #[test]
    fn values_are_parameters_folded_where_the_attribute_is_case_insensitive() {
        let filter = Filter::parse_for(r#"userName eq "BJensen" and externalId eq "AbC""#, ResourceKind::User).unwrap();
        let (sql, _) = plan(ResourceKind::User, Some(&filter));
        let params = sql.unwrap().params;
        assert_eq!(params, vec![SqlValue::Text("bjensen".into()), SqlValue::Text("AbC".into())]);
    }

    #[test]
    fn sub_millisecond_times_compare_exactly() {
        let check_time = |op: CompareOp, text: &str, expected: &str| {
            let sql = time_predicate("t", op, text).unwrap();
            assert_eq!(sql.text, expected, "{op:?} {text}");
        };
        check_time(CompareOp::Ge, "2020-01-01T00:00:00.0005Z", "(t > ?)");
        check_time(CompareOp::Ge, "2020-01-01T00:00:00.001Z", "(t >= ?)");
        check_time(CompareOp::Lt, "2020-01-01T00:00:00.0005Z", "(t <= ?)");
        check_time(CompareOp::Eq, "2020-01-01T00:00:00.0005Z", "0");
        check_time(CompareOp::Eq, "2020-01-01T02:00:00+02:00", "(t = ?)");
    }
}
