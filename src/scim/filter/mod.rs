//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): the AST, its parser, its canonical printer,
//! its resolution against our schemas and its evaluation against a resource's JSON.
//!
//! The life of a filter has three steps, each a plain function over the one public [`Filter`] enum:
//!
//! 1. [`parse()`] checks syntax only and keeps paths as written. Errors are `invalidFilter` with the
//!    1-based character column ("invalid filter at column 14: expected a comparison value after 'eq'").
//!    Input is bounded ([`MAX_FILTER_LEN`] characters, [`MAX_DEPTH`] levels of parentheses, `not` and
//!    value paths), so no input can overflow the stack. [`parse_patch_path`] parses a PATCH `path`.
//! 2. [`Filter::resolve`] normalises a parsed filter for one resource type: every known path gets its
//!    canonical spelling (no URN for core and common attributes, the extension URN for extension
//!    attributes), aliases are expanded, values are coerced to the attribute's type, and unsupported
//!    operator/type combinations are rejected. The store translates this resolved form into SQL for the
//!    attributes it indexes, so its allow-list only has to know canonical names.
//! 3. [`matches()`] evaluates a filter against a resource as the server returns it (core attributes at the
//!    top level, extension attributes under their URN).
//!
//! Decisions, where the RFC leaves room:
//! - An **unknown attribute** (not in our schemas) is not an error: it is absent from every resource, so
//!   comparisons and `pr` on it are false (and `ne`, being `not eq`, is true). Clients such as Entra probe
//!   attributes we do not define, and a 400 would break their flows. A *known* attribute used in a way
//!   its type does not support is `invalidFilter`: `gt`/`ge`/`lt`/`le` on boolean, binary or complex
//!   attributes, `co`/`sw`/`ew` on boolean or numeric ones, a value that cannot be the attribute's type
//!   (`active eq "maybe"`, `meta.created gt "yesterday"`), and a value filter on a simple attribute.
//! - **`ne`** is the negation of `eq`: `userType ne "Employee"` matches users with no `userType`, and on
//!   a multi-valued attribute it matches when no value is equal.
//! - **`null`**: `attr eq null` means "not present" and `attr ne null` means "present"; resolution
//!   rewrites them to `not (attr pr)` and `attr pr`. Other operators with `null` are `invalidFilter`.
//! - **Aliases**: `email` (any case) means `emails.value` (Okta filters on `email` when its unique
//!   identifier is the email), and a comparison on a complex attribute without a sub-attribute uses its
//!   `value` sub-attribute (`emails co "x"`, Entra's `members eq "id"`, `manager eq "id"`), as RFC 7644
//!   §3.4.2.2 says for multi-valued attributes. `pr` keeps the attribute itself.
//! - **Value path followed by a sub-attribute** (`emails[type eq "work"].value eq "x"`) is outside the
//!   filter grammar, but Entra sends it when a mapping's matching attribute has that form; it is read as
//!   `emails[type eq "work" and value eq "x"]`, which means the same.
//! - Unqualified extension attribute names (`employeeNumber`) resolve to the extension (see
//!   [`resolve_parts`](crate::scim::schema::resolve_parts)); case-insensitive strings compare after [`fold_case`](crate::scim::schema::fold_case).
//! - Coercions a client may rely on: `"true"`/`"false"` for booleans, quoted numbers for numbers, and
//!   unquoted numbers for strings (`externalId eq 12345`).
//!
//! Deliberately absent: SQL (the store owns the translation), sorting and projection, and the PATCH
//! engine (which uses [`PatchPath`]).

mod eval;
#[cfg(test)]
mod fixtures;
mod parse;
#[cfg(test)]
mod proptests;
mod resolve;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use eval::{matches, matches_element};
pub use parse::{parse, parse_patch_path};

use super::Error;
use super::schema::ResourceKind;

/// The longest filter accepted, in characters. Real clients send a few dozen; the bound keeps parsing,
/// printing and evaluation cheap and their recursion shallow.
pub const MAX_FILTER_LEN: usize = 4096;

/// The deepest nesting accepted: each `(`, `not (` and value path `[` is one level.
pub const MAX_DEPTH: usize = 32;

/// A filter expression.
///
/// `and` and `or` chains are left-associative (`a and b and c` is `And(And(a, b), c)`); parentheses leave
/// no trace in the tree. Inside a [`Filter::ValuePath`], paths are relative to the elements of the
/// value path's attribute: `emails[type eq "work"]` holds `Compare { path: type, .. }`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare { path: AttrPath, op: CompareOp, value: CompValue },
    Present { path: AttrPath },
    ValuePath { attr: AttrPath, filter: Box<Filter> },
}

/// An attribute path: `[URI ":"] attr ["." subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN, if the path was qualified (after resolution: only for extension attributes).
    pub uri: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// An unqualified path without a sub-attribute.
    pub fn new(attr: impl Into<String>) -> Self {
        AttrPath { uri: None, attr: attr.into(), sub_attr: None }
    }

    /// The same path with a sub-attribute.
    pub fn with_sub(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }

    /// The same path qualified by a schema URN.
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }
}

/// A comparison operator (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// Every operator, in the order RFC 7644 Table 3 lists them.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator as written in a canonical filter.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator named `word`, in any case.
    pub fn from_word(word: &str) -> Option<CompareOp> {
        CompareOp::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether this operator orders values (`gt`, `ge`, `lt`, `le`).
    pub fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }

    /// Whether this operator matches substrings (`co`, `sw`, `ew`).
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A comparison value: a JSON string, number, boolean or null (RFC 7644 `compValue`).
///
/// Numbers are kept as `serde_json::Number`, which prints the shortest text that parses back to the same
/// number, so a printed filter re-parses to an equal AST.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath ["." subAttr]`.
///
/// Without a value filter, `attr` may carry its own sub-attribute (`name.familyName`); with one, the
/// sub-attribute after `]` is in `sub_attr` (`emails[type eq "work"].value`). A bare schema URN such as
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` parses as `uri` = the URN without its last
/// segment and `attr` = that segment (`User`); the PATCH engine recognises whole URNs before resolving.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

impl Filter {
    /// Parses `text` and resolves it for `kind`: the usual entry point for a request's `filter`.
    pub fn parse_for(text: &str, kind: ResourceKind) -> Result<Filter, Error> {
        parse(text)?.resolve(kind)
    }

    /// Normalises this filter for `kind` (see the module documentation). Resolving a resolved filter
    /// changes nothing.
    pub fn resolve(self, kind: ResourceKind) -> Result<Filter, Error> {
        resolve::resolve(self, resolve::Scope::Resource(kind))
    }

    /// `left and right`.
    pub fn and(left: Filter, right: Filter) -> Filter {
        Filter::And(Box::new(left), Box::new(right))
    }

    /// `left or right`.
    pub fn or(left: Filter, right: Filter) -> Filter {
        Filter::Or(Box::new(left), Box::new(right))
    }

    /// `not (inner)`.
    pub fn negate(inner: Filter) -> Filter {
        Filter::Not(Box::new(inner))
    }
}

impl FromStr for Filter {
    type Err = Error;

    /// Same as [`parse()`].
    fn from_str(text: &str) -> Result<Filter, Error> {
        parse(text)
    }
}

// The printer writes the canonical form: lower-case operators and keywords, single spaces, JSON string
// escapes, `not (…)` always parenthesised, and parentheses exactly where the tree's shape differs from
// what precedence (`not` > `and` > `or`) and left-associativity would give.

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(left, right) => {
                write_operand(f, left, matches!(**left, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..) | Filter::And(..)))
            }
            Filter::Or(left, right) => {
                write_operand(f, left, false)?;
                f.write_str(" or ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..)))
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present { path } => write!(f, "{path} pr"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, parenthesise: bool) -> fmt::Result {
    if parenthesise { write!(f, "({operand})") } else { write!(f, "{operand}") }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // serde_json's own serialisation gives exactly the JSON escapes the parser reads back.
            CompValue::Str(text) => write!(f, "{}", serde_json::Value::from(text.as_str())),
            CompValue::Num(number) => write!(f, "{number}"),
            CompValue::Bool(flag) => write!(f, "{flag}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
