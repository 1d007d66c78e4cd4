//! The run report a finance analyst reads: KPI per account and overall, matches by rule, exceptions by
//! kind, the largest exceptions in one sentence each, what was set aside, and what the store did.

use std::fmt::Write as _;

use chrono::NaiveDate;
use recon_core::matching::{Exception, KpiCell, KpiReport};
use recon_store::{RunInput, RunWriteSummary};
use serde::Serialize;

use crate::config::Settings;
use crate::mapping::decimal_string;
use crate::run::RunCounts;
use crate::scope::DateRange;
use crate::terminal::{TextTable, grouped, percent};

/// How many exceptions the report lists.
pub const TOP_EXCEPTIONS: usize = 5;

/// Everything the report prints.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// The run.
    pub run_id: String,
    /// Its correlation id.
    pub correlation_id: String,
    /// Business dates owned.
    pub range: DateRange,
    /// Business dates read for context.
    pub context: DateRange,
    /// Input files.
    pub inputs: Vec<RunInput>,
    /// Counts.
    pub counts: RunCounts,
    /// The KPI of the range.
    pub kpi: KpiReport,
    /// The largest exceptions.
    pub top_exceptions: Vec<TopException>,
    /// What the store did, once written.
    pub store: Option<RunWriteSummary>,
}

/// One exception in the report.
#[derive(Debug, Serialize)]
pub struct TopException {
    /// Case id.
    pub case_id: String,
    /// Kind.
    pub kind: String,
    /// Account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount and currency, e.g. `1,250.00 MXN`.
    pub amount: String,
    /// One sentence.
    pub summary: String,
}

impl TopException {
    /// The `count` exceptions with the most money at stake — the largest absolute amount of any of
    /// their items, so 1,250.00 booked as 125,000.00 ranks by the 125,000.00 — then by case id.
    pub fn top(exceptions: &[Exception], count: usize) -> Vec<TopException> {
        let at_stake = |e: &Exception| e.items.iter().map(|i| i.amount.amount_minor.unsigned_abs()).max().unwrap_or(0);
        let mut sorted: Vec<&Exception> = exceptions.iter().collect();
        sorted.sort_by(|a, b| at_stake(b).cmp(&at_stake(a)).then(a.case_id.cmp(&b.case_id)));
        sorted
            .into_iter()
            .take(count)
            .map(|e| TopException {
                case_id: e.case_id.clone(),
                kind: e.kind.as_str().to_owned(),
                account: e.account.clone(),
                business_date: e.business_date,
                amount: format!("{} {}", grouped(&e.amount.to_string()), e.amount.currency),
                summary: e.summary.clone(),
            })
            .collect()
    }
}

/// The report as text.
pub fn render(report: &RunReport, settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "recon run {} (correlation id {})", report.run_id, report.correlation_id);
    let _ = writeln!(
        out,
        "Business dates {} in {}; lines read for context {}",
        report.range, settings.zone, report.context
    );
    for input in &report.inputs {
        let _ =
            writeln!(out, "  {:<6} {}  {} rows  blake3 {}", input.name, input.path, input.rows, &input.blake3[..16]);
    }
    let _ = writeln!(out, "\nKPI by account (alert below {})", percent(Some(report.kpi.threshold)));
    out.push_str(&kpi_table(&report.kpi, settings).render(2));
    render_counts(&mut out, &report.counts);
    render_top(&mut out, &report.top_exceptions);
    if let Some(store) = &report.store {
        let _ = writeln!(
            out,
            "\nStore: matches {} new, {} kept, {} reactivated, {} superseded; cases {} opened, {} seen again, {} reopened, {} auto-resolved; {} rows quarantined",
            store.matches_inserted,
            store.matches_kept,
            store.matches_reactivated,
            store.matches_superseded,
            store.cases_opened,
            store.cases_seen + store.cases_ignored_seen,
            store.cases_reopened,
            store.cases_resolved,
            store.quarantined_rows
        );
    }
    out.push_str(&verdict(&report.kpi));
    out
}

fn kpi_table(kpi: &KpiReport, settings: &Settings) -> TextTable {
    let mut table = TextTable::new(&[
        "ACCOUNT",
        "NAME",
        "CUR",
        ">LINES",
        ">MATCHED",
        ">REVIEW",
        ">COUNT RATE",
        ">AMOUNT",
        ">MATCHED AMOUNT",
        ">AMOUNT RATE",
    ]);
    for account in &settings.accounts {
        let empty = KpiCell::default();
        let cell = kpi.per_account.get(&account.clabe).unwrap_or(&empty);
        table.row(kpi_row(&account.clabe, &account.name, account.currency.code(), cell, Some(account.currency)));
    }
    for (code, cell) in &kpi.overall_by_currency {
        let currency = recon_core::currency::Currency::from_code(code).ok();
        table.row(kpi_row("all accounts", "", code, cell, currency));
    }
    if kpi.overall_by_currency.len() != 1 {
        table.row(kpi_row("all accounts", "", "*", &kpi.overall, None));
    }
    table
}

/// One line of the KPI table; amounts only when the cell has a single currency.
fn kpi_row(
    account: &str,
    name: &str,
    currency_code: &str,
    cell: &KpiCell,
    currency: Option<recon_core::currency::Currency>,
) -> Vec<String> {
    let money = |minor: i128| match currency {
        Some(currency) => decimal_string(minor, currency).map(|s| grouped(&s)).unwrap_or_default(),
        None => String::new(),
    };
    vec![
        account.to_owned(),
        name.to_owned(),
        currency_code.to_owned(),
        cell.statement_lines.to_string(),
        cell.matched_lines.to_string(),
        cell.needs_review_lines.to_string(),
        percent(cell.count_rate),
        money(cell.statement_amount_minor),
        money(cell.matched_amount_minor),
        if currency.is_some() { percent(cell.amount_rate) } else { String::new() },
    ]
}

fn joined(counts: &std::collections::BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts.iter().map(|(name, count)| format!("{name} {count}")).collect::<Vec<_>>().join(", ")
}

fn render_counts(out: &mut String, counts: &RunCounts) {
    let _ = writeln!(
        out,
        "\nMatches by rule: {} (needing review: {})",
        joined(&counts.matches_by_rule),
        counts.matches_needing_review
    );
    let _ = writeln!(out, "Exceptions by kind: {}", joined(&counts.exceptions_by_kind));
    let (statements, moves, core) = (&counts.lines.statements, &counts.lines.moves, &counts.reconciled);
    let _ = writeln!(
        out,
        "Statement lines: {} read, {} in range, {} in the context margin, {} outside; {} of unconfigured accounts",
        statements.read, statements.in_range, statements.in_margin, statements.outside, core.statements_unmapped
    );
    let _ = writeln!(
        out,
        "Odoo lines: {} read, {} in range, {} in the context margin, {} outside; of those read for context, {} on a bank account of a posted move, {} draft, {} cancelled, {} not on a bank account",
        moves.read,
        moves.in_range,
        moves.in_margin,
        moves.outside,
        core.moves_in_scope,
        core.moves_draft,
        core.moves_cancelled,
        core.moves_not_bank_account
    );
    let _ = writeln!(
        out,
        "Quarantined bad rows (not in the rates): {} statement, {} Odoo",
        counts.quarantined.statement_rows, counts.quarantined.move_rows
    );
    if core.settlement_searches_truncated > 0 {
        let _ = writeln!(out, "Settlement searches stopped at steps_max: {}", core.settlement_searches_truncated);
    }
}

fn render_top(out: &mut String, top: &[TopException]) {
    if top.is_empty() {
        let _ = writeln!(out, "\nNo exceptions.");
        return;
    }
    let _ = writeln!(out, "\nLargest exceptions (see `recon cases show CASE_ID`):");
    for exception in top {
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}  {}\n      {}",
            exception.case_id,
            exception.kind,
            exception.account,
            exception.business_date,
            exception.amount,
            exception.summary
        );
    }
}

fn verdict(kpi: &KpiReport) -> String {
    let threshold = percent(Some(kpi.threshold));
    match kpi.overall.count_rate {
        None => "\nResult: NO STATEMENT LINES in the range: the KPI is undefined (exit 3)\n".to_owned(),
        Some(_) if kpi.below_threshold => {
            let below: Vec<String> = kpi
                .per_account
                .iter()
                .filter(|(_, cell)| cell.count_rate.is_some_and(|rate| rate < kpi.threshold))
                .map(|(account, cell)| format!("{account} {}", percent(cell.count_rate)))
                .collect();
            format!(
                "\nResult: BELOW THRESHOLD: overall count rate {} (alert below {threshold}); accounts below: {} (exit 3)\n",
                percent(kpi.overall.count_rate),
                if below.is_empty() { "none".to_owned() } else { below.join(", ") }
            )
        }
        Some(_) => format!(
            "\nResult: OK: overall count rate {} (alert below {threshold}) (exit 0)\n",
            percent(kpi.overall.count_rate)
        ),
    }
}
