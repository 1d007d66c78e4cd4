//! Command-line interface (clap derive).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use recon_store::{CaseStatus, RunMode};

/// Reconciles NEON bank statement lines against Odoo journal items, records every exception as a case,
/// and reports the KPI.
#[derive(Debug, Parser)]
#[command(name = "recon", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "RECON_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// The store: a SQLite file path (created if missing), `sqlite://PATH`, or `postgres://...`.
    #[arg(long, global = true, default_value = "recon.sqlite", env = "RECON_STORE", hide_env_values = true)]
    pub store: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reconcile a date range and write run, matches, cases and KPI in one transaction (the nightly job).
    Run(RunArgs),
    /// KPI for a date range from stored runs: table, JSON, or a Prometheus textfile.
    Kpi(KpiArgs),
    /// List, show, resolve and export cases.
    Cases {
        /// What to do with cases.
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Export matches (one row per Odoo line) or cases (one row per item) as CSV or Parquet.
    Export(ExportArgs),
    /// Show how the core reads a reference, an amount or a timestamp (and their fingerprint).
    Explain(ExplainArgs),
    /// Apply the store's schema migrations and list what is applied.
    Migrate,
    /// Manual controlled runs: propose a decisions file, approve it (four-eyes), apply it, list, show.
    Manual {
        /// What to do.
        #[command(subcommand)]
        command: crate::manual::ManualCommand,
    },
    /// Write the KPI report people look at: one static HTML file.
    Report(crate::report_html::ReportArgs),
}

/// `recon run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML configuration.
    #[arg(long, env = "RECON_CONFIG")]
    pub config: PathBuf,
    /// NEON statement lines: a .csv, .parquet or .pq file, or the NEON database (`postgres://...`; the
    /// table is `sources.statements.table`). Prefer RECON_STATEMENTS for a URL with a password.
    #[arg(long, env = "RECON_STATEMENTS", hide_env_values = true)]
    pub statements: PathBuf,
    /// Odoo journal items: a .csv, .parquet or .pq file, or Odoo's own database (`postgres://...`).
    /// Prefer RECON_MOVES for a URL with a password.
    #[arg(long, env = "RECON_MOVES", hide_env_values = true)]
    pub moves: PathBuf,
    /// First business date (default: `lookback_days` days ending yesterday in the configured zone).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last business date (default: yesterday in the configured zone).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Nightly (scheduled) or manual.
    #[arg(long, value_enum, default_value_t = ModeArg::Nightly)]
    pub mode: ModeArg,
    /// Who runs it (default: `scheduler` for nightly runs, $USER for manual ones).
    #[arg(long)]
    pub operator: Option<String>,
    /// Id tying the run to other systems' logs (default: `recon-<run id>`).
    #[arg(long)]
    pub correlation_id: Option<String>,
    /// Quarantine unreadable rows in the store and go on, instead of stopping with exit 2.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

/// Run modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The scheduled nightly run.
    Nightly,
    /// A run started by a person.
    Manual,
}

impl From<ModeArg> for RunMode {
    fn from(mode: ModeArg) -> RunMode {
        match mode {
            ModeArg::Nightly => RunMode::Nightly,
            ModeArg::Manual => RunMode::Manual,
        }
    }
}

/// `recon kpi`.
#[derive(Debug, Args)]
pub struct KpiArgs {
    /// First business date.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last business date.
    #[arg(long)]
    pub to: NaiveDate,
    /// Only this account (CLABE); repeat for several.
    #[arg(long)]
    pub account: Vec<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also write a Prometheus textfile (node_exporter textfile collector), atomically.
    #[arg(long)]
    pub metrics_file: Option<PathBuf>,
    /// The configuration, for the threshold (default: the threshold of the last successful run, else 0.95).
    #[arg(long, env = "RECON_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `recon cases ...`.
#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// List cases.
    List(CaseFilterArgs),
    /// Show one case with its items, evidence and audit trail.
    Show {
        /// The case id (`C-...`).
        case_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close an open case, saying what was done and what prevents it from happening again.
    Resolve(ResolveArgs),
    /// Export cases (one row per item) as CSV or Parquet.
    Export(CasesExportArgs),
}

/// Case filters.
#[derive(Debug, Args)]
pub struct CaseFilterArgs {
    /// Only cases with this status.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only cases of this kind (`unmatched_statement`, `amount_mismatch`, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only cases of this account (CLABE).
    #[arg(long)]
    pub account: Option<String>,
    /// Only cases on or after this business date.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Only cases on or before this business date.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Case statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Needs attention.
    Open,
    /// Closed as dealt with.
    Resolved,
    /// Closed as not worth acting on.
    Ignored,
}

impl From<StatusArg> for CaseStatus {
    fn from(status: StatusArg) -> CaseStatus {
        match status {
            StatusArg::Open => CaseStatus::Open,
            StatusArg::Resolved => CaseStatus::Resolved,
            StatusArg::Ignored => CaseStatus::Ignored,
        }
    }
}

/// `recon cases resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The case id.
    pub case_id: String,
    /// Who closes it.
    #[arg(long)]
    pub operator: String,
    /// What was done about it.
    #[arg(long)]
    pub action: String,
    /// What will keep it from happening again.
    #[arg(long)]
    pub prevention: String,
    /// Close it as ignored (it stays closed when a later run sees it again).
    #[arg(long)]
    pub ignore: bool,
}

/// `recon cases export`.
#[derive(Debug, Args)]
pub struct CasesExportArgs {
    /// File format (default: from the extension of --out).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// The file to write (atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// Export file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet, every column text.
    Parquet,
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    /// Matches: one row per Odoo line of each match.
    Matches,
    /// Cases: one row per item of each case.
    Cases,
}

/// `recon export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Matches or cases.
    #[arg(value_enum)]
    pub what: ExportWhat,
    /// File format (default: from the extension of --out).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// The file to write (atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// `recon explain`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["reference", "amount", "timestamp"]))]
pub struct ExplainArgs {
    /// A reference as a bank or Odoo writes it (`058-25/08/2023/25-300CPWF924`, `9300-0262-2769-08`).
    #[arg(long)]
    pub reference: Option<String>,
    /// An amount as a source writes it (`$1,234.56`, `1234.5000000000002`, `123456`).
    #[arg(long, allow_hyphen_values = true)]
    pub amount: Option<String>,
    /// The amount's currency (default: the configured company currency, else MXN).
    #[arg(long)]
    pub currency: Option<String>,
    /// How the amount is written.
    #[arg(long, value_enum, default_value_t = AmountFormatArg::Bank)]
    pub format: AmountFormatArg,
    /// A timestamp or date (`2024-03-01T05:59:59Z`, `2026-10-15 15:48:32.711+00`, `2026-10-15`).
    #[arg(long)]
    pub timestamp: Option<String>,
    /// The account's CLABE, for the fingerprint.
    #[arg(long)]
    pub account: Option<String>,
    /// The configuration, for the zone, holidays and company currency (default: America/Mexico_City).
    #[arg(long, env = "RECON_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Amount formats for `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AmountFormatArg {
    /// A bank's text: `1,234.56`, `(1,234.56)`, `$1,234.56`.
    Bank,
    /// Odoo's Python float text: `1234.5`, `1234.5000000000002`.
    Odoo,
    /// Integer minor units (Conekta): `123456`.
    Minor,
}
