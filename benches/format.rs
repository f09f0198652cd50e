//! Formatting (issue 23): the whole-file formatting request as the server answers it
//! (`format_edits`: pretty_yaml on each document, the guards, the line edits), on a file that
//! needs formatting (as written) and on its formatted text (the common case: nothing to change).
//!
//! `cargo bench --bench format [-- FILE]` (default: the corpus' argocd install.yaml). Prints the
//! first run, the median and the slowest of 20; nothing is asserted.

use kube_lsp::features::format::{
    Cache, FormatOptions, Formatted, format, format_edits, format_edits_with,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/input.rs"]
mod input;
#[path = "common/runs.rs"]
mod runs;

use runs::{RUNS, samples};

/// Times `RUNS` whole-file formattings of `text` (the edits, and the formatted text alone);
/// prints them with how many edits they gave.
fn measure(label: &str, text: &str, options: &FormatOptions) {
    let mut edits = 0;
    let with_edits = samples(|| edits = format_edits(text, options).len());
    let text_alone = samples(|| {
        format(text, options);
    });
    println!("{label}: {edits} edits; edits {with_edits}; formatted text alone {text_alone}");
    // As the server answers format on save: its cache holds the file's last formatting, and
    // each run's text has one more line edited, in another document each time.
    let cache = Cache::default();
    format_edits_with(text, options, Some(&cache));
    let edited = one_line_edits(text);
    let mut next = edited.iter();
    let before = cache.documents_formatted();
    let after_edit = samples(|| {
        let text = next.next().expect("one text per run");
        format_edits_with(text, options, Some(&cache));
    });
    let formatted = cache.documents_formatted() - before;
    println!(
        "{label}, one more line edited per run, server's cache: {formatted} documents formatted in {RUNS} runs; edits {after_edit}"
    );
}

/// [`RUNS`] texts, each `text` with one more `key: value` line's value lengthened, the lines
/// spread over the file.
fn one_line_edits(text: &str) -> Vec<String> {
    let editable: Vec<usize> = text
        .match_indices('\n')
        .map(|(at, _)| at)
        .filter(|&end| {
            let line = text[..end].rsplit('\n').next().unwrap_or("");
            line.trim_start()
                .split_once(": ")
                .is_some_and(|(key, value)| {
                    key.chars().all(|c| c.is_ascii_alphanumeric())
                        && !value.is_empty()
                        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        })
        .collect();
    let mut edited = text.to_string();
    (0..RUNS)
        .map(|run| {
            let at = editable[(run * 2 + 1) * editable.len() / (RUNS * 2)];
            // The lines go down the file: the `run` characters inserted before are above.
            edited.insert(at + run, 'x');
            edited.clone()
        })
        .collect()
}

fn main() {
    let (path, text) = input::file_argument();
    let options = FormatOptions::default();
    println!(
        "{path}: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    let formatted = match format(&text, &options) {
        Formatted::Text { text, kept, .. } => {
            println!("documents kept as written by the guards: {}", kept.len());
            text
        }
        Formatted::LeftAlone(why) => {
            println!("left alone: {why}");
            return;
        }
    };
    measure("as written", &text, &options);
    measure("formatted already", &formatted, &options);
}
