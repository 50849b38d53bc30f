//! When to try again: capped exponential backoff with jitter, unless the target said when.

use std::time::Duration;

/// Retry timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed attempt (doubled after each further one).
    pub base: Duration,
    /// The longest wait between attempts.
    pub cap: Duration,
    /// The longest `Retry-After` honoured (a longer one is cut to this).
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1-based): the target's `Retry-After`
    /// when it gave one, else `base * 2^(attempt-1)` capped, times a random factor in
    /// [0.5, 1) so that deals failed together do not come back together.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        random: &mut Jitter,
    ) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after);
        }
        let doublings = attempt.saturating_sub(1).min(30);
        let full = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        full.mul_f64(0.5 + random.unit() / 2.0)
    }
}

/// A small random number generator for jitter (xorshift64*); not for anything secret.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the clock and the process id.
    pub fn new() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter::seeded(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// Seeded explicitly (tests).
    pub fn seeded(seed: u64) -> Jitter {
        Jitter(seed | 1)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (value >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Jitter {
        Jitter::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_in_the_jitter_band() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        };
        let mut jitter = Jitter::seeded(7);
        for (attempt, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let delay = backoff.delay(attempt, None, &mut jitter).as_millis();
            assert!(
                delay >= full / 2 && delay < full,
                "attempt {attempt}: {delay}"
            );
        }
        let told = backoff.delay(1, Some(Duration::from_secs(2)), &mut jitter);
        assert_eq!(told, Duration::from_secs(2));
        let too_long = backoff.delay(1, Some(Duration::from_secs(99)), &mut jitter);
        assert_eq!(too_long, Duration::from_secs(5));
    }
}
