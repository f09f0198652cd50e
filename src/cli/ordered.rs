//! Work spread over a thread pool whose results are used in the order of the inputs, as they
//! come: `check` prints a file's findings as soon as the files before it are printed, and holds
//! only the files being checked and a bounded number of results waiting for their turn.
//!
//! No thread waits for the others to hand it results: the thread that finishes the item next
//! in order passes it on, with those after it that are already done. The pool's threads take
//! the items in order from a counter, so nothing but the hand-over is shared between them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Maps each of `items` with `map` on `pool`'s threads and calls `each` with the results in the
/// items' order (on whichever thread holds the next result, one call at a time). An item is
/// started only once fewer than `window` results before it are waiting for `each`, so at most
/// `window` results (and one item per thread) are held at once. Items are started in their
/// order.
pub fn map_in_order<T, R>(
    pool: &rayon::ThreadPool,
    items: &[T],
    window: usize,
    map: impl Fn(usize, &T) -> R + Sync,
    each: impl FnMut(R) + Send,
) where
    T: Sync,
    R: Send,
{
    let window = window.max(1);
    let next_item = AtomicUsize::new(0);
    let order = InOrder {
        state: Mutex::new(Waiting {
            results: BTreeMap::new(),
            taken: 0,
            sleeping: 0,
            each,
        }),
        turned: Condvar::new(),
        window,
    };
    let work = || {
        loop {
            let number = next_item.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(number) else {
                return;
            };
            order.wait_for_turn(number);
            order.done(number, map(number, item));
        }
    };
    pool.scope(|scope| {
        for _ in 1..pool.current_num_threads() {
            scope.spawn(|_| work());
        }
        work();
    });
}

/// Results waiting for their turn, and what takes them.
struct Waiting<R, F> {
    results: BTreeMap<usize, R>,
    /// How many results `each` has taken: the number of the next one.
    taken: usize,
    /// Threads waiting for an item's turn to start it.
    sleeping: usize,
    each: F,
}

struct InOrder<R, F> {
    state: Mutex<Waiting<R, F>>,
    /// Signalled when results are taken while an item waits to start.
    turned: Condvar,
    window: usize,
}

impl<R, F: FnMut(R)> InOrder<R, F> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting<R, F>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until item `number` may start: fewer than `window` items before it are untaken.
    fn wait_for_turn(&self, number: usize) {
        let mut state = self.lock();
        while number >= state.taken + self.window {
            state.sleeping += 1;
            state = self.turned.wait(state).unwrap_or_else(|p| p.into_inner());
            state.sleeping -= 1;
        }
    }

    /// Result `number` is there: it and the results after it that are there too are taken if
    /// its turn has come, else it waits for it.
    fn done(&self, number: usize, result: R) {
        let mut state = self.lock();
        if number != state.taken {
            state.results.insert(number, result);
            return;
        }
        let waiting = &mut *state;
        (waiting.each)(result);
        waiting.taken += 1;
        while let Some(result) = waiting.results.remove(&waiting.taken) {
            (waiting.each)(result);
            waiting.taken += 1;
        }
        // Only an item `window` ahead of the results taken waits (seldom, with a window of
        // several items per thread): no wake-up otherwise.
        let sleeping = state.sleeping > 0;
        drop(state);
        if sleeping {
            self.turned.notify_all();
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A pool of `threads` threads, as `check -j` makes.
    pub(in crate::cli) fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    #[test]
    fn results_come_in_the_items_order() {
        for threads in [1, 2, 4] {
            let mut seen = Vec::new();
            // Early items take longest, so later ones finish first.
            let items: Vec<u64> = (0..200).collect();
            map_in_order(
                &pool(threads),
                &items,
                8,
                |_, &n| {
                    std::thread::sleep(std::time::Duration::from_micros((200 - n) * 10));
                    n * 2
                },
                |r| seen.push(r),
            );
            assert_eq!(seen, (0..200).map(|n| n * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn no_more_than_the_window_is_in_flight_or_waiting() {
        let window = 5;
        let started = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        let most_ahead = AtomicUsize::new(0);
        let items: Vec<usize> = (0..300).collect();
        map_in_order(
            &pool(4),
            &items,
            window,
            |_, &n| {
                let ahead =
                    started.fetch_add(1, Ordering::SeqCst) + 1 - taken.load(Ordering::SeqCst);
                most_ahead.fetch_max(ahead, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_micros(
                    ((n * 7919) % 13) as u64 * 50,
                ));
                n
            },
            |_| {
                taken.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(taken.load(Ordering::SeqCst), 300);
        // Started but not yet taken: never more than the window.
        assert!(
            most_ahead.load(Ordering::SeqCst) <= window,
            "{most_ahead:?}"
        );
    }

    #[test]
    fn no_items_no_results() {
        let mut seen: Vec<u8> = Vec::new();
        map_in_order(&pool(2), &[] as &[u8], 4, |_, &n| n, |r| seen.push(r));
        assert!(seen.is_empty());
    }
}
