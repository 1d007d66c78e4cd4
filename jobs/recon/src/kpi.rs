//! `recon kpi`: the KPI of a date range from stored runs (for each account and business day, the row of
//! the latest successful run covering it), as tables, JSON or a Prometheus textfile.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use recon_store::{KpiRecord, Store};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::cases::open_existing_store;
use crate::cli::KpiArgs;
use crate::config;
use crate::exit::{Exit, bad_input};
use crate::stdout;
use crate::terminal::{TextTable, grouped, percent};
use recon_core::matching::rate;

/// The threshold when neither a configuration nor a stored run gives one (the runbook's 95 %).
const DEFAULT_THRESHOLD: Decimal = Decimal::from_parts(95, 0, 0, false, 2);

/// Lines and amounts behind one KPI figure.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// Statement lines.
    pub statement_lines: u64,
    /// Of which matched.
    pub matched_lines: u64,
    /// Matched over lines, rounded down to 4 decimals.
    pub count_rate: Option<Decimal>,
    /// Sum of absolute statement amounts (one currency only).
    pub statement_amount: Option<Decimal>,
    /// Sum of absolute matched amounts.
    pub matched_amount: Option<Decimal>,
    /// Matched amount over amount, rounded down to 4 decimals.
    pub amount_rate: Option<Decimal>,
}

impl Figures {
    fn add(&mut self, row: &KpiRecord, with_amounts: bool) -> Result<()> {
        self.statement_lines += row.kpi.statement_lines;
        self.matched_lines += row.kpi.matched_lines;
        if with_amounts {
            let parse = |text: &str| {
                Decimal::from_str_exact(text)
                    .with_context(|| format!("stored KPI amount {text:?} of run {} is not a decimal", row.run_id))
            };
            *self.statement_amount.get_or_insert(Decimal::ZERO) += parse(&row.kpi.statement_amount)?;
            *self.matched_amount.get_or_insert(Decimal::ZERO) += parse(&row.kpi.matched_amount)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Figures {
        self.count_rate = rate(Decimal::from(self.matched_lines), Decimal::from(self.statement_lines));
        if let (Some(matched), Some(total)) = (self.matched_amount, self.statement_amount) {
            self.amount_rate = rate(matched, total);
        }
        self
    }
}

/// One account over the range.
#[derive(Debug, Serialize)]
pub struct AccountKpi {
    /// The account.
    pub account: String,
    /// Its currency.
    pub currency: String,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One account on one day.
#[derive(Debug, Serialize)]
pub struct DayKpi {
    /// The business day.
    pub business_date: NaiveDate,
    /// The account.
    pub account: String,
    /// Its currency.
    pub currency: String,
    /// The run whose figures these are.
    pub run_id: String,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Everything `recon kpi` reports.
#[derive(Debug, Serialize)]
pub struct KpiSummary {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// The alert line.
    pub threshold: Decimal,
    /// All accounts: counts only (amounts are per currency).
    pub overall: Figures,
    /// Per currency.
    pub by_currency: BTreeMap<String, Figures>,
    /// Per account.
    pub accounts: Vec<AccountKpi>,
    /// Per account and day.
    pub days: Vec<DayKpi>,
    /// True when the overall or an account's count rate is below the threshold, or there is no data.
    pub below_threshold: bool,
    /// Open cases by kind (all dates).
    pub open_cases: BTreeMap<String, u64>,
    /// When the last successful run finished, as Unix seconds.
    pub last_successful_run_unix_seconds: Option<i64>,
}

/// Runs `recon kpi`.
pub async fn kpi(args: &KpiArgs, store_url: &str) -> Result<Exit> {
    if args.from > args.to {
        return Err(bad_input(format!("--from {} is after --to {}", args.from, args.to)));
    }
    let configured = args.config.as_deref().map(config::load).transpose()?;
    let store = open_existing_store(store_url).await?;
    let accounts = (!args.account.is_empty()).then_some(args.account.as_slice());
    let rows = store.kpi_rows(args.from, args.to, accounts).await.context("reading KPI rows")?;
    let last_run = store.last_successful_run().await.context("reading the last successful run")?;
    let threshold = threshold(configured.as_ref(), last_run.as_ref());
    let mut summary = summarize(args.from, args.to, threshold, &rows)?;
    summary.open_cases = open_cases(&store).await?;
    summary.last_successful_run_unix_seconds = last_run.map(|run| run.header.finished_at.timestamp());
    if let Some(path) = &args.metrics_file {
        write_metrics(path, &summary)?;
    }
    let text = if args.json {
        serde_json::to_string_pretty(&summary).context("serializing the KPI")? + "\n"
    } else {
        render(&summary)
    };
    if summary.below_threshold || args.metrics_file.is_some() {
        // The exit code is the KPI's verdict and the metrics file is written, which alerts read: a
        // stdout that fails does not hide them.
        stdout::write_done(
            &text,
            "the KPI is read",
            "the exit code (and the metrics file, when asked for) says whether it is below the threshold",
        );
    } else {
        // Here stdout is the command's only output: failing to write it is an error.
        stdout::write(&text)?;
    }
    Ok(if summary.below_threshold { Exit::BelowThreshold } else { Exit::Done })
}

/// The alert line: the configuration's, else the last successful run's, else the runbook's 95 %.
pub fn threshold(configured: Option<&config::Settings>, last_run: Option<&recon_store::RunRecord>) -> Decimal {
    match (configured, last_run) {
        (Some(settings), _) => settings.match_config.kpi_threshold,
        (None, Some(run)) => {
            run.kpi.as_ref().and_then(|k| Decimal::from_str_exact(&k.threshold).ok()).unwrap_or(DEFAULT_THRESHOLD)
        }
        (None, None) => DEFAULT_THRESHOLD,
    }
}

/// Open cases for every kind the core produces (zero included, so an alert sees the series), plus any
/// other kind found in the store.
async fn open_cases(store: &Store) -> Result<BTreeMap<String, u64>> {
    use recon_core::matching::ExceptionKind as K;
    let mut counts: BTreeMap<String, u64> = [
        K::UnmatchedStatement,
        K::UnmatchedMove,
        K::Duplicate,
        K::AmountMismatch,
        K::CurrencyMismatch,
        K::DateOutOfWindow,
        K::Ambiguous,
    ]
    .into_iter()
    .map(|kind| (kind.as_str().to_owned(), 0))
    .collect();
    counts.extend(store.open_case_counts_by_kind().await.context("counting open cases")?);
    Ok(counts)
}

fn summarize(from: NaiveDate, to: NaiveDate, threshold: Decimal, rows: &[KpiRecord]) -> Result<KpiSummary> {
    let mut overall = Figures::default();
    let mut by_currency: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_account: BTreeMap<(String, String), Figures> = BTreeMap::new();
    let mut days = Vec::with_capacity(rows.len());
    for row in rows {
        overall.add(row, false)?;
        by_currency.entry(row.kpi.currency.clone()).or_default().add(row, true)?;
        by_account.entry((row.kpi.account.clone(), row.kpi.currency.clone())).or_default().add(row, true)?;
        let mut day = Figures::default();
        day.add(row, true)?;
        days.push(DayKpi {
            business_date: row.kpi.business_date,
            account: row.kpi.account.clone(),
            currency: row.kpi.currency.clone(),
            run_id: row.run_id.clone(),
            figures: day.finish(),
        });
    }
    let accounts: Vec<AccountKpi> = by_account
        .into_iter()
        .map(|((account, currency), figures)| AccountKpi { account, currency, figures: figures.finish() })
        .collect();
    let overall = overall.finish();
    let below = |figures: &Figures| figures.count_rate.is_some_and(|rate| rate < threshold);
    let below_threshold = overall.count_rate.is_none() || below(&overall) || accounts.iter().any(|a| below(&a.figures));
    Ok(KpiSummary {
        from,
        to,
        threshold,
        overall,
        by_currency: by_currency.into_iter().map(|(currency, figures)| (currency, figures.finish())).collect(),
        accounts,
        days,
        below_threshold,
        open_cases: BTreeMap::new(),
        last_successful_run_unix_seconds: None,
    })
}

fn money(amount: Option<Decimal>) -> String {
    amount.map(|a| grouped(&a.to_string())).unwrap_or_default()
}

fn figure_cells(figures: &Figures) -> Vec<String> {
    vec![
        figures.statement_lines.to_string(),
        figures.matched_lines.to_string(),
        percent(figures.count_rate),
        money(figures.statement_amount),
        money(figures.matched_amount),
        if figures.amount_rate.is_some() { percent(figures.amount_rate) } else { String::new() },
    ]
}

const FIGURE_COLUMNS: [&str; 6] = [">LINES", ">MATCHED", ">COUNT RATE", ">AMOUNT", ">MATCHED AMOUNT", ">AMOUNT RATE"];

fn render(summary: &KpiSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "KPI for business dates {} .. {} (alert below {})",
        summary.from,
        summary.to,
        percent(Some(summary.threshold))
    );
    let mut accounts = TextTable::new(&[&["ACCOUNT", "CUR"][..], &FIGURE_COLUMNS[..]].concat());
    for account in &summary.accounts {
        accounts
            .row([vec![account.account.clone(), account.currency.clone()], figure_cells(&account.figures)].concat());
    }
    for (currency, figures) in &summary.by_currency {
        accounts.row([vec!["all accounts".to_owned(), currency.clone()], figure_cells(figures)].concat());
    }
    if summary.by_currency.len() != 1 {
        let mut counts_only = figure_cells(&summary.overall);
        counts_only.truncate(3);
        accounts.row([vec!["all accounts".to_owned(), "*".to_owned()], counts_only].concat());
    }
    out.push_str(&accounts.render(2));
    let mut days = TextTable::new(&[&["DATE", "ACCOUNT", "CUR"][..], &FIGURE_COLUMNS[..], &["RUN"][..]].concat());
    for day in &summary.days {
        let head = vec![day.business_date.to_string(), day.account.clone(), day.currency.clone()];
        days.row([head, figure_cells(&day.figures), vec![day.run_id.clone()]].concat());
    }
    let _ = writeln!(out, "\nPer day");
    if days.is_empty() {
        let _ = writeln!(out, "  no successful run covers these dates");
    } else {
        out.push_str(&days.render(2));
    }
    let open: Vec<String> = summary.open_cases.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
    let _ = writeln!(out, "\nOpen cases (all dates): {}", open.join(", "));
    let verdict = if summary.below_threshold { "BELOW THRESHOLD (exit 3)" } else { "OK (exit 0)" };
    let _ = writeln!(out, "Result: {verdict}");
    out
}

/// Prometheus text exposition of the summary.
pub fn metrics_text(summary: &KpiSummary) -> String {
    let mut out = String::new();
    let scope = format!("business dates {} to {}", summary.from, summary.to);
    gauge_header(&mut out, "recon_kpi_count_rate", &format!("Matched over statement lines, {scope}."));
    for account in &summary.accounts {
        if let Some(rate) = account.figures.count_rate {
            let _ = writeln!(out, "recon_kpi_count_rate{{account=\"{}\"}} {rate}", label(&account.account));
        }
    }
    if let Some(rate) = summary.overall.count_rate {
        let _ = writeln!(out, "recon_kpi_count_rate{{account=\"all\"}} {rate}");
    }
    gauge_header(&mut out, "recon_kpi_amount_rate", &format!("Matched over statement amount, {scope}."));
    for account in &summary.accounts {
        if let Some(rate) = account.figures.amount_rate {
            let _ = writeln!(out, "recon_kpi_amount_rate{{account=\"{}\"}} {rate}", label(&account.account));
        }
    }
    gauge_header(&mut out, "recon_kpi_threshold", "The KPI alert line.");
    let _ = writeln!(out, "recon_kpi_threshold {}", summary.threshold);
    gauge_header(&mut out, "recon_open_cases", "Open cases by kind, all dates.");
    for (kind, count) in &summary.open_cases {
        let _ = writeln!(out, "recon_open_cases{{kind=\"{}\"}} {count}", label(kind));
    }
    gauge_header(
        &mut out,
        "recon_last_successful_run_timestamp_seconds",
        "When the last successful run finished (Unix seconds; 0 when none has).",
    );
    let _ = writeln!(
        out,
        "recon_last_successful_run_timestamp_seconds {}",
        summary.last_successful_run_unix_seconds.unwrap_or(0)
    );
    out
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// A label value escaped for the text format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes the textfile atomically (a temporary file in the same directory, renamed), readable by the
/// node_exporter, so a scrape never sees half a file.
fn write_metrics(path: &Path, summary: &KpiSummary) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let context = || format!("writing metrics file {}", path.display());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".recon-metrics.").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder.tempfile_in(dir).with_context(context)?;
    temp.write_all(metrics_text(summary).as_bytes()).with_context(context)?;
    temp.as_file().sync_all().with_context(context)?;
    temp.persist(path).map_err(|e| e.error).with_context(context)?;
    Ok(())
}
