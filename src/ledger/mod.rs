//! The delivery ledger: an embedded SQLite database (WAL, synchronous writes) that remembers,
//! for every (mapping, deal), what mapctl saw and did: the source version, the mapped record,
//! the state, the PSA ids created, every attempt with its status and error, and sync-back state.
//!
//! It is the source of truth for "did we already do this". Intent is recorded before every
//! external write ([`Ledger::claim`] commits `in_flight` and `uncertain` before a request is
//! sent) and the outcome after it ([`Ledger::finish`]); a process killed in between leaves
//! `in_flight` rows that [`Ledger::recover`] turns back into pending deals marked uncertain, which
//! the delivery machine resolves by asking the target before it creates anything.
//!
//! Deal states: `pending` (a record waiting for delivery, or for its next attempt), `in_flight`
//! (a request is under way), `delivered`, `rejected` (by the mapping or by the target),
//! `skipped` (not at a trigger stage), `failed` (attempts used up; `mapctl retry` re-queues it).
//! Secrets are never stored: the ledger holds records, ids, statuses and error texts only.
//!
//! Work is batched: one transaction ingests many deals, claims many, or finishes many, so the
//! per-deal cost stays far below a disk sync.

mod calls;
mod inbox;
mod ingest;
mod progress;
mod report;
mod schema;
mod sync;
#[cfg(test)]
mod tests;

pub use calls::{CallCount, CallSummary};
pub use inbox::Queued;
pub use ingest::{Ingested, Observation, Observed};
pub use progress::{Claim, ClaimKind, Finish, Finished};
pub use report::{AttemptRow, DealRow, Selection, Summary};
pub use sync::{SyncDue, SyncResult};

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A deal's state in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Waiting for delivery (or for its next attempt).
    Pending,
    /// A request is under way (or was, when the process died).
    InFlight,
    /// The project exists in the PSA.
    Delivered,
    /// Refused by the mapping or by the target.
    Rejected,
    /// Not at a trigger stage.
    Skipped,
    /// Attempts used up; `mapctl retry` re-queues it.
    Failed,
}

impl State {
    /// Every state, in reporting order.
    pub const ALL: [State; 6] = [
        State::Delivered,
        State::Pending,
        State::InFlight,
        State::Failed,
        State::Rejected,
        State::Skipped,
    ];

    /// The state's name in the database and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InFlight => "in_flight",
            State::Delivered => "delivered",
            State::Rejected => "rejected",
            State::Skipped => "skipped",
            State::Failed => "failed",
        }
    }

    /// Parses a state's name.
    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One reason a deal was rejected, skipped or failed, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReason {
    /// The code (`M504`), or `HTTP 422` for a target's refusal.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The field concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Its value, described (never-transfer values are withheld before they get here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The mapping rule concerned (`file:line`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl StoredReason {
    /// A reason with a code and a message only.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> StoredReason {
        StoredReason {
            code: code.into(),
            message: message.into(),
            field: None,
            value: None,
            rule: None,
        }
    }
}

/// Why the ledger could not do something.
#[derive(Debug)]
pub enum LedgerError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// A file or folder could not be created or opened.
    Io(String),
    /// The database was written by a newer mapctl.
    TooNew(i64),
    /// Another run or server holds the ledger.
    Locked(PathBuf),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Sqlite(e) => write!(f, "ledger database error: {e}"),
            LedgerError::Io(m) => f.write_str(m),
            LedgerError::TooNew(v) => write!(
                f,
                "the ledger has schema version {v}, newer than this mapctl knows ({}); upgrade mapctl",
                schema::VERSION
            ),
            LedgerError::Locked(p) => write!(
                f,
                "another `mapctl run` or `mapctl serve` is using the ledger (lock `{}` is held)",
                p.display()
            ),
        }
    }
}

impl std::error::Error for LedgerError {}

impl From<rusqlite::Error> for LedgerError {
    fn from(error: rusqlite::Error) -> LedgerError {
        LedgerError::Sqlite(error)
    }
}

/// Result of ledger operations.
pub type Result<T> = std::result::Result<T, LedgerError>;

/// The ledger of one mapping.
pub struct Ledger {
    conn: Connection,
    mapping: String,
    path: PathBuf,
}

/// The default ledger of a mapping: `.mapctl/ledger.db` in the mapping's folder.
pub fn default_path(mapping: &Path) -> PathBuf {
    let folder = mapping
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    folder.join(".mapctl").join("ledger.db")
}

/// The current time in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The idempotency key of a deal: stable per (mapping, deal) and per key generation (a new
/// generation only after the target refused the previous key's request).
pub fn idempotency_key(mapping: &str, deal_id: &str, generation: i64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(mapping.as_bytes());
    hasher.update([0]);
    hasher.update(deal_id.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    if generation == 0 {
        format!("mapctl-{hex}")
    } else {
        format!("mapctl-{hex}-{generation}")
    }
}

/// The hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` for the mapping named `mapping`.
    pub fn open(path: &Path, mapping: &str) -> Result<Ledger> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| {
                LedgerError::Io(format!("cannot create `{}`: {e}", folder.display()))
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the request it announces is sent, even across a
        // power cut. Commits are batched, so this costs little per deal.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut ledger = Ledger {
            conn,
            mapping: mapping.to_string(),
            path: path.to_path_buf(),
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapping this ledger handle works for.
    pub fn mapping(&self) -> &str {
        &self.mapping
    }

    /// Takes the ledger's exclusive lock (one run or server at a time per ledger), without
    /// waiting. The lock is released when the returned value is dropped or the process ends.
    pub fn lock(&self) -> Result<RunLock> {
        let path = lock_path(&self.path);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| LedgerError::Io(format!("cannot open `{}`: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Locked(path)),
            Err(std::fs::TryLockError::Error(e)) => Err(LedgerError::Io(format!(
                "cannot lock `{}`: {e}",
                path.display()
            ))),
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > schema::VERSION {
            return Err(LedgerError::TooNew(version));
        }
        if version < 1 {
            let tx = write(&mut self.conn)?;
            tx.execute_batch(schema::V1)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('created_by', ?1)",
                [concat!("mapctl ", env!("CARGO_PKG_VERSION"))],
            )?;
            tx.pragma_update(None, "user_version", 1)?;
            tx.commit()?;
        }
        if version < 2 {
            let tx = write(&mut self.conn)?;
            tx.execute_batch(schema::V2)?;
            tx.pragma_update(None, "user_version", 2)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A cursor a polling source saved.
    pub fn cursor(&self, source: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM cursors WHERE mapping = ?1 AND source = ?2",
                (&self.mapping, source),
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Saves a polling source's cursor.
    pub fn set_cursor(&self, source: &str, cursor: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO cursors (mapping, source, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (mapping, source) DO UPDATE SET cursor = ?3, updated_at = ?4",
            (&self.mapping, source, cursor, now_ms()),
        )?;
        Ok(())
    }
}

/// A write transaction, taken at once: a transaction that reads first and writes later could
/// find that another connection (the webhook listener's) wrote in between and fail outright; an
/// immediate one waits for the other writer (up to the busy timeout) instead.
fn write(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

/// The lock file beside a ledger.
fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Holds a ledger's exclusive lock while alive.
pub struct RunLock {
    _file: File,
}
