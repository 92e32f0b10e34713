//! The edits themselves: one operation against one target of a resource's attributes, with the
//! mutability rules and the RFC 7644 §3.5.2 semantics of add, remove and replace. See the parent module
//! for the decisions taken where the RFC leaves room.

use serde_json::{Map, Value};

use super::target::{self, AttributeTarget, Target};
use super::{MemberChange, OpKind, PatchOp};
use crate::scim::Error;
use crate::scim::filter::parse_patch_path;
use crate::scim::resource::{
    describe, find_extension, find_key, is_unassigned, looks_like_urn, normalize_single, normalize_value,
    parse_members, remove_key,
};
use crate::scim::schema::{self, Attribute, AttributeType, Mutability, ResourceKind, Schema};

/// Applies operations to a working copy of a resource and collects membership changes.
#[derive(Debug)]
pub(super) struct Editor<'a> {
    kind: ResourceKind,
    id: &'a str,
    resource: Map<String, Value>,
    changes: Vec<MemberChange>,
}

impl<'a> Editor<'a> {
    pub fn new(kind: ResourceKind, id: &'a str, resource: Map<String, Value>) -> Self {
        Editor { kind, id, resource, changes: Vec::new() }
    }

    pub fn finish(self) -> (Map<String, Value>, Vec<MemberChange>) {
        (self.resource, self.changes)
    }

    pub fn apply(&mut self, op: &PatchOp) -> Result<(), Error> {
        let value = op.value.as_ref();
        match &op.path {
            None => self.apply_object(op.op, value),
            Some(path) => match target::resolve(self.kind, path, &self.resource)? {
                Some(target) => self.apply_target(op.op, target, value),
                None => Err(Error::invalid_path(format!(
                    "'{path}' names no attribute of a {} resource; check the spelling against /Schemas",
                    self.kind.as_str()
                ))),
            },
        }
    }

    fn apply_target(&mut self, op: OpKind, target: Target, value: Option<&Value>) -> Result<(), Error> {
        match target {
            Target::Resource => match op {
                OpKind::Remove => {
                    Err(Error::no_target("\"remove\" needs a path naming an attribute, not the resource"))
                }
                OpKind::Add | OpKind::Replace => self.apply_object(op, value),
            },
            Target::Extension(extension) => self.apply_extension(op, extension, value),
            Target::Unknown { urn, name, sub } => {
                self.apply_unknown(op, &urn, name.as_deref(), sub.as_deref(), value);
                Ok(())
            }
            Target::Attribute(target) => self.apply_attribute(op, &target, value),
        }
    }

    /// No path: `value` is an object whose keys are applied one by one, as if each were a path.
    fn apply_object(&mut self, op: OpKind, value: Option<&Value>) -> Result<(), Error> {
        let Some(Value::Object(members)) = value else {
            return Err(Error::invalid_value(format!(
                "without a \"path\", \"value\" must be an object of attributes such as {{\"active\": false}}, not {}",
                value.map_or_else(|| "nothing".to_owned(), describe)
            )));
        };
        for (key, value) in members {
            if key.eq_ignore_ascii_case(self.kind.core_schema().id) {
                // A block keyed by the core URN holds core attributes; URN keys inside it are not followed,
                // which keeps this one level deep.
                if let Value::Object(inner) = value {
                    for (key, value) in inner {
                        if !looks_like_urn(key) {
                            self.apply_key(op, key, value)?;
                        }
                    }
                }
            } else {
                self.apply_key(op, key, value)?;
            }
        }
        Ok(())
    }

    /// One key of a no-path value object. Unknown names are ignored, as `normalize` ignores them.
    fn apply_key(&mut self, op: OpKind, key: &str, value: &Value) -> Result<(), Error> {
        // `schemas` is recomputed from the attributes present; `meta` is the server's and clients echo it.
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("meta") || key.trim().is_empty() {
            return Ok(());
        }
        if let Some(extension) = find_extension(self.kind, key) {
            return self.apply_extension(op, extension, Some(value));
        }
        let path = parse_patch_path(key).map_err(|error| {
            Error::invalid_path(format!("the key '{key}' of \"value\" is not an attribute path: {}", error.detail))
        })?;
        match target::resolve(self.kind, &path, &self.resource)? {
            None | Some(Target::Resource) => Ok(()),
            Some(Target::Extension(extension)) => self.apply_extension(op, extension, Some(value)),
            Some(Target::Unknown { urn, name, sub }) => {
                self.apply_unknown(op, &urn, name.as_deref(), sub.as_deref(), Some(value));
                Ok(())
            }
            Some(Target::Attribute(target)) => {
                // Inside a value object, `meta` in any spelling and readOnly sub-attributes are dropped, as
                // `normalize` drops them.
                let is_meta = target.extension.is_none() && target.attribute.name == "meta";
                if is_meta || target.sub.is_some_and(|sub| sub.mutability == Mutability::ReadOnly) {
                    return Ok(());
                }
                self.apply_attribute(op, &target, Some(value))
            }
        }
    }

    /// A whole known extension block: removed, or its attributes applied one by one.
    fn apply_extension(&mut self, op: OpKind, extension: &'static Schema, value: Option<&Value>) -> Result<(), Error> {
        match (op, value) {
            (OpKind::Remove, _) | (OpKind::Replace, Some(Value::Null)) => {
                remove_key(&mut self.resource, extension.id);
                Ok(())
            }
            (OpKind::Add, Some(Value::Null) | None) | (OpKind::Replace, None) => Ok(()),
            (OpKind::Add | OpKind::Replace, Some(Value::Object(members))) => {
                for (name, value) in members {
                    if let Some(attribute) = extension.attribute(name) {
                        let target = AttributeTarget::whole(Some(extension.id), attribute);
                        self.apply_attribute(op, &target, Some(value))?;
                    }
                }
                Ok(())
            }
            (OpKind::Add | OpKind::Replace, Some(other)) => Err(Error::invalid_value(format!(
                "'{}' must be an object of that extension's attributes, not {}",
                extension.id,
                describe(other)
            ))),
        }
    }

    /// An extension we do not know: values are stored verbatim in its block.
    fn apply_unknown(&mut self, op: OpKind, urn: &str, name: Option<&str>, sub: Option<&str>, value: Option<&Value>) {
        // `urn:x:ext:name` with an object value names the block `urn:x:ext:name` itself, the rule
        // `normalize` applies to such keys (a bare URN parses as URN plus last segment).
        if let (Some(name), None, Some(Value::Object(_))) = (name, sub, value)
            && op != OpKind::Remove
        {
            let block = format!("{urn}:{name}");
            return self.apply_unknown(op, &block, None, None, value);
        }
        let key = find_key(&self.resource, urn).map_or_else(|| urn.to_owned(), |(key, _)| key.clone());
        let mut block = match remove_key(&mut self.resource, urn) {
            Some(Value::Object(block)) => block,
            _ => Map::new(),
        };
        let value = value.filter(|value| !value.is_null());
        match (name, sub) {
            (None, _) => match (op, value) {
                (OpKind::Remove, _) => block.clear(),
                (OpKind::Replace, None) | (OpKind::Add, None) => {
                    if op == OpKind::Replace {
                        block.clear();
                    }
                }
                (_, Some(Value::Object(members))) => {
                    for (name, value) in members {
                        set_verbatim(&mut block, name, op, Some(value));
                    }
                }
                (_, Some(_)) => {}
            },
            (Some(name), None) => set_verbatim(&mut block, name, op, value),
            (Some(name), Some(sub)) => {
                let mut inner = match remove_key(&mut block, name) {
                    Some(Value::Object(inner)) => inner,
                    _ => Map::new(),
                };
                set_verbatim(&mut inner, sub, op, value);
                if !inner.is_empty() {
                    block.insert(name.to_owned(), Value::Object(inner));
                }
            }
        }
        if !block.is_empty() {
            self.resource.insert(key, Value::Object(block));
        }
    }

    fn apply_attribute(&mut self, op: OpKind, target: &AttributeTarget, value: Option<&Value>) -> Result<(), Error> {
        let attribute = target.attribute;
        if target.extension.is_none() {
            if attribute.name == "schemas" {
                return Ok(());
            }
            if self.kind == ResourceKind::Group && attribute.name == "members" {
                return self.apply_members(op, target, value);
            }
            if self.kind == ResourceKind::User && attribute.name == "password" {
                return apply_password(&mut self.resource, op, value);
            }
        }
        if attribute.mutability == Mutability::ReadOnly {
            return self.check_read_only(op, target, value);
        }
        if let Some(sub) = target.sub
            && sub.mutability == Mutability::ReadOnly
        {
            return Err(Error::mutability(format!(
                "'{}' is readOnly: the server maintains it, so leave it out of the PATCH",
                target.text
            )));
        }
        let unassigns = op == OpKind::Remove || (op == OpKind::Replace && value.is_none_or(is_unassigned));
        if attribute.required && target.filter.is_none() && target.sub.is_none() && unassigns {
            return Err(Error::mutability(format!(
                "'{}' is required and cannot be removed; replace it with a new value instead",
                target.text
            )));
        }
        // The attribute's container (the resource, or its extension's block) is taken out, edited and put
        // back, so the edit itself is a plain function of the current value.
        let mut container = match target.extension {
            None => std::mem::take(&mut self.resource),
            Some(urn) => match remove_key(&mut self.resource, urn) {
                Some(Value::Object(block)) => block,
                _ => Map::new(),
            },
        };
        let current = remove_key(&mut container, attribute.name);
        // The current value is moved into the edit, not copied: a copy per operation made a PATCH of many
        // operations on one multi-valued attribute quadratic. Only an immutable attribute keeps its old
        // value, to compare. On an error the editor is left half-edited; `apply` then drops it whole.
        let before = if attribute.mutability == Mutability::Immutable { current.clone() } else { None };
        let next = edit(op, target, current, value)?;
        if let (Some(before), Some(after)) = (&before, &next)
            && before != after
        {
            return Err(Error::mutability(format!(
                "'{}' is immutable: it can be set once but not changed",
                target.text
            )));
        }
        if let Some(next) = next.filter(|next| !is_unassigned(next)) {
            container.insert(attribute.name.to_owned(), next);
        }
        match target.extension {
            None => self.resource = container,
            Some(urn) => {
                if !container.is_empty() {
                    self.resource.insert(urn.to_owned(), Value::Object(container));
                }
            }
        }
        Ok(())
    }

    /// readOnly attributes (`id`, `meta`, User `groups`): accepted only when nothing would change.
    fn check_read_only(&self, op: OpKind, target: &AttributeTarget, value: Option<&Value>) -> Result<(), Error> {
        let attribute = target.attribute;
        let unchanged = match (op, value) {
            (OpKind::Remove, _) => false,
            // Okta's group rename sends the group's own id inside the replace value.
            (_, Some(Value::String(id))) if attribute.name == "id" && target.sub.is_none() => id == self.id,
            (_, value) => attribute.name != "id" && value.is_none_or(is_unassigned),
        };
        if unchanged {
            return Ok(());
        }
        let advice = match attribute.name {
            "groups" => "; change membership through the Group resource's members instead",
            _ => "; leave it out of the PATCH",
        };
        Err(Error::mutability(format!("'{}' is readOnly and set by the server{advice}", target.text)))
    }

    /// Group `members`: never stored as JSON, every operation becomes a [`MemberChange`].
    fn apply_members(&mut self, op: OpKind, target: &AttributeTarget, value: Option<&Value>) -> Result<(), Error> {
        let value = value.filter(|value| !value.is_null());
        if target.sub.is_some() || (target.filter.is_some() && op != OpKind::Remove) {
            return Err(Error::mutability(format!(
                "'{}': a member's sub-attributes are immutable (RFC 7643 §4.2); remove the member and add it again",
                target.text
            )));
        }
        if let Some(filter) = &target.filter {
            let change = match filter.member_ids() {
                Some(ids) => MemberChange::Remove(ids),
                None => MemberChange::RemoveWhere(filter.inner.clone()),
            };
            self.changes.push(change);
            return Ok(());
        }
        match (op, value) {
            (OpKind::Add, None) => {}
            (OpKind::Add, Some(value)) => {
                let members = parse_members(value)?;
                if !members.is_empty() {
                    self.changes.push(MemberChange::Add(members));
                }
            }
            (OpKind::Replace, value) => {
                let members = value.map(parse_members).transpose()?.unwrap_or_default();
                self.changes.push(MemberChange::Replace(members));
            }
            (OpKind::Remove, None) => self.changes.push(MemberChange::RemoveAll),
            (OpKind::Remove, Some(value)) => {
                // Entra removes members with a value list on a bare `members` path.
                let ids: Vec<String> = parse_members(value)?.into_iter().map(|member| member.value).collect();
                if !ids.is_empty() {
                    self.changes.push(MemberChange::Remove(ids));
                }
            }
        }
        Ok(())
    }
}

/// A write-only `password`: left in the map for `normalize` to take out and the caller to hash.
fn apply_password(resource: &mut Map<String, Value>, op: OpKind, value: Option<&Value>) -> Result<(), Error> {
    remove_key(resource, "password");
    match (op, value) {
        (OpKind::Remove, _) | (_, None | Some(Value::Null)) => Ok(()),
        (_, Some(Value::String(text))) => {
            resource.insert("password".to_owned(), Value::String(text.clone()));
            Ok(())
        }
        (_, Some(other)) => Err(Error::invalid_value(format!("'password' must be a string, not {}", describe(other)))),
    }
}

/// Sets, replaces or removes `name` in a schemaless block, matching the name in any case.
fn set_verbatim(block: &mut Map<String, Value>, name: &str, op: OpKind, value: Option<&Value>) {
    let key = find_key(block, name).map_or_else(|| name.to_owned(), |(key, _)| key.clone());
    match (op, value) {
        (OpKind::Remove, _) | (OpKind::Replace, None) => {
            remove_key(block, name);
        }
        (OpKind::Add, None) => {}
        (_, Some(value)) if value.is_null() => {
            if op == OpKind::Replace {
                remove_key(block, name);
            }
        }
        (_, Some(value)) => {
            remove_key(block, name);
            block.insert(key, value.clone());
        }
    }
}

/// The new value of one attribute after `op`, from its current value. `None` means unassigned.
fn edit(
    op: OpKind,
    target: &AttributeTarget,
    current: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, Error> {
    let attribute = target.attribute;
    let multi_complex = attribute.multi_valued && attribute.attr_type == AttributeType::Complex;
    if target.filter.is_some() {
        return edit_filtered(op, target, current, value);
    }
    if let Some(sub) = target.sub {
        if multi_complex {
            return edit_every_element(op, target, sub, current, value);
        }
        let element = current.and_then(into_object).unwrap_or_default();
        return Ok(object_or_none(edit_sub(op, target, sub, element, value)?));
    }
    let value = match value {
        None => None,
        Some(value) if value.is_null() => None,
        Some(value) => Some(value),
    };
    match (op, value) {
        (OpKind::Remove, Some(listed)) if attribute.multi_valued => {
            Ok(remove_listed(attribute, current, listed, &target.text)?)
        }
        (OpKind::Remove, _) | (OpKind::Replace, None) => Ok(None),
        (OpKind::Add, None) => Ok(current),
        (OpKind::Replace, Some(value)) if attribute.multi_valued => normalize_value(attribute, value, &target.text),
        (OpKind::Add, Some(value)) if attribute.multi_valued => append(attribute, current, value, &target.text),
        (OpKind::Add | OpKind::Replace, Some(value)) if attribute.attr_type == AttributeType::Complex => {
            merge_complex(op, target, current, value)
        }
        (OpKind::Add | OpKind::Replace, Some(value)) => {
            let next = normalize_single(attribute, value, &target.text)?;
            Ok(if op == OpKind::Add && next.is_none() { current } else { next })
        }
    }
}

/// Add to a multi-valued attribute: new values are appended unless an identical one is there.
fn append(
    attribute: &'static Attribute,
    current: Option<Value>,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    let mut list = into_list(current);
    let Some(Value::Array(added)) = normalize_value(attribute, value, path)? else {
        return Ok(list_or_none(list));
    };
    let mut promoted = None;
    for element in added {
        if is_primary(&element) {
            promoted = Some(element.clone());
        }
        if !list.contains(&element) {
            list.push(element);
        }
    }
    if let Some(primary) = promoted {
        let keep: Vec<bool> = list.iter().map(|element| element == &primary).collect();
        demote_others(&mut list, &keep);
    }
    Ok(list_or_none(list))
}

/// Remove with a value list (Entra's form): drops the listed values, matched on their `value`
/// sub-attribute when they have one, else on the whole value.
fn remove_listed(
    attribute: &'static Attribute,
    current: Option<Value>,
    listed: &Value,
    path: &str,
) -> Result<Option<Value>, Error> {
    let listed = match normalize_value(attribute, listed, path)? {
        Some(Value::Array(listed)) => listed,
        _ => return Ok(current),
    };
    let value_sub = attribute.sub_attribute("value");
    let same = |element: &Value, given: &Value| match (value_sub, given.get("value"), element.get("value")) {
        (Some(sub), Some(Value::String(given)), Some(Value::String(actual))) => {
            if sub.case_exact {
                given == actual
            } else {
                schema::fold_case(given) == schema::fold_case(actual)
            }
        }
        _ => element == given,
    };
    let mut list = into_list(current);
    list.retain(|element| !listed.iter().any(|given| same(element, given)));
    Ok(list_or_none(list))
}

/// Add or replace on a single-valued complex attribute: the sub-attributes given are set (or, with
/// `null` in a replace, unassigned) and the others kept. A bare id (Entra's `manager`) replaces the
/// whole value instead, since it describes a different referent.
fn merge_complex(
    op: OpKind,
    target: &AttributeTarget,
    current: Option<Value>,
    value: &Value,
) -> Result<Option<Value>, Error> {
    let attribute = target.attribute;
    let Value::Object(given) = value else {
        return normalize_single(attribute, value, &target.text);
    };
    let element = current.and_then(into_object).unwrap_or_default();
    Ok(object_or_none(merge_element(op, attribute, element, given, &target.text)?))
}

/// Sets the sub-attributes in `given` on `element`; readOnly and unknown ones are dropped silently.
fn merge_element(
    op: OpKind,
    attribute: &'static Attribute,
    mut element: Map<String, Value>,
    given: &Map<String, Value>,
    path: &str,
) -> Result<Map<String, Value>, Error> {
    for (name, value) in given {
        let Some(sub) = attribute.sub_attribute(name) else { continue };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        match normalize_single(sub, value, &format!("{path}.{}", sub.name))? {
            Some(value) => {
                remove_key(&mut element, sub.name);
                element.insert(sub.name.to_owned(), value);
            }
            None if op == OpKind::Replace => {
                remove_key(&mut element, sub.name);
            }
            None => {}
        }
    }
    Ok(element)
}

/// One sub-attribute of one complex value.
fn edit_sub(
    op: OpKind,
    target: &AttributeTarget,
    sub: &'static Attribute,
    mut element: Map<String, Value>,
    value: Option<&Value>,
) -> Result<Map<String, Value>, Error> {
    let next = match (op, value) {
        (OpKind::Remove, _) => None,
        (_, None) => None,
        (_, Some(value)) => normalize_single(sub, value, &target.text)?,
    };
    match next {
        Some(next) => {
            remove_key(&mut element, sub.name);
            element.insert(sub.name.to_owned(), next);
        }
        None if op != OpKind::Add => {
            remove_key(&mut element, sub.name);
        }
        None => {}
    }
    Ok(element)
}

/// `emails.type` without a filter: the sub-attribute of every value. With no values yet, add and
/// replace create one.
fn edit_every_element(
    op: OpKind,
    target: &AttributeTarget,
    sub: &'static Attribute,
    current: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, Error> {
    let mut list = into_list(current);
    if list.is_empty() && op != OpKind::Remove {
        list.push(Value::Object(Map::new()));
    }
    let mut edited = Vec::with_capacity(list.len());
    for element in list {
        let element = into_object(element).unwrap_or_default();
        if let Some(element) = object_or_none(edit_sub(op, target, sub, element, value)?) {
            edited.push(element);
        }
    }
    Ok(list_or_none(edited))
}

/// `attr[filter]` and `attr[filter].sub`: the values the filter matches.
fn edit_filtered(
    op: OpKind,
    target: &AttributeTarget,
    current: Option<Value>,
    value: Option<&Value>,
) -> Result<Option<Value>, Error> {
    let attribute = target.attribute;
    let Some(filter) = &target.filter else { return Ok(current) };
    let mut list = into_list(current);
    let matched: Vec<bool> = list.iter().map(|element| filter.matches(element)).collect();
    let value = value.filter(|value| !value.is_null());

    if op == OpKind::Remove || (op == OpKind::Replace && value.is_none() && target.sub.is_none()) {
        // Remove the matching values, or just their sub-attribute; no match is not an error.
        let mut kept = Vec::with_capacity(list.len());
        for (element, hit) in list.into_iter().zip(&matched) {
            match (hit, target.sub) {
                (false, _) => kept.push(element),
                (true, None) => {}
                (true, Some(sub)) => {
                    let mut object = into_object(element).unwrap_or_default();
                    remove_key(&mut object, sub.name);
                    if !object.is_empty() {
                        kept.push(Value::Object(object));
                    }
                }
            }
        }
        return Ok(list_or_none(kept));
    }
    let Some(value) = value else {
        // `add` of null adds nothing; `replace` of `attr[filter].sub` with null unassigns the sub-attribute.
        if op == OpKind::Replace
            && let Some(sub) = target.sub
        {
            for (element, hit) in list.iter_mut().zip(&matched) {
                if *hit && let Value::Object(object) = element {
                    remove_key(object, sub.name);
                }
            }
            list.retain(|element| !is_unassigned(element));
        }
        return Ok(list_or_none(list));
    };

    let mut touched = matched.clone();
    if matched.iter().any(|hit| *hit) {
        for (element, hit) in list.iter_mut().zip(&matched) {
            if *hit {
                let object = into_object(element.take()).unwrap_or_default();
                *element = edit_matched(op, target, object, value)?;
            }
        }
    } else {
        // Nothing matched. Entra maps `mail` to `emails[type eq "work"].value` and sends it with `Add` or
        // `Replace` whether or not the user has a work email yet (Microsoft's "Develop a SCIM endpoint"
        // tutorial, attribute table and "Update User [Multi-valued properties]"; the SCIM compatibility
        // page's multi-attribute replace). Microsoft does not document the no-match case, but it requires
        // `type` values to be unique per attribute, which only holds if the server creates the element the
        // filter describes. That is done for filters made of `eq` comparisons; for any other filter the
        // RFC's `noTarget` (§3.5.2.3) stands.
        let Some(template) = filter.template() else {
            return Err(Error::no_target(format!(
                "no value of '{}' matches [{}], and the filter does not describe a new one; \
                 use eq comparisons such as [type eq \"work\"] or add the value first",
                attribute.name, filter.inner
            )));
        };
        let element = match target.sub {
            Some(_) => edit_matched(op, target, template, value)?,
            None => {
                let Value::Object(given) = single_object(value, &target.text)? else {
                    return Ok(list_or_none(list));
                };
                let mut element = merge_element(OpKind::Add, attribute, Map::new(), &given, &target.text)?;
                for (name, value) in template {
                    element.entry(name).or_insert(value);
                }
                Value::Object(element)
            }
        };
        list.push(element);
        touched.push(true);
    }
    if list.iter().zip(&touched).any(|(element, hit)| *hit && is_primary(element)) {
        demote_others(&mut list, &touched);
    }
    list.retain(|element| !is_unassigned(element));
    Ok(list_or_none(list))
}

/// One matched value of a filtered add or replace.
fn edit_matched(
    op: OpKind,
    target: &AttributeTarget,
    element: Map<String, Value>,
    value: &Value,
) -> Result<Value, Error> {
    let attribute = target.attribute;
    if let Some(sub) = target.sub {
        return Ok(Value::Object(edit_sub(op, target, sub, element, Some(value))?));
    }
    let given = single_object(value, &target.text)?;
    match op {
        // RFC 7644 §3.5.2.3: "all matching record values SHALL be replaced".
        OpKind::Replace => Ok(normalize_single(attribute, &given, &target.text)?.unwrap_or(Value::Object(Map::new()))),
        _ => {
            let Value::Object(given) = given else { return Ok(Value::Object(element)) };
            Ok(Value::Object(merge_element(op, attribute, element, &given, &target.text)?))
        }
    }
}

/// The value for one element: an object, or an array holding exactly one object (some clients wrap it).
fn single_object(value: &Value, path: &str) -> Result<Value, Error> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::Array(items) if items.len() == 1 && items.first().is_some_and(Value::is_object) => {
            Ok(items.first().cloned().unwrap_or(Value::Null))
        }
        other => Err(Error::invalid_value(format!(
            "'{path}' selects values of a complex attribute, so \"value\" must be one object of sub-attributes, not {}",
            describe(other)
        ))),
    }
}

/// RFC 7644 §3.5.2: making a value primary makes the others not primary.
fn demote_others(list: &mut [Value], keep: &[bool]) {
    for (index, element) in list.iter_mut().enumerate() {
        if !keep.get(index).copied().unwrap_or(false)
            && is_primary(element)
            && let Value::Object(object) = element
        {
            object.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

fn is_primary(element: &Value) -> bool {
    element.get("primary") == Some(&Value::Bool(true))
}

fn into_list(value: Option<Value>) -> Vec<Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn list_or_none(list: Vec<Value>) -> Option<Value> {
    (!list.is_empty()).then_some(Value::Array(list))
}

fn object_or_none(object: Map<String, Value>) -> Option<Value> {
    (!object.is_empty()).then_some(Value::Object(object))
}
