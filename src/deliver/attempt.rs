//! One attempt at one claimed deal, on a worker thread, and what its result means for the deal.

use std::time::{Duration, Instant};

use super::Policy;
use super::backoff::Jitter;
use crate::connect::{Delivery, Target, TargetError};
use crate::ledger::{Claim, ClaimKind, Finish, Finished, now_ms};

/// What a worker did for a claim, before the policy decides what follows.
#[derive(Debug)]
pub struct Done {
    /// The claim.
    pub claim: Claim,
    /// The target's answer.
    pub result: Result<Answer, TargetError>,
    /// How long it took.
    pub elapsed: Duration,
}

/// A successful answer.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// The project was created (or exists, with this id).
    Created(crate::connect::Created),
    /// A lookup's findings (possibly none).
    Found(Vec<String>),
}

/// Does the claim's request: a lookup, or a create (with a lookup when the target answers that
/// the project exists without saying its id). A target that panics (a bug) costs the deal an
/// attempt, reported as possibly written, instead of the worker and the claim.
pub fn perform(target: &dyn Target, claim: Claim) -> Done {
    let started = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| request(target, &claim)))
        .unwrap_or_else(|_| {
            Err(TargetError::Retryable {
                status: None,
                message: "internal error in the target's connector (a bug: please report it)"
                    .into(),
                after: None,
                maybe_written: true,
                throttled: false,
            })
        });
    Done {
        claim,
        result,
        elapsed: started.elapsed(),
    }
}

fn request(target: &dyn Target, claim: &Claim) -> Result<Answer, TargetError> {
    let delivery = Delivery {
        deal_id: &claim.deal_id,
        idempotency_key: &claim.idempotency_key,
        record: &claim.record,
        client: claim.client.as_deref(),
    };
    match claim.kind {
        ClaimKind::Lookup => target.find(&delivery).map(Answer::Found),
        ClaimKind::Create => match target.create(&delivery) {
            Ok(created) => Ok(Answer::Created(created)),
            Err(TargetError::Exists) => match target.find(&delivery) {
                Ok(ids) if ids.is_empty() => Err(TargetError::Retryable {
                    status: Some(409),
                    message: "the target says the project exists, but the lookup finds none".into(),
                    after: None,
                    maybe_written: true,
                    throttled: false,
                }),
                other => other.map(Answer::Found),
            },
            Err(error) => Err(error),
        },
    }
}

/// The ledger's record of an attempt, and how long every request should wait when the target
/// asked for a pause.
pub fn decide(done: Done, policy: &Policy, jitter: &mut Jitter) -> (Finished, Option<Duration>) {
    let claim = &done.claim;
    let mut pause = None;
    let finish = match done.result {
        Ok(Answer::Created(created)) => Finish::Delivered {
            project_id: created.project_id,
            client_id: created.client_id,
            project: created.project,
            note: created.note,
        },
        Ok(Answer::Found(ids)) => Finish::Found { ids },
        Err(TargetError::Rejected { status, message }) => Finish::Rejected { status, message },
        Err(TargetError::Exists) => Finish::Found { ids: Vec::new() },
        Err(TargetError::Retryable {
            status,
            message,
            after,
            maybe_written,
            throttled,
        }) => {
            if throttled {
                pause = Some(
                    after
                        .unwrap_or(policy.backoff.base)
                        .min(policy.backoff.max_retry_after),
                );
            }
            if claim.attempt >= policy.max_attempts {
                Finish::Failed {
                    status,
                    error: message,
                    maybe_written,
                }
            } else {
                let delay = policy.backoff.delay(claim.attempt, after, jitter);
                let at_ms = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                Finish::Retry {
                    at_ms,
                    status,
                    error: message,
                    maybe_written,
                }
            }
        }
    };
    let finished = Finished {
        deal_id: claim.deal_id.clone(),
        attempt_id: claim.attempt_id,
        kind: claim.kind,
        finish,
        latency_ms: i64::try_from(done.elapsed.as_millis()).unwrap_or(i64::MAX),
    };
    (finished, pause)
}
