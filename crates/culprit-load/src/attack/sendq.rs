//! Send windows: how long paced hits may wait to go out together ([`SendWindow`]), and
//! the hits one thread has claimed and not yet sent, grouped by window ([`SendQueue`]):
//! the hits due within the first one's window go out together, when the last of them is
//! due. Pure bookkeeping, no clock: the engines say what time it is.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::dispatch::Due;
use crate::pacer::Pacer;

/// How long hits may wait to go out together ([`super::Config::send_window`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendWindow {
    /// About three hits' spacing at the rate of the moment, from 250 to 500 µs. The first
    /// hits sharing a wake-up save the most (two per wake-up halve the wake-ups), and this
    /// keeps p99 send lateness at half of a millisecond or less: at 20k hits/s on loopback
    /// it takes CPU per hit from 21-24 µs to 15-18 µs, at 5k/s from 28-36 to 24-27
    /// (`bench/attack.sh`, wrk2 21-23 and 26-32).
    Auto,
    /// This long; zero sends every hit at its time.
    Fixed(Duration),
}

impl SendWindow {
    const AUTO_MIN_NS: f64 = 250_000.0;
    const AUTO_MAX_NS: f64 = 500_000.0;
    const AUTO_HITS: f64 = 3.0;

    /// The window in nanoseconds for a hit due `at_ns` into an attack paced by `pacer`.
    pub fn at(&self, pacer: &Pacer, at_ns: u64) -> u64 {
        match *self {
            SendWindow::Fixed(d) => d.as_nanos() as u64,
            SendWindow::Auto => {
                let hz = pacer.rate_at(at_ns as f64 / 1e9);
                let spacing = if hz > 0.0 { 1e9 / hz } else { f64::INFINITY };
                (Self::AUTO_HITS * spacing).clamp(Self::AUTO_MIN_NS, Self::AUTO_MAX_NS) as u64
            }
        }
    }
}

/// Claimed hits in due order, and where the first one's window ends.
pub(crate) struct SendQueue {
    hits: VecDeque<Due>,
    window: SendWindow,
    pacer: Pacer,
    /// The first hit's window ends here (ns from the attack's start).
    end: u64,
}

impl SendQueue {
    pub(crate) fn new(window: SendWindow, pacer: Pacer) -> SendQueue {
        SendQueue {
            hits: VecDeque::new(),
            window,
            pacer,
            end: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Drops every hit (the attack was stopped).
    pub(crate) fn clear(&mut self) {
        self.hits.clear();
    }

    /// Queues `due`, which is due no earlier than the hits queued before it.
    fn push(&mut self, due: Due) {
        if self.hits.is_empty() {
            self.end = self.window_end(due.scheduled_ns);
        }
        self.hits.push_back(due);
    }

    /// A hit due past the first one's window is queued, so that window is known whole.
    fn window_whole(&self) -> bool {
        self.hits.back().is_some_and(|d| d.scheduled_ns > self.end)
    }

    /// Claims hit numbers from `next` (shared by every thread) until the first window is
    /// known whole or `room` hits are queued; `false` once the pacer has no more hits:
    /// none is due, or it is due at `limit` (ns from the start) or later.
    pub(crate) fn fill(&mut self, next: &AtomicU64, limit: Option<u64>, room: usize) -> bool {
        while !self.window_whole() && self.hits.len() < room {
            let seq = next.fetch_add(1, Ordering::Relaxed);
            match self.pacer.due(seq).map(|d| d.as_nanos() as u64) {
                Some(scheduled_ns) if limit.is_none_or(|l| scheduled_ns < l) => {
                    self.push(Due { seq, scheduled_ns });
                }
                _ => return false,
            }
        }
        true
    }

    /// When the first window goes out: when the last hit due within it is due. A hit
    /// alone in its window goes out on time.
    pub(crate) fn send_at(&self) -> Option<u64> {
        self.hits
            .iter()
            .map(|d| d.scheduled_ns)
            .take_while(|&at| at <= self.end)
            .last()
    }

    /// The first hit, when it is due by `now`.
    pub(crate) fn first_due(&self, now: u64) -> Option<Due> {
        self.hits.front().copied().filter(|d| d.scheduled_ns <= now)
    }

    /// Takes the first hit off the queue.
    pub(crate) fn pop(&mut self) {
        self.hits.pop_front();
        if let Some(next) = self.hits.front() {
            self.end = self.window_end(next.scheduled_ns);
        }
    }

    fn window_end(&self, first_ns: u64) -> u64 {
        first_ns.saturating_add(self.window.at(&self.pacer, first_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate::Rate;

    fn queue(window_us: u64, due_us: &[u64]) -> SendQueue {
        let mut q = SendQueue::new(
            SendWindow::Fixed(Duration::from_micros(window_us)),
            Pacer::Constant(Rate::per_second(1000)),
        );
        for (seq, &at) in due_us.iter().enumerate() {
            q.push(Due {
                seq: seq as u64,
                scheduled_ns: at * 1000,
            });
        }
        q
    }

    #[test]
    fn a_window_goes_out_when_its_last_hit_is_due() {
        let q = queue(250, &[0, 100, 250, 300]);
        assert!(q.window_whole());
        assert_eq!(q.send_at(), Some(250_000));
    }

    #[test]
    fn a_hit_alone_in_its_window_goes_out_on_time() {
        let q = queue(250, &[1000, 2000]);
        assert_eq!(q.send_at(), Some(1_000_000));
        let exact = queue(0, &[0, 50]);
        assert_eq!(exact.send_at(), Some(0));
    }

    #[test]
    fn a_window_is_whole_only_once_a_later_hit_is_known() {
        let q = queue(250, &[0, 100]);
        assert!(!q.window_whole());
        assert_eq!(q.send_at(), Some(100_000));
    }

    #[test]
    fn the_next_window_starts_at_the_first_hit_left() {
        let mut q = queue(250, &[0, 100, 300, 500, 700]);
        for now in [0, 100_000] {
            assert!(q.first_due(now).is_some());
            q.pop();
        }
        assert_eq!(q.first_due(100_000).map(|d| d.seq), None);
        assert_eq!(q.send_at(), Some(500_000));
        q.pop();
        q.pop();
        assert_eq!(q.send_at(), Some(700_000));
        q.pop();
        assert!(q.is_empty() && q.send_at().is_none());
    }

    #[test]
    fn fill_claims_one_window_and_one_past_it_within_room_and_limit() {
        // 1000/s: hits 1 ms apart; a 2.5 ms window holds three.
        let window = SendWindow::Fixed(Duration::from_micros(2500));
        let pacer = Pacer::Constant(Rate::per_second(1000));
        let next = AtomicU64::new(0);
        let mut q = SendQueue::new(window, pacer);
        assert!(q.fill(&next, None, usize::MAX));
        assert_eq!(next.load(Ordering::Relaxed), 4);
        assert_eq!(q.send_at(), Some(2_000_000));

        let mut q = SendQueue::new(window, pacer);
        assert!(q.fill(&AtomicU64::new(0), None, 2));
        assert_eq!(q.send_at(), Some(1_000_000));

        let mut q = SendQueue::new(window, pacer);
        assert!(!q.fill(&AtomicU64::new(0), Some(1_500_000), usize::MAX));
        assert_eq!(q.send_at(), Some(1_000_000));
    }

    #[test]
    fn the_auto_send_window_spans_about_three_hits_within_its_bounds() {
        let constant = |hz| Pacer::Constant(Rate::per_second(hz));
        let auto = |p: &Pacer| SendWindow::Auto.at(p, 1_000_000_000);
        assert_eq!(auto(&constant(20_000)), 250_000);
        assert_eq!(auto(&constant(8_000)), 375_000);
        assert_eq!(auto(&constant(5_000)), 500_000);
        assert_eq!(auto(&constant(10)), 500_000);
        // The ramp's rate at the hit's time counts, not its start.
        let ramp = Pacer::Linear {
            start: Rate::per_second(1_000),
            slope: 11_000.0,
        };
        assert_eq!(SendWindow::Auto.at(&ramp, 0), 500_000);
        assert_eq!(SendWindow::Auto.at(&ramp, 1_000_000_000), 250_000);
        let fixed = SendWindow::Fixed(Duration::from_micros(70));
        assert_eq!(fixed.at(&constant(5_000), 0), 70_000);
    }
}
