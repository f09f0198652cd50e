//! How long each phase of `kube-lsp check` takes, in wall time and in CPU time of every thread,
//! and how many pages it faulted in, logged at debug level (`check: phase <name>: …`): a phase
//! that runs on one thread alone shows as much CPU time as wall time however many threads there
//! are.

use std::time::{Duration, Instant};

/// The phases of one run, each measured from the end of the one before.
pub struct Phases {
    wall: Instant,
    usage: Usage,
}

impl Phases {
    pub fn start() -> Phases {
        Phases {
            wall: Instant::now(),
            usage: Usage::now(),
        }
    }

    /// Logs the phase that ends now.
    pub fn done(&mut self, phase: &str) {
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return;
        }
        let (wall, usage) = (Instant::now(), Usage::now());
        tracing::debug!(
            "check: phase {phase}: {:.1} ms wall, {:.1} ms CPU, {} page faults",
            (wall - self.wall).as_secs_f64() * 1e3,
            usage.cpu.saturating_sub(self.usage.cpu).as_secs_f64() * 1e3,
            usage.page_faults.saturating_sub(self.usage.page_faults),
        );
        (self.wall, self.usage) = (wall, usage);
    }
}

/// What the process used so far, every thread's.
#[derive(Clone, Copy, Default)]
struct Usage {
    /// User and system time.
    cpu: Duration,
    /// Pages faulted in without I/O (first touches, pages given back to the OS and used again).
    page_faults: u64,
}

impl Usage {
    fn now() -> Usage {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole `rusage` into the buffer it is given.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
            return Usage::default();
        }
        // SAFETY: zeroed, then filled by a successful getrusage.
        let usage = unsafe { usage.assume_init() };
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        Usage {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            page_faults: usage.ru_minflt as u64,
        }
    }
}
