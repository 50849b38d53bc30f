//! Rate limits, shared by every thread that talks to one vendor account: a [`RateLimiter`] holds
//! the vendor's documented windows ("at most N requests per D": per second, per 10 s, per hour,
//! per day) and a pause that answers such as 429 set for everyone.
//!
//! Each window counts requests in buckets a twentieth of its length wide. A bucket counts as
//! inside the window as long as any instant of it is, so the count over-estimates the requests
//! of the last D and a request is let through only when even that over-estimate leaves room:
//! no sliding window of length D ever holds more than N requests, and memory stays bounded
//! whatever N is (a daily window of a million requests keeps twenty-one counters).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// "At most `max` requests per `period`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The most requests in any stretch of `period`.
    pub max: u32,
    /// The window's length.
    pub period: Duration,
}

impl Window {
    /// `max` requests per `period`.
    pub const fn new(max: u32, period: Duration) -> Window {
        Window { max, period }
    }
}

/// One window's counts: (bucket start, requests) oldest first, and their sum.
#[derive(Debug)]
struct Counts {
    window: Window,
    bucket: Duration,
    buckets: VecDeque<(Instant, u32)>,
    total: u32,
}

impl Counts {
    fn new(window: Window) -> Counts {
        let bucket = (window.period / 20).max(Duration::from_millis(1));
        Counts {
            window,
            bucket,
            buckets: VecDeque::new(),
            total: 0,
        }
    }

    /// Forgets buckets that lie wholly before the window ending at `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(&(start, count)) = self.buckets.front() {
            if start + self.bucket + self.window.period > now {
                break;
            }
            self.buckets.pop_front();
            self.total -= count;
        }
    }

    /// How long until a request fits (zero: now).
    fn wait(&mut self, now: Instant) -> Duration {
        self.expire(now);
        if self.total < self.window.max.max(1) {
            return Duration::ZERO;
        }
        match self.buckets.front() {
            Some(&(start, _)) => {
                (start + self.bucket + self.window.period).saturating_duration_since(now)
            }
            None => Duration::ZERO,
        }
    }

    fn record(&mut self, now: Instant) {
        match self.buckets.back_mut() {
            Some((start, count)) if now < *start + self.bucket => *count += 1,
            _ => self.buckets.push_back((now, 1)),
        }
        self.total += 1;
    }
}

#[derive(Debug)]
struct LimiterState {
    counts: Vec<Counts>,
    paused_until: Option<Instant>,
}

/// A vendor's rate limits, shared (behind an `Arc`) by every worker of a run.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
}

impl RateLimiter {
    /// A limiter enforcing every one of `windows`.
    pub fn new(windows: &[Window]) -> RateLimiter {
        RateLimiter {
            state: Mutex::new(LimiterState {
                counts: windows.iter().copied().map(Counts::new).collect(),
                paused_until: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long a request would have to wait now (zero: it may go).
    pub fn wait(&self) -> Duration {
        let now = Instant::now();
        let mut state = self.lock();
        let paused = state
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        state
            .counts
            .iter_mut()
            .map(|c| c.wait(now))
            .fold(paused, Duration::max)
    }

    /// Counts a request if it may go now; otherwise says how long to wait.
    pub fn try_take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.lock();
        if let Some(until) = state.paused_until {
            if until > now {
                return Err(until - now);
            }
            state.paused_until = None;
        }
        let wait = state
            .counts
            .iter_mut()
            .map(|c| c.wait(now))
            .fold(Duration::ZERO, Duration::max);
        if !wait.is_zero() {
            return Err(wait);
        }
        for counts in &mut state.counts {
            counts.record(now);
        }
        Ok(())
    }

    /// Stops every request for `pause` (a 429, a usage header at zero); a longer pause already
    /// set is kept.
    pub fn pause(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Changes the most requests of the window of `period` (a vendor header told the account's
    /// real limit); no window of that length: nothing changes.
    pub fn set_max(&self, period: Duration, max: u32) {
        let mut state = self.lock();
        for counts in state
            .counts
            .iter_mut()
            .filter(|c| c.window.period == period)
        {
            counts.window.max = max.max(1);
        }
    }
}

/// Waits until every one of `limiters` lets a request through, and counts it in each. Waits
/// happen in steps of at most 250 ms, so a pause set meanwhile is seen. Returns the time waited.
pub fn acquire(limiters: &[&RateLimiter]) -> Duration {
    let started = Instant::now();
    loop {
        let wait = limiters
            .iter()
            .map(|l| l.wait())
            .fold(Duration::ZERO, Duration::max);
        if wait.is_zero() {
            // Take from each; if one filled up meanwhile, wait for it and start again (a slot
            // taken from the others is a request counted that never went: only ever safer).
            if let Some(wait) = limiters.iter().find_map(|l| l.try_take().err()) {
                std::thread::sleep(wait.min(Duration::from_millis(250)));
                continue;
            }
            return started.elapsed();
        }
        std::thread::sleep(wait.min(Duration::from_millis(250)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_says_how_long_until_its_oldest_bucket_leaves() {
        let limiter = RateLimiter::new(&[Window::new(3, Duration::from_secs(60))]);
        for _ in 0..3 {
            assert!(limiter.try_take().is_ok());
        }
        let wait = limiter.try_take().expect_err("a fourth request must wait");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(63));
        limiter.set_max(Duration::from_secs(60), 4);
        assert!(limiter.try_take().is_ok());
    }

    #[test]
    fn a_pause_holds_every_request_and_the_longer_pause_wins() {
        let limiter = RateLimiter::new(&[]);
        limiter.pause(Duration::from_secs(30));
        limiter.pause(Duration::from_secs(1));
        assert!(limiter.wait() > Duration::from_secs(29));
        assert!(limiter.try_take().is_err());
    }

    #[test]
    fn no_sliding_window_holds_more_than_the_maximum() {
        let window = Window::new(4, Duration::from_millis(200));
        let limiter = RateLimiter::new(&[window]);
        let mut sent = Vec::new();
        for _ in 0..12 {
            acquire(&[&limiter]);
            sent.push(Instant::now());
        }
        // A request is counted just before `acquire` returns; the slack covers the time
        // between the two on a busy machine, far below the window's length.
        let slack = Duration::from_millis(60);
        for (i, first) in sent.iter().enumerate() {
            let inside = sent[i..]
                .iter()
                .take_while(|t| t.duration_since(*first) + slack < window.period)
                .count();
            assert!(inside <= 4, "{inside} requests within one window");
        }
    }
}
