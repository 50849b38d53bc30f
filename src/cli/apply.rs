//! `mapctl apply MAPPING [INPUTS...]`: run a checked mapping on deals.
//!
//! Every deal read ends exactly once: written to the output, or skipped or rejected (to the
//! rejects file, or described on stderr). A summary line on stderr counts them. Exit codes:
//! 0 every deal written or skipped by the trigger, 1 some deal rejected, 2 could not run.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::check;
use crate::diag::render::{self, HumanStyle};
use crate::eval::{ClientDirectory, Engine, Outcome, Phase, Reason};
use crate::io::atomic::AtomicFile;
use crate::io::input::{self, InputLimits, Item, ItemError, Layout, Position};
use crate::ops::runlog::{self, LogLine, RunLog};
use crate::source::{FileId, SourceMap};
use crate::syntax::Limits;

/// Which way the mapping runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// CRM deals -> PSA records.
    Forward,
    /// PSA records -> the CRM fields `sync back` allows.
    Back,
}

/// Arguments of `mapctl apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The mapping file.
    pub mapping: PathBuf,
    /// Deal files (one JSON document, a JSON array, or NDJSON), or `-` for stdin; none = stdin.
    pub inputs: Vec<PathBuf>,
    /// Write records here (atomically) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write one NDJSON line per rejected or skipped deal here (atomically).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Join a related source record from a file: `--ref company=companies.ndjson`.
    #[arg(long = "ref", value_name = "NAME=FILE")]
    pub refs: Vec<String>,
    /// The PSA's existing clients (`[{"id": .., "name": ..}]`), for `match client`.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    /// Run forward (deals -> records) or back (`sync back` rules on PSA records).
    #[arg(long, value_enum, default_value_t = Direction::Forward)]
    pub direction: Direction,
    /// Wrap each record in a report: deal id, record, template, checklist, client match.
    #[arg(long)]
    pub envelope: bool,
    /// Worker threads for batches (0: one per core). Output keeps input order. Mappings with
    /// `match client` run on one thread, since a new client is created by the first deal naming it.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Append one NDJSON line per deal outcome to this run log (for `mapctl monitor`). Lines are
    /// appended when the run completes, under a lock: runs may share a log.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Write nothing: print, per deal, what apply would change in the PSA record that
    /// `--existing` holds for it (field by field), with the template rule and client match.
    #[arg(long, requires = "existing", conflicts_with_all = ["out", "rejects", "log", "envelope"])]
    pub plan: bool,
    /// The PSA's current records (JSON array or NDJSON), for `--plan`.
    #[arg(long, value_name = "PROJECTS", requires = "plan")]
    pub existing: Option<PathBuf>,
    /// With `--plan`: the record field that identifies the deal (default: the field the mapping
    /// writes the deal's `id` into).
    #[arg(long, value_name = "FIELD", requires = "plan")]
    pub key: Option<String>,
    /// With `--plan`: the plan's format.
    #[arg(long, value_enum, default_value_t = super::plan::PlanFormat::Human)]
    pub format: super::plan::PlanFormat,
    /// Longest NDJSON line accepted, in bytes.
    #[arg(long, default_value_t = InputLimits::default().max_line_bytes)]
    pub max_line_bytes: usize,
}

/// Set by Ctrl-C / SIGTERM: the run stops and removes its unfinished output files.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Counts of deal outcomes.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    read: usize,
    written: usize,
    skipped: usize,
    rejected: usize,
}

/// Where outcomes go.
struct Sinks {
    out: Box<dyn Write>,
    out_file: Option<AtomicFile>,
    rejects: Option<AtomicFile>,
    counts: Counts,
    single: bool,
    envelope: bool,
    failed: Option<String>,
    log: Option<RunLog>,
    back: bool,
}

/// Runs `mapctl apply`.
pub fn run(args: &ApplyArgs) -> u8 {
    if args.plan {
        return super::plan::run(args);
    }
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    let (engine, mut clients, mapping_text) = match prepare(args) {
        Ok((mut engine, clients, text)) => {
            engine.allow_new_clients = args.envelope;
            (engine, clients, text)
        }
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    if engine.program.client.is_some() && clients.is_none() && args.direction == Direction::Forward
    {
        eprintln!(
            "error: the mapping matches clients (`match client`); pass the PSA's existing clients with `--clients FILE` (use `[]` when there are none)"
        );
        return EXIT_CANNOT_RUN;
    }
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let mut sinks = match Sinks::open(args, &engine.program.name, &mapping_text) {
        Ok(sinks) => sinks,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let limits = InputLimits {
        max_line_bytes: args.max_line_bytes,
        ..InputLimits::default()
    };
    let single_input = inputs.len() == 1;
    let jobs = worker_count(args.jobs, engine.program.client.is_some());
    let mut batch: Vec<OwnedItem> = Vec::new();
    for path in &inputs {
        let reader = match open_input(path) {
            Ok(reader) => reader,
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_CANNOT_RUN;
            }
        };
        let limits = InputLimits {
            ndjson: is_ndjson_name(path),
            ..limits
        };
        let name = if path == Path::new("-") {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        let result = input::for_each_item(reader, limits, |layout, item| {
            sinks.single = single_input && layout == Layout::Single;
            if jobs > 1 && layout != Layout::Single {
                batch.push(OwnedItem::from(item));
                if batch.len() >= BATCH {
                    run_batch(&engine, args.direction, jobs, &mut batch, &mut sinks, &name);
                }
            } else {
                let position = item.position;
                let (deal_id, outcome) = process(&engine, clients.as_mut(), args.direction, item);
                sinks.record(&engine, &name, position, deal_id, outcome);
            }
            if INTERRUPTED.load(Ordering::SeqCst) || sinks.failed.is_some() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
        run_batch(&engine, args.direction, jobs, &mut batch, &mut sinks, &name);
        if let Err(error) = result {
            eprintln!("error: reading `{name}` failed: {error}");
            return EXIT_CANNOT_RUN;
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            eprintln!(
                "mapctl: interrupted after {} deals; no output file was written",
                sinks.counts.read
            );
            return 130;
        }
    }
    sinks.finish()
}

/// Loads and checks the mapping, compiles the engine, loads references and clients.
fn prepare(args: &ApplyArgs) -> Result<(Engine, Option<ClientDirectory>, Arc<str>), String> {
    let (engine, mapping_text) = load_engine(&args.mapping, &args.refs)?;
    let clients = args.clients.as_deref().map(load_clients).transpose()?;
    Ok((engine, clients, mapping_text))
}

/// Loads and checks a mapping and compiles its engine with the `--ref NAME=FILE` records joined;
/// returns it with the mapping's text. A mapping with check errors is refused, its diagnostics
/// printed.
pub(super) fn load_engine(mapping: &Path, refs: &[String]) -> Result<(Engine, Arc<str>), String> {
    let mut sources = SourceMap::new();
    let output =
        check::check_file_for_run(&mut sources, mapping, &Limits::default()).map_err(|e| e.0)?;
    let mapping_text = sources.get(FileId(0)).text.clone();
    let Some(program) = output.program else {
        let errors: Vec<_> = output
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        eprint!(
            "{}",
            render::human(
                &sources,
                &errors,
                HumanStyle {
                    color: super::ColorChoice::Auto.enabled_for_stderr(),
                    width: 100
                }
            )
        );
        return Err(format!(
            "`{}` has {} check error(s); mapctl only runs mappings that check cleanly (run `mapctl check`)",
            mapping.display(),
            errors.len()
        ));
    };
    let mut engine = Engine::new(program, &output.schemas)?;
    for spec in refs {
        let (name, file) = spec.split_once('=').ok_or_else(|| {
            format!("`--ref {spec}` must be NAME=FILE, e.g. `--ref company=companies.ndjson`")
        })?;
        let records = read_records(Path::new(file))?;
        engine.set_reference(name, records)?;
    }
    Ok((engine, mapping_text))
}

/// Loads the PSA's existing clients (`--clients FILE`).
pub(super) fn load_clients(path: &Path) -> Result<ClientDirectory, String> {
    ClientDirectory::new(&read_records(path)?).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// True for file names that promise NDJSON.
pub(super) fn is_ndjson_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "ndjson" || e == "jsonl")
}

/// Reads every record of a JSON array, single document or NDJSON file.
pub(super) fn read_records(path: &Path) -> Result<Vec<Value>, String> {
    let reader = open_input(path)?;
    let limits = InputLimits {
        ndjson: is_ndjson_name(path),
        ..InputLimits::default()
    };
    input::read_all(reader, limits).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Opens a file, or stdin for `-`, buffered.
pub(super) fn open_input(path: &Path) -> Result<Box<dyn BufRead>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::io::stdin(),
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| {
        format!(
            "cannot read `{}`: {}",
            path.display(),
            crate::schema::load::io_reason(&e)
        )
    })?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
}

/// Items processed together by the worker threads.
const BATCH: usize = 8192;

/// How many threads to use.
fn worker_count(requested: usize, matches_clients: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let wanted = if requested == 0 { cores } else { requested };
    if wanted > 1 && matches_clients {
        eprintln!("note: --jobs ignored: client matching runs deals in input order");
        return 1;
    }
    wanted.max(1)
}

/// An input item detached from the reader's buffer, for a worker thread.
struct OwnedItem {
    position: Position,
    value: Result<OwnedPayload, ItemError>,
}

enum OwnedPayload {
    Text(Vec<u8>),
    Parsed(Value),
}

impl From<Item<'_>> for OwnedItem {
    fn from(item: Item<'_>) -> OwnedItem {
        let value = item.value.map(|payload| match payload {
            input::Payload::Text(text) => OwnedPayload::Text(text.to_vec()),
            input::Payload::Parsed(value) => OwnedPayload::Parsed(value),
        });
        OwnedItem {
            position: item.position,
            value,
        }
    }
}

impl OwnedItem {
    fn borrow(&self) -> Item<'_> {
        let value = match &self.value {
            Ok(OwnedPayload::Text(text)) => Ok(input::Payload::Text(text)),
            Ok(OwnedPayload::Parsed(value)) => Ok(input::Payload::Parsed(value.clone())),
            Err(error) => Err(error.clone()),
        };
        Item {
            position: self.position,
            value,
        }
    }
}

/// Runs a batch on `jobs` threads and records the outcomes in input order.
fn run_batch(
    engine: &Engine,
    direction: Direction,
    jobs: usize,
    batch: &mut Vec<OwnedItem>,
    sinks: &mut Sinks,
    name: &str,
) {
    if batch.is_empty() {
        return;
    }
    let chunk = batch.len().div_ceil(jobs);
    let outcomes: Vec<Vec<(Option<String>, Outcome)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(chunk)
            .map(|items| {
                scope.spawn(move || {
                    items
                        .iter()
                        .map(|item| process(engine, None, direction, item.borrow()))
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (item, (deal_id, outcome)) in batch.iter().zip(outcomes.into_iter().flatten()) {
        sinks.record(engine, name, item.position, deal_id, outcome);
    }
    batch.clear();
}

/// The deal id and outcome of one input item.
pub(super) fn process(
    engine: &Engine,
    clients: Option<&mut ClientDirectory>,
    direction: Direction,
    item: Item<'_>,
) -> (Option<String>, Outcome) {
    match item.value {
        Ok(payload) => engine.run_payload(payload, clients, direction == Direction::Back),
        Err(error) => {
            let code = match error {
                ItemError::Json(_) => crate::diag::Code::M501,
                ItemError::TooLong { .. } => crate::diag::Code::M510,
                ItemError::Ambiguous(_) => crate::diag::Code::M512,
            };
            let reasons = vec![Reason::new(code, input::describe_error(&error))];
            (
                None,
                Outcome::Rejected {
                    phase: Phase::Parse,
                    reasons,
                },
            )
        }
    }
}

impl Sinks {
    fn open(args: &ApplyArgs, mapping: &str, mapping_text: &str) -> Result<Sinks, String> {
        let create = |path: &PathBuf| {
            AtomicFile::create(path).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
        };
        let out_file = args.out.as_ref().map(create).transpose()?;
        let rejects = args.rejects.as_ref().map(create).transpose()?;
        let log = args
            .log
            .as_ref()
            .map(|path| {
                RunLog::open(path, mapping, mapping_text)
                    .map_err(|e| format!("cannot append to the run log `{}`: {e}", path.display()))
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
            back: args.direction == Direction::Back,
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.out_file {
            Some(file) => file,
            None => &mut self.out,
        }
    }

    fn record(
        &mut self,
        engine: &Engine,
        file: &str,
        position: Position,
        deal_id: Option<String>,
        outcome: Outcome,
    ) {
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
                    json!({
                        "deal_id": deal_id,
                        "record": record,
                        "template": template,
                        "checklist": engine.program.checklist,
                        "client": client.map(|c| c.to_json()),
                    })
                } else {
                    record
                };
                let single = self.single;
                let writer = self.writer();
                let written = if single {
                    serde_json::to_writer_pretty(&mut *writer, &document)
                } else {
                    serde_json::to_writer(&mut *writer, &document)
                };
                written
                    .map_err(std::io::Error::other)
                    .and_then(|()| writer.write_all(b"\n"))
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
                serde_json::to_writer(&mut *rejects, &entry).map_err(std::io::Error::other)?;
                rejects.write_all(b"\n")
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
                eprintln!("{text}");
                Ok(())
            }
        }
    }

    /// Commits the output files and prints the summary; returns the exit code.
    fn finish(mut self) -> u8 {
        if let Some(error) = self.failed.take() {
            eprintln!("error: writing output failed: {error}; no output file was written");
            return EXIT_CANNOT_RUN;
        }
        let flushed = self.out.flush();
        let committed = [self.out_file.take(), self.rejects.take()]
            .into_iter()
            .flatten()
            .try_for_each(AtomicFile::commit);
        if let Err(error) = flushed.and(committed) {
            eprintln!("error: writing output failed: {error}");
            return EXIT_CANNOT_RUN;
        }
        if let Some(log) = self.log.take()
            && let Err(error) = log.commit()
        {
            eprintln!("error: appending to the run log failed: {error}");
            return EXIT_CANNOT_RUN;
        }
        let c = self.counts;
        eprintln!(
            "mapctl: read {}, written {}, skipped {}, rejected {}",
            c.read, c.written, c.skipped, c.rejected
        );
        if c.rejected > 0 {
            EXIT_PROBLEMS
        } else {
            EXIT_OK
        }
    }
}

/// One line of a rejects file.
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
