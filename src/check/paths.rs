//! Resolving paths against record schemas: unknown records (M109), wrong record (M110), unknown
//! fields with "did you mean" (M201/M301), steps into scalars (M202), array searches (M203).
//!
//! A field must be declared in the schema's `properties` to be read or written, or be typed by
//! the object's `patternProperties` (a name a pattern matches) or by a typed
//! `additionalProperties` schema: that is how vendors describe custom fields (HubSpot's and
//! Zoho's custom properties). An object that declares no properties and leaves
//! `additionalProperties` open is a dictionary and accepts any key; one that declares some and
//! leaves the rest open accepts only those (a typo is M201, not a field that is always absent).
//! A name that is a near miss of a declared one stays M201 with "did you mean" even where the
//! schema would type it as a custom field: that is a typo far more often than a custom field
//! (which can be declared in the schema when it is real).
//! [`step`] is the one place that decides what a step leads to; the checker reports its misses,
//! and `lookup.rs` answers tools (the language server) with it.

use std::rc::Rc;

use super::context::Context;
use super::program::{CPath, PathId, PathStep, RecordRef};
use super::records::Record;
use super::suggest;
use super::types::Read;
use crate::diag::{Code, Diagnostic};
use crate::schema::{Additional, Flat, Flattener, SchemaSet};
use crate::source::Span;
use crate::syntax::ast::{Path, Segment, SegmentKind};
use crate::value::{Kinds, json_equal};

/// Which records a path may start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allowed {
    /// Source records only.
    Source,
    /// The target record only.
    Target,
    /// Either.
    Any,
}

/// A path resolved against its schema.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The compiled path.
    pub cpath: CPath,
    /// The effective schema at the end of the path.
    pub flat: Rc<Flat>,
    /// True when the schema allows the value to be missing or null.
    pub may_be_absent: bool,
    /// True when the last field is in its parent's `required` list.
    pub required_in_parent: bool,
    /// The effective schema of the parent object (for locating `required`).
    pub parent: Option<Rc<Flat>>,
    /// The read, for never-transfer and ownership checks.
    pub read: Read,
}

/// One step of a path: the schema it leads to, the compiled step, and whether the field is in its
/// parent's `required` list.
pub(crate) struct Step {
    /// The effective schema after the step.
    pub flat: Rc<Flat>,
    /// The compiled step.
    pub step: PathStep,
    /// True when the step names a required field.
    pub required: bool,
}

/// Why a step (of a segment living for `'s`) does not resolve.
pub(crate) enum Miss<'s> {
    /// The value is not an object (`"fields"`) or not an array (`"elements"`).
    NotContainer(&'static str),
    /// The object does not declare this field.
    UnknownField(&'s str),
    /// The array's elements (`items`) have no field `key`.
    UnknownKey {
        key: &'s str,
        key_span: Span,
        items: Rc<Flat>,
    },
    /// The key field (`key_flat`) can never equal the literal searched for (of `literal`
    /// kinds, written at `at`).
    NeverMatches {
        key: &'s str,
        at: Span,
        key_flat: Rc<Flat>,
        literal: Kinds,
    },
    /// The key field lists its values (`enum`/`const`) and the literal is not one of them.
    NotAValue {
        key: &'s str,
        at: Span,
        key_flat: Rc<Flat>,
        literal: serde_json::Value,
    },
}

/// One step from `flat` into `segment`.
pub(crate) fn step<'s>(
    schemas: &SchemaSet,
    flattener: &Flattener,
    flat: &Flat,
    segment: &'s Segment,
) -> Result<Step, Miss<'s>> {
    match &segment.kind {
        SegmentKind::Field(name) => {
            if !flat.kinds.intersects(Kinds::OBJECT) {
                return Err(Miss::NotContainer("fields"));
            }
            let child = match flat.properties.get(name) {
                Some(dnf) => flattener.dnf(schemas, dnf),
                // A near miss of a declared name is a typo far more often than a custom field:
                // M201 with "did you mean", even where the schema would type it.
                None => match undeclared(schemas, flattener, flat, name) {
                    Some(child) if !is_near_miss(flat, name) => child,
                    _ => return Err(Miss::UnknownField(name)),
                },
            };
            Ok(Step {
                flat: child,
                step: PathStep::Field(name.clone()),
                required: flat.required.iter().any(|r| r == name),
            })
        }
        SegmentKind::Index(i) => Ok(Step {
            flat: items_of(schemas, flattener, flat)?,
            step: PathStep::Index(*i),
            required: false,
        }),
        SegmentKind::Search {
            key,
            key_span,
            value,
        } => {
            let items = items_of(schemas, flattener, flat)?;
            let key_flat = match items.properties.get(key) {
                Some(dnf) => flattener.dnf(schemas, dnf),
                None if items.properties.is_empty() => Rc::new(Flat::any()),
                None => {
                    return Err(Miss::UnknownKey {
                        key,
                        key_span: *key_span,
                        items,
                    });
                }
            };
            let literal = value.kind.to_json();
            let literal_kinds = Kinds::of_json(&literal);
            let comparable = key_flat.kinds.intersects(literal_kinds)
                || (literal_kinds.intersects(Kinds::NUMBER)
                    && key_flat.kinds.intersects(Kinds::NUMBER));
            if !comparable {
                return Err(Miss::NeverMatches {
                    key,
                    at: value.span,
                    key_flat,
                    literal: literal_kinds,
                });
            }
            if key_flat
                .non_null_enum()
                .is_some_and(|values| !values.iter().any(|v| json_equal(v, &literal)))
            {
                return Err(Miss::NotAValue {
                    key,
                    at: value.span,
                    key_flat,
                    literal,
                });
            }
            Ok(Step {
                flat: items,
                step: PathStep::Search {
                    key: key.clone(),
                    value: literal,
                },
                required: false,
            })
        }
    }
}

/// The schema of an array's elements.
fn items_of(
    schemas: &SchemaSet,
    flattener: &Flattener,
    flat: &Flat,
) -> Result<Rc<Flat>, Miss<'static>> {
    if !flat.kinds.intersects(Kinds::ARRAY) {
        return Err(Miss::NotContainer("elements"));
    }
    Ok(match &flat.items {
        Some(dnf) => flattener.dnf(schemas, dnf),
        None => Rc::new(Flat::any()),
    })
}

/// The type of a field `flat` does not declare: the first `patternProperties` entry whose
/// pattern matches the name (JSON Schema applies every matching one; any one of them is true of
/// the value), else a typed `additionalProperties`, else anything for an object that declares
/// nothing; `None` when the object does not allow the name.
fn undeclared(
    schemas: &SchemaSet,
    flattener: &Flattener,
    flat: &Flat,
    name: &str,
) -> Option<Rc<Flat>> {
    let matched = flat.pattern_properties.iter().find(|(pattern, _)| {
        crate::transforms::build_regex(pattern).is_ok_and(|regex| regex.is_match(name))
    });
    if let Some((_, dnf)) = matched {
        return Some(flattener.dnf(schemas, dnf));
    }
    match (&flat.additional, flat.properties.is_empty()) {
        (Additional::Typed(dnf), _) => Some(flattener.dnf(schemas, dnf)),
        (Additional::Any, true) if flat.pattern_properties.is_empty() => Some(Rc::new(Flat::any())),
        _ => None,
    }
}

/// True when `name` is close to a field `flat` declares (the "did you mean" of M201).
fn is_near_miss(flat: &Flat, name: &str) -> bool {
    !flat.properties.is_empty()
        && suggest::closest(name, flat.properties.keys().map(String::as_str)).is_some()
}

/// Resolves a path; reports and returns `None` when it does not resolve. Returns `None`
/// silently when its record's schema failed to load (already reported).
pub(crate) fn resolve(
    cx: &mut Context<'_>,
    records: &[Record],
    path: &Path,
    allowed: Allowed,
) -> Option<Resolved> {
    let record = find_record(cx, records, path, allowed)?;
    let role = record.role;
    let mut flat = cx.flat(record.root?);
    let mut may_be_absent = matches!(role, RecordRef::Source(i) if i > 0);
    let mut required_in_parent = true;
    let mut parent = None;
    let mut steps = Vec::with_capacity(path.segments.len());
    for (index, segment) in path.segments.iter().enumerate() {
        let next = match step(&cx.schemas, &cx.flattener, &flat, segment) {
            Ok(next) => next,
            Err(miss) => {
                let diagnostic = miss_diagnostic(cx, path, index, &flat, role, miss);
                cx.report(diagnostic);
                return None;
            }
        };
        may_be_absent |= !next.required || next.flat.nullable();
        required_in_parent = next.required;
        steps.push(next.step);
        parent = Some(flat);
        flat = next.flat;
    }
    let display = path.display();
    Some(Resolved {
        cpath: CPath {
            record: role,
            steps: steps.clone(),
            display: display.clone(),
            id: PathId::UNNUMBERED,
        },
        flat,
        may_be_absent,
        required_in_parent,
        parent,
        read: Read {
            record: role,
            steps,
            display,
            span: path.span,
        },
    })
}

fn find_record<'r>(
    cx: &mut Context<'_>,
    records: &'r [Record],
    path: &Path,
    allowed: Allowed,
) -> Option<&'r Record> {
    let name = &path.root.name;
    let Some(record) = records.iter().find(|r| &r.name == name) else {
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        let mut diagnostic = Diagnostic::new(
            Code::M109,
            path.root.span,
            format!("unknown record `{name}`"),
            "no record has this name",
        );
        diagnostic = match suggest::closest(name, names.iter().copied()) {
            Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
            None if names.is_empty() => diagnostic.with_help("declare records with `source NAME = schema \"FILE\"` and `target NAME = schema \"FILE\"`"),
            None => diagnostic.with_help(format!("paths start with a declared record: {}", crate::diag::quoted_list(&names, "or"))),
        };
        cx.report(diagnostic);
        return None;
    };
    let wrong = match (allowed, record.role) {
        (Allowed::Source, RecordRef::Target) => Some("a source record (the CRM side)"),
        (Allowed::Target, RecordRef::Source(_)) => Some("the target record (the PSA side)"),
        _ => None,
    };
    if let Some(expected) = wrong {
        cx.report(
            Diagnostic::new(
                Code::M110,
                path.root.span,
                format!("`{}` must start from {expected} here", path.display()),
                format!("`{name}` is the wrong record here"),
            )
            .with_label(record.name_span, format!("`{name}` is declared here"))
            .with_help(wrong_record_help(allowed)),
        );
        return None;
    }
    Some(record)
}

/// The diagnostic for a step of `path` (segment `index`, from `flat`) that does not resolve.
fn miss_diagnostic(
    cx: &Context<'_>,
    path: &Path,
    index: usize,
    flat: &Flat,
    role: RecordRef,
    miss: Miss<'_>,
) -> Diagnostic {
    let segment = &path.segments[index];
    let parent_display = path.display_prefix(index);
    match miss {
        Miss::NotContainer(what) => not_a_container(segment, &parent_display, flat, what),
        Miss::UnknownField(name) => unknown_field(cx, segment, name, &parent_display, flat, role),
        Miss::UnknownKey {
            key,
            key_span,
            items,
        } => {
            let names: Vec<&str> = items.properties.keys().map(String::as_str).collect();
            let diagnostic = Diagnostic::new(
                Code::M203,
                key_span,
                format!("elements of `{parent_display}` have no field `{key}`"),
                "unknown key field",
            );
            match suggest::closest(key, names.iter().copied()) {
                Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
                None => diagnostic.with_help(format!(
                    "elements have: {}",
                    crate::diag::quoted_list(&names, "and")
                )),
            }
        }
        Miss::NeverMatches {
            key,
            at,
            key_flat,
            literal,
        } => Diagnostic::new(
            Code::M203,
            at,
            format!(
                "`{key}` is {}, but it is searched for {}",
                key_flat.kinds.without(Kinds::NULL).a(),
                literal.a()
            ),
            "can never match",
        )
        .with_help(format!(
            "search for a value of the key's type, e.g. `[{key} == {}]`",
            example_of(key_flat.kinds)
        )),
        Miss::NotAValue {
            key,
            at,
            key_flat,
            literal,
        } => not_a_value(key, at, &key_flat, &literal),
    }
}

/// M203 for a search literal the key field never holds: no element can match, so the path is
/// absent on every deal.
fn not_a_value(key: &str, at: Span, key_flat: &Flat, literal: &serde_json::Value) -> Diagnostic {
    let values = key_flat.non_null_enum().unwrap_or_default();
    let strings: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
    let listed: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let help = match literal
        .as_str()
        .and_then(|l| suggest::closest(l, strings.iter().copied()))
    {
        Some(close) => format!(
            "did you mean \"{close}\"? `{key}` is one of {}",
            listed.join(", ")
        ),
        None => format!("`{key}` is one of {}", listed.join(", ")),
    };
    Diagnostic::new(
        Code::M203,
        at,
        format!("no element can match: `{key}` is never {literal}"),
        "not one of the key's values",
    )
    .with_help(help)
}

fn unknown_field(
    cx: &Context<'_>,
    segment: &Segment,
    name: &str,
    parent_display: &str,
    flat: &Flat,
    role: RecordRef,
) -> Diagnostic {
    let code = match role {
        RecordRef::Target => Code::M301,
        RecordRef::Source(_) => Code::M201,
    };
    let names: Vec<&str> = flat.properties.keys().map(String::as_str).collect();
    let help = match suggest::closest(name, names.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => {
            let shown: Vec<&str> = names.iter().copied().take(12).collect();
            let more = if names.len() > shown.len() {
                format!(" and {} more", names.len() - shown.len())
            } else {
                String::new()
            };
            format!(
                "`{parent_display}` has {}{more}; if the field is new, add it to the schema",
                crate::diag::quoted_list(&shown, "and")
            )
        }
    };
    let declared = flat
        .origin
        .iter()
        .filter(|node| !cx.schemas.node(**node).properties.is_empty())
        .find_map(|node| cx.schemas.span_of_keyword(cx.sources, *node, "/properties"));
    Diagnostic::new(
        code,
        segment.span,
        format!("`{parent_display}` has no field `{name}`"),
        "not in the schema",
    )
    .with_optional_label(
        declared,
        format!("the fields of `{parent_display}` are declared here"),
    )
    .with_help(help)
}

fn wrong_record_help(allowed: Allowed) -> &'static str {
    match allowed {
        Allowed::Source => {
            "conditions, required facts and never-transfer lists are about the CRM records; sync back rules write the CRM record"
        }
        Allowed::Target => "map and select write the target record; sync back rules read it",
        Allowed::Any => "",
    }
}

fn not_a_container(segment: &Segment, parent_display: &str, flat: &Flat, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::M202,
        segment.span,
        format!(
            "`{parent_display}` is {}, so it has no {what}",
            flat.kinds.without(Kinds::NULL).a()
        ),
        format!("cannot step into {}", flat.kinds.without(Kinds::NULL).a()),
    )
    .with_help(match what {
        "fields" => "remove this step, or check the schema: the value is not an object",
        _ => "only arrays can be indexed or searched; check the schema",
    })
}

fn example_of(kinds: Kinds) -> &'static str {
    if kinds.intersects(Kinds::NUMBER) {
        "123"
    } else if kinds.intersects(Kinds::BOOL) {
        "true"
    } else {
        "\"value\""
    }
}
