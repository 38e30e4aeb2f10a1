//! The `casebook` command line: parses arguments, calls the library, prints
//! what happened and picks the exit code. The only place that prints.

use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use casebook::scaffold::{self, NewFields, NewKind};
use casebook::serve::{self, Event, ServeOptions};
use casebook::{BuildOptions, Diagnostic, Error, diagnostic};

/// The build makes and drops millions of small values (template values,
/// strings); the system allocator spent about a sixth of the instructions
/// of a build on them, and mimalloc takes an eighth off the whole build
/// (BENCHMARKS.md, "Instructions, not seconds").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "casebook",
    version,
    about = "A static site generator for sector learning reports and NGO case studies",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder (default: public/)
    Build {
        /// The site's folder, where site.toml is
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Where to write the site (relative paths are relative to the root)
        #[arg(long, short, value_name = "DIR", default_value = "public")]
        output: PathBuf,
        /// The URL the site will be published at, overriding site.toml
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Include pages marked `draft: true`
        #[arg(long)]
        drafts: bool,
        /// Print how long each stage took
        #[arg(long)]
        timings: bool,
    },
    /// Preview the site: build it, serve it on this computer, rebuild and reload on every save
    Serve {
        /// The site's folder, where site.toml is
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Port to listen on; 0 picks a free one
        #[arg(long, short, default_value_t = 1111)]
        port: u16,
        /// Address to listen on. Anything but 127.0.0.1 or ::1 lets other computers see your drafts
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Where to write the preview (default: a folder in the system's temporary directory)
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Leave out pages marked `draft: true`, as `casebook build` does (the preview shows them, marked "Draft")
        #[arg(long)]
        no_drafts: bool,
        /// Show pages marked `draft: true` (the default; kept for scripts that pass it)
        #[arg(long, hide = true, conflicts_with = "no_drafts")]
        drafts: bool,
        /// Open the site in a web browser
        #[arg(long)]
        open: bool,
        /// Print how long each stage of every rebuild took
        #[arg(long)]
        timings: bool,
        /// After every rebuild, also build the site from scratch and say if any file of the preview differs (slower; for reporting a preview bug)
        #[arg(long)]
        verify: bool,
    },
    /// Create a new case study or report with its front matter ready to fill in
    New {
        #[command(subcommand)]
        kind: NewCommand,
    },
    /// Create a new site with example content in DIR (default: the current folder)
    Init {
        /// The folder to create the site in; must be empty or not exist
        dir: Option<PathBuf>,
    },
    /// Check the site for problems without writing anything; exit 1 on any error
    Check {
        /// The site's folder, where site.toml is
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Check pages marked `draft: true` too
        #[arg(long)]
        drafts: bool,
        /// Treat warnings as errors (exit 1 if there are any)
        #[arg(long)]
        deny_warnings: bool,
        /// Also weigh every page as a phone loads it (HTML, CSS, JS, photos,
        /// compressed) and fail any over site.toml's [budget]
        #[arg(long)]
        budget: bool,
    },
}

#[derive(Subcommand)]
enum NewCommand {
    /// A case study: content/case-studies/<slug>.md
    #[command(name = "case-study")]
    CaseStudy {
        /// The headline, e.g. "SEARCH mental-health chatbot"
        title: String,
        #[command(flatten)]
        fields: NewArgs,
    },
    /// A report: content/reports/<slug>.md
    Report {
        /// The report's title, e.g. "Fractional CxO 2025 year in review"
        title: String,
        #[command(flatten)]
        fields: NewArgs,
    },
}

#[derive(clap::Args)]
struct NewArgs {
    /// The site's folder, where site.toml is
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The NGO the story is about
    #[arg(long)]
    ngo: Option<String>,
    /// Sector, or several separated by commas: "Health, Mental Health"
    #[arg(long)]
    sector: Option<String>,
    /// The programme
    #[arg(long)]
    program: Option<String>,
    /// The country
    #[arg(long)]
    country: Option<String>,
}

/// The preview folder `casebook serve` chose itself, removed on Ctrl+C.
static PREVIEW: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Text from outside the program (paths, file names, messages that quote
/// them) as it may reach the terminal: control characters escaped, so a
/// file name cannot clear the screen or forge a line of output.
fn shown(text: impl std::fmt::Display) -> String {
    diagnostic::escape_controls(&text.to_string()).into_owned()
}

fn print_diagnostics(diags: &[Diagnostic]) {
    let color = use_color();
    for d in diags {
        eprintln!("{}", d.render(color));
    }
}

fn print_serve_event(event: Event, open: bool, timings: bool) {
    match event {
        Event::Listening { url, output } => {
            println!("Serving the site at {url}");
            println!(
                "(preview written to {}; press Ctrl+C to stop)",
                shown(output.display())
            );
            if open {
                open_browser(&url);
            }
        }
        Event::Built(r) => {
            print_diagnostics(&r.warnings);
            match &r.summary {
                Some(summary) => println!("{summary}"),
                None => println!(
                    "Rebuilt after {}: {} {} rewritten{}{} in {} ms",
                    if r.changes.is_empty() {
                        "a change".to_string()
                    } else {
                        shown(&r.changes)
                    },
                    r.pages_written,
                    if r.pages_written == 1 {
                        "page"
                    } else {
                        "pages"
                    },
                    if r.files_removed > 0 {
                        format!(", {} removed", r.files_removed)
                    } else {
                        String::new()
                    },
                    if r.static_copied > 0 {
                        format!(", {} static copied", r.static_copied)
                    } else {
                        String::new()
                    },
                    r.elapsed.as_millis()
                ),
            }
            if timings {
                print_timings(&r.timings);
            }
        }
        Event::Failed {
            diagnostics,
            serving_last_good,
        } => {
            print_diagnostics(&diagnostics);
            eprintln!("{}", diagnostic::summary(&diagnostics));
            if serving_last_good {
                eprintln!(
                    "the last good version is still being served; fix the problem and save again"
                );
            } else {
                eprintln!(
                    "nothing has built yet; the page shows these problems until a save fixes them"
                );
            }
        }
        Event::WatchError(e) => eprintln!("warning: file watcher: {}", shown(e)),
        Event::Verified(Ok(differ)) if differ.is_empty() => {
            println!("Verified: the preview equals a clean build")
        }
        Event::Verified(Ok(differ)) => {
            eprintln!(
                "error: the preview differs from a clean build in {} {}:",
                differ.len(),
                if differ.len() == 1 { "file" } else { "files" }
            );
            for f in differ.iter().take(20) {
                eprintln!("  {}", shown(f));
            }
            if differ.len() > 20 {
                eprintln!("  and {} more", differ.len() - 20);
            }
            eprintln!(
                "  = help: this is a casebook bug; please report it with the edit you just made"
            );
        }
        Event::Verified(Err(e)) => {
            eprintln!(
                "warning: --verify could not make a clean build: {}",
                shown(e)
            )
        }
    }
}

fn print_timings(t: &casebook::Timings) {
    let width = t.stages.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    for (stage, took) in &t.stages {
        println!("  {stage:<width$} {:>7.1} ms", took.as_secs_f64() * 1000.0);
    }
}

fn open_browser(url: &str) {
    let result = if cfg!(target_os = "macos") {
        std::process::Command::new("open").arg(url).spawn()
    } else if cfg!(windows) {
        std::process::Command::new("cmd")
            .args(["/C", "start", "", url])
            .spawn()
    } else {
        std::process::Command::new("xdg-open").arg(url).spawn()
    };
    if let Err(e) = result {
        eprintln!("warning: could not open a browser ({e}); open {url} yourself");
    }
}

/// Prints why a command failed. `build` also says that its output folder
/// was left as it was; other commands have no output to speak of.
fn report_error(e: &Error, kept_output: bool) -> ExitCode {
    match e {
        Error::Diagnostics(diags) => {
            print_diagnostics(diags);
            eprintln!("{}", diagnostic::summary(diags));
            if kept_output && diags.iter().any(Diagnostic::is_error) {
                eprintln!("nothing was written; the previous output is unchanged");
            }
        }
        Error::Io { .. } | Error::Bind { .. } | Error::Watch { .. } => {
            eprintln!("error: {}", shown(e));
        }
    }
    ExitCode::from(1)
}

/// `casebook new "Title"` without the kind: clap would say only that
/// "Title" is no subcommand; say what to write.
fn forgotten_kind() -> Option<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|a| !a.starts_with('-'))?;
    if args[at] != "new" {
        return None;
    }
    let next = args.get(at + 1)?;
    let kinds = ["case-study", "report", "help"];
    if next.starts_with('-') || kinds.contains(&next.as_str()) {
        return None;
    }
    let near = diagnostic::did_you_mean(next, ["case-study", "report"]);
    Some(match near {
        Some(kind) => format!(
            "error: `{}` is not a kind of page casebook makes\n  = help: did you mean `casebook new {kind}`?",
            shown(next)
        ),
        None => format!(
            "error: `casebook new` needs the kind of page first\n  = help: write `casebook new case-study \"{}\"` (or `casebook new report \"...\"`)",
            shown(next)
        ),
    })
}

fn main() -> ExitCode {
    if let Some(message) = forgotten_kind() {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            root,
            output,
            base_url,
            drafts,
            timings,
        } => {
            let mut opts = BuildOptions::new(casebook::root_or_cwd(root.as_deref()));
            opts.output = output;
            opts.base_url = base_url;
            opts.drafts = drafts;
            match casebook::build(&opts) {
                Ok(report) => {
                    print_diagnostics(&report.warnings);
                    match casebook::peak_memory_bytes() {
                        Some(peak) => println!(
                            "{}, peak memory {:.0} MiB",
                            report.summary(),
                            peak as f64 / (1024.0 * 1024.0)
                        ),
                        None => println!("{}", report.summary()),
                    }
                    if timings {
                        print_timings(&report.timings);
                    }
                    println!("Output: {}", shown(report.output.display()));
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e, true),
            }
        }
        Command::Serve {
            root,
            port,
            bind,
            output,
            no_drafts,
            drafts: _,
            open,
            timings,
            verify,
        } => {
            if !bind.is_loopback() {
                eprintln!(
                    "warning: serving on {bind}, not on loopback: other computers on the network can see this preview, drafts included"
                );
            }
            // The preview folder casebook chose goes when the writer stops
            // the server: it holds drafts, in a folder others can list.
            if output.is_none() {
                let _ = ctrlc::set_handler(|| {
                    if let Some(dir) = PREVIEW.get() {
                        let _ = casebook::remove_output(dir);
                    }
                    std::process::exit(130);
                });
            }
            let remove_on_exit = output.is_none();
            let opts = ServeOptions {
                root: casebook::root_or_cwd(root.as_deref()),
                output,
                bind,
                port,
                drafts: !no_drafts,
                verify,
            };
            let result = serve::serve(opts, move |event| {
                if let (Event::Listening { output, .. }, true) = (&event, remove_on_exit) {
                    let _ = PREVIEW.set(output.clone());
                }
                print_serve_event(event, open, timings)
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(ref e @ Error::Bind { ref source, .. }) => {
                    eprintln!("error: {}", shown(e));
                    if source.kind() == std::io::ErrorKind::AddrInUse {
                        eprintln!(
                            "  = help: is another `casebook serve` running? Try --port 0 to pick a free port"
                        );
                    } else {
                        eprintln!(
                            "  = help: --bind takes an address of this machine, such as 127.0.0.1"
                        );
                    }
                    ExitCode::from(1)
                }
                Err(e) => report_error(&e, false),
            }
        }
        Command::New { kind } => {
            let (kind, title, args) = match kind {
                NewCommand::CaseStudy { title, fields } => (NewKind::CaseStudy, title, fields),
                NewCommand::Report { title, fields } => (NewKind::Report, title, fields),
            };
            let root = casebook::root_or_cwd(args.root.as_deref());
            let fields = NewFields {
                ngo: args.ngo,
                sector: args.sector,
                program: args.program,
                country: args.country,
            };
            match scaffold::new_file(&root, kind, &title, &fields) {
                Ok(rel) => {
                    println!("Created {}", shown(root.join(&rel).display()));
                    println!("Fill in its fields; it stays a draft until you set `draft: false`.");
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e, false),
            }
        }
        Command::Init { dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            match scaffold::init(&dir) {
                Ok(files) => {
                    for f in &files {
                        println!("Created {}", shown(dir.join(f).display()));
                    }
                    let cd = if dir == std::path::Path::new(".") {
                        String::new()
                    } else {
                        format!("cd {} && ", dir.display())
                    };
                    println!("\nNext: {cd}casebook serve");
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e, false),
            }
        }
        Command::Check {
            root,
            drafts,
            deny_warnings,
            budget,
        } => {
            let mut opts = BuildOptions::new(casebook::root_or_cwd(root.as_deref()));
            opts.drafts = drafts;
            match casebook::check(&opts) {
                Ok(loaded) => {
                    // The process ends in a moment; freeing the site would only delay it.
                    let loaded = std::mem::ManuallyDrop::new(loaded);
                    let mut failed = false;
                    if loaded.warnings.is_empty() {
                        println!(
                            "No problems found in {} and {}.",
                            diagnostic::plural(loaded.case_studies(), "case study", "case studies"),
                            diagnostic::plural(loaded.reports(), "report", "reports")
                        );
                    } else {
                        print_diagnostics(&loaded.warnings);
                        eprintln!("{}", diagnostic::summary(&loaded.warnings));
                        if deny_warnings {
                            eprintln!("warnings are errors here (--deny-warnings)");
                            failed = true;
                        }
                    }
                    if budget {
                        match casebook::budget(&opts) {
                            Ok(report) => failed |= print_budget(&report),
                            Err(e) => return report_error(&e, false),
                        }
                    }
                    if failed {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(Error::Diagnostics(diags)) => {
                    print_diagnostics(&diags);
                    eprintln!("{}", diagnostic::summary(&diags));
                    ExitCode::from(1)
                }
                Err(e) => report_error(&e, false),
            }
        }
    }
}

/// Prints the heaviest pages and each page over the budget; whether any is.
fn print_budget(report: &casebook::budget::BudgetReport) -> bool {
    let kb = |b: u64| format!("{:.0} kB", b as f64 / 1000.0);
    println!(
        "Page weight at a 360 px phone screen, compressed; time at {} kbps ({} pages, budget {}):",
        report.kbps,
        report.pages.len(),
        kb(report.limit)
    );
    println!(
        "  {:>8} {:>7}  {:>6} {:>6} {:>6} {:>7} {:>6}  page",
        "total", "time", "html", "css", "js", "photos", "data"
    );
    for p in report.pages.iter().take(10) {
        println!(
            "  {:>8} {:>6.1}s  {:>6} {:>6} {:>6} {:>7} {:>6}  /{}",
            kb(p.total()),
            report.seconds(p.total()),
            kb(p.of("html")),
            kb(p.of("css")),
            kb(p.of("js")),
            kb(p.of("image")),
            kb(p.of("data")),
            p.page.trim_end_matches("index.html")
        );
    }
    let over: Vec<_> = report.over().collect();
    for p in &over {
        let mut parts = p.parts.clone();
        parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
        let heaviest: Vec<String> = parts
            .iter()
            .take(3)
            .map(|x| format!("{} ({})", x.url, kb(x.bytes)))
            .collect();
        eprintln!(
            "error: /{} weighs {}, over the budget of {}: {:.1} s at {} kbps\n  = help: heaviest: {}; smaller photos (fewer, or lower [images] quality) or fewer scripts bring it down",
            p.page.trim_end_matches("index.html"),
            kb(p.total()),
            kb(report.limit),
            report.seconds(p.total()),
            report.kbps,
            heaviest.join(", ")
        );
    }
    if !over.is_empty() {
        eprintln!(
            "{} over the page-weight budget ([budget] page_kb = {} in site.toml)",
            if over.len() == 1 {
                "1 page is".to_string()
            } else {
                format!("{} pages are", over.len())
            },
            report.limit / 1000
        );
    }
    !over.is_empty()
}
