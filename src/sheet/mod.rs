//! `mapctl doc`: the mapping sheet — one page that the sales lead and the delivery lead can sign
//! off without reading the mapping file. It is built from the checked program (and the schemas
//! check loaded), never from the text, so it says what `apply` does: every PSA field with its
//! source, transforms and fallbacks, the facts required at the stage, the never-transfer list
//! with the count of reads that prove nothing copies it, the template decision table, tables,
//! sync back, the checklist, what is left unmapped, and the coverage of the last `mapctl test`.
//!
//! [`build`] makes a [`Sheet`] (plain data); [`markdown`] and [`html`] render it. Everything a
//! sheet holds that came from files (names, messages, table values) is untrusted text: the HTML
//! renderer escapes all of it.

mod fields;
mod html;
mod markdown;
mod words;

use crate::check::CheckOutput;
use crate::check::program::{Program, WriteKind};

pub use html::html;
pub use markdown::markdown;

/// The coverage of the last `mapctl test` run, as recorded beside the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// The tests file that was run.
    pub tests_file: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// What no case exercised (require rules, select branches, table rows), one line each.
    pub unexercised: Vec<String>,
    /// False when the mapping changed since (its SHA-256 differs from the recorded one).
    pub current: bool,
}

/// A record the mapping declares.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLine {
    /// Its name (`deal`).
    pub name: String,
    /// Its schema file, as the mapping names it.
    pub schema: String,
    /// How it is joined, in words, when it is.
    pub join: Option<String>,
}

/// One PSA field and how it gets its value.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    /// The target path (`job.budget`).
    pub field: String,
    /// True when the PSA schema requires it.
    pub required: bool,
    /// The CRM fields it reads.
    pub sources: Vec<String>,
    /// How the value is made, in words.
    pub how: String,
    /// The transforms of its main value, in order.
    pub transforms: Vec<String>,
    /// What is used when the value is absent, in words.
    pub fallbacks: Vec<String>,
    /// The mapping line of the rule.
    pub line: usize,
}

/// A fact required at a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RequireRow {
    /// The stages it is required at.
    pub stages: Vec<String>,
    /// What must hold, in words.
    pub condition: String,
    /// The mapping's message (what a rejection says).
    pub message: String,
    /// The mapping line.
    pub line: usize,
}

/// A never-transfer field and what proves nothing copies it.
#[derive(Debug, Clone, PartialEq)]
pub struct NeverRow {
    /// The CRM field.
    pub field: String,
    /// Rules that read it or a field inside it (0: check refuses any, M207).
    pub direct_reads: usize,
    /// Rules that read an object containing it, which apply copies with it stripped.
    pub containing_reads: usize,
}

/// One branch of a select.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The condition in words; `None` for `otherwise`.
    pub when: Option<String>,
    /// The value chosen, in words.
    pub value: String,
    /// The mapping line.
    pub line: usize,
}

/// A `select`: the field it writes and its branches, first match wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The target field.
    pub field: String,
    /// True for the first select (the project template).
    pub template: bool,
    /// The branches in order.
    pub branches: Vec<Branch>,
}

/// A value table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    /// Its name.
    pub name: String,
    /// Its rows (key, value), as JSON text.
    pub rows: Vec<(String, String)>,
    /// The `_` row's value, if any.
    pub default: Option<String>,
}

/// A field that flows back from the PSA to the CRM.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRow {
    /// The CRM field written.
    pub crm_field: String,
    /// What it is set to, in words (reading the PSA record).
    pub from: String,
    /// The mapping line.
    pub line: usize,
}

/// The mapping sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The mapping's name.
    pub mapping: String,
    /// The mapping file, as given.
    pub file: String,
    /// SHA-256 of the mapping text (hex).
    pub sha256: String,
    /// Source records.
    pub sources: Vec<RecordLine>,
    /// The target record.
    pub target: RecordLine,
    /// The trigger in words.
    pub trigger: String,
    /// The stages the trigger fires on.
    pub trigger_stages: Vec<String>,
    /// Every written PSA field, in mapping order.
    pub fields: Vec<FieldRow>,
    /// Required facts, in mapping order.
    pub requirements: Vec<RequireRow>,
    /// The never-transfer list.
    pub never_transfer: Vec<NeverRow>,
    /// How many source paths the program reads in all (the other side of the proof).
    pub reads: usize,
    /// Every select, the template first.
    pub decisions: Vec<Decision>,
    /// Value tables.
    pub tables: Vec<TableView>,
    /// Sync-back rules.
    pub sync_back: Vec<SyncRow>,
    /// The handoff checklist.
    pub checklist: Vec<String>,
    /// Required PSA fields nothing writes (only those with a schema default, since check
    /// refuses the others: M303).
    pub unmapped_required: Vec<String>,
    /// Optional PSA fields nothing writes.
    pub unwritten_optional: Vec<String>,
    /// CRM fields the schemas declare that no rule reads (never-transfer ones left out).
    pub unused_crm: Vec<String>,
    /// The last `mapctl test` coverage, when recorded.
    pub coverage: Option<Coverage>,
}

/// Builds the sheet of a mapping that checked cleanly: `output` is its check output (`None`
/// without a program), `file` its path as given, `text` its text.
pub fn build(
    output: &CheckOutput,
    file: &str,
    text: &str,
    coverage: Option<Coverage>,
) -> Option<Sheet> {
    let program = output.program.as_ref()?;
    let target_fields = fields::leaves(output, &program.target_name);
    let written = written_paths(program);
    let is_required = |field: &str| {
        target_fields
            .iter()
            .any(|f| f.required && fields::touches(field, &f.path))
    };
    let (unmapped_required, unwritten_optional) = unwritten(&target_fields, &written);
    Some(Sheet {
        mapping: program.name.clone(),
        file: file.to_string(),
        sha256: sha256_hex(text.as_bytes()),
        sources: source_lines(program),
        target: RecordLine {
            name: program.target_name.clone(),
            schema: relative(&program.target_schema_path, program),
            join: None,
        },
        trigger: words::cond(&program.trigger),
        trigger_stages: program.trigger_stages.clone(),
        fields: field_rows(program, &is_required),
        requirements: requirement_rows(program),
        never_transfer: never_rows(program),
        reads: read_paths(program).len(),
        decisions: decisions(program),
        tables: tables(program),
        sync_back: program
            .sync_back
            .iter()
            .map(|rule| SyncRow {
                crm_field: rule.display.clone(),
                from: words::expr(&rule.value),
                line: rule.origin.line,
            })
            .collect(),
        checklist: program.checklist.clone(),
        unmapped_required,
        unwritten_optional,
        unused_crm: unused_crm(output, program),
        coverage,
    })
}

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn source_lines(program: &Program) -> Vec<RecordLine> {
    program
        .sources
        .iter()
        .map(|source| RecordLine {
            name: source.name.clone(),
            schema: relative(&source.schema_path, program),
            join: source.join.as_ref().map(|join| {
                format!(
                    "joined where `{}` equals `{}`",
                    join.key.display, join.equals.display
                )
            }),
        })
        .collect()
}

/// The target paths written (each write's field, and the client rule's).
fn written_paths(program: &Program) -> Vec<String> {
    let mut written: Vec<String> = program.writes.iter().map(|w| w.display.clone()).collect();
    written.extend(program.client.iter().map(|c| c.display.clone()));
    written
}

/// Every source path the program reads (join keys included), without array steps.
fn read_paths(program: &Program) -> Vec<String> {
    let mut reads = Vec::new();
    program.for_each_read(&mut |path| reads.push(fields::without_index(&path.display)));
    for join in program.sources.iter().filter_map(|s| s.join.as_ref()) {
        reads.push(fields::without_index(&join.key.display));
    }
    reads
}

/// A schema path as the mapping names it: relative to the mapping's folder when inside it.
fn relative(path: &std::path::Path, program: &Program) -> String {
    let folder = program
        .mapping_path
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let absolute = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    path.strip_prefix(folder)
        .or_else(|_| path.strip_prefix(&absolute))
        .unwrap_or(path)
        .display()
        .to_string()
}

fn field_rows(program: &Program, is_required: &dyn Fn(&str) -> bool) -> Vec<FieldRow> {
    let mut rows: Vec<FieldRow> = program
        .writes
        .iter()
        .map(|write| {
            let (sources, how, transforms, fallbacks) = match &write.kind {
                WriteKind::Map(expr) => (
                    expr.paths().iter().map(|p| p.display.clone()).collect(),
                    words::expr(expr),
                    words::transforms(expr),
                    words::fallbacks(expr),
                ),
                WriteKind::Select { arms, otherwise } => {
                    let mut sources: Vec<String> = Vec::new();
                    for (cond, value, _) in arms {
                        sources.extend(words::cond_paths(cond));
                        sources.extend(value.paths().iter().map(|p| p.display.clone()));
                    }
                    if let Some((value, _)) = otherwise {
                        sources.extend(value.paths().iter().map(|p| p.display.clone()));
                    }
                    // Target fields read by a condition (`job.budget >= 25000`) are not CRM fields.
                    let target = format!("{}.", program.target_name);
                    sources.retain(|s| !s.starts_with(&target));
                    let fallback = otherwise.iter().map(|(e, _)| words::expr(e)).collect();
                    (
                        dedup(sources),
                        format!(
                            "chosen by {} rule(s), first match wins (see the decision table)",
                            arms.len()
                        ),
                        Vec::new(),
                        fallback,
                    )
                }
            };
            FieldRow {
                field: write.display.clone(),
                required: is_required(&write.display),
                sources,
                how,
                transforms,
                fallbacks,
                line: write.origin.line,
            }
        })
        .collect();
    if let Some(client) = &program.client {
        let row = FieldRow {
            field: client.display.clone(),
            required: is_required(&client.display),
            sources: client
                .name
                .paths()
                .iter()
                .map(|p| p.display.clone())
                .collect(),
            how: format!(
                "the id of the PSA client whose name matches {} (after normalising case, spaces and suffixes such as Inc. or Corp.)",
                words::expr(&client.name)
            ),
            transforms: words::transforms(&client.name),
            fallbacks: words::fallbacks(&client.name),
            line: client.origin.line,
        };
        rows.insert(client.position.min(rows.len()), row);
    }
    rows
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.clone()));
    items
}

fn requirement_rows(program: &Program) -> Vec<RequireRow> {
    program
        .requirements
        .iter()
        .map(|requirement| RequireRow {
            stages: requirement.stages.clone(),
            condition: words::cond(&requirement.condition),
            message: requirement.message.clone(),
            line: requirement.origin.line,
        })
        .collect()
}

/// Each never-transfer field with the reads that touch it, counted from the program.
fn never_rows(program: &Program) -> Vec<NeverRow> {
    let reads = read_paths(program);
    program
        .never_transfer
        .iter()
        .map(|path| {
            let field = fields::without_index(&path.display);
            let direct = reads
                .iter()
                .filter(|read| {
                    *read == &field
                        || read
                            .strip_prefix(field.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                })
                .count();
            let containing = reads
                .iter()
                .filter(|read| {
                    field
                        .strip_prefix(read.as_str())
                        .is_some_and(|r| r.starts_with('.'))
                })
                .count();
            NeverRow {
                field: path.display.clone(),
                direct_reads: direct,
                containing_reads: containing,
            }
        })
        .collect()
}

fn decisions(program: &Program) -> Vec<Decision> {
    program
        .writes
        .iter()
        .filter_map(|write| {
            let WriteKind::Select { arms, otherwise } = &write.kind else {
                return None;
            };
            let mut branches: Vec<Branch> = arms
                .iter()
                .map(|(cond, value, origin)| Branch {
                    when: Some(words::cond(cond)),
                    value: words::expr(value),
                    line: origin.line,
                })
                .collect();
            branches.extend(otherwise.iter().map(|(value, origin)| Branch {
                when: None,
                value: words::expr(value),
                line: origin.line,
            }));
            Some(Decision {
                field: write.display.clone(),
                template: program.template_field.as_ref() == Some(&write.target),
                branches,
            })
        })
        .collect()
}

fn tables(program: &Program) -> Vec<TableView> {
    program
        .tables
        .iter()
        .map(|table| TableView {
            name: table.name.clone(),
            rows: table
                .rows()
                .map(|(key, value)| (words::literal(key), words::literal(value)))
                .collect(),
            default: table.default.as_ref().map(words::literal),
        })
        .collect()
}

/// Target fields nothing writes: (required, optional).
fn unwritten(target: &[fields::SchemaField], written: &[String]) -> (Vec<String>, Vec<String>) {
    let mut required = Vec::new();
    let mut optional = Vec::new();
    for field in target {
        if written.iter().any(|w| fields::touches(w, &field.path)) {
            continue;
        }
        if field.required {
            required.push(field.path.clone());
        } else {
            optional.push(field.path.clone());
        }
    }
    (required, optional)
}

/// Source fields the schemas declare that no rule reads, never-transfer fields and the fields
/// sync back writes left out.
fn unused_crm(output: &CheckOutput, program: &Program) -> Vec<String> {
    let reads = read_paths(program);
    let protected: Vec<String> = program
        .never_transfer
        .iter()
        .map(|p| fields::without_index(&p.display))
        .chain(
            program
                .sync_back
                .iter()
                .map(|w| fields::without_index(&w.display)),
        )
        .collect();
    program
        .sources
        .iter()
        .flat_map(|source| fields::leaves(output, &source.name))
        .map(|field| field.path)
        .filter(|field| !reads.iter().any(|read| fields::touches(read, field)))
        .filter(|field| !protected.iter().any(|p| fields::touches(p, field)))
        .collect()
}

/// The never-transfer proof in one sentence, from the counts of the program's reads.
pub(crate) fn never_proof(sheet: &Sheet) -> String {
    let direct: usize = sheet.never_transfer.iter().map(|r| r.direct_reads).sum();
    let containing: usize = sheet
        .never_transfer
        .iter()
        .map(|r| r.containing_reads)
        .sum();
    let mut text = format!(
        "Proof: of the {} CRM field reads in the checked program, {direct} read one of these fields (check refuses any such read, M207, whether direct, through a table, in a text template or by copying an object).",
        sheet.reads
    );
    if containing > 0 {
        text.push_str(&format!(
            " {containing} read(s) copy an object that holds one: apply strips the field from the copy."
        ));
    }
    text
}

/// The coverage line: when, which file, how many cases passed and failed, what is left.
pub(crate) fn coverage_summary(coverage: &Coverage) -> String {
    let mut text = format!(
        "Last `mapctl test` run ({}, `{}`): {} passed, {} failed, {} not exercised.",
        coverage.recorded_at,
        coverage.tests_file,
        coverage.passed,
        coverage.failed,
        coverage.unexercised.len()
    );
    if !coverage.current {
        text.push_str(" The mapping has changed since: run `mapctl test` again.");
    }
    text
}
