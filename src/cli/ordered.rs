//! Work spread over a thread pool whose results are used in the order of the inputs, as they
//! come: `check` prints a file's findings as soon as the files before it are printed, and holds
//! only the files being checked and a bounded number of results waiting for their turn.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use rayon::iter::{ParallelBridge, ParallelIterator};

/// Maps each of `items` with `map` on `pool`'s threads and calls `each` (on the calling thread)
/// with the results in the items' order. An item is started only once fewer than `window`
/// results before it are waiting for `each`, so at most `window` results (and one item per
/// thread) are held at once. Items are started in their order.
pub fn map_in_order<T, R>(
    pool: &rayon::ThreadPool,
    items: impl Iterator<Item = T> + Send,
    window: usize,
    map: impl Fn(T) -> R + Sync,
    mut each: impl FnMut(R),
) where
    T: Send,
    R: Send,
{
    let window = window.max(1);
    // How many results `each` has taken.
    let taken = (Mutex::new(0_usize), Condvar::new());
    let (sender, receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        let taken = &taken;
        let map = &map;
        scope.spawn(move || {
            pool.install(|| {
                items
                    .enumerate()
                    .inspect(|(number, _)| wait_for_turn(taken, *number, window))
                    .par_bridge()
                    .for_each_with(sender, |sender, (number, item)| {
                        // The receiver outlives every sender; a send cannot fail.
                        let _ = sender.send((number, map(item)));
                    });
            });
        });
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (number, result) in receiver {
            waiting.insert(number, result);
            while let Some(result) = waiting.remove(&next) {
                each(result);
                next += 1;
                *taken.0.lock().unwrap_or_else(|p| p.into_inner()) = next;
                taken.1.notify_all();
            }
        }
    });
}

/// Blocks until item `number` may start: fewer than `window` items before it are untaken.
fn wait_for_turn(taken: &(Mutex<usize>, Condvar), number: usize, window: usize) {
    let (lock, turned) = taken;
    let mut done = lock.lock().unwrap_or_else(|p| p.into_inner());
    while number >= *done + window {
        done = turned.wait(done).unwrap_or_else(|p| p.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pool(threads: usize) -> rayon::ThreadPool {
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
            map_in_order(
                &pool(threads),
                0..200_u64,
                8,
                |n| {
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
        map_in_order(
            &pool(4),
            0..300_usize,
            window,
            |n| {
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
        map_in_order(
            &pool(2),
            std::iter::empty::<u8>(),
            4,
            |n| n,
            |r| seen.push(r),
        );
        assert!(seen.is_empty());
    }
}
