//! A progress line on stderr for long runs, redrawn at most five times a second, and only when
//! stderr is a terminal (never in logs or CI output).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Draws one progress line, over and over.
pub struct Progress {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A progress line, drawn when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    /// Redraws the line with `text`, unless it was drawn less than 200 ms ago.
    pub fn show(&mut self, text: impl FnOnce() -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{}",
            crate::diag::safe::terminal_safe(&text())
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// Clears the line, so that what follows starts clean.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}
