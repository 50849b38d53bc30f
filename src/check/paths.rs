//! Resolving paths against record schemas: unknown records (M109), wrong record (M110), unknown
//! fields with "did you mean" (M201/M301), steps into scalars (M202), array searches (M203).
//!
//! A field must be declared in the schema's `properties` to be read or written; an object that
//! declares no properties but types its `additionalProperties` is a dictionary and accepts any key.

use std::rc::Rc;

use super::Checker;
use super::program::{CPath, PathId, PathStep, RecordRef};
use super::suggest;
use super::types::Read;
use crate::diag::{Code, Diagnostic};
use crate::schema::{Additional, Flat};
use crate::syntax::ast::{Path, Segment, SegmentKind};
use crate::value::Kinds;

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

impl Checker<'_> {
    /// Resolves a path; reports and returns `None` when it does not resolve. Returns `None`
    /// silently when its record's schema failed to load (already reported).
    pub(crate) fn resolve_path(&mut self, path: &Path, allowed: Allowed) -> Option<Resolved> {
        let record = self.find_record(path, allowed)?;
        let info = &self.records[record];
        let role = info.role;
        let root = info.root?;
        let mut flat = self.flattener.node(&self.schemas, root);
        let mut may_be_absent = matches!(role, RecordRef::Source(i) if i > 0);
        let mut required_in_parent = true;
        let mut parent = None;
        let mut steps = Vec::with_capacity(path.segments.len());
        for (index, segment) in path.segments.iter().enumerate() {
            let (child, step, required) = self.step(path, index, segment, &flat, role)?;
            may_be_absent |= !required || child.nullable();
            required_in_parent = required;
            steps.push(step);
            parent = Some(flat);
            flat = child;
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

    fn find_record(&mut self, path: &Path, allowed: Allowed) -> Option<usize> {
        let name = &path.root.name;
        let Some(index) = self.records.iter().position(|r| &r.name == name) else {
            let names: Vec<&str> = self.records.iter().map(|r| r.name.as_str()).collect();
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
            self.report(diagnostic);
            return None;
        };
        let role = self.records[index].role;
        let wrong = match (allowed, role) {
            (Allowed::Source, RecordRef::Target) => Some("a source record (the CRM side)"),
            (Allowed::Target, RecordRef::Source(_)) => Some("the target record (the PSA side)"),
            _ => None,
        };
        if let Some(expected) = wrong {
            let declared = self.records[index].name_span;
            self.report(
                Diagnostic::new(
                    Code::M110,
                    path.root.span,
                    format!("`{}` must start from {expected} here", path.display()),
                    format!("`{name}` is the wrong record here"),
                )
                .with_label(declared, format!("`{name}` is declared here"))
                .with_help(wrong_record_help(allowed)),
            );
            return None;
        }
        Some(index)
    }

    /// One step from `flat`: the child's schema, the compiled step, and whether it is required.
    fn step(
        &mut self,
        path: &Path,
        index: usize,
        segment: &Segment,
        flat: &Rc<Flat>,
        role: RecordRef,
    ) -> Option<(Rc<Flat>, PathStep, bool)> {
        let parent_display = path.display_prefix(index);
        match &segment.kind {
            SegmentKind::Field(name) => {
                if !flat.kinds.intersects(Kinds::OBJECT) {
                    self.report(not_a_container(segment, &parent_display, flat, "fields"));
                    return None;
                }
                let child = match flat.properties.get(name) {
                    Some(dnf) => self.flattener.dnf(&self.schemas, &dnf.clone()),
                    None => match (&flat.additional, flat.properties.is_empty()) {
                        (Additional::Any, true) => Rc::new(Flat::any()),
                        (Additional::Typed(dnf), true) => {
                            self.flattener.dnf(&self.schemas, &dnf.clone())
                        }
                        _ => {
                            let diagnostic =
                                self.unknown_field(segment, name, &parent_display, flat, role);
                            self.report(diagnostic);
                            return None;
                        }
                    },
                };
                let required = flat.required.iter().any(|r| r == name);
                Some((child, PathStep::Field(name.clone()), required))
            }
            SegmentKind::Index(i) => {
                let items = self.items_of(segment, &parent_display, flat)?;
                Some((items, PathStep::Index(*i), false))
            }
            SegmentKind::Search {
                key,
                key_span,
                value,
            } => {
                let items = self.items_of(segment, &parent_display, flat)?;
                let key_flat = match items.properties.get(key) {
                    Some(dnf) => self.flattener.dnf(&self.schemas, &dnf.clone()),
                    None if items.properties.is_empty() => Rc::new(Flat::any()),
                    None => {
                        let names: Vec<&str> =
                            items.properties.keys().map(String::as_str).collect();
                        let mut diagnostic = Diagnostic::new(
                            Code::M203,
                            *key_span,
                            format!("elements of `{parent_display}` have no field `{key}`"),
                            "unknown key field",
                        );
                        if let Some(close) = suggest::closest(key, names.iter().copied()) {
                            diagnostic = diagnostic.with_help(format!("did you mean `{close}`?"));
                        } else {
                            diagnostic = diagnostic.with_help(format!(
                                "elements have: {}",
                                crate::diag::quoted_list(&names, "and")
                            ));
                        }
                        self.report(diagnostic);
                        return None;
                    }
                };
                let literal = value.kind.to_json();
                let literal_kinds = Kinds::of_json(&literal);
                let comparable = key_flat.kinds.intersects(literal_kinds)
                    || (literal_kinds.intersects(Kinds::NUMBER)
                        && key_flat.kinds.intersects(Kinds::NUMBER));
                if !comparable {
                    self.report(
                        Diagnostic::new(
                            Code::M203,
                            value.span,
                            format!(
                                "`{key}` is {}, but it is searched for {}",
                                key_flat.kinds.without(Kinds::NULL).a(),
                                literal_kinds.a()
                            ),
                            "can never match",
                        )
                        .with_help(format!(
                            "search for a value of the key's type, e.g. `[{key} == {}]`",
                            example_of(key_flat.kinds)
                        )),
                    );
                    return None;
                }
                Some((
                    items,
                    PathStep::Search {
                        key: key.clone(),
                        value: literal,
                    },
                    false,
                ))
            }
        }
    }

    fn items_of(
        &mut self,
        segment: &Segment,
        parent_display: &str,
        flat: &Rc<Flat>,
    ) -> Option<Rc<Flat>> {
        if !flat.kinds.intersects(Kinds::ARRAY) {
            self.report(not_a_container(segment, parent_display, flat, "elements"));
            return None;
        }
        Some(match &flat.items {
            Some(dnf) => self.flattener.dnf(&self.schemas, &dnf.clone()),
            None => Rc::new(Flat::any()),
        })
    }

    fn unknown_field(
        &self,
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
            .filter(|node| !self.schemas.node(**node).properties.is_empty())
            .find_map(|node| {
                self.schemas
                    .span_of_keyword(self.sources, *node, "/properties")
            });
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
