//! How long each phase of `kube-lsp check` takes, in wall time and in CPU time of every thread,
//! logged at debug level (`check: phase <name>: …`): a phase that runs on one thread alone
//! shows as much CPU time as wall time however many threads there are.

use std::time::{Duration, Instant};

/// The phases of one run, each measured from the end of the one before.
pub struct Phases {
    wall: Instant,
    cpu: Duration,
}

impl Phases {
    pub fn start() -> Phases {
        Phases {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// Logs the phase that ends now.
    pub fn done(&mut self, phase: &str) {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return;
        }
        let (wall, cpu) = (Instant::now(), process_cpu());
        tracing::debug!(
            "check: phase {phase}: {:.1} ms wall, {:.1} ms CPU",
            (wall - self.wall).as_secs_f64() * 1e3,
            cpu.saturating_sub(self.cpu).as_secs_f64() * 1e3,
        );
        (self.wall, self.cpu) = (wall, cpu);
    }
}

/// User and system time of the process so far, every thread's.
fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the buffer it is given.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return Duration::ZERO;
    }
    // SAFETY: zeroed, then filled by a successful getrusage.
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}
