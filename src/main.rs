//! The `casebook` command line: parses arguments, calls the library, prints
//! what happened and picks the exit code. The only place that prints.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use casebook::{BuildOptions, Diagnostic, Error, diagnostic};

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
    },
    /// Check the site for problems without writing anything; exit 1 on any error
    Check {
        /// The site's folder, where site.toml is
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Check pages marked `draft: true` too
        #[arg(long)]
        drafts: bool,
    },
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn print_diagnostics(diags: &[Diagnostic]) {
    let color = use_color();
    for d in diags {
        eprintln!("{}", d.render(color));
    }
}

fn report_error(e: &Error) -> ExitCode {
    match e {
        Error::Diagnostics(diags) => {
            print_diagnostics(diags);
            eprintln!("{}", diagnostic::summary(diags));
            if diags.iter().any(Diagnostic::is_error) {
                eprintln!("nothing was written; the previous output is unchanged");
            }
        }
        Error::Io { .. } => {
            eprintln!("error: {e}");
        }
    }
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            root,
            output,
            base_url,
            drafts,
        } => {
            let mut opts = BuildOptions::new(casebook::root_or_cwd(root.as_deref()));
            opts.output = output;
            opts.base_url = base_url;
            opts.drafts = drafts;
            match casebook::build(&opts) {
                Ok(report) => {
                    print_diagnostics(&report.warnings);
                    println!("{}", report.summary());
                    println!("Output: {}", report.output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e),
            }
        }
        Command::Check { root, drafts } => {
            let mut opts = BuildOptions::new(casebook::root_or_cwd(root.as_deref()));
            opts.drafts = drafts;
            match casebook::load(&opts) {
                Ok(loaded) => {
                    print_diagnostics(&loaded.warnings);
                    if loaded.warnings.is_empty() {
                        println!(
                            "No problems found in {} case studies and {} reports.",
                            loaded.site.case_studies.len(),
                            loaded.site.reports.len()
                        );
                    } else {
                        println!("{}", diagnostic::summary(&loaded.warnings));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => report_error(&e),
            }
        }
    }
}
