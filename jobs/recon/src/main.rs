//! `recon`: the reconciliation job and its operator tools.
//!
//! ```text
//! recon run --config recon.toml --statements neon.csv --moves odoo.csv --store recon.sqlite
//! recon kpi --from 2026-10-01 --to 2026-10-31 --metrics-file /var/lib/node_exporter/recon.prom
//! recon cases list --status open
//! recon explain --reference 9300-0262-2769-08
//! ```
//!
//! Exit codes are in [`exit`]. Logs go to stderr (text or JSON); reports and data go to stdout.

#![forbid(unsafe_code)]

mod cases;
mod cli;
mod config;
mod exit;
mod explain;
mod export;
mod input;
mod kpi;
mod manual;
mod manual_decisions;
mod manual_plan;
mod manual_report;
mod mapping;
mod report;
mod report_html;
mod run;
mod scope;
mod sources;
mod stdout;
mod store_retry;
mod terminal;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{CasesCommand, Cli, Command, LogFormat};
use crate::exit::Exit;

/// A run allocates millions of short strings; glibc's allocator spent about 40 % of the write phase
/// consolidating free lists (perf, 1 million lines). mimalloc does not. The workspace builds it with
/// `override`, so SQLite's C allocations (page cache, sorter, statement journal) go through it too:
/// glibc's `malloc_consolidate` and `unlink_chunk` were 9 % of a SQLite insert loop's samples, and a
/// run took 18.4–20.3 s at 1 M lines instead of 20.2–22.2 s (four runs each, alternating).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Exit::Internal.into();
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(exit) => exit.into(),
        Err(error) => {
            let exit = exit::classify(&error);
            // One message: a JSON log line for log collectors, a plain line for people.
            match cli.log_format {
                LogFormat::Json => tracing::error!(exit_code = exit.code(), "{error:#}"),
                LogFormat::Text => eprintln!("error: {error:#}"),
            }
            exit.into()
        }
    }
}

async fn dispatch(cli: &Cli) -> anyhow::Result<Exit> {
    let store = cli.store.as_str();
    match &cli.command {
        Command::Run(args) => run::run(args, store).await,
        Command::Kpi(args) => kpi::kpi(args, store).await,
        Command::Cases { command } => match command {
            CasesCommand::List(args) => cases::list(args, store).await,
            CasesCommand::Show { case_id, json } => cases::show(case_id, *json, store).await,
            CasesCommand::Resolve(args) => cases::resolve(args, store).await,
            CasesCommand::Export(args) => export::export(cli::ExportWhat::Cases, args.format, &args.out, store).await,
        },
        Command::Export(args) => export::export(args.what, args.format, &args.out, store).await,
        Command::Explain(args) => explain::explain(args),
        Command::Migrate => cases::migrate(store).await,
        Command::Manual { command } => manual::manual(command, store).await,
        Command::Report(args) => report_html::report(args, store).await,
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), as text or one JSON object per line. Spans
/// carry the run id, so every line of a run names it.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
    if let Err(error) = installed {
        eprintln!("warning: logging not initialised: {error}");
    }
}
