//! The ledger's tables, versioned by `PRAGMA user_version`. A database written by a newer
//! mapctl (a higher version) is refused rather than misread; older versions are migrated in
//! order, each step in one transaction.

/// The schema version this build writes.
pub const VERSION: i64 = 2;

/// Version 1: deals, attempts, cursors, meta.
pub const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per (mapping, deal): the deal's latest known state.
CREATE TABLE deals (
    mapping          TEXT    NOT NULL,
    deal_id          TEXT    NOT NULL,
    seq              INTEGER NOT NULL,          -- order first seen
    state            TEXT    NOT NULL CHECK (state IN
                       ('pending', 'in_flight', 'delivered', 'rejected', 'skipped', 'failed')),
    source           TEXT    NOT NULL,          -- where it was last read (file:line, connector)
    source_version   TEXT,                      -- the source's version of the deal, when it has one
    record           BLOB,                      -- the mapped record (compact JSON), if any
    record_sha256    TEXT,
    template         TEXT,
    client           TEXT,                      -- client matching, as JSON
    key_generation   INTEGER NOT NULL DEFAULT 0,-- bumped when the target refused the last key
    idempotency_key  TEXT,
    project_id       TEXT,
    client_id        TEXT,
    phase            TEXT,                      -- where a rejection happened ('target' or a mapping phase)
    reasons          TEXT,                      -- JSON array of reasons (rejected, skipped, failed)
    attempts         INTEGER NOT NULL DEFAULT 0,-- attempts in the current budget
    uncertain        INTEGER NOT NULL DEFAULT 0,-- a write may have happened: look up before creating
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,-- unix ms
    changed_record   BLOB,                      -- a newer record seen after delivery (never sent)
    changed_at       INTEGER,
    sync_state       TEXT    NOT NULL DEFAULT 'none',
    sync_error       TEXT,
    logged           INTEGER NOT NULL DEFAULT 0,-- the run log has this state
    first_seen       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    PRIMARY KEY (mapping, deal_id)
) WITHOUT ROWID;

CREATE INDEX deals_due ON deals (mapping, state, next_attempt_at, seq);
CREATE INDEX deals_project ON deals (mapping, project_id);

-- One row per request towards the target (create or lookup).
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    mapping     TEXT    NOT NULL,
    deal_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('create', 'lookup')),
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT    NOT NULL,               -- in_flight, created, found, not_found, retry, rejected, interrupted
    status      INTEGER,                        -- HTTP status, when there was one
    error       TEXT,
    latency_ms  INTEGER
);

CREATE INDEX attempts_by_deal ON attempts (mapping, deal_id, id);

-- Where a polling source got to.
CREATE TABLE cursors (
    mapping    TEXT NOT NULL,
    source     TEXT NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (mapping, source)
);
";

/// Version 2, for vendor connectors: the project as the target answered its create (what sync
/// back reads), sync-back bookkeeping, deals `mapctl retry` asked to fetch from the source
/// again, API calls by deal, vendor and purpose, and the webhook inbox (deal ids a CRM said
/// changed, waiting to be fetched).
pub const V2: &str = "
ALTER TABLE deals ADD COLUMN project BLOB;                            -- the target's answer to the create (JSON)
ALTER TABLE deals ADD COLUMN sync_patch TEXT;                         -- the last sync-back patch written (JSON)
ALTER TABLE deals ADD COLUMN sync_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deals ADD COLUMN synced_at INTEGER;
ALTER TABLE deals ADD COLUMN sync_next_at INTEGER NOT NULL DEFAULT 0;  -- unix ms: a failed sync waits
ALTER TABLE deals ADD COLUMN refetch INTEGER NOT NULL DEFAULT 0;      -- fetch from the source by id on the next run

-- API calls made to vendors, by deal ('' for calls a poll or a run shares), vendor and purpose.
CREATE TABLE api_calls (
    mapping TEXT    NOT NULL,
    deal_id TEXT    NOT NULL,
    vendor  TEXT    NOT NULL,
    purpose TEXT    NOT NULL,
    calls   INTEGER NOT NULL,
    PRIMARY KEY (mapping, deal_id, vendor, purpose)
) WITHOUT ROWID;

-- Deals a webhook said changed, waiting to be fetched from the source.
CREATE TABLE inbox (
    mapping     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    deal_id     TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (mapping, source, deal_id)
) WITHOUT ROWID;
";
