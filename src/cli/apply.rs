//! `mapctl apply MAPPING [INPUTS...]`: run a checked mapping on deals.
//!
//! Every deal read ends exactly once: written to the output, or skipped or rejected (to the
//! rejects file, or described on stderr). A summary line on stderr counts them. Exit codes:
//! 0 every deal written or skipped by the trigger, 1 some deal rejected, 2 could not run.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};

use super::EXIT_CANNOT_RUN;
use super::loading::{load_clients, load_mapping};
use super::sinks::{SinkOptions, Sinks};
use crate::engine::{ClientDirectory, Direction, Mapping};
use crate::io::envelope;
use crate::io::files::{is_ndjson_name, open_input};
use crate::io::input::{self, Framing, InputItem, InputLimits};
use crate::io::outputs::NamedFile;

/// `--direction forward|back`, read into the engine's own type.
impl ValueEnum for Direction {
    fn value_variants<'a>() -> &'a [Self] {
        &[Direction::Forward, Direction::Back]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            Direction::Forward => {
                clap::builder::PossibleValue::new("forward").help("CRM deals -> PSA records")
            }
            Direction::Back => clap::builder::PossibleValue::new("back")
                .help("PSA records -> the CRM fields `sync back` allows"),
        })
    }
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
    #[arg(long, value_enum, default_value_t = super::ReportFormat::Human)]
    pub format: super::ReportFormat,
    /// Longest NDJSON line accepted, in bytes.
    #[arg(long, default_value_t = InputLimits::default().max_line_bytes)]
    pub max_line_bytes: usize,
}

/// Set by Ctrl-C / SIGTERM: the run stops and removes its unfinished output files.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C and SIGTERM set [`INTERRUPTED`] (the handler runs on a thread of its own), once.
///
/// A run that writes files does this before it creates them, so that an interrupt removes them. A
/// run that writes to stdout only does it when a second deal arrives: a one-deal run (a webhook
/// handler) starts no thread, and until then the signal's default action ends the process, which
/// leaves nothing behind since no file is open.
fn watch_interrupts() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// Runs `mapctl apply`.
pub fn run(args: &ApplyArgs) -> u8 {
    if args.out.is_some() || args.rejects.is_some() || args.log.is_some() {
        watch_interrupts();
    }
    let (mapping, mut clients) = match prepare(args) {
        Ok(prepared) => prepared,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    if mapping.matches_clients() && clients.is_none() && args.direction == Direction::Forward {
        errln!(
            "error: the mapping matches clients (`match client`); pass the PSA's existing clients with `--clients FILE` (use `[]` when there are none)"
        );
        return EXIT_CANNOT_RUN;
    }
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    if let Some(message) = super::hints::terminal_stdin("apply") {
        if args.inputs.is_empty() {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
        if args.inputs.iter().any(|p| p == Path::new("-")) {
            errln!("note: reading deals from the terminal: paste or type them, then press Ctrl-D");
        }
    }
    let options = SinkOptions {
        out: args.out.as_ref(),
        rejects: args.rejects.as_ref(),
        log: args.log.as_ref(),
        envelope: args.envelope,
        back: args.direction == Direction::Back,
        reads: files_read(args, &inputs),
    };
    let mut sinks = match Sinks::open(&options, mapping.name(), mapping.text()) {
        Ok(sinks) => sinks,
        Err(message) => {
            errln!("{message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let limits = InputLimits {
        max_line_bytes: args.max_line_bytes,
        ..InputLimits::default()
    };
    let single_input = inputs.len() == 1;
    let mut back = (args.direction == Direction::Back).then(|| super::back::BackRun::new(&mapping));
    let jobs = match back {
        Some(_) => 1,
        None => worker_count(args.jobs, mapping.matches_clients()),
    };
    for path in &inputs {
        let reader = match open_input(path) {
            Ok(reader) => reader,
            Err(message) => {
                errln!("error: {message}");
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
        let result = if jobs > 1 {
            watch_interrupts();
            let run = Parallel {
                mapping: &mapping,
                direction: args.direction,
                jobs,
                single_input,
            };
            run.read(&mut sinks, &name, reader, limits)
        } else {
            let mut index = 0;
            input::for_each_item(reader, limits, |layout, item| {
                if sinks.counts.read > 0 {
                    watch_interrupts();
                }
                envelope::each_deal(mapping.envelope(), &mut index, item, &mut |item| {
                    sinks.single = single_input && is_whole_document(layout, &item);
                    let position = item.position;
                    let hint = (sinks.counts.read == 0 && mapping.envelope().is_none())
                        .then(|| super::hints::envelope(&item))
                        .flatten();
                    let applied = match back.as_mut() {
                        Some(back) => back.apply(&mapping, item),
                        None => mapping.apply_item(item, clients.as_mut(), args.direction),
                    };
                    if let Some(hint) = hint
                        && matches!(applied.outcome, crate::engine::Outcome::Rejected { .. })
                    {
                        errln!("hint: {hint}");
                    }
                    sinks.record(&mapping, &name, position, applied);
                    keep_going(&sinks)
                })
            })
        };
        if let Err(error) = result {
            errln!("{}", reading_failed(&name, &error));
            return EXIT_CANNOT_RUN;
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            errln!(
                "mapctl: interrupted after {} deals; no output file was written",
                sinks.counts.read
            );
            return 130;
        }
    }
    let code = sinks.finish();
    // The process ends next: freeing the compiled mapping piece by piece would only cost time
    // (2% of a one-deal run). Every output was committed or removed by `finish`.
    std::mem::forget(mapping);
    code
}

/// Loads and checks the mapping, compiles it with its references, and loads the clients.
fn prepare(args: &ApplyArgs) -> Result<(Mapping, Option<ClientDirectory>), String> {
    let mapping = load_mapping(&args.mapping, &args.refs, args.envelope)?;
    let clients = args.clients.as_deref().map(load_clients).transpose()?;
    Ok((mapping, clients))
}

/// The message for an input that could not be read to its end: an empty input is M521.
pub(super) fn reading_failed(name: &str, error: &std::io::Error) -> String {
    if input::is_empty_input(error) {
        format!("error[{}]: `{name}`: {error}", crate::diag::Code::M521)
    } else {
        format!("error: reading `{name}` failed: {error}")
    }
}

/// Every file the run reads, with the role that names it, for [`Sinks::open`] to keep outputs
/// off them.
fn files_read<'a>(args: &'a ApplyArgs, inputs: &'a [PathBuf]) -> Vec<NamedFile<'a>> {
    let mut reads = vec![NamedFile {
        role: "the mapping",
        path: &args.mapping,
    }];
    reads.extend(inputs.iter().map(|path| NamedFile {
        role: if path == Path::new("-") {
            "standard input"
        } else {
            "the input"
        },
        path,
    }));
    reads.extend(args.refs.iter().filter_map(|spec| {
        let (_, file) = spec.split_once('=')?;
        Some(NamedFile {
            role: "the --ref file",
            path: Path::new(file),
        })
    }));
    reads.extend(args.clients.iter().map(|path| NamedFile {
        role: "the --clients file",
        path,
    }));
    reads
}

/// How many threads to use.
fn worker_count(requested: usize, matches_clients: bool) -> usize {
    let wanted = if requested == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        requested
    };
    if wanted > 1 && matches_clients {
        errln!("note: --jobs ignored: client matching runs deals in input order");
        return 1;
    }
    wanted.max(1)
}

/// True when `item` is a whole single document (not an array element, NDJSON line or a record
/// of a page's array): its record is printed pretty when it is the only input.
fn is_whole_document(layout: Framing, item: &InputItem<'_>) -> bool {
    layout == Framing::Single && matches!(item.position, input::Position::Line(_))
}

/// Whether to read on: not after Ctrl-C or a failed write.
fn keep_going(sinks: &Sinks) -> std::ops::ControlFlow<()> {
    if INTERRUPTED.load(Ordering::SeqCst) || sinks.failed.is_some() {
        std::ops::ControlFlow::Break(())
    } else {
        std::ops::ControlFlow::Continue(())
    }
}

/// A parallel run: deals are read on the main thread and mapped on `jobs` workers.
struct Parallel<'e> {
    mapping: &'e Mapping,
    direction: Direction,
    jobs: usize,
    single_input: bool,
}

impl Parallel<'_> {
    /// Reads one input and maps its deals on the workers ([`super::parallel`]). A single JSON
    /// document is mapped on the main thread.
    fn read(
        &self,
        sinks: &mut Sinks,
        name: &str,
        reader: Box<dyn BufRead>,
        limits: InputLimits,
    ) -> std::io::Result<Framing> {
        super::parallel::run(
            self.mapping,
            self.direction,
            self.jobs,
            sinks,
            name,
            |feeder| {
                let mut index = 0;
                input::for_each_item(reader, limits, |layout, item| {
                    envelope::each_deal(self.mapping.envelope(), &mut index, item, &mut |item| {
                        if is_whole_document(layout, &item) {
                            feeder.record_here(item, self.single_input);
                        } else {
                            feeder.push(item);
                        }
                        keep_going(feeder.sinks())
                    })
                })
            },
        )
    }
}
