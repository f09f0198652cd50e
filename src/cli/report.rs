//! The report of `kube-lsp check` on standard output, written as the findings come, and the
//! summary line on stderr.

use std::io::Write;

use super::check::{Format, Reported};
use crate::diagnostic::Severity;

/// How many findings of each severity were printed.
#[derive(Default, Debug)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub hints: usize,
}

/// The report on standard output, written as the findings come: lines of text, or the elements
/// of a JSON array; SARIF, one document that lists the rules found, is written at the end.
pub struct Output<W: Write> {
    out: W,
    format: Format,
    printed: usize,
    counts: Counts,
    /// The findings printed, when asked to keep them.
    pub kept: Vec<Reported>,
    keep: bool,
    sarif: Vec<Reported>,
    error: Option<std::io::Error>,
}

impl<W: Write> Output<W> {
    pub fn new(out: W, format: Format, keep: bool) -> Output<W> {
        Output {
            out,
            format,
            printed: 0,
            counts: Counts::default(),
            kept: Vec::new(),
            keep,
            sarif: Vec::new(),
            error: None,
        }
    }

    pub fn extend(&mut self, reports: impl IntoIterator<Item = Reported>) {
        for report in reports {
            self.count(&report);
            if self.error.is_none()
                && let Err(error) = self.write(&report)
            {
                self.error = Some(error);
            }
            self.printed += 1;
            if self.keep {
                self.kept.push(report.clone());
            }
            if self.format == Format::Sarif {
                self.sarif.push(report);
            }
        }
    }

    fn count(&mut self, report: &Reported) {
        let counter = match report.severity {
            s if s == Severity::Error.as_str() => &mut self.counts.errors,
            s if s == Severity::Warning.as_str() => &mut self.counts.warnings,
            s if s == Severity::Information.as_str() => &mut self.counts.infos,
            _ => &mut self.counts.hints,
        };
        *counter += 1;
    }

    fn write(&mut self, r: &Reported) -> std::io::Result<()> {
        match self.format {
            Format::Text => writeln!(
                self.out,
                "{}:{}:{}: {}: {} [{}]",
                r.path, r.line, r.column, r.severity, r.message, r.code
            ),
            // serde_json's pretty array, one element at a time.
            Format::Json => {
                self.out
                    .write_all(if self.printed == 0 { b"[\n" } else { b",\n" })?;
                let element = serde_json::to_string_pretty(r)?;
                for (number, line) in element.lines().enumerate() {
                    if number > 0 {
                        self.out.write_all(b"\n")?;
                    }
                    write!(self.out, "  {line}")?;
                }
                Ok(())
            }
            Format::Sarif => Ok(()),
        }
    }

    /// Ends the report; the counts of what it holds.
    pub fn finish(mut self) -> std::io::Result<Counts> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        match self.format {
            Format::Text => {}
            Format::Json if self.printed == 0 => writeln!(self.out, "[]")?,
            Format::Json => writeln!(self.out, "\n]")?,
            Format::Sarif => {
                serde_json::to_writer_pretty(&mut self.out, &super::sarif::log(&self.sarif))?;
                writeln!(self.out)?;
            }
        }
        self.out.flush()?;
        Ok(self.counts)
    }
}

/// The line that ends a run, on stderr: what was checked and what was found, by severity.
pub fn summary(files: usize, documents: usize, counts: &Counts) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let checked = format!(
        "kube-lsp: checked {}, {}",
        plural(files, "file"),
        plural(documents, "document")
    );
    if counts.errors + counts.warnings + counts.infos + counts.hints == 0 {
        return format!("{checked}: no problems found");
    }
    let found = [
        plural(counts.errors, "error"),
        plural(counts.warnings, "warning"),
        plural(counts.infos, "info"),
        plural(counts.hints, "hint"),
    ];
    format!("{checked}: {}", found.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::check::check_bytes;
    use crate::schema::Catalog;

    /// JSON and SARIF written a finding at a time are what serde_json writes for them all.
    #[test]
    fn streamed_reports_are_the_reports_printed_at_once() {
        let reported: Vec<Reported> = ["a.yaml", "b \"quoted\"\nname.yaml", "c.yaml"]
            .iter()
            .flat_map(|name| check_bytes(name, b"a: 1\na: 2\nb: [\n", &Catalog::builtin()))
            .collect();
        assert!(reported.len() >= 3);
        let streamed = |format: Format, reports: &[Reported]| {
            let mut bytes = Vec::new();
            let mut output = Output::new(&mut bytes, format, false);
            output.extend(reports.iter().cloned());
            output.finish().unwrap();
            String::from_utf8(bytes).unwrap()
        };
        for reports in [&reported[..], &reported[..1], &[]] {
            let json = serde_json::to_string_pretty(reports).unwrap() + "\n";
            assert_eq!(streamed(Format::Json, reports), json);
            let mut sarif = Vec::new();
            serde_json::to_writer_pretty(&mut sarif, &super::super::sarif::log(reports)).unwrap();
            sarif.push(b'\n');
            assert_eq!(streamed(Format::Sarif, reports).as_bytes(), sarif);
        }
    }
}
