//! `recon report --html FILE`: the KPI report people look at, one static HTML file (inline CSS and
//! SVG, no script, no external asset) drawn by `recon-report` from the store: the count rate per night
//! against the threshold per account, open cases by kind and age, and the largest unreconciled amounts.
//!
//! It reads the same KPI rows as `recon kpi` (for each account and business day, the latest successful
//! run's, manual runs included) with the same threshold, so both show the same rates for the same range.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::Args;
use recon_report::{ReportData, render_html};
use recon_store::{CaseFilter, CaseStatus};

use crate::cases::open_existing_store;
use crate::config;
use crate::exit::{Exit, bad_input};
use crate::stdout;
use crate::terminal::percent;

/// `recon report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML file to write (atomically).
    #[arg(long)]
    pub html: PathBuf,
    /// First business date.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last business date.
    #[arg(long)]
    pub to: NaiveDate,
    /// Only this account (CLABE); repeat for several.
    #[arg(long)]
    pub account: Vec<String>,
    /// The configuration, for the threshold (default: the last successful run's, else 0.95).
    #[arg(long, env = "RECON_CONFIG")]
    pub config: Option<PathBuf>,
    /// The page's heading (default: `Reconciliation KPI, FROM to TO`).
    #[arg(long)]
    pub title: Option<String>,
}

/// Runs `recon report`: exit 0 once the file is written, whatever the KPI (`recon kpi` alerts).
pub async fn report(args: &ReportArgs, store_url: &str) -> Result<Exit> {
    if args.from > args.to {
        return Err(bad_input(format!("--from {} is after --to {}", args.from, args.to)));
    }
    let configured = args.config.as_deref().map(config::load).transpose()?;
    let store = open_existing_store(store_url).await?;
    let accounts = (!args.account.is_empty()).then_some(args.account.as_slice());
    let kpi = store.kpi_rows(args.from, args.to, accounts).await.context("reading KPI rows")?;
    let last_run = store.last_successful_run().await.context("reading the last successful run")?;
    let threshold = crate::kpi::threshold(configured.as_ref(), last_run.as_ref());
    let filter = CaseFilter {
        status: Some(CaseStatus::Open),
        date_from: Some(args.from),
        date_to: Some(args.to),
        ..CaseFilter::default()
    };
    let wanted: BTreeSet<&str> = args.account.iter().map(String::as_str).collect();
    let mut cases = store.cases(&filter).await.context("reading open cases")?;
    cases.retain(|case| wanted.is_empty() || wanted.contains(case.account.as_str()));
    let title = args.title.clone().unwrap_or_else(|| format!("Reconciliation KPI, {} to {}", args.from, args.to));
    let data = ReportData::from_records(&kpi, &cases, threshold, Utc::now(), args.from, args.to, &title)
        .map_err(|error| bad_input(error.to_string()))?;
    write_atomically(&args.html, &render_html(&data))?;
    stdout::write_done(
        &format!(
            "report written to {}: count rate {} over {} account(s) and {} business date(s) (alert below {}); {} open case(s); {} data problem(s)\n",
            args.html.display(),
            percent(data.lines.count_rate()),
            data.accounts.len(),
            data.business_dates.len(),
            percent(Some(threshold)),
            data.open_cases.total(),
            data.problems.len()
        ),
        &format!("report {} is written", args.html.display()),
        "open it to read the KPI",
    );
    Ok(Exit::Done)
}

/// A temporary file beside `path`, renamed into place: a reader never sees half a report.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let context = || format!("writing report {}", path.display());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".recon-report.").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(dir).with_context(context)?;
    temp.write_all(text.as_bytes()).with_context(context)?;
    temp.as_file().sync_all().with_context(context)?;
    temp.persist(path).map_err(|e| e.error).with_context(context)?;
    Ok(())
}
