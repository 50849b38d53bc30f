//! Value tables: inline rows or a YAML/CSV file; duplicate keys (M407), unreadable files (M408),
//! keys checked against the source field's values at each lookup (M406, M409), unused (M405).

use std::path::Path;

use serde_json::Value;

use super::context::Context;
use super::range::Range;
use super::types::{KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::load::{self, span_at};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Item, MappingFile, TableBody, TableDecl};
use crate::transforms::Table;
use crate::value::{Kinds, json_equal};

/// A table as the checker knows it.
#[derive(Debug, Clone)]
pub(crate) struct TableInfo {
    /// The runtime table.
    pub table: Table,
    /// Where its name is declared.
    pub name_span: Span,
    /// Each keyed row: key and where it is written.
    pub keys: Vec<(Value, Span)>,
    /// Each value and where it is written (keyed rows and the default).
    pub values: Vec<(Value, Span)>,
    /// True when its file could not be loaded (lookups are then not checked).
    pub broken: bool,
}

impl TableInfo {
    /// The type of a lookup result.
    pub fn value_ty(&self) -> Ty {
        if self.broken {
            return Ty::of(Kinds::ANY);
        }
        let kinds = self
            .values
            .iter()
            .map(|(v, _)| Kinds::of_json(v))
            .fold(Kinds::NONE, Kinds::or);
        let max_length = self
            .values
            .iter()
            .map(|(v, _)| v.as_str().map(|s| s.chars().count() as u64))
            .try_fold(0u64, |acc, len| len.map(|l| acc.max(l)));
        Ty {
            kinds,
            values: Some(
                self.values
                    .iter()
                    .map(|(value, span)| KnownValue {
                        value: value.clone(),
                        span: Some(*span),
                    })
                    .collect(),
            ),
            schema: None,
            range: Range::default(),
            min_length: 0,
            nonblank: false,
            max_length,
            constant: None,
            literals: Vec::new(),
            alternatives: Vec::new(),
            affine: None,
        }
    }
}

/// Builds every declared table.
pub(crate) fn pass(cx: &mut Context<'_>, ast: &MappingFile) -> Vec<TableInfo> {
    let mut tables: Vec<TableInfo> = Vec::new();
    for item in &ast.items {
        let Item::Table(decl) = item else { continue };
        if let Some(first) = tables.iter().find(|t| t.table.name == decl.name.name) {
            let first_span = first.name_span;
            cx.report(
                Diagnostic::new(
                    Code::M106,
                    decl.name.span,
                    format!("table `{}` is declared twice", decl.name.name),
                    "second declaration",
                )
                .with_label(first_span, "first declared here")
                .with_help("merge the rows into one table, or rename one of them"),
            );
            continue;
        }
        let info = match &decl.body {
            TableBody::Inline(_) => inline_table(cx, decl),
            TableBody::File(path) => file_table(cx, decl, &path.value, path.span),
        };
        tables.push(info);
    }
    tables
}

fn empty_table(decl: &TableDecl) -> TableInfo {
    TableInfo {
        table: Table::new(&decl.name.name),
        name_span: decl.name.span,
        keys: Vec::new(),
        values: Vec::new(),
        broken: false,
    }
}

fn inline_table(cx: &mut Context<'_>, decl: &TableDecl) -> TableInfo {
    let mut info = empty_table(decl);
    let TableBody::Inline(rows) = &decl.body else {
        return info;
    };
    for row in rows {
        let value = row.value.kind.to_json();
        if row.keys.is_empty() {
            add_default(cx, &mut info, value, row.value.span, row.span);
            continue;
        }
        for key in &row.keys {
            add_row(
                cx,
                &mut info,
                key.kind.to_json(),
                key.span,
                value.clone(),
                row.value.span,
            );
        }
    }
    info
}

fn add_default(
    cx: &mut Context<'_>,
    info: &mut TableInfo,
    value: Value,
    value_span: Span,
    row_span: Span,
) {
    if info.table.default.is_some() {
        cx.report(
            Diagnostic::new(
                Code::M407,
                row_span,
                format!("table `{}` has two `_` rows", info.table.name),
                "second default row",
            )
            .with_help("keep one `_` row: it is used for every key without a row"),
        );
        return;
    }
    info.table.default = Some(value.clone());
    info.values.push((value, value_span));
}

fn add_row(
    cx: &mut Context<'_>,
    info: &mut TableInfo,
    key: Value,
    key_span: Span,
    value: Value,
    value_span: Span,
) {
    if !matches!(key, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
        cx.report(
            Diagnostic::new(
                Code::M410,
                key_span,
                format!("table key {key} is not a string, number or boolean"),
                "unusable key",
            )
            .with_help("table keys are strings, numbers or booleans"),
        );
        return;
    }
    if !info.table.insert(&key, value.clone()) {
        let first = info
            .keys
            .iter()
            .find(|(k, _)| json_equal(k, &key))
            .map(|(_, s)| *s);
        cx.report(
            Diagnostic::new(
                Code::M407,
                key_span,
                format!("key {key} is listed twice in table `{}`", info.table.name),
                "listed again here",
            )
            .with_optional_label(first, "first listed here")
            .with_help("keep one row per key; the first row would win"),
        );
        return;
    }
    info.keys.push((key, key_span));
    info.values.push((value, value_span));
}

fn file_table(cx: &mut Context<'_>, decl: &TableDecl, relative: &str, named_at: Span) -> TableInfo {
    let mut info = empty_table(decl);
    let loaded = load::resolve_path(
        &cx.base_dir,
        relative,
        &load::files_root(&cx.base_dir),
        named_at,
    )
    .and_then(|path| {
        load::read_text(cx.sources, &path, named_at, "table file").map(|file| (path, file))
    });
    let (path, file) = match loaded {
        Ok(found) => found,
        Err(mut diagnostic) => {
            if diagnostic.code == Code::M601 {
                diagnostic.code = Code::M408;
                diagnostic.severity = Code::M408.severity();
            }
            cx.report(diagnostic);
            info.broken = true;
            return info;
        }
    };
    let yaml = matches!(
        Path::new(&path).extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let deep = yaml.then(|| crate::io::depth::yaml_too_deep(&cx.sources.get(file).text));
    if let Some(Some(at)) = deep {
        cx.report(load::too_deep(cx.sources, file, at, named_at));
        info.broken = true;
        return info;
    }
    let result = match Path::new(&path).extension().and_then(|e| e.to_str()) {
        Some("csv") => csv_rows(cx, file, &mut info),
        Some("yaml" | "yml") => yaml_rows(cx, file, &mut info),
        _ => Err((
            Span::new(file, 0, 0),
            "the file name must end in .csv, .yaml or .yml".to_string(),
        )),
    };
    if let Err((span, reason)) = result {
        cx.report(
                Diagnostic::new(Code::M408, span, format!("table file `{relative}` cannot be used: {reason}"), "problem here")
                    .with_label(named_at, "named here")
                    .with_help("a CSV table has a header row and two columns (key,value); a YAML table is a mapping of key: value, with `_` as the default row"),
            );
        info.broken = true;
    }
    info
}

fn csv_rows(
    cx: &mut Context<'_>,
    file: FileId,
    info: &mut TableInfo,
) -> Result<(), (Span, String)> {
    let text = cx.sources.get(file).text.clone();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let end = reader.position().byte() as usize;
                let span = Span::new(file, start, end.saturating_sub(1).max(start));
                if record.len() != 2 {
                    let line = reader.position().line().saturating_sub(1);
                    return Err((
                        span,
                        format!(
                            "line {line} has {} columns, expected 2 (key,value)",
                            record.len()
                        ),
                    ));
                }
                let value = Value::String(record[1].to_string());
                if &record[0] == "_" {
                    add_default(cx, info, value, span, span);
                } else {
                    add_row(
                        cx,
                        info,
                        Value::String(record[0].to_string()),
                        span,
                        value,
                        span,
                    );
                }
            }
            Err(error) => {
                let at = error.position().map_or(0, |p| p.byte() as usize);
                let reason = match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".to_string(),
                    _ => "it is not valid CSV".to_string(),
                };
                return Err((Span::new(file, at, at), reason));
            }
        }
    }
}

fn yaml_rows(
    cx: &mut Context<'_>,
    file: FileId,
    info: &mut TableInfo,
) -> Result<(), (Span, String)> {
    let text = cx.sources.get(file).text.clone();
    let parsed: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
        let at = e.location().map_or(0, |l| l.index()).min(text.len());
        (Span::new(file, at, at), e.to_string())
    })?;
    let serde_yaml::Value::Mapping(map) = parsed else {
        let start = first_content_line(&text);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        return Err((
            Span::new(file, start, end),
            "the file is not a mapping of key: value".to_string(),
        ));
    };
    for (key, value) in map {
        let mut key = serde_json::to_value(&key).unwrap_or(Value::Null);
        let mut value = serde_json::to_value(&value).unwrap_or(Value::Null);
        crate::value::number::tidy_floats(&mut key);
        crate::value::number::tidy_floats(&mut value);
        let key_text = match &key {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let span = span_at(
            cx.sources,
            file,
            &format!("/{}", crate::schema::locate::escape_segment(&key_text)),
        );
        if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            return Err((
                span,
                format!("the value for {key} is not a string, number or boolean"),
            ));
        }
        if key == Value::String("_".into()) {
            add_default(cx, info, value, span, span);
        } else {
            add_row(cx, info, key, span, value, span);
        }
    }
    Ok(())
}

/// The offset of the first line that is neither blank nor a comment.
fn first_content_line(text: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            return offset + (line.len() - line.trim_start().len());
        }
        offset += line.len();
    }
    0
}
