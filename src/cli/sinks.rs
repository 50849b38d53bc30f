//! Where `apply`'s outcomes go: records to stdout or `--out`, skipped and rejected deals to
//! `--rejects` (or stderr), one run-log line per deal to `--log`; the counts and the summary.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::diag::Code;
use crate::engine::{Applied, Mapping, Outcome, Reason, Record};
use crate::io::atomic::AtomicFile;
use crate::io::compact::{write_array, write_str};
use crate::io::input::{self, Position};
use crate::io::outputs::{self, NamedFile};
use crate::ops::runlog::{self, LogLine, RunLog};

/// Counts of deal outcomes.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) read: usize,
    written: usize,
    skipped: usize,
    rejected: usize,
}

/// Where outcomes go.
pub(super) struct Sinks {
    out: Box<dyn Write>,
    out_file: Option<AtomicFile>,
    rejects: Option<AtomicFile>,
    pub(super) counts: Counts,
    pub(super) single: bool,
    envelope: bool,
    pub(super) failed: Option<String>,
    log: Option<RunLog>,
    back: bool,
    /// One output line, serialized here first: one write per line instead of one per token.
    line: Vec<u8>,
}

/// Where a run's outcomes go, as its options name them.
pub(super) struct SinkOptions<'a> {
    /// `--out`: records to this file (atomically) instead of stdout.
    pub(super) out: Option<&'a PathBuf>,
    /// `--rejects`: skipped and rejected deals to this file (atomically) instead of stderr.
    pub(super) rejects: Option<&'a PathBuf>,
    /// `--log`: the run log to append to.
    pub(super) log: Option<&'a PathBuf>,
    /// `--envelope`: each record wrapped in a report.
    pub(super) envelope: bool,
    /// The run goes back (PSA records -> CRM patches).
    pub(super) back: bool,
    /// The files the run reads (inputs, the mapping, `--ref` and `--clients` files), with the
    /// role that names each: no output may be one of them.
    pub(super) reads: Vec<NamedFile<'a>>,
}

impl Sinks {
    pub(super) fn open(
        args: &SinkOptions<'_>,
        mapping: &str,
        mapping_text: &str,
    ) -> Result<Sinks, String> {
        let outputs: Vec<NamedFile<'_>> = [
            ("--out", args.out),
            ("--rejects", args.rejects),
            ("--log", args.log),
        ]
        .into_iter()
        .filter_map(|(role, path)| {
            Some(NamedFile {
                role,
                path: path?.as_path(),
            })
        })
        .collect();
        outputs::check_distinct(&outputs, &args.reads)
            .map_err(|reason| format!("error[{}]: {reason}", Code::M520))?;
        for output in &outputs {
            outputs::remove_stale_temporaries(outputs::folder_of(output.path));
        }
        let create = |path: &PathBuf| {
            AtomicFile::create(path)
                .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))
        };
        let out_file = args.out.map(create).transpose()?;
        let rejects = args.rejects.map(create).transpose()?;
        let log = args
            .log
            .map(|path| {
                RunLog::open(path, mapping, mapping_text).map_err(|e| {
                    format!(
                        "error: cannot append to the run log `{}`: {e}",
                        path.display()
                    )
                })
            })
            .transpose()?;
        let out: Box<dyn Write> = Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        ));
        Ok(Sinks {
            out,
            out_file,
            rejects,
            counts: Counts::default(),
            single: false,
            envelope: args.envelope,
            failed: None,
            log,
            back: args.back,
            line: Vec::new(),
        })
    }

    pub(super) fn record(
        &mut self,
        mapping: &Mapping,
        file: &str,
        position: Position,
        applied: Applied,
    ) {
        let Applied { deal_id, outcome } = applied;
        self.counts.read += 1;
        self.log_outcome(file, position, deal_id.as_deref(), &outcome);
        let result = match outcome {
            Outcome::Written {
                record,
                template,
                client,
                ..
            } => {
                self.counts.written += 1;
                let document = if self.envelope {
                    Record::from(json!({
                        "deal_id": deal_id,
                        "record": record.into_value(),
                        "template": template,
                        "checklist": mapping.program().checklist,
                        "client": client.map(|c| c.to_json()),
                    }))
                } else {
                    record
                };
                let writer: &mut dyn Write = match &mut self.out_file {
                    Some(file) => file,
                    None => &mut self.out,
                };
                write_record_line(writer, &mut self.line, &document, self.single)
            }
            Outcome::Skipped(reason) => {
                self.counts.skipped += 1;
                self.report(deal_id, file, position, "skipped", "trigger", &[reason])
            }
            Outcome::Rejected { phase, reasons } => {
                self.counts.rejected += 1;
                self.report(
                    deal_id,
                    file,
                    position,
                    "rejected",
                    phase.as_str(),
                    &reasons,
                )
            }
        };
        if let Err(error) = result {
            self.failed = Some(error.to_string());
        }
    }

    /// Spools the outcome's run-log line, when the run keeps a log.
    fn log_outcome(
        &mut self,
        file: &str,
        position: Position,
        deal_id: Option<&str>,
        outcome: &Outcome,
    ) {
        let Some(log) = &mut self.log else {
            return;
        };
        let (name, template, reasons): (&str, Option<&Value>, &[Reason]) = match outcome {
            Outcome::Written { template, .. } => ("written", template.as_ref(), &[]),
            Outcome::Skipped(reason) => ("skipped", None, std::slice::from_ref(reason)),
            Outcome::Rejected { reasons, .. } => ("rejected", None, reasons),
        };
        let (line, index) = match position {
            Position::Line(n) => (Some(n), None),
            Position::Index(i) => (None, Some(i)),
        };
        let entry = LogLine {
            ts: runlog::now_rfc3339(),
            mapping: log.mapping.clone(),
            mapping_sha256: log.mapping_sha256.clone(),
            run: log.run.clone(),
            deal_id: deal_id.map(str::to_string),
            outcome: name.to_string(),
            direction: self.back.then(|| "back".to_string()),
            template: template.cloned(),
            codes: reasons
                .iter()
                .map(|r| r.code.as_str().to_string())
                .collect(),
            file: file.to_string(),
            line,
            index,
        };
        if let Err(error) = log.record(&entry) {
            self.failed = Some(format!("run log: {error}"));
        }
    }

    fn report(
        &mut self,
        deal_id: Option<String>,
        file: &str,
        position: Position,
        outcome: &str,
        phase: &str,
        reasons: &[Reason],
    ) -> std::io::Result<()> {
        match &mut self.rejects {
            Some(rejects) => {
                let (line, index) = match position {
                    Position::Line(n) => (Some(n), None),
                    Position::Index(i) => (None, Some(i)),
                };
                let entry = RejectLine {
                    deal_id: deal_id.as_deref(),
                    file,
                    line,
                    index,
                    outcome,
                    phase,
                    codes: reasons.iter().map(|r| r.code.as_str()).collect(),
                    reasons: reasons.iter().map(ReasonLine::from).collect(),
                };
                self.line.clear();
                entry.write_compact(&mut self.line);
                self.line.push(b'\n');
                rejects.write_all(&self.line)
            }
            None => {
                let who = deal_id.map_or("deal".to_string(), |id| format!("deal {id}"));
                let mut text = format!(
                    "{outcome} {who} ({file} {}, {phase}):",
                    input::describe_position(position)
                );
                for reason in reasons {
                    text.push_str(&format!("\n  {}: {}", reason.code, reason.message));
                    if let Some(rule) = &reason.rule {
                        text.push_str(&format!(" [mapping line {}: {}]", rule.line, rule.text));
                    }
                }
                errln!("{text}");
                Ok(())
            }
        }
    }

    /// Commits the output files and prints the summary; returns the exit code.
    pub(super) fn finish(mut self) -> u8 {
        if let Some(error) = self.failed.take() {
            errln!("error: writing output failed: {error}; no output file was written");
            return EXIT_CANNOT_RUN;
        }
        let flushed = self.out.flush();
        let committed = [self.out_file.take(), self.rejects.take()]
            .into_iter()
            .flatten()
            .try_for_each(AtomicFile::commit);
        if let Err(error) = flushed.and(committed) {
            errln!("error: writing output failed: {error}");
            return EXIT_CANNOT_RUN;
        }
        if let Some(log) = self.log.take()
            && let Err(error) = log.commit()
        {
            errln!("error: appending to the run log failed: {error}");
            return EXIT_CANNOT_RUN;
        }
        let c = self.counts;
        errln!(
            "mapctl: read {}, written {}, skipped {}, rejected {}",
            c.read,
            c.written,
            c.skipped,
            c.rejected
        );
        if c.rejected > 0 {
            EXIT_PROBLEMS
        } else {
            EXIT_OK
        }
    }
}

/// Writes one record (or envelope) line: compact unless `pretty`.
fn write_record_line(
    writer: &mut dyn Write,
    buffer: &mut Vec<u8>,
    record: &Record,
    pretty: bool,
) -> std::io::Result<()> {
    if pretty {
        return write_line(writer, buffer, &record.to_value(), pretty);
    }
    buffer.clear();
    record.write_compact(buffer);
    buffer.push(b'\n');
    writer.write_all(buffer)
}

/// Serializes `value` into `buffer` (emptied first) with a newline, then writes it in one call.
fn write_line(
    writer: &mut dyn Write,
    buffer: &mut Vec<u8>,
    value: &impl serde::Serialize,
    pretty: bool,
) -> std::io::Result<()> {
    buffer.clear();
    let serialized = if pretty {
        serde_json::to_writer_pretty(&mut *buffer, value)
    } else {
        serde_json::to_writer(&mut *buffer, value)
    };
    serialized.map_err(std::io::Error::other)?;
    buffer.push(b'\n');
    writer.write_all(buffer)
}

/// One line of a rejects file. Written by [`RejectLine::write_compact`]; its `Serialize` is the
/// reference the tests hold that writer to, byte for byte.
#[derive(serde::Serialize)]
struct RejectLine<'a> {
    deal_id: Option<&'a str>,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    outcome: &'a str,
    phase: &'a str,
    codes: Vec<&'static str>,
    reasons: Vec<ReasonLine<'a>>,
}

/// One reason in a rejects file.
#[derive(serde::Serialize)]
struct ReasonLine<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<RuleLine<'a>>,
}

/// Where a reason's rule is in the mapping.
#[derive(serde::Serialize)]
struct RuleLine<'a> {
    line: usize,
    column: usize,
    text: &'a str,
}

impl RejectLine<'_> {
    /// Appends the line as compact JSON, the bytes `serde_json::to_writer` gives for it (fields
    /// in declaration order, `None` line, index, field, value and rule left out), with strings
    /// escaped by the output writer's eight-bytes-at-a-time scan.
    fn write_compact(&self, out: &mut Vec<u8>) {
        match self.deal_id {
            Some(id) => str_member(b"{\"deal_id\":", id, out),
            None => out.extend_from_slice(b"{\"deal_id\":null"),
        }
        str_member(b",\"file\":", self.file, out);
        if let Some(line) = self.line {
            count_member(b",\"line\":", line, out);
        }
        if let Some(index) = self.index {
            count_member(b",\"index\":", index, out);
        }
        str_member(b",\"outcome\":", self.outcome, out);
        str_member(b",\"phase\":", self.phase, out);
        out.extend_from_slice(b",\"codes\":");
        write_array(&self.codes, out, |code, out| write_str(code, out));
        out.extend_from_slice(b",\"reasons\":");
        write_array(&self.reasons, out, ReasonLine::write_compact);
        out.push(b'}');
    }
}

impl ReasonLine<'_> {
    /// Appends the reason as compact JSON (see [`RejectLine::write_compact`]).
    fn write_compact(&self, out: &mut Vec<u8>) {
        str_member(b"{\"code\":", self.code, out);
        str_member(b",\"message\":", self.message, out);
        if let Some(field) = self.field {
            str_member(b",\"field\":", field, out);
        }
        if let Some(value) = self.value {
            str_member(b",\"value\":", value, out);
        }
        if let Some(rule) = &self.rule {
            count_member(b",\"rule\":{\"line\":", rule.line, out);
            count_member(b",\"column\":", rule.column, out);
            str_member(b",\"text\":", rule.text, out);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// Appends `key` (a member name with the `{` or `,` before it and the `:` after) and a string.
fn str_member(key: &[u8], text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(key);
    write_str(text, out);
}

/// Appends `key` (as for [`str_member`]) and a count in decimal.
fn count_member(key: &[u8], count: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(key);
    // Writing to a vector cannot fail.
    let _ = write!(out, "{count}");
}

impl<'a> From<&'a Reason> for ReasonLine<'a> {
    fn from(reason: &'a Reason) -> ReasonLine<'a> {
        ReasonLine {
            code: reason.code.as_str(),
            message: &reason.message,
            field: reason.field.as_deref(),
            value: reason.value.as_deref(),
            rule: reason.rule.as_ref().map(|r| RuleLine {
                line: r.line,
                column: r.column,
                text: &r.text,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any text, with the characters JSON must escape well represented.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{1}'),
                Just('\u{7f}'),
                Just('é'),
                Just('😀'),
                any::<char>(),
                proptest::char::range('a', 'z'),
            ],
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// A reason's message, field, value and rule (line, column, text).
    type ReasonParts = (
        String,
        Option<String>,
        Option<String>,
        Option<(usize, usize, String)>,
    );

    fn reason_parts() -> impl Strategy<Value = ReasonParts> {
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of((any::<usize>(), any::<usize>(), text())),
        )
    }

    proptest! {
        #[test]
        fn compact_reject_lines_are_the_bytes_serde_writes(
            deal_id in proptest::option::of(text()),
            file in text(),
            position in proptest::option::of(any::<bool>()),
            number in any::<usize>(),
            outcome in text(),
            phase in text(),
            parts in proptest::collection::vec(reason_parts(), 0..4),
        ) {
            let reasons: Vec<ReasonLine<'_>> = parts
                .iter()
                .enumerate()
                .map(|(n, (message, field, value, rule))| ReasonLine {
                    code: ["M501", "M502", "M503"][n % 3],
                    message,
                    field: field.as_deref(),
                    value: value.as_deref(),
                    rule: rule.as_ref().map(|(line, column, text)| RuleLine {
                        line: *line,
                        column: *column,
                        text,
                    }),
                })
                .collect();
            let line = RejectLine {
                deal_id: deal_id.as_deref(),
                file: &file,
                line: position.filter(|by_line| *by_line).map(|_| number),
                index: position.filter(|by_line| !*by_line).map(|_| number),
                outcome: &outcome,
                phase: &phase,
                codes: reasons.iter().map(|r| r.code).collect(),
                reasons,
            };
            let mut compact = Vec::new();
            line.write_compact(&mut compact);
            let expected = serde_json::to_vec(&line).expect("serializes");
            prop_assert_eq!(String::from_utf8_lossy(&compact), String::from_utf8_lossy(&expected));
        }
    }
}
