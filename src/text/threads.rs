//! Work over a file's documents on every core (up to four): each thread takes the biggest item
//! left, so one big document does not leave the other threads idle at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads share such work: the cores, up to four (asked once: the answer reads
/// cgroup files).
pub fn available() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4)
    })
}

/// [`std::thread::scope`] for work over a file's documents on every core: freed memory is kept
/// a moment while it runs ([`KeepFreedMemory`](super::memory::KeepFreedMemory)), as each
/// document's allocations are freed before the next one's.
pub fn scope<'env, T>(
    f: impl for<'scope> FnOnce(&'scope std::thread::Scope<'scope, 'env>) -> T,
) -> T {
    let _kept = super::memory::KeepFreedMemory::hold();
    std::thread::scope(f)
}

/// `f` of every item `0..sizes.len()` (`sizes`: how big each is), in item order; on up to
/// [`available`] threads, biggest first. The calling thread works too.
pub fn biggest_first<T: Send>(sizes: &[usize], f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = available().min(sizes.len());
    if threads < 2 {
        return (0..sizes.len()).map(f).collect();
    }
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(sizes[index]));
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(sizes.len()));
    let work = || {
        let mut mine = Vec::new();
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            mine.push((index, f(index)));
        }
        done.lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(&mut mine);
    };
    scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// Drops `value` on a thread of its own: freeing thousands of small allocations takes
/// milliseconds that a caller holding a lock, or about to publish, should not spend. When no
/// thread can be started the value is dropped here (it goes with the failed spawn's closure).
pub fn drop_aside<T: Send + 'static>(value: T) {
    let dropping = std::thread::Builder::new().name("drop-aside".into());
    if let Err(error) = dropping.spawn(move || drop(value)) {
        tracing::debug!("dropped in place: no thread ({error})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_dropped_aside_is_dropped_on_another_thread() {
        struct Reports(std::sync::mpsc::Sender<Option<String>>);
        impl Drop for Reports {
            fn drop(&mut self) {
                let name = std::thread::current().name().map(str::to_owned);
                self.0.send(name).unwrap();
            }
        }
        let (sender, dropped) = std::sync::mpsc::channel();
        drop_aside(Reports(sender));
        let timeout = std::time::Duration::from_secs(10);
        let thread = dropped.recv_timeout(timeout).unwrap();
        assert_eq!(thread.as_deref(), Some("drop-aside"));
    }

    #[test]
    fn every_item_once_in_item_order() {
        let sizes: Vec<usize> = (0..1000).map(|i| (i * 7919) % 97).collect();
        let calls = AtomicUsize::new(0);
        let results = biggest_first(&sizes, |index| {
            calls.fetch_add(1, Ordering::Relaxed);
            index * 2
        });
        assert_eq!(calls.into_inner(), 1000);
        assert_eq!(results, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        assert!(biggest_first(&[], |i| i).is_empty());
    }
}
