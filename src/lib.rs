//! kube-lsp: a language server for Kubernetes YAML.
//!
//! Layers, each using only those below it (docs/architecture.md; `tests/layering.rs` checks):
//! `text` | `files` → `diagnostic` → `yaml` → `schema` → `cluster` | `render` → `workspace` → `features`
//! → `server` | `cli`.

/// Declares a count of some work done on this thread, kept in test builds only, and `$reader()`,
/// which reads it: tests count the work an algorithm does (documents parsed, fixes worked out)
/// to keep its cost from coming back, never its time. [`count_work!`] adds to it.
macro_rules! work_counter {
    ($(#[$doc:meta])* $vis:vis fn $reader:ident() => $name:ident) => {
        #[cfg(test)]
        thread_local! {
            static $name: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        $(#[$doc])*
        #[cfg(test)]
        $vis fn $reader() -> usize {
            $name.get()
        }
    };
}

/// Adds one (or `$amount`) to a [`work_counter!`], in test builds only.
macro_rules! count_work {
    ($name:path) => {
        count_work!($name, 1)
    };
    ($name:path, $amount:expr) => {
        #[cfg(test)]
        $name.with(|count| count.set(count.get() + $amount));
    };
}

pub mod cli;
pub mod cluster;
pub mod diagnostic;
pub mod features;
pub mod files;
pub mod net;
pub mod render;
pub mod schema;
pub mod server;
pub mod text;
pub mod workspace;
pub mod yaml;
