//! The parser for filters and PATCH paths: hand-written recursive descent straight over the text.
//!
//! Precedence is `not` > `and` > `or`, and both binary operators are left-associative. Keywords and
//! operators are case-insensitive and whitespace is free wherever a token ends, because clients differ
//! (`userName  eq "x"`, `( a pr )`). Errors name the 1-based character column of the offending token.
//! Recursion happens only for `(`, `not (` and `[`, each counted against [`MAX_DEPTH`], so the stack stays
//! bounded whatever the input. Deliberately absent: any knowledge of schemas (see `resolve.rs`).

use serde_json::Number;

use super::{AttrPath, CompValue, CompareOp, Filter, MAX_DEPTH, MAX_FILTER_LEN, PatchPath};
use crate::scim::Error;

/// Parses a filter (RFC 7644 §3.4.2.2), keeping paths as written.
pub fn parse(text: &str) -> Result<Filter, Error> {
    let mut parser = Parser::new(text, Subject::Filter)?;
    let filter = parser.or_expression()?;
    parser.skip_space();
    if !parser.at_end() {
        return Err(parser.unexpected("'and', 'or' or the end of the filter"));
    }
    Ok(filter)
}

/// Parses a PATCH operation's `path` (RFC 7644 §3.5.2). Errors are `invalidPath`.
pub fn parse_patch_path(text: &str) -> Result<PatchPath, Error> {
    let mut parser = Parser::new(text, Subject::Path)?;
    parser.skip_space();
    let start = parser.pos;
    let attr = parser.attr_path()?;
    let mut filter = None;
    let mut sub_attr = None;
    if parser.peek() == Some('[') {
        if attr.sub_attr.is_some() {
            return Err(parser.error(start, format!("a value filter applies to an attribute, not to '{attr}'")));
        }
        filter = Some(parser.bracket_filter()?);
        if parser.peek() == Some('.') {
            parser.bump();
            sub_attr = Some(parser.attr_name()?);
        }
    }
    parser.skip_space();
    if !parser.at_end() {
        return Err(parser.unexpected("the end of the path"));
    }
    Ok(PatchPath { attr, filter, sub_attr })
}

/// What is being parsed, which decides the error kind and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Filter,
    Path,
}

#[derive(Debug)]
struct Parser<'a> {
    text: &'a str,
    /// The byte offset of the next character.
    pos: usize,
    depth: usize,
    /// True inside `[...]`, where another value path may not start (RFC 7644 errata 4690).
    in_value_filter: bool,
    subject: Subject,
}

/// Characters of an attribute path token: names, `$ref`, and URNs with their colons and dots.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | ':' | '.')
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, subject: Subject) -> Result<Self, Error> {
        let parser = Parser { text, pos: 0, depth: 0, in_value_filter: false, subject };
        if text.len() > MAX_FILTER_LEN && text.chars().count() > MAX_FILTER_LEN {
            let what = parser.noun();
            return Err(parser.error_kind(format!("invalid {what}: longer than {MAX_FILTER_LEN} characters")));
        }
        Ok(parser)
    }

    fn noun(&self) -> &'static str {
        match self.subject {
            Subject::Filter => "filter",
            Subject::Path => "path",
        }
    }

    fn error_kind(&self, detail: String) -> Error {
        match self.subject {
            Subject::Filter => Error::invalid_filter(detail),
            Subject::Path => Error::invalid_path(detail),
        }
    }

    /// An error at byte offset `at`, reported as a 1-based character column.
    fn error(&self, at: usize, message: impl AsRef<str>) -> Error {
        let column = self.column(at);
        self.error_kind(format!("invalid {} at column {column}: {}", self.noun(), message.as_ref()))
    }

    /// The 1-based character column of byte offset `at`.
    fn column(&self, at: usize) -> usize {
        self.text.get(..at).map_or(0, |before| before.chars().count()) + 1
    }

    /// "expected X, found Y" at the current position.
    fn unexpected(&self, expected: impl AsRef<str>) -> Error {
        self.error(self.pos, format!("expected {}, found {}", expected.as_ref(), self.found()))
    }

    /// Describes what is at the current position, for error messages.
    fn found(&self) -> String {
        let rest = &self.text[self.pos..];
        match rest.chars().next() {
            None => format!("the end of the {}", self.noun()),
            Some(c) if is_path_char(c) => {
                let word: String = rest.chars().take_while(|&c| is_path_char(c)).take(40).collect();
                format!("'{word}'")
            }
            Some(c) => format!("'{c}'"),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes `word` (ASCII, any case) if it is next and is not the start of a longer name.
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        let Some(candidate) = self.text.get(self.pos..end) else { return false };
        if !candidate.eq_ignore_ascii_case(word) {
            return false;
        }
        if self.text[end..].chars().next().is_some_and(is_path_char) {
            return false;
        }
        self.pos = end;
        true
    }

    /// Reads a run of ASCII letters and digits (an operator or a literal keyword).
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            self.bump();
        }
        &self.text[start..self.pos]
    }

    fn enter(&mut self, at: usize) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn or_expression(&mut self) -> Result<Filter, Error> {
        let mut left = self.and_expression()?;
        loop {
            let before = self.pos;
            self.skip_space();
            if !self.keyword("or") {
                self.pos = before;
                return Ok(left);
            }
            let right = self.and_expression()?;
            left = Filter::or(left, right);
        }
    }

    fn and_expression(&mut self) -> Result<Filter, Error> {
        let mut left = self.unary()?;
        loop {
            let before = self.pos;
            self.skip_space();
            if !self.keyword("and") {
                self.pos = before;
                return Ok(left);
            }
            let right = self.unary()?;
            left = Filter::and(left, right);
        }
    }

    fn unary(&mut self) -> Result<Filter, Error> {
        self.skip_space();
        let start = self.pos;
        if self.keyword("not") {
            self.skip_space();
            if self.peek() == Some('(') {
                return Ok(Filter::negate(self.group()?));
            }
            // Not a negation: `not` is the name of an attribute (`not pr`), or a mistake that
            // `operator_expression` reports.
            self.pos = start;
        }
        if self.peek() == Some('(') {
            return self.group();
        }
        self.attribute_expression()
    }

    /// `"(" filter ")"`.
    fn group(&mut self) -> Result<Filter, Error> {
        let open = self.pos;
        self.bump();
        self.enter(open)?;
        let inner = self.or_expression()?;
        self.skip_space();
        if self.peek() != Some(')') {
            return Err(self.unexpected(format!("')' to close the '(' at column {}", self.column(open))));
        }
        self.bump();
        self.leave();
        Ok(inner)
    }

    /// `attrPath "pr"`, `attrPath compareOp compValue` or a value path.
    fn attribute_expression(&mut self) -> Result<Filter, Error> {
        let start = self.pos;
        let path = self.attr_path()?;
        let before_space = self.pos;
        self.skip_space();
        if self.peek() == Some('[') {
            return self.value_path(path, start);
        }
        self.pos = before_space;
        self.operator_expression(path, start)
    }

    /// The operator and value after an attribute path.
    fn operator_expression(&mut self, path: AttrPath, path_start: usize) -> Result<Filter, Error> {
        let is_bare_not = path.uri.is_none() && path.sub_attr.is_none() && path.attr.eq_ignore_ascii_case("not");
        self.skip_space();
        let op_start = self.pos;
        let word = self.word();
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present { path });
        }
        let Some(op) = CompareOp::from_word(word) else {
            if is_bare_not {
                return Err(
                    self.error(path_start, "'not' must be followed by a parenthesised filter, as in not (title pr)")
                );
            }
            self.pos = op_start;
            return Err(
                self.unexpected(format!("an operator after '{path}' (eq, ne, co, sw, ew, gt, ge, lt, le or pr)"))
            );
        };
        self.skip_space();
        let value = self.comp_value(op)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `attrPath "[" valFilter "]"`, and Entra's `attrPath "[" valFilter "]" "." subAttr op value`, which is
    /// read as `attrPath "[" valFilter and subAttr op value "]"`.
    fn value_path(&mut self, attr: AttrPath, start: usize) -> Result<Filter, Error> {
        if attr.sub_attr.is_some() {
            return Err(self.error(start, format!("a value filter applies to an attribute, not to '{attr}'")));
        }
        let mut filter = self.bracket_filter()?;
        if self.peek() == Some('.') {
            self.bump();
            let sub_start = self.pos;
            let sub = self.attr_name()?;
            let inner = self.operator_expression(AttrPath::new(sub), sub_start)?;
            filter = Filter::and(filter, inner);
        }
        Ok(Filter::ValuePath { attr, filter: Box::new(filter) })
    }

    /// `"[" valFilter "]"`, starting at the `[`.
    fn bracket_filter(&mut self) -> Result<Filter, Error> {
        let open = self.pos;
        if self.in_value_filter {
            return Err(self.error(open, "value filters cannot be nested"));
        }
        self.bump();
        self.enter(open)?;
        self.in_value_filter = true;
        let inner = self.or_expression()?;
        self.in_value_filter = false;
        self.skip_space();
        if self.peek() != Some(']') {
            return Err(self.unexpected(format!("']' to close the '[' at column {}", self.column(open))));
        }
        self.bump();
        self.leave();
        Ok(inner)
    }

    /// `[URI ":"] ATTRNAME ["." subAttr]`. The URI is everything up to the last colon, so URNs with dots
    /// and digits (`...:enterprise:2.0:User:manager.value`) need no special casing.
    fn attr_path(&mut self) -> Result<AttrPath, Error> {
        let start = self.pos;
        while self.peek().is_some_and(is_path_char) {
            self.bump();
        }
        let token = &self.text[start..self.pos];
        if token.is_empty() {
            return Err(self.unexpected("an attribute path"));
        }
        let (uri, rest, rest_start) = match token.rfind(':') {
            Some(colon) => (Some(&token[..colon]), &token[colon + 1..], start + colon + 1),
            None => (None, token, start),
        };
        if uri.is_some_and(str::is_empty) {
            return Err(self.error(start, "expected a schema URI before ':'"));
        }
        let mut parts = rest.split('.');
        let attr = parts.next().unwrap_or_default();
        let sub = parts.next();
        if parts.next().is_some() {
            return Err(self.error(start, format!("'{token}' has more than one sub-attribute")));
        }
        self.check_name(attr, rest_start)?;
        if let Some(sub) = sub {
            self.check_name(sub, rest_start + attr.len() + 1)?;
        }
        Ok(AttrPath { uri: uri.map(str::to_owned), attr: attr.to_owned(), sub_attr: sub.map(str::to_owned) })
    }

    /// A bare attribute name (after `].` in a value path).
    fn attr_name(&mut self) -> Result<String, Error> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$')) {
            self.bump();
        }
        let name = &self.text[start..self.pos];
        if name.is_empty() {
            return Err(self.unexpected("a sub-attribute name after '.'"));
        }
        self.check_name(name, start)?;
        Ok(name.to_owned())
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, also allowing the `$` of `$ref`.
    fn check_name(&self, name: &str, at: usize) -> Result<(), Error> {
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if valid {
            Ok(())
        } else if name.is_empty() {
            Err(self.error(at, "expected an attribute name"))
        } else {
            Err(self.error(at, format!("'{name}' is not a valid attribute name")))
        }
    }

    /// `compValue = false / null / true / number / string`, with JSON's rules for the last two.
    fn comp_value(&mut self, op: CompareOp) -> Result<CompValue, Error> {
        let start = self.pos;
        match self.peek() {
            Some('"') => self.string().map(CompValue::Str),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number().map(CompValue::Num),
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.word();
                if word.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else {
                    self.pos = start;
                    Err(self.missing_value(op))
                }
            }
            _ => Err(self.missing_value(op)),
        }
    }

    fn missing_value(&self, op: CompareOp) -> Error {
        self.error(
            self.pos,
            format!(
                "expected a comparison value after '{}' (a quoted string, a number, true, false or null), found {}",
                op.as_str(),
                self.found()
            ),
        )
    }

    /// A JSON string literal, starting at its opening quote.
    fn string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        self.bump();
        loop {
            match self.peek() {
                None => return Err(self.error(start, "unterminated string: the closing '\"' is missing")),
                Some('\\') => {
                    self.bump();
                    self.bump();
                }
                Some('"') => {
                    self.bump();
                    break;
                }
                Some(_) => self.bump(),
            }
        }
        // serde_json applies exactly JSON's escapes (including surrogate pairs in `\u` escapes) and
        // rejects raw control characters, as RFC 7644 requires of string literals.
        serde_json::from_str::<String>(&self.text[start..self.pos])
            .map_err(|_| self.error(start, "invalid string: bad escape sequence or control character"))
    }

    /// A JSON number. Integers that fit stay integers; anything else becomes the nearest `f64`, parsed by
    /// the standard library because it rounds correctly (serde_json's default float parser may be one
    /// unit in the last place off, which would break printing and re-parsing).
    fn number(&mut self) -> Result<Number, Error> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
            self.bump();
        }
        let text = &self.text[start..self.pos];
        let invalid = || self.error(start, format!("invalid number '{text}'"));
        if !is_json_number(text) {
            return Err(invalid());
        }
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(integer) = text.parse::<i64>() {
                return Ok(integer.into());
            }
            if let Ok(integer) = text.parse::<u64>() {
                return Ok(integer.into());
            }
        }
        text.parse::<f64>().ok().and_then(Number::from_f64).ok_or_else(invalid)
    }
}

/// Whether `text` follows JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    fn digits(bytes: &[u8]) -> usize {
        bytes.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let bytes = text.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let integer = digits(&bytes[at..]);
    if integer == 0 || (integer > 1 && bytes[at] == b'0') {
        return false;
    }
    at += integer;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(&bytes[at + 1..]);
        if fraction == 0 {
            return false;
        }
        at += 1 + fraction;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(&bytes[at..]);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}
