//! Timing an in-process step: the first, median and slowest of a fixed number of runs.

use std::time::{Duration, Instant};

/// How many times a step runs.
pub const RUNS: usize = 20;

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The first, median and slowest of [`RUNS`] runs of `run`.
pub fn samples(mut run: impl FnMut()) -> String {
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        run();
        samples.push(started.elapsed());
    }
    let first = samples[0];
    samples.sort();
    format!(
        "first {:.1} ms, median {:.1} ms, slowest {:.1} ms",
        milliseconds(first),
        milliseconds(samples[RUNS / 2]),
        milliseconds(samples[RUNS - 1]),
    )
}
