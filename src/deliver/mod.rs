//! The delivery state machine: moves pending deals from the ledger to a [`Target`], exactly
//! once, through crashes, retries and rate limits.
//!
//! One coordinator thread owns the ledger; `concurrency` workers talk to the target. The loop:
//! claim due deals (one transaction: an attempt row per deal, state `in_flight`, and for a create
//! `uncertain` — the intent, committed before any request is sent); workers create each project,
//! or, for an uncertain deal, first ask the target whether it exists (`find`); results are
//! gathered, the target's writes made durable ([`Target::flush`]) and the outcomes committed in
//! one transaction. A retryable failure waits `backoff` (or the target's `Retry-After`, which for
//! 429 and 503 also pauses every request); after `max_attempts` the deal is `failed`. A kill at
//! any instant leaves either no intent (nothing was sent) or an intent the next run resolves by
//! lookup before it creates anything.

mod attempt;
pub mod backoff;
pub mod inbox;
pub mod needs;
pub mod observe;
pub mod poll;
pub mod runlog;
pub mod sync;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backoff::{Backoff, Jitter};

use crate::connect::Target;
use crate::connect::meter::Meter;
use crate::ledger::{Claim, Finish, Finished, Ledger, LedgerError, now_ms};

/// How deliveries are paced.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Requests towards the target at once.
    pub concurrency: usize,
    /// Attempts per deal before it is `failed`.
    pub max_attempts: u32,
    /// Retry timing.
    pub backoff: Backoff,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            concurrency: 4,
            max_attempts: 8,
            backoff: Backoff::default(),
        }
    }
}

/// What a delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Projects created (or found to exist) for deals.
    pub delivered: u64,
    /// Deals the target refused.
    pub rejected: u64,
    /// Deals whose attempts ran out.
    pub failed: u64,
    /// Attempts that will be tried again.
    pub retries: u64,
    /// Lookups made for uncertain deals.
    pub lookups: u64,
    /// Requests in progress (for progress reports).
    pub in_flight: u64,
}

/// How a delivery pass ends and reports.
pub struct Control<'a> {
    /// Set to stop: no new claims; requests in progress finish and are recorded.
    pub stop: &'a AtomicBool,
    /// `None`: return when nothing is pending. `Some`: keep serving, woken by this channel
    /// when new deals are recorded (the webhook listener), until `stop`.
    pub wake: Option<&'a Receiver<()>>,
    /// Called after each batch of outcomes is recorded.
    pub progress: &'a mut dyn FnMut(&Tally),
    /// Called with each batch of outcomes once recorded (metrics).
    pub observe: &'a mut dyn FnMut(&[Finished]),
    /// The API calls connectors count, moved into the ledger with each batch of outcomes.
    pub meter: Option<&'a Meter>,
}

/// Moves the API calls counted so far into the ledger (they are put back if that fails, to go
/// with the next batch).
pub fn record_calls(ledger: &mut Ledger, meter: &Meter) -> Result<(), LedgerError> {
    let counts = meter.take();
    if let Err(error) = ledger.add_calls(&counts) {
        meter.restore(counts);
        return Err(error);
    }
    Ok(())
}

/// Delivers every due pending deal of the ledger's mapping; see the module comment.
pub fn deliver(
    ledger: &mut Ledger,
    target: &Arc<dyn Target>,
    policy: &Policy,
    control: Control<'_>,
) -> Result<Tally, LedgerError> {
    let workers = target
        .max_concurrency()
        .map_or(policy.concurrency, |cap| cap.min(policy.concurrency))
        .max(1);
    let (job_tx, job_rx) = mpsc::channel::<Claim>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel();
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let jobs = Arc::clone(&job_rx);
        let done = done_tx.clone();
        let target = Arc::clone(target);
        handles.push(std::thread::spawn(move || {
            loop {
                let next = jobs.lock().map(|rx| rx.recv());
                let Ok(Ok(claim)) = next else { return };
                if done.send(attempt::perform(target.as_ref(), claim)).is_err() {
                    return;
                }
            }
        }));
    }
    drop(done_tx);
    let mut pass = Pass {
        window: (workers * 16).max(64),
        in_flight: 0,
        paused_until: 0,
        tally: Tally::default(),
        jitter: Jitter::new(),
    };
    let result = pass.run(ledger, target.as_ref(), policy, control, &job_tx, &done_rx);
    drop(job_tx);
    for handle in handles {
        let _ = handle.join();
    }
    result
}

struct Pass {
    window: usize,
    in_flight: usize,
    paused_until: i64,
    tally: Tally,
    jitter: Jitter,
}

impl Pass {
    fn run(
        &mut self,
        ledger: &mut Ledger,
        target: &dyn Target,
        policy: &Policy,
        control: Control<'_>,
        jobs: &mpsc::Sender<Claim>,
        done: &Receiver<attempt::Done>,
    ) -> Result<Tally, LedgerError> {
        loop {
            let stopping = control.stop.load(Ordering::SeqCst);
            if stopping && self.in_flight == 0 {
                return Ok(self.tally);
            }
            if !stopping && now_ms() >= self.paused_until && self.in_flight <= self.window / 2 {
                for claim in ledger.claim(self.window - self.in_flight)? {
                    if claim.kind == crate::ledger::ClaimKind::Lookup {
                        self.tally.lookups += 1;
                    }
                    self.in_flight += 1;
                    if jobs.send(claim).is_err() {
                        return Err(LedgerError::Io("the delivery workers stopped".into()));
                    }
                }
            }
            if self.in_flight == 0 {
                if !self.idle(ledger, &control)? {
                    return Ok(self.tally);
                }
                continue;
            }
            let batch = self.gather(done);
            if batch.is_empty() {
                continue;
            }
            let finished = self.settle(batch, target, policy);
            ledger.finish(&finished)?;
            if let Some(meter) = control.meter {
                record_calls(ledger, meter)?;
            }
            (control.observe)(&finished);
            self.tally.in_flight = self.in_flight as u64;
            (control.progress)(&self.tally);
        }
    }

    /// Nothing in flight: waits for the next due deal (or, serving, for new work). Returns
    /// false when the pass is over.
    fn idle(&mut self, ledger: &Ledger, control: &Control<'_>) -> Result<bool, LedgerError> {
        let now = now_ms();
        let next = ledger.next_due()?;
        let wait_until = match next {
            None if control.wake.is_none() => return Ok(false),
            None => now + 1000,
            Some(due) => due.max(self.paused_until),
        };
        let wait = Duration::from_millis(u64::try_from(wait_until - now).unwrap_or(0).min(200));
        if wait.is_zero() {
            return Ok(true);
        }
        match control.wake {
            Some(wake) => {
                let _ = wake.recv_timeout(wait);
            }
            None => std::thread::sleep(wait),
        }
        Ok(true)
    }

    /// Waits for a result, then takes every result that follows closely, so that one
    /// transaction records many.
    fn gather(&mut self, done: &Receiver<attempt::Done>) -> Vec<attempt::Done> {
        let mut batch = Vec::new();
        match done.recv_timeout(Duration::from_millis(200)) {
            Ok(first) => batch.push(first),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return batch,
        }
        let deadline = Instant::now() + Duration::from_millis(2);
        while batch.len() < self.in_flight {
            let left = deadline.saturating_duration_since(Instant::now());
            match done.recv_timeout(left) {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        self.in_flight -= batch.len();
        batch
    }

    /// Turns results into ledger outcomes: flushes the target first (a write not yet durable
    /// counts as uncertain), decides retries, notes pauses and counts.
    fn settle(
        &mut self,
        batch: Vec<attempt::Done>,
        target: &dyn Target,
        policy: &Policy,
    ) -> Vec<Finished> {
        let flushed = target.flush();
        let mut finished = Vec::with_capacity(batch.len());
        for done in batch {
            let (mut outcome, pause) = attempt::decide(done, policy, &mut self.jitter);
            if let (Err(error), Finish::Delivered { .. }) = (&flushed, &outcome.finish) {
                outcome.finish = Finish::Retry {
                    at_ms: now_ms(),
                    status: None,
                    error: error.to_string(),
                    maybe_written: true,
                };
            }
            if let Some(pause) = pause {
                let until = now_ms() + i64::try_from(pause.as_millis()).unwrap_or(0);
                self.paused_until = self.paused_until.max(until);
            }
            match &outcome.finish {
                Finish::Delivered { .. } => self.tally.delivered += 1,
                Finish::Found { ids } if !ids.is_empty() => self.tally.delivered += 1,
                Finish::Found { .. } => {}
                Finish::Retry { .. } => self.tally.retries += 1,
                Finish::Failed { .. } => self.tally.failed += 1,
                Finish::Rejected { .. } => self.tally.rejected += 1,
            }
            finished.push(outcome);
        }
        finished
    }
}
