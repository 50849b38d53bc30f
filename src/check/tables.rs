//! Value tables: inline rows or a YAML/CSV file; duplicate keys (M407), unreadable files (M408),
//! keys checked against the source field's values at each lookup (M406, M409), unused (M405).

use std::path::Path;

use serde_json::Value;

use super::Checker;
use super::suggest;
use super::types::{ExprInfo, KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::load::{self, span_at};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Call, Ident, Item, MappingFile, TableBody, TableDecl};
use crate::transforms::Table;
use crate::value::Kinds;

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
    /// True once a lookup names it.
    pub used: bool,
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
            max_length,
            constant: None,
            literals: Vec::new(),
        }
    }
}

impl Checker<'_> {
    /// Builds every declared table.
    pub(crate) fn build_tables(&mut self, ast: &MappingFile) {
        for item in &ast.items {
            let Item::Table(decl) = item else { continue };
            if let Some(first) = self.tables.iter().find(|t| t.table.name == decl.name.name) {
                let first_span = first.name_span;
                self.report(
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
                TableBody::Inline(_) => self.inline_table(decl),
                TableBody::File(path) => self.file_table(decl, &path.value, path.span),
            };
            self.tables.push(info);
        }
    }

    fn empty_table(decl: &TableDecl) -> TableInfo {
        TableInfo {
            table: Table::new(&decl.name.name),
            name_span: decl.name.span,
            keys: Vec::new(),
            values: Vec::new(),
            used: false,
            broken: false,
        }
    }

    fn inline_table(&mut self, decl: &TableDecl) -> TableInfo {
        let mut info = Self::empty_table(decl);
        let TableBody::Inline(rows) = &decl.body else {
            return info;
        };
        for row in rows {
            let value = row.value.kind.to_json();
            if row.keys.is_empty() {
                self.add_default(&mut info, value, row.value.span, row.span);
                continue;
            }
            for key in &row.keys {
                self.add_row(
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
        &mut self,
        info: &mut TableInfo,
        value: Value,
        value_span: Span,
        row_span: Span,
    ) {
        if info.table.default.is_some() {
            self.report(
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
        &mut self,
        info: &mut TableInfo,
        key: Value,
        key_span: Span,
        value: Value,
        value_span: Span,
    ) {
        if !matches!(key, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            self.report(
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
                .find(|(k, _)| same_key(k, &key))
                .map(|(_, s)| *s);
            self.report(
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

    fn file_table(&mut self, decl: &TableDecl, relative: &str, named_at: Span) -> TableInfo {
        let mut info = Self::empty_table(decl);
        let loaded = load::resolve_path(&self.base_dir, relative, &self.base_dir, named_at)
            .and_then(|path| {
                load::read_text(self.sources, &path, named_at, "table file")
                    .map(|file| (path, file))
            });
        let (path, file) = match loaded {
            Ok(found) => found,
            Err(mut diagnostic) => {
                if diagnostic.code == Code::M601 {
                    diagnostic.code = Code::M408;
                    diagnostic.severity = Code::M408.severity();
                }
                self.report(diagnostic);
                info.broken = true;
                return info;
            }
        };
        let result = match Path::new(&path).extension().and_then(|e| e.to_str()) {
            Some("csv") => self.csv_rows(file, &mut info),
            Some("yaml" | "yml") => self.yaml_rows(file, &mut info),
            _ => Err((
                Span::new(file, 0, 0),
                "the file name must end in .csv, .yaml or .yml".to_string(),
            )),
        };
        if let Err((span, reason)) = result {
            self.report(
                Diagnostic::new(Code::M408, span, format!("table file `{relative}` cannot be used: {reason}"), "problem here")
                    .with_label(named_at, "named here")
                    .with_help("a CSV table has a header row and two columns (key,value); a YAML table is a mapping of key: value, with `_` as the default row"),
            );
            info.broken = true;
        }
        info
    }

    fn csv_rows(&mut self, file: FileId, info: &mut TableInfo) -> Result<(), (Span, String)> {
        let text = self.sources.get(file).text.clone();
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
                        self.add_default(info, value, span, span);
                    } else {
                        self.add_row(
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

    fn yaml_rows(&mut self, file: FileId, info: &mut TableInfo) -> Result<(), (Span, String)> {
        let text = self.sources.get(file).text.clone();
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
            let key = serde_json::to_value(&key).unwrap_or(Value::Null);
            let value = serde_json::to_value(&value).unwrap_or(Value::Null);
            let key_text = match &key {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let span = span_at(
                self.sources,
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
                self.add_default(info, value, span, span);
            } else {
                self.add_row(info, key, span, value, span);
            }
        }
        Ok(())
    }

    /// Resolves a table name in `lookup(...)` (M404 when unknown) and marks it used.
    pub(crate) fn table_arg(&mut self, name: &Ident) -> Option<usize> {
        if let Some(index) = self.tables.iter().position(|t| t.table.name == name.name) {
            self.tables[index].used = true;
            return Some(index);
        }
        let names: Vec<&str> = self.tables.iter().map(|t| t.table.name.as_str()).collect();
        let close = suggest::closest(&name.name, names.iter().copied()).map(str::to_string);
        if let Some(meant) = &close {
            self.mark_table_used(meant);
        }
        let names: Vec<&str> = self.tables.iter().map(|t| t.table.name.as_str()).collect();
        let help = match close.as_deref() {
            Some(close) => format!("did you mean `{close}`?"),
            None if names.is_empty() => {
                "declare it: `table NAME { \"key\" => \"value\" }`".to_string()
            }
            None => format!(
                "the tables are: {}",
                crate::diag::quoted_list(&names, "and")
            ),
        };
        self.report(
            Diagnostic::new(
                Code::M404,
                name.span,
                format!("unknown table `{}`", name.name),
                "no table has this name",
            )
            .with_help(help),
        );
        None
    }

    /// Marks a table as used (also when the lookup naming it has an error, to avoid M405 noise).
    pub(crate) fn mark_table_used(&mut self, name: &str) {
        if let Some(table) = self.tables.iter_mut().find(|t| t.table.name == name) {
            table.used = true;
        }
    }

    /// Checks a table's keys against the values the looked-up expression can take.
    pub(crate) fn check_lookup_keys(
        &mut self,
        table: usize,
        call: &Call,
        info: &ExprInfo,
        described: &str,
    ) {
        let Some(values) = info.ty.values.clone() else {
            return;
        };
        if self.tables[table].broken {
            return;
        }
        let allowed: Vec<String> = values.iter().map(|v| v.value.to_string()).collect();
        let keys = self.tables[table].keys.clone();
        for (key, span) in &keys {
            if values.iter().any(|v| same_key(&v.value, key)) {
                continue;
            }
            let candidates: Vec<&str> = values.iter().filter_map(|v| v.value.as_str()).collect();
            let close = key
                .as_str()
                .and_then(|k| suggest::closest(k, candidates.iter().copied()));
            let help = match close {
                Some(close) => format!(
                    "did you mean \"{close}\"? the values are {}",
                    allowed.join(", ")
                ),
                None => format!(
                    "the values of `{described}` are {}; remove the row or fix the key",
                    allowed.join(", ")
                ),
            };
            self.report(
                Diagnostic::new(
                    Code::M406,
                    *span,
                    format!("table key {key} is not a value of `{described}`"),
                    "can never match",
                )
                .with_label(call.span, "looked up here")
                .with_help(help),
            );
        }
        let info_table = &self.tables[table];
        if info_table.table.default.is_some() {
            return;
        }
        let uncovered: Vec<String> = values
            .iter()
            .filter(|v| !keys.iter().any(|(k, _)| same_key(k, &v.value)))
            .map(|v| v.value.to_string())
            .collect();
        if !uncovered.is_empty() {
            let name = info_table.table.name.clone();
            let declared = info_table.name_span;
            self.report(
                Diagnostic::new(
                    Code::M409,
                    call.span,
                    format!("table `{name}` has no row for {}", uncovered.join(", ")),
                    "deals with these values will be rejected",
                )
                .with_label(declared, "table declared here")
                .with_help("add rows for these values, or a `_` row for everything else"),
            );
        }
    }

    /// Warns about tables no lookup uses (M405).
    pub(crate) fn report_unused_tables(&mut self) {
        if self.syntax_errors {
            return;
        }
        let unused: Vec<(String, Span)> = self
            .tables
            .iter()
            .filter(|t| !t.used)
            .map(|t| (t.table.name.clone(), t.name_span))
            .collect();
        for (name, span) in unused {
            self.report(
                Diagnostic::new(
                    Code::M405,
                    span,
                    format!("table `{name}` is never used"),
                    "no lookup uses this table",
                )
                .with_help(format!("use it with `| lookup({name})`, or delete it")),
            );
        }
    }
}

/// Table keys compare numbers by value and everything else exactly.
pub(crate) fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
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
