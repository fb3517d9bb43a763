//! A thread's hand-off point between its pacing dispatcher and its workers.
//!
//! Idle workers queue up (first in, first out, so every connection stays in use, as with
//! Vegeta's channel of ticks); the dispatcher claims a hit only when a worker is idle,
//! waits for its due time on the thread's one timer, and puts it in that worker's mailbox.
//! Everything lives on one thread, so plain cells do: no locks, no atomics per hit.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// A hit handed to a worker: its number and when it was due (ns from the attack's start).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due {
    pub(crate) seq: u64,
    pub(crate) scheduled_ns: u64,
}

/// One worker's mailbox.
#[derive(Default)]
pub(crate) struct Mailbox {
    due: Cell<Option<Due>>,
    waker: RefCell<Option<Waker>>,
}

/// The idle workers of one thread, and the dispatcher waiting for one.
#[derive(Default)]
pub(crate) struct Board {
    idle: RefCell<VecDeque<Rc<Mailbox>>>,
    dispatcher: RefCell<Option<Waker>>,
    closed: Cell<bool>,
}

impl Board {
    /// Waits for the next hit; `None` once the dispatcher has closed the board.
    pub(crate) async fn next(&self, mailbox: &Rc<Mailbox>) -> Option<Due> {
        if self.closed.get() {
            return None;
        }
        self.idle.borrow_mut().push_back(mailbox.clone());
        if let Some(w) = self.dispatcher.borrow_mut().take() {
            w.wake();
        }
        poll_fn(|cx| {
            if let Some(due) = mailbox.due.take() {
                return Poll::Ready(Some(due));
            }
            if self.closed.get() {
                return Poll::Ready(None);
            }
            set_waker(&mailbox.waker, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// True when some worker waits for a hit.
    pub(crate) fn has_idle(&self) -> bool {
        !self.idle.borrow().is_empty()
    }

    /// Waits until some worker is idle.
    pub(crate) async fn idle_worker(&self) {
        poll_fn(|cx| {
            if self.idle.borrow().is_empty() {
                set_waker(&self.dispatcher, cx.waker());
                Poll::Pending
            } else {
                // Workers going idle need not wake a dispatcher that is not waiting.
                self.dispatcher.borrow_mut().take();
                Poll::Ready(())
            }
        })
        .await
    }

    /// Hands `due` to the longest-idle worker; gives it back when none is idle.
    pub(crate) fn hand_off(&self, due: Due) -> Result<(), Due> {
        let Some(mailbox) = self.idle.borrow_mut().pop_front() else {
            return Err(due);
        };
        mailbox.due.set(Some(due));
        if let Some(w) = mailbox.waker.borrow_mut().take() {
            w.wake();
        }
        Ok(())
    }

    /// No more hits: idle workers (and any that finish later) end.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        for mailbox in self.idle.borrow_mut().drain(..) {
            if let Some(w) = mailbox.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }
}

/// Stores `waker` unless the same task's waker is already there (saves a clone).
fn set_waker(slot: &RefCell<Option<Waker>>, waker: &Waker) {
    let mut slot = slot.borrow_mut();
    match &*slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    #[test]
    fn hits_go_to_idle_workers_in_order_and_close_ends_them() {
        run(async {
            let board = Rc::new(Board::default());
            let got = Rc::new(RefCell::new(Vec::new()));
            for id in 0..2 {
                let (board, got) = (board.clone(), got.clone());
                tokio::task::spawn_local(async move {
                    let mailbox = Rc::new(Mailbox::default());
                    while let Some(due) = board.next(&mailbox).await {
                        got.borrow_mut().push((id, due.seq));
                        tokio::task::yield_now().await;
                    }
                });
            }
            for seq in 0..6 {
                board.idle_worker().await;
                let due = Due {
                    seq,
                    scheduled_ns: 0,
                };
                assert!(board.hand_off(due).is_ok());
            }
            board.idle_worker().await;
            board.close();
            tokio::task::yield_now().await;
            let got = got.borrow();
            let seqs: Vec<u64> = got.iter().map(|g| g.1).collect();
            assert_eq!(seqs, vec![0, 1, 2, 3, 4, 5]);
            assert!(got.iter().any(|g| g.0 == 0) && got.iter().any(|g| g.0 == 1));
            assert!(
                board
                    .hand_off(Due {
                        seq: 9,
                        scheduled_ns: 0
                    })
                    .is_err()
            );
        });
    }
}
