use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kube_lsp::cli::check::{self, CheckArgs};

/// mimalloc: opening a big file allocates many small objects on two threads, where glibc's
/// malloc spends much of the time in `free` and arena locks (docs/architecture.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A language server for Kubernetes YAML.
#[derive(Parser)]
#[command(name = "kube-lsp", version, about)]
struct Cli {
    /// Log filter for stderr (error, warn, info, debug, trace, or a tracing filter such as
    /// `kube_lsp=debug`). Logs never go to stdout.
    #[arg(long, global = true, env = "KUBE_LSP_LOG", default_value = "info")]
    log_level: String,

    /// Speak LSP over stdio (what editors pass; the default anyway).
    #[arg(long)]
    stdio: bool,

    /// Largest LSP message read, in bytes; a bigger one is skipped and answered with an error.
    /// The default takes a 64 MB document, JSON-escaped, several times over.
    #[arg(long, global = true, env = "KUBE_LSP_MAX_MESSAGE_BYTES", default_value_t = kube_lsp::server::FrameLimits::default().body)]
    max_message_bytes: usize,

    /// Longest LSP header line read, in bytes; a longer line is skipped.
    #[arg(long, global = true, env = "KUBE_LSP_MAX_HEADER_BYTES", default_value_t = kube_lsp::server::FrameLimits::default().header_line)]
    max_header_bytes: usize,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server over stdio (the default).
    Serve {
        /// Accepted for editors that pass it.
        #[arg(long)]
        stdio: bool,
    },
    /// Check manifests and print diagnostics like a compiler: `path:line:col: severity: message [code]`.
    Check(Box<CheckArgs>),
}

fn main() -> ExitCode {
    share_the_allocator_with_tree_sitter();
    return_freed_memory_at_once();
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    match cli.command {
        Some(Command::Check(args)) => {
            keep_freed_memory_a_moment();
            check::run(&args)
        }
        Some(Command::Serve { .. }) | None => serve(kube_lsp::server::FrameLimits {
            header_line: cli.max_header_bytes.max(64),
            body: cli.max_message_bytes,
        }),
    }
}

fn serve(limits: kube_lsp::server::FrameLimits) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-lsp: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let ending = runtime.block_on(kube_lsp::server::run_stdio(limits));
    // After `exit` the stdin reader may still sit in a blocking read (clients need not close the
    // pipe): do not wait for it.
    runtime.shutdown_background();
    // Nor for the threads that watch Helm and kustomize: end their tools and remove their folders.
    kube_lsp::render::process::stop_all();
    match ending {
        kube_lsp::server::Ending::Clean => ExitCode::SUCCESS,
        // The LSP: exit without shutdown first exits with 1.
        kube_lsp::server::Ending::WithoutShutdown => ExitCode::from(1),
    }
}

/// tree-sitter's C code allocates through mimalloc too: the tree of an edited big document (many
/// times its text) then reuses memory the open just freed instead of adding to it (peak RSS).
fn share_the_allocator_with_tree_sitter() {
    use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_zalloc};
    use std::ffi::c_void;
    unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        match count.checked_mul(size) {
            // SAFETY: mi_zalloc returns zeroed memory of that size, or null.
            Some(total) => unsafe { mi_zalloc(total) },
            None => std::ptr::null_mut(),
        }
    }
    // SAFETY: called first thing in main, before any tree-sitter object exists, so every
    // allocation tree-sitter frees came from these functions.
    unsafe {
        tree_sitter::set_allocator(
            Some(mi_malloc),
            Some(calloc),
            Some(mi_realloc),
            Some(mi_free),
        );
    }
}

/// mimalloc keeps freed pages a while before giving them back to the OS (1 s in mimalloc 3, which
/// the `mimalloc` crate builds), so requests on the two tokio workers hold each other's garbage
/// at once and raise the peak RSS; with no delay the peak is lower at the same speed
/// (docs/benchmarks.md). Work on every core keeps them a moment
/// meanwhile (`text::memory`). `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn return_freed_memory_at_once() {
    kube_lsp::text::memory::set_purge_delay(0);
}

/// `kube-lsp check` frees what it allocated for a file before it checks the next one: with no
/// delay, the pages it empties go back to the OS and are faulted in again for the next file
/// (about one `madvise` per file), and on two threads each of those interrupts the other core to
/// flush its TLB. Kept a millisecond, the pages are used again instead, for a little more peak
/// RSS (docs/benchmarks.md).
fn keep_freed_memory_a_moment() {
    kube_lsp::text::memory::set_purge_delay(kube_lsp::text::memory::KEPT_MILLISECONDS);
}

fn init_logging(filter: &str) {
    let mut env_filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if !filter.contains("kube_client") {
        // kube logs every non-2xx answer at ERROR; a rejected dry-run is a diagnostic here, and
        // connection errors are logged (once per state change) by kube-lsp itself.
        if let Ok(quiet) = "kube_client::client::builder=off".parse() {
            env_filter = env_filter.add_directive(quiet);
        }
    }
    let filter = env_filter;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
