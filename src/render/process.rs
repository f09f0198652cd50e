//! One way to run a local tool: no shell, stdin closed unless given, stdout and stderr read on
//! threads of their own up to a bound, and a deadline after which the process is killed. A
//! renderer that hangs or floods its output ends as an error, never as a stuck server.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
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
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound(program.to_path_buf()),
        _ => RunError::Spawn {
            program: program.to_path_buf(),
            source,
        },
    })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        // A tool that exits without reading its input closes the pipe: that is its answer.
        thread::spawn(move || pipe.write_all(&input));
    }
    let (sender, received) = mpsc::channel();
    let stdout = read_bounded(child.stdout.take(), limits.max_output, sender.clone(), true);
    let stderr = read_bounded(child.stderr.take(), limits.max_output, sender, false);
    let deadline = started + limits.timeout;
    let outcome = wait(&mut child, &received, deadline, program, limits);
    if outcome.is_err() {
        let _ = child.kill();
        let _ = child.wait();
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
    child: &mut Child,
    overflow: &mpsc::Receiver<()>,
    deadline: Instant,
    program: &Path,
    limits: &Limits,
) -> Result<ExitStatus, RunError> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
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
