//! `apply --jobs N`: deals are mapped on worker threads while the main thread keeps reading the
//! input and writing finished outcomes, in input order.
//!
//! The main thread cuts the input into chunks and queues them; each worker takes the next chunk,
//! maps it and sends the outcomes back with the chunk's sequence number. Outcomes are recorded
//! strictly in sequence, so the output is the same as with one thread. At most
//! [`IN_FLIGHT_PER_WORKER`] chunks per worker are queued or waiting to be written, and a chunk
//! holds at most [`CHUNK`] deals and about [`CHUNK_BYTES`] of text (plus one line), which bounds
//! memory whatever the input's size.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::sinks::Sinks;
use crate::engine::{Applied, Direction, Mapping};
use crate::io::input::{self, InputItem, ItemError, Position};

/// Most deals per chunk handed to a worker.
const CHUNK: usize = 1024;

/// A chunk is handed over once its deals' text reaches this many bytes, so that long lines do
/// not multiply the memory in flight.
const CHUNK_BYTES: usize = 1 << 20;

/// Chunks per worker that may be queued, being mapped or waiting to be written.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// Items detached from the reader's buffer, for a worker thread. The texts of all items share
/// one buffer, and chunks come back from the workers to be filled again: reading a chunk
/// allocates nothing once the run is going.
#[derive(Default)]
struct Chunk {
    text: Vec<u8>,
    items: Vec<(Position, Result<Detached, ItemError>)>,
}

/// Where an item's payload is.
enum Detached {
    /// Bytes `start..end` of the chunk's text.
    Text(usize, usize),
    /// A value the reader already parsed (an element of a JSON array).
    Parsed(Value),
}

impl Chunk {
    fn push(&mut self, item: InputItem<'_>) {
        let value = item.value.map(|payload| match payload {
            input::Payload::Text(text) => {
                let start = self.text.len();
                self.text.extend_from_slice(text);
                Detached::Text(start, self.text.len())
            }
            input::Payload::Parsed(value) => Detached::Parsed(value),
        });
        self.items.push((item.position, value));
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.items.clear();
    }

    /// The items, as the reader gave them.
    fn items(&mut self) -> impl Iterator<Item = InputItem<'_>> {
        let text = &self.text;
        self.items
            .drain(..)
            .map(move |(position, value)| InputItem {
                position,
                value: value.map(|detached| match detached {
                    Detached::Text(start, end) => input::Payload::Text(&text[start..end]),
                    Detached::Parsed(value) => input::Payload::Parsed(value),
                }),
            })
    }
}

/// The outcomes of one chunk: each item's position and what applying the mapping gave, in
/// input order.
type Mapped = Vec<(Position, Applied)>;

/// What a worker sends back: the chunk's sequence number and its outcomes, or the payload of a
/// panic (a bug), which the main thread re-raises.
/// The chunk comes back emptied, for reuse.
type Finished = (u64, std::thread::Result<Mapped>, Chunk);

/// Maps the items of one input file on `jobs` worker threads; `read` feeds every item to the
/// [`Feeder`] it is given. Outcomes reach `sinks` in input order. Returns what `read` returned.
pub(super) fn run<T>(
    mapping: &Mapping,
    direction: Direction,
    jobs: usize,
    sinks: &mut Sinks,
    name: &str,
    read: impl FnOnce(&mut Feeder<'_>) -> T,
) -> T {
    std::thread::scope(|scope| {
        let (chunk_sender, chunks) = mpsc::sync_channel::<(u64, Chunk)>(jobs);
        let chunks = Arc::new(Mutex::new(chunks));
        let (result_sender, results) = mpsc::channel::<Finished>();
        for _ in 0..jobs {
            let chunks = Arc::clone(&chunks);
            let results = result_sender.clone();
            scope.spawn(move || work(mapping, direction, &chunks, &results));
        }
        drop(result_sender);
        let mut feeder = Feeder {
            mapping,
            direction,
            sinks,
            name,
            chunk_sender: Some(chunk_sender),
            results,
            pending: Chunk::default(),
            spare: Vec::new(),
            sent: 0,
            written: 0,
            waiting: BTreeMap::new(),
            limit: jobs * IN_FLIGHT_PER_WORKER,
        };
        let returned = read(&mut feeder);
        feeder.finish();
        returned
    })
}

/// A worker: maps chunks until the queue closes.
fn work(
    mapping: &Mapping,
    direction: Direction,
    chunks: &Mutex<Receiver<(u64, Chunk)>>,
    results: &mpsc::Sender<Finished>,
) {
    loop {
        let next = match chunks.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok((sequence, mut chunk)) = next else {
            return;
        };
        let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            chunk
                .items()
                .map(|item| (item.position, mapping.apply_item(item, None, direction)))
                .collect::<Mapped>()
        }));
        chunk.clear();
        if results.send((sequence, mapped, chunk)).is_err() {
            return;
        }
    }
}

/// Takes items from the reader, queues them in chunks and records finished chunks in order.
pub(super) struct Feeder<'a> {
    mapping: &'a Mapping,
    direction: Direction,
    sinks: &'a mut Sinks,
    name: &'a str,
    chunk_sender: Option<SyncSender<(u64, Chunk)>>,
    results: Receiver<Finished>,
    pending: Chunk,
    /// Emptied chunks, to fill again.
    spare: Vec<Chunk>,
    /// Chunks queued so far.
    sent: u64,
    /// Chunks recorded so far.
    written: u64,
    /// Finished chunks that arrived before an earlier one.
    waiting: BTreeMap<u64, Mapped>,
    /// Most chunks queued and not yet recorded.
    limit: usize,
}

impl Feeder<'_> {
    /// Takes one input item.
    pub(super) fn push(&mut self, item: InputItem<'_>) {
        self.pending.push(item);
        if self.pending.len() >= CHUNK || self.pending.text.len() >= CHUNK_BYTES {
            self.send_pending();
        }
        while let Ok(finished) = self.results.try_recv() {
            self.accept(finished);
        }
    }

    /// Maps and records one item on this thread (a single JSON document, printed pretty when
    /// it is the only input).
    pub(super) fn record_here(&mut self, item: InputItem<'_>, single_input: bool) {
        self.sinks.single = single_input;
        let position = item.position;
        let applied = self.mapping.apply_item(item, None, self.direction);
        self.sinks
            .record(self.mapping, self.name, position, applied);
    }

    /// The sinks, for checking whether writing failed.
    pub(super) fn sinks(&self) -> &Sinks {
        self.sinks
    }

    fn send_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        while self.sent - self.written >= self.limit as u64 {
            self.wait_for_one();
        }
        let next = self.spare.pop().unwrap_or_default();
        let chunk = std::mem::replace(&mut self.pending, next);
        if let Some(sender) = &self.chunk_sender
            && sender.send((self.sent, chunk)).is_ok()
        {
            self.sent += 1;
        }
    }

    /// Blocks until a chunk finishes, and records what is in order.
    fn wait_for_one(&mut self) {
        match self.results.recv() {
            Ok(finished) => self.accept(finished),
            // Every worker has stopped: nothing more can arrive. Said, never dropped silently.
            Err(_) => {
                self.sinks.failed = Some(format!(
                    "the worker threads stopped with {} chunks of deals unmapped",
                    self.sent - self.written
                ));
                self.written = self.sent;
            }
        }
    }

    fn accept(&mut self, (sequence, mapped, mut chunk): Finished) {
        if chunk.text.capacity() > 2 * CHUNK_BYTES {
            // It held a very long line: give the memory back rather than keep it for the run.
            chunk.text = Vec::new();
        }
        self.spare.push(chunk);
        match mapped {
            Ok(mapped) => {
                self.waiting.insert(sequence, mapped);
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
        while let Some(mapped) = self.waiting.remove(&self.written) {
            for (position, applied) in mapped {
                self.sinks
                    .record(self.mapping, self.name, position, applied);
            }
            self.written += 1;
        }
    }

    /// Queues the last chunk, closes the queue and records everything still running.
    fn finish(&mut self) {
        self.send_pending();
        self.chunk_sender = None;
        while self.written < self.sent {
            self.wait_for_one();
        }
    }
}
