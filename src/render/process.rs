//! One way to run a local tool: no shell, stdin closed unless given, stdout and stderr read on
//! threads of their own up to a bound, and a deadline after which the process is killed. A
//! renderer that hangs or floods its output ends as an error, never as a stuck server. The
//! tools running and the scratch folders in use are tracked, so that a server that exits can end
//! and remove them ([`stop_all`]): an exiting process does not wait for the threads that watch
//! its tools, and their clean-up would never run.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished process left.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Output {
    /// stderr as text (lossy), trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// Why a tool gave no output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{} was not found (install it or set its path in the settings)", .0.display())]
    NotFound(PathBuf),
    #[error("cannot run {}: {source}", .program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} did not finish within {} ms and was stopped", .program.display(), .timeout.as_millis())]
    Timeout { program: PathBuf, timeout: Duration },
    #[error("{} printed more than {limit} bytes and was stopped", .program.display())]
    TooMuchOutput { program: PathBuf, limit: usize },
    #[error("{} was stopped: kube-lsp is exiting", .program.display())]
    Exiting { program: PathBuf },
}

/// The tools running (by process id) and the scratch folders in use.
struct Tracked {
    state: Mutex<TrackedState>,
}

struct TrackedState {
    running: Vec<u32>,
    folders: Vec<PathBuf>,
    /// Set by [`Tracked::stop_all`]: no tool starts after it.
    stopping: bool,
}

/// The process's tools and folders.
static TRACKED: Tracked = Tracked::new();

/// Kills the tools still running and removes the scratch folders still in use; later runs fail
/// with [`RunError::Exiting`]. For a process about to exit.
pub fn stop_all() {
    TRACKED.stop_all();
}

impl Tracked {
    const fn new() -> Self {
        Tracked {
            state: Mutex::new(TrackedState {
                running: Vec::new(),
                folders: Vec::new(),
                stopping: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TrackedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kills the tools, then removes the folders they ran in.
    fn stop_all(&self) {
        let mut state = self.lock();
        state.stopping = true;
        // Their ids are still theirs: a child is reaped only under this lock (`finished`), and
        // an unreaped child's id is not given to another process.
        for &pid in &state.running {
            kill_group(pid);
        }
        for folder in state.folders.drain(..) {
            let _ = std::fs::remove_dir_all(folder);
        }
    }

    /// Starts tracking `child`; `false` (and the child killed as any other) when stopping.
    fn started(&self, child: &mut Child) -> bool {
        let stopping = {
            let mut state = self.lock();
            if !state.stopping {
                state.running.push(child.id());
            }
            state.stopping
        };
        if stopping {
            self.kill(child);
        }
        !stopping
    }

    /// The child's status if it has exited (reaped and no longer tracked).
    fn finished(&self, child: &mut Child) -> Option<ExitStatus> {
        let mut state = self.lock();
        let status = child.try_wait().ok().flatten()?;
        state.running.retain(|&pid| pid != child.id());
        Some(status)
    }

    /// Kills the child (with what it started) and reaps it.
    fn kill(&self, child: &mut Child) {
        let mut state = self.lock();
        kill_group(child.id());
        let _ = child.wait();
        state.running.retain(|&pid| pid != child.id());
    }
}

/// Kills the process group a tool leads (see [`run`]): the tool and anything it started, whose
/// open pipes would otherwise keep its output from ending.
fn kill_group(leader: u32) {
    if let Ok(group) = libc::pid_t::try_from(leader) {
        // SAFETY: kill(2) with a group id and a signal number; no memory is shared.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
}

/// A temporary folder for a tool to run in: removed when dropped, or by [`stop_all`] when the
/// process exits first.
pub struct ScratchFolder {
    folder: tempfile::TempDir,
    tracked: &'static Tracked,
}

impl ScratchFolder {
    /// A new folder in the system's temporary folder, its name starting with `prefix`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        ScratchFolder::new_in(&TRACKED, prefix)
    }

    fn new_in(tracked: &'static Tracked, prefix: &str) -> std::io::Result<Self> {
        let mut state = tracked.lock();
        if state.stopping {
            return Err(std::io::Error::other("kube-lsp is exiting"));
        }
        let folder = tempfile::Builder::new().prefix(prefix).tempdir()?;
        state.folders.push(folder.path().to_path_buf());
        Ok(ScratchFolder { folder, tracked })
    }

    pub fn path(&self) -> &Path {
        self.folder.path()
    }
}

impl Drop for ScratchFolder {
    fn drop(&mut self) {
        let path = self.folder.path();
        self.tracked.lock().folders.retain(|folder| folder != path);
    }
}

/// How to run a tool.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr each; more stops the process.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            max_output: 64 << 20,
        }
    }
}

/// Runs `program` with `args` in `dir`, feeding it `stdin` if given, within `limits`.
pub fn run<I, S>(
    program: &Path,
    args: I,
    dir: Option<&Path>,
    stdin: Option<&[u8]>,
    limits: &Limits,
) -> Result<Output, RunError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let command = command(program, args, dir, stdin.is_some());
    run_command(&TRACKED, program, command, stdin, limits)
}

/// The command [`run`] runs: stdout and stderr piped, stdin piped only when there is input.
fn command<I, S>(program: &Path, args: I, dir: Option<&Path>, input: bool) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if input { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a kill reaches what it starts too.
        .process_group(0);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
}

/// Runs `command` (of `program`), tracked in `tracked`.
fn run_command(
    tracked: &Tracked,
    program: &Path,
    mut command: Command,
    stdin: Option<&[u8]>,
    limits: &Limits,
) -> Result<Output, RunError> {
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound(program.to_path_buf()),
        _ => RunError::Spawn {
            program: program.to_path_buf(),
            source,
        },
    })?;
    if !tracked.started(&mut child) {
        return Err(RunError::Exiting {
            program: program.to_path_buf(),
        });
    }
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        // A tool that exits without reading its input closes the pipe: that is its answer.
        thread::spawn(move || pipe.write_all(&input));
    }
    let (sender, received) = mpsc::channel();
    let stdout = read_bounded(child.stdout.take(), limits.max_output, sender.clone(), true);
    let stderr = read_bounded(child.stderr.take(), limits.max_output, sender, false);
    let deadline = started + limits.timeout;
    let outcome = wait(tracked, &mut child, &received, deadline, program, limits);
    if outcome.is_err() {
        tracked.kill(&mut child);
    }
    let status = outcome?;
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    })
}

/// Waits for the process to exit, or for the deadline, or for a reader to pass the bound.
fn wait(
    tracked: &Tracked,
    child: &mut Child,
    overflow: &mpsc::Receiver<()>,
    deadline: Instant,
    program: &Path,
    limits: &Limits,
) -> Result<ExitStatus, RunError> {
    loop {
        if let Some(status) = tracked.finished(child) {
            return Ok(status);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(RunError::Timeout {
                program: program.to_path_buf(),
                timeout: limits.timeout,
            });
        }
        let pause = (deadline - now).min(Duration::from_millis(5));
        if overflow.recv_timeout(pause).is_ok() {
            return Err(RunError::TooMuchOutput {
                program: program.to_path_buf(),
                limit: limits.max_output,
            });
        }
    }
}

/// Reads a pipe on its own thread up to `limit` bytes; past it, says so on `overflow` (once, for
/// stdout only: a chatty stderr is cut, not fatal) and drains the rest.
fn read_bounded(
    pipe: Option<impl Read + Send + 'static>,
    limit: usize,
    overflow: mpsc::Sender<()>,
    fatal: bool,
) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let Some(mut pipe) = pipe else { return kept };
        let mut buffer = [0u8; 64 * 1024];
        let mut told = false;
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => return kept,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len());
                    kept.extend_from_slice(&buffer[..n.min(room)]);
                    if n > room && fatal && !told {
                        told = true;
                        let _ = overflow.send(());
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, limits: &Limits) -> Result<Output, RunError> {
        run(Path::new("sh"), ["-c", script], None, None, limits)
    }

    #[test]
    fn output_and_status_come_back() {
        let out = sh("echo out; echo err >&2; exit 3", &Limits::default()).unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr_text(), "err");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn stdin_is_fed() {
        let out = run(
            Path::new("cat"),
            std::iter::empty::<&str>(),
            None,
            Some(b"hello"),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(out.stdout, b"hello");
    }

    #[test]
    fn a_hanging_tool_is_stopped_at_its_deadline() {
        let limits = Limits {
            timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let started = Instant::now();
        let error = sh("sleep 30", &limits).unwrap_err();
        assert!(matches!(error, RunError::Timeout { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// `program` with `args` in `dir`, run with `tracked`.
    fn run_tracked(
        tracked: &Tracked,
        program: &str,
        args: &[&str],
        dir: Option<&Path>,
    ) -> Result<Output, RunError> {
        let program = Path::new(program);
        let command = command(program, args, dir, false);
        run_command(tracked, program, command, None, &Limits::default())
    }

    /// `true`, run with `tracked`.
    fn run_true(tracked: &Tracked) -> Result<Output, RunError> {
        run_tracked(tracked, "true", &[], None)
    }

    #[test]
    fn stopping_kills_the_running_tools_and_removes_their_folders() {
        static TRACKED: Tracked = Tracked::new();
        let folder = ScratchFolder::new_in(&TRACKED, "kube-lsp-test-").unwrap();
        let path = folder.path().to_path_buf();
        let started = Instant::now();
        let running =
            thread::spawn(move || run_tracked(&TRACKED, "sh", &["-c", "sleep 30"], Some(&path)));
        while TRACKED.lock().running.is_empty() {
            assert!(started.elapsed() < Duration::from_secs(10), "never started");
            thread::sleep(Duration::from_millis(5));
        }
        TRACKED.stop_all();
        let output = running.join().unwrap().unwrap();
        assert_eq!(output.status.code(), None, "ended by a signal");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!folder.path().exists());
        assert!(TRACKED.lock().running.is_empty());

        let later = run_true(&TRACKED);
        assert!(matches!(later, Err(RunError::Exiting { .. })), "{later:?}");
        assert!(ScratchFolder::new_in(&TRACKED, "kube-lsp-test-").is_err());
    }

    #[test]
    fn a_finished_tool_and_a_dropped_folder_are_no_longer_tracked() {
        static TRACKED: Tracked = Tracked::new();
        let folder = ScratchFolder::new_in(&TRACKED, "kube-lsp-test-").unwrap();
        let path = folder.path().to_path_buf();
        assert!(run_true(&TRACKED).unwrap().status.success());
        assert!(TRACKED.lock().running.is_empty());
        assert_eq!(TRACKED.lock().folders, std::slice::from_ref(&path));
        drop(folder);
        assert!(!path.exists());
        assert!(TRACKED.lock().folders.is_empty());
    }

    #[test]
    fn a_flood_of_output_is_stopped() {
        let limits = Limits {
            max_output: 1 << 16,
            ..Limits::default()
        };
        let error = sh("yes", &limits).unwrap_err();
        assert!(matches!(error, RunError::TooMuchOutput { .. }), "{error}");
    }

    #[test]
    fn a_missing_tool_says_so() {
        let error = run(
            Path::new("/nonexistent/helm"),
            ["version"],
            None,
            None,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(error, RunError::NotFound(_)));
        assert!(error.to_string().contains("was not found"), "{error}");
    }
}
