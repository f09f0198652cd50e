//! `kube-lsp check`: the server's diagnostics for files on disk, printed like a compiler's.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Args, ValueEnum};
use rayon::iter::{IndexedParallelIterator, IntoParallelRefIterator, ParallelIterator};
use ropey::Rope;
use serde::Serialize;

use super::report::{Output, summary};
use crate::diagnostic::{Diagnostic, SOURCE, Severity, codes};
use crate::features::diagnostics::text_diagnostics_with_rules;
use crate::features::modeline;
use crate::features::rules::config::{self as rule_config, KubeLinterConfig};
use crate::features::rules::{Config, Context};
use crate::schema::{Catalog, SourceKind, Store, crd};
use crate::workspace::Workspace;
use crate::workspace::crd_files::load_crd_files;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files and directories (searched for *.yaml and *.yml); `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// CRD files or directories whose CustomResourceDefinitions validate custom resources
    /// (repeatable). CRDs among the checked files are used too.
    #[arg(long = "schema-path", value_name = "PATH")]
    pub schema_paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// How many files are checked at once, each on a thread (default: one per CPU core). The
    /// output is the same, in the same order, whatever the number.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,

    /// Also dry-run every Kubernetes document against the cluster (server-side apply with
    /// `dryRun=All`) and diff it with the live object. Exits like `kubectl diff`: 0 no
    /// difference, 1 differences, 2 errors.
    #[arg(long)]
    pub cluster: bool,

    /// Kubeconfig context for `--cluster` (default: the current-context).
    #[arg(long, requires = "cluster")]
    pub context: Option<String>,

    /// Kubeconfig path(s) for `--cluster` (default: KUBECONFIG, else ~/.kube/config).
    #[arg(long, requires = "cluster")]
    pub kubeconfig: Option<String>,

    /// Namespace of objects without one, for `--cluster` (default: the context's).
    #[arg(long, short = 'n', requires = "cluster")]
    pub namespace: Option<String>,

    /// Timeout of each cluster request, in milliseconds.
    #[arg(long, default_value_t = 5000, requires = "cluster")]
    pub request_timeout_ms: u64,

    /// Files (and standard input) bigger than this are not read; so are files that are not
    /// regular files (a FIFO, a device).
    #[arg(long, default_value_t = crate::files::DEFAULT_MAX_BYTES)]
    pub max_file_bytes: u64,
    /// Exit 1 on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,

    /// kube-linter's configuration file for the rules (`checks.include`, `exclude`,
    /// `addAllBuiltIn`, `doNotAutoAddDefaults`). Default: `.kube-linter.yaml` or
    /// `.kube-linter.yml` in the current directory, if there is one.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Turn on a rule, a group (security, reliability, references, conventions) or `all`
    /// (repeatable; kube-linter's `--include`).
    #[arg(long = "include", value_name = "RULE")]
    pub include: Vec<String>,

    /// Turn off a rule, a group or `all` (repeatable; kube-linter's `--exclude`).
    #[arg(long = "exclude", value_name = "RULE")]
    pub exclude: Vec<String>,

    /// Do not turn on the default rules: only those included.
    #[arg(long)]
    pub do_not_auto_add_defaults: bool,

    /// Turn on every rule.
    #[arg(long)]
    pub add_all_built_in: bool,

    /// No rules at all: YAML and schema diagnostics (and the cluster's) only.
    #[arg(long)]
    pub no_rules: bool,
    /// Do not render the Helm charts and kustomizations among the files (they are rendered with
    /// helm and kustomize by default, and their findings reported on the files that produced
    /// them); chart templates are still checked as templates.
    #[arg(long)]
    pub no_render: bool,

    /// The kustomize to render with: a `kustomize` (run as `kustomize build`) or a `kubectl`
    /// (run as `kubectl kustomize`; default: `kubectl` from PATH).
    #[arg(long, value_name = "PATH")]
    pub kustomize: Option<PathBuf>,

    /// The `helm` program that renders the Helm charts among the inputs (Helm v4).
    #[arg(long, env = "KUBE_LSP_HELM", default_value = "helm")]
    pub helm: PathBuf,

    /// Extra values files for rendering the charts (repeatable), after each chart's values.yaml.
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,

    /// How long `helm template` may run per chart, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub helm_timeout_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:col: severity: message [code]`
    Text,
    /// A JSON array of diagnostics.
    Json,
    /// SARIF 2.1.0 (code scanning, CI).
    Sarif,
}

/// One printed diagnostic; lines and columns are 1-based, columns count characters.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: &'static str,
    pub code: &'static str,
    pub source: &'static str,
    pub message: String,
}

/// Exit codes: 0 clean, 1 an error-level diagnostic, 2 a usage or I/O error.
///
/// The files are read twice, each time on every thread of the pool (`--jobs`), and each dropped
/// once used: first for what checking a file needs of the others (the CRDs, the index the rules
/// and kustomize look objects up in: only those are kept), then to check them, a file's
/// findings printed as soon as the files before it are printed. So only the files being
/// checked are held at once, and the output is the same whatever the number of threads.
/// `--cluster` keeps every file for the dry-runs that follow.
pub fn run(args: &CheckArgs) -> ExitCode {
    crate::files::set_max_bytes(args.max_file_bytes);
    let mut phases = super::phases::Phases::start();
    let mut io_errors = 0;
    let pool = match thread_pool(args.jobs) {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("kube-lsp: cannot start the threads that check: {error}");
            return ExitCode::from(2);
        }
    };
    // The charts to render are looked for while the folders are walked, and the built-in
    // schema's list of kinds is read meanwhile.
    let ((inputs, charts), _) =
        pool.install(|| rayon::join(|| inputs(&args.paths, &mut io_errors), Store::builtin));
    let roots = if args.no_render {
        Vec::new()
    } else {
        super::charts::chart_roots(charts)
    };
    phases.done("walk");
    for path in &args.schema_paths {
        if !path.exists() {
            eprintln!(
                "kube-lsp: --schema-path {}: no such file or directory",
                path.display()
            );
            io_errors += 1;
        }
    }
    let Some(rules) = rules_config(args) else {
        return ExitCode::from(2);
    };
    let holdings = Holdings::default();
    let stdin = read_stdin(&inputs);
    let survey = pool.install(|| survey(&inputs, &stdin, &args.paths, &holdings, &mut phases));
    phases.done("index pass: kustomize's reader");
    // Kept to the end of the process: freeing the indexes of every file would only delay its exit.
    let survey = std::mem::ManuallyDrop::new(survey);
    for (input, error) in inputs.iter().zip(&survey.unread) {
        if let Some(error) = error {
            eprintln!("kube-lsp: {}: {error}", display(input));
            io_errors += 1;
        }
    }
    let configured = load_crd_files(&args.schema_paths, SourceKind::SchemaPath)
        .into_iter()
        .map(|(_, store)| store);
    let catalog = Catalog::with_builtin(
        survey
            .crds
            .iter()
            .cloned()
            .chain(configured)
            .collect::<Vec<_>>(),
    );
    let kustomize = &survey.kustomize;
    // The rules that look at other objects find them among the checked files.
    let index = survey.workspace.read();
    // With `--cluster`, what the checked files do not hold is looked for in the cluster too.
    let cluster_lists = args
        .cluster
        .then(|| super::cluster_objects::ClusterLists::connect(&cluster_settings(args)))
        .flatten();
    let charts = super::charts::Charts::new(&args.helm_values);
    // The findings of chart files are kept: a render's are not said again.
    // Written by the thread whose file's findings are next (`ordered`).
    let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    let mut output = Output::new(stdout, args.format, !roots.is_empty());
    let (mut files, mut documents) = (0, 0);
    let mut texts = Vec::new();
    let check_file = |number: usize, input: &PathBuf| -> Option<Checked> {
        if survey.unread[number].is_some() {
            return None;
        }
        let name = display(input);
        let contents = match read_input(number, input, &stdin, &holdings) {
            Ok(contents) => contents,
            Err(error) => return Some(Checked::unread(format!("{name}: {error}"))),
        };
        let bytes = contents.bytes.as_slice();
        let in_chart = std::str::from_utf8(bytes)
            .ok()
            .filter(|_| input.as_os_str() != "-")
            .and_then(|text| charts.file_diagnostics(input, &name, text, &catalog));
        let reports = in_chart.unwrap_or_else(|| {
            let context = Context {
                config: rules.clone(),
                index: Some(&index),
                path: Some(Path::new(&name)),
                cluster: cluster_lists.as_ref().map(|lists| lists.lookup()),
            };
            check_bytes_in(&name, bytes, &catalog, kustomize, &context)
        });
        Some(Checked {
            reports,
            documents: documents_in(bytes),
            unread: None,
            kept: args.cluster.then(|| (name, bytes.to_vec())),
        })
    };
    phases.done("catalog");
    super::ordered::map_in_order(
        &pool,
        &inputs,
        pool.current_num_threads() * RESULTS_AHEAD,
        check_file,
        |checked| {
            let Some(checked) = checked else { return };
            if let Some(error) = checked.unread {
                eprintln!("kube-lsp: {error}");
                io_errors += 1;
                return;
            }
            files += 1;
            documents += checked.documents;
            output.extend(checked.reports);
            texts.extend(checked.kept);
        },
    );
    drop(index);
    phases.done("check pass");
    tracing::debug!(
        "check: {} threads; at most {} files' contents held at once",
        pool.current_num_threads(),
        holdings.most.load(Ordering::Relaxed)
    );
    let mut rendered = Vec::new();
    if !args.no_render {
        let (found, outputs) = kustomize.render_all(&catalog, args.kustomize.as_deref());
        output.extend(found);
        rendered = outputs;
    }
    if !roots.is_empty() {
        let settings = super::charts::RenderSettings {
            helm: args.helm.clone(),
            values_files: args.helm_values.clone(),
            timeout: std::time::Duration::from_millis(args.helm_timeout_ms),
        };
        match super::charts::render_reports(&roots, &settings, &catalog) {
            Ok(found) => {
                // What the file's own checks say already is not said again from the render.
                let fresh: Vec<Reported> = found
                    .into_iter()
                    .filter(|r| {
                        !output.kept.iter().any(|s| {
                            s.path == r.path
                                && (s.line, s.column) == (r.line, r.column)
                                && r.message.ends_with(&s.message)
                        })
                    })
                    .collect();
                output.extend(fresh);
            }
            Err(crate::render::process::RunError::NotFound(program)) => eprintln!(
                "kube-lsp: {} was not found: Helm charts were checked as templates, not rendered (install Helm v4, or pass --helm PATH)",
                program.display()
            ),
            Err(error) => {
                eprintln!("kube-lsp: the charts were not rendered: {error}");
                io_errors += 1;
            }
        }
    }
    phases.done("render");
    let cluster = args
        .cluster
        .then(|| cluster_reports(args, &texts, kustomize, &rendered));
    if let Some(Ok((more, _))) = &cluster {
        output.extend(more.iter().cloned());
    }
    let counts = match output.finish() {
        Ok(counts) => counts,
        Err(error) => {
            eprintln!("kube-lsp: cannot write the report: {error}");
            return ExitCode::from(2);
        }
    };
    phases.done("cluster and report");
    eprintln!("{}", summary(files, documents, &counts));
    if let Some(cluster) = cluster {
        // Like `kubectl diff`: 0 no difference, 1 differences, >1 an error.
        return match cluster {
            Err(error) => {
                eprintln!("kube-lsp: {error}");
                ExitCode::from(2)
            }
            Ok(_) if io_errors > 0 || counts.errors > 0 => ExitCode::from(2),
            Ok((_, differences)) if differences > 0 => ExitCode::from(1),
            Ok(_) => ExitCode::SUCCESS,
        };
    }
    if io_errors > 0 {
        ExitCode::from(2)
    } else if counts.errors > 0 || (args.strict && counts.warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// How many files' findings, per thread, may wait for those of an earlier file before no more
/// files are started: a file that takes long to check does not hold the other threads up, and
/// findings are small (the files' contents are not kept).
const RESULTS_AHEAD: usize = 64;

/// The threads that read and check files: `jobs`, else one per CPU core.
fn thread_pool(jobs: Option<u32>) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let threads = jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |jobs| jobs.max(1) as usize,
    );
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|number| format!("check-{number}"))
        .build()
}

/// How many files' contents are held at once, and the most there were (logged at debug level:
/// a test checks that `check` streams the files).
#[derive(Default)]
struct Holdings {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// A file's bytes, counted in [`Holdings`] while held.
struct Contents<'a> {
    bytes: Vec<u8>,
    holdings: &'a Holdings,
}

impl<'a> Contents<'a> {
    fn new(bytes: Vec<u8>, holdings: &'a Holdings) -> Contents<'a> {
        let now = holdings.now.fetch_add(1, Ordering::Relaxed) + 1;
        holdings.most.fetch_max(now, Ordering::Relaxed);
        Contents { bytes, holdings }
    }
}

impl Drop for Contents<'_> {
    fn drop(&mut self) {
        self.holdings.now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Standard input, read once for each `-` among the inputs (by their position).
type Stdin = HashMap<usize, Result<Vec<u8>, String>>;

fn read_stdin(inputs: &[PathBuf]) -> Stdin {
    inputs
        .iter()
        .enumerate()
        .filter(|(_, input)| input.as_os_str() == "-")
        .map(|(number, input)| (number, read(input)))
        .collect()
}

/// Input `number`'s bytes: read again from disk, or standard input's as read before.
fn read_input<'a>(
    number: usize,
    input: &Path,
    stdin: &Stdin,
    holdings: &'a Holdings,
) -> Result<Contents<'a>, String> {
    let bytes = match stdin.get(&number) {
        Some(read) => read.clone()?,
        None => read(input)?,
    };
    Ok(Contents::new(bytes, holdings))
}

/// What a first reading of the inputs found.
struct Survey {
    /// Each input's read error, in the inputs' order (`None`: it was read).
    unread: Vec<Option<String>>,
    /// The CRDs among the inputs, in their order.
    crds: Vec<Arc<Store>>,
    /// Every input, by its name in reports: what the rules look other objects up in.
    workspace: Workspace,
    kustomize: super::kustomize::Inputs,
}

/// Reads every input on the pool's threads, keeping only what checking the others needs.
fn survey(
    inputs: &[PathBuf],
    stdin: &Stdin,
    roots: &[PathBuf],
    holdings: &Holdings,
    phases: &mut super::phases::Phases,
) -> Survey {
    let workspace = Workspace::default();
    let reader = super::kustomize::Inputs::reader(roots);
    type Found = (Option<Arc<Store>>, Option<(PathBuf, String)>);
    let found: Vec<Result<Found, String>> = inputs
        .par_iter()
        .enumerate()
        .map_init(
            || Unindexed::new(&workspace),
            |unindexed, (number, input)| {
                let contents = read_input(number, input, stdin, holdings)?;
                let Ok(text) = std::str::from_utf8(&contents.bytes) else {
                    return Ok((None, None));
                };
                let name = display(input);
                let crd = crd::store_from_text(&format!("CRD in {name}"), text).map(Arc::new);
                let canonical = reader.add(input, text).map(|path| (path, name.clone()));
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                unindexed.add(workspace.index_read(Path::new(&name), text));
                Ok((crd, canonical))
            },
        )
        .collect();
    phases.done("index pass: files");
    let mut unread = Vec::with_capacity(found.len());
    let mut crds = Vec::new();
    let mut names = Vec::new();
    for result in found {
        match result {
            Ok((crd, canonical)) => {
                unread.push(None);
                crds.extend(crd);
                names.extend(canonical);
            }
            Err(error) => unread.push(Some(error)),
        }
    }
    Survey {
        unread,
        crds,
        workspace,
        kustomize: reader.finish(names, |path| {
            let mut contents = read_input(usize::MAX, path, stdin, holdings).ok()?;
            String::from_utf8(std::mem::take(&mut contents.bytes)).ok()
        }),
    }
}

/// Files read for the index by one thread and not put in yet: put in whenever the index's lock
/// is free, without waiting for it (a thread holding it may be preempted), and all when
/// dropped.
struct Unindexed<'a> {
    workspace: &'a Workspace,
    files: Vec<crate::workspace::ReadFile>,
}

impl<'a> Unindexed<'a> {
    fn new(workspace: &'a Workspace) -> Unindexed<'a> {
        Unindexed {
            workspace,
            files: Vec::new(),
        }
    }

    fn add(&mut self, file: crate::workspace::ReadFile) {
        self.files.push(file);
        self.workspace.index_put(&mut self.files, false);
    }
}

impl Drop for Unindexed<'_> {
    fn drop(&mut self) {
        self.workspace.index_put(&mut self.files, true);
    }
}

/// One checked file: its findings, or why it could not be read again.
struct Checked {
    reports: Vec<Reported>,
    documents: usize,
    unread: Option<String>,
    /// Its name and bytes, for `--cluster`.
    kept: Option<(String, Vec<u8>)>,
}

impl Checked {
    fn unread(error: String) -> Checked {
        Checked {
            reports: Vec::new(),
            documents: 0,
            unread: Some(error),
            kept: None,
        }
    }
}

/// The rules' configuration from the options and kube-linter's file; `None` (after saying why)
/// when an option names no rule or the file cannot be read.
fn rules_config(args: &CheckArgs) -> Option<Arc<Config>> {
    if args.no_rules {
        return Some(Arc::new(Config::none()));
    }
    let path = args.config.clone().or_else(|| {
        rule_config::KUBE_LINTER_FILES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    });
    let mut file = match &path {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| KubeLinterConfig::parse(&t))
        {
            Ok(file) => file,
            Err(error) => {
                eprintln!("kube-lsp: {}: {error}", path.display());
                return None;
            }
        },
        None => KubeLinterConfig::default(),
    };
    for name in args.include.iter().chain(&args.exclude) {
        if !Config::none().set(name, true) {
            eprintln!("kube-lsp: no rule or group named {name:?} (see docs/rules.md)");
            return None;
        }
    }
    file.do_not_auto_add_defaults |= args.do_not_auto_add_defaults;
    file.add_all_built_in |= args.add_all_built_in;
    file.include.extend(args.include.iter().cloned());
    file.exclude.extend(args.exclude.iter().cloned());
    let (config, unknown) = Config::build(&rule_config::Settings::default(), Some(&file));
    for name in unknown {
        eprintln!("kube-lsp: warning: no rule or group named {name:?} (in the configuration file)");
    }
    Some(Arc::new(config))
}

/// How many YAML documents with content a file holds.
fn documents_in(bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    crate::yaml::split::split(text)
        .documents
        .into_iter()
        .filter(|range| {
            text[range.clone()].lines().any(|line| {
                let line = line.trim();
                !line.is_empty()
                    && !line.starts_with('#')
                    && !line.starts_with("---")
                    && !line.starts_with("...")
            })
        })
        .count()
}

/// Dry-run and diff of every Kubernetes document of the texts: the diagnostics, and how many
/// objects differ from the live cluster (creations included). `Err`: the cluster is unusable.
fn cluster_reports(
    args: &CheckArgs,
    texts: &[(String, Vec<u8>)],
    kustomize: &super::kustomize::Inputs,
    rendered: &[super::kustomize::RenderedKustomization],
) -> Result<(Vec<Reported>, usize), ClusterCheckError> {
    use crate::cluster::{check, connection::Connection};
    let settings = cluster_settings(args);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ClusterCheckError::Runtime)?;
    runtime.block_on(async {
        let connection = Connection::connect(&settings).await?;
        let (mut reported, mut differences) = (Vec::new(), 0);
        let differs = |diagnostics: &[Diagnostic]| {
            diagnostics
                .iter()
                .any(|d| matches!(d.code, codes::DIFF_CREATE | codes::DIFF_SUMMARY))
        };
        for (path, bytes) in texts {
            let Ok(text) = std::str::from_utf8(bytes) else {
                continue;
            };
            // A kustomize patch is not an object: the kustomizations rendering it are dry-run.
            if kustomize.role(path) == crate::schema::validate::Role::Patch {
                continue;
            }
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let rope = Rope::from_str(text);
            for document in check::check_text(&connection, text).await? {
                let diagnostics = document_diagnostics(text, &document);
                differences += usize::from(differs(&diagnostics));
                reported.extend(diagnostics.iter().map(|d| report(path, &rope, d)));
            }
        }
        // Rendered kustomizations, without the annotations asked for to map findings back.
        for output in rendered {
            let mut documents = check::kubernetes_documents(&output.output);
            for (_, manifest) in &mut documents {
                check::without_build_annotations(manifest);
            }
            let mut found = Vec::new();
            for document in check::check_documents(&connection, documents).await? {
                let diagnostics = document_diagnostics(&output.output, &document);
                differences += usize::from(differs(&diagnostics));
                found.extend(diagnostics);
            }
            reported.extend(kustomize.cluster_reports(output, &found));
        }
        Ok((reported, differences))
    })
}

/// The dry-run and diff diagnostics of a checked document of `text`, in the text's offsets.
fn document_diagnostics(
    text: &str,
    document: &crate::cluster::check::CheckedDocument,
) -> Vec<Diagnostic> {
    use crate::features::cluster_diagnostics::{self as cd, DocumentInput};
    let input = DocumentInput {
        text: &text[document.range.clone()],
        offset: document.range.start,
        manifest: &document.manifest,
    };
    cd::diagnostics(&input, &document.result, true)
}

/// The cluster `--cluster` checks against.
fn cluster_settings(args: &CheckArgs) -> crate::cluster::ClusterSettings {
    crate::cluster::ClusterSettings {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
        request_timeout: std::time::Duration::from_millis(args.request_timeout_ms),
    }
}

/// Why `--cluster` has no answer.
#[derive(Debug, thiserror::Error)]
enum ClusterCheckError {
    /// No async runtime to send requests with (the system refused a thread or an event queue).
    #[error(transparent)]
    Runtime(std::io::Error),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// The built-in schema plus the CRDs among the checked texts and in the `--schema-path` files.
pub fn catalog_for(texts: &[(String, Vec<u8>)], schema_paths: &[PathBuf]) -> Catalog {
    let checked = texts.iter().filter_map(|(name, bytes)| {
        let text = std::str::from_utf8(bytes).ok()?;
        crd::store_from_text(&format!("CRD in {name}"), text).map(Arc::new)
    });
    let configured = load_crd_files(schema_paths, SourceKind::SchemaPath)
        .into_iter()
        .map(|(_, store)| store);
    Catalog::with_builtin(checked.chain(configured).collect::<Vec<_>>())
}

/// [`check_bytes_with_rules`] for a file read in its kustomize role, with kustomize's checks.
fn check_bytes_in(
    path: &str,
    bytes: &[u8],
    catalog: &Catalog,
    kustomize: &super::kustomize::Inputs,
    rules: &Context<'_>,
) -> Vec<Reported> {
    let role = kustomize.role(path);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return check_bytes_with_rules(path, bytes, catalog, rules);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rope = Rope::from_str(text);
    let mut found = text_diagnostics_with_rules(&rope, catalog, role, rules);
    found.extend(kustomize.checks(path, text, catalog));
    let documents = crate::yaml::split::split(text).documents;
    // `kube-lsp check` downloads nothing: a URL modeline says so.
    // A modeline's schema file is read from the checked file's folder or the current one.
    let folder = std::path::Path::new(path).parent();
    // Only a modeline naming a file asks: the current folder is not looked up for every file.
    let read = |file: &Path| {
        let allowed: Vec<std::path::PathBuf> = folder
            .map(|f| {
                if f.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    f
                }
            })
            .into_iter()
            .map(Path::to_path_buf)
            .chain(std::env::current_dir().ok())
            .collect();
        crate::files::read_schema_file(file, &allowed)
    };
    let compiled = modeline::CompiledSchemas::default();
    let source = modeline::SchemaSource {
        folder,
        read: &read,
        url: &|_| modeline::UrlSchema::NotDownloaded,
        compiled: &compiled,
        associated: None,
    };
    found.extend(modeline::named_schema_findings(text, &documents, &source));
    found.iter().map(|d| report(path, &rope, d)).collect()
}

/// The diagnostics of one file's bytes. Text that is not UTF-8 is one error at the first bad byte.
pub fn check_bytes(path: &str, bytes: &[u8], catalog: &Catalog) -> Vec<Reported> {
    check_bytes_with_rules(
        path,
        bytes,
        catalog,
        &Context::alone(Arc::new(Config::none())),
    )
}

/// [`check_bytes`] with the rules of `rules`.
pub fn check_bytes_with_rules(
    path: &str,
    bytes: &[u8],
    catalog: &Catalog,
    rules: &Context<'_>,
) -> Vec<Reported> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return vec![not_utf8(path, bytes, error.valid_up_to())],
    };
    // A byte order mark is allowed at the start of a YAML stream; editors do not show it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rope = Rope::from_str(text);
    text_diagnostics_with_rules(
        &rope,
        catalog,
        crate::schema::validate::Role::Manifest,
        rules,
    )
    .into_iter()
    .map(|d| report(path, &rope, &d))
    .collect()
}

fn not_utf8(path: &str, bytes: &[u8], valid_up_to: usize) -> Reported {
    let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Reported {
        path: path.to_string(),
        line,
        column,
        end_line: line,
        end_column: column + 1,
        severity: Severity::Error.as_str(),
        code: codes::ENCODING.as_str(),
        source: SOURCE,
        message: format!(
            "not UTF-8 text: invalid byte 0x{:02x} at offset {valid_up_to}",
            bytes[valid_up_to]
        ),
    }
}

pub(super) fn report(path: &str, rope: &Rope, d: &Diagnostic) -> Reported {
    let (line, column) = line_column(rope, d.range.start);
    let (end_line, end_column) = line_column(rope, d.range.end);
    Reported {
        path: path.to_string(),
        line,
        column,
        end_line,
        end_column,
        severity: d.severity.as_str(),
        code: d.code.as_str(),
        source: SOURCE,
        message: d.message.clone(),
    }
}

fn line_column(rope: &Rope, offset: usize) -> (usize, usize) {
    let offset = offset.min(rope.len_bytes());
    let char_index = rope.byte_to_char(offset);
    let line = rope.char_to_line(char_index);
    (line + 1, char_index - rope.line_to_char(line) + 1)
}

/// What to read: files as given, directories searched for YAML files (sorted, so output is
/// stable; on the current rayon pool's threads); and the folders of the Helm charts among them
/// (for a file given, the chart it is in).
fn inputs(paths: &[PathBuf], io_errors: &mut usize) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut inputs = Vec::new();
    let mut charts = Vec::new();
    let folders = crate::workspace::chart::ChartFolders::default();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            inputs.push(path.clone());
            charts.extend(folders.root_of(path));
            continue;
        }
        let walked = super::walk::walk(path, &is_yaml);
        for error in &walked.errors {
            eprintln!("kube-lsp: {error}");
        }
        *io_errors += walked.errors.len();
        inputs.extend(walked.files);
        charts.extend(walked.charts);
    }
    (inputs, charts)
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    ) || crate::workspace::kustomize::is_kustomization(path)
}

/// A file's bytes, or standard input's, within the size cap (`files`).
fn read(path: &Path) -> Result<Vec<u8>, String> {
    let max = crate::files::max_bytes();
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        let read = std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if read as u64 > max {
            return Err(format!(
                "standard input is over the size cap of {max} bytes (--max-file-bytes) [{}]",
                crate::diagnostic::codes::FILE_SKIPPED
            ));
        }
        return Ok(bytes);
    }
    crate::files::read_bytes(path, max, crate::files::Links::Follow).map_err(|contents| {
        let why = match contents {
            crate::files::Contents::TooBig(size) => {
                format!("{size} bytes, over the size cap of {max} bytes (--max-file-bytes)")
            }
            _ if !path.exists() => "no such file or directory".to_string(),
            _ => "not a readable regular file".to_string(),
        };
        format!(
            "skipped: {why} [{}]",
            crate::diagnostic::codes::FILE_SKIPPED
        )
    })
}

fn display(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_one_based_character_columns() {
        let reported = check_bytes(
            "x.yaml",
            "# 注释\na: 1\na: 2\n".as_bytes(),
            &Catalog::builtin(),
        );
        assert_eq!(reported.len(), 1);
        assert_eq!((reported[0].line, reported[0].column), (3, 1));
        assert_eq!(reported[0].code, "yaml-duplicate-key");
    }

    #[test]
    fn invalid_utf8_is_one_error_at_the_bad_byte() {
        let reported = check_bytes("x.yaml", b"a: 1\nb: \xff\n", &Catalog::builtin());
        assert_eq!(reported.len(), 1);
        assert_eq!(
            (reported[0].line, reported[0].column, reported[0].code),
            (2, 4, "encoding")
        );
    }

    #[test]
    fn files_read_for_the_index_wait_for_a_held_lock_only_at_the_end() {
        let workspace = Workspace::default();
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
        let held = workspace.read();
        let mut unindexed = Unindexed::new(&workspace);
        for number in 0..3 {
            unindexed.add(workspace.index_read(Path::new(&format!("/w/{number}.yaml")), text));
        }
        // Another thread holds the lock: the files wait, the reading thread does not.
        assert_eq!(unindexed.files.len(), 3);
        drop(held);
        unindexed.add(workspace.index_read(Path::new("/w/3.yaml"), text));
        assert!(unindexed.files.is_empty());
        unindexed
            .files
            .push(workspace.index_read(Path::new("/w/4.yaml"), text));
        drop(unindexed);
        assert_eq!(workspace.read().len(), 5);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        assert!(check_bytes("x.yaml", "\u{feff}a: 1\n".as_bytes(), &Catalog::builtin()).is_empty());
    }
}
