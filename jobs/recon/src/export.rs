//! `recon export matches|cases` (and `recon cases export`): stored matches and cases as CSV or Parquet
//! tables, written atomically by recon-io. Rows are ordered by id, and no column carries a run id or a
//! timestamp, so two stores holding the same matches and cases export byte-identical files.

use std::path::Path;

use anyhow::{Context, Result};
use recon_io::{Format, Table};
use recon_store::{CaseFilter, ItemSide, MatchFilter, Store};

use crate::cases::open_existing_store;
use crate::cli::{ExportWhat, FormatArg};
use crate::exit::{Exit, bad_input};
use crate::stdout;

/// Columns of the matches export: one row per Odoo line of a match.
pub const MATCH_COLUMNS: [&str; 14] = [
    "match_id",
    "statement_id",
    "move_line_id",
    "rule",
    "review",
    "status",
    "account",
    "business_date",
    "amount",
    "currency",
    "reference_kind",
    "reference",
    "date_delta_banking_days",
    "summary",
];

/// Columns of the cases export: one row per item of a case.
pub const CASE_COLUMNS: [&str; 10] =
    ["case_id", "kind", "status", "side", "item_id", "account", "business_date", "amount", "currency", "summary"];

/// Runs an export.
pub async fn export(what: ExportWhat, format: Option<FormatArg>, out: &Path, store_url: &str) -> Result<Exit> {
    let format = match format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Parquet) => Format::Parquet,
        None => Format::from_path(out).map_err(|e| bad_input(format!("{e}; or give --format csv|parquet")))?,
    };
    let store = open_existing_store(store_url).await?;
    let table = match what {
        ExportWhat::Matches => matches_table(&store).await?,
        ExportWhat::Cases => cases_table(&store).await?,
    };
    let written = match format {
        Format::Csv => recon_io::write_table_csv(out, &table),
        Format::Parquet => recon_io::write_table_parquet(out, &table),
        _ => return Err(bad_input(format!("{}: unsupported export format", out.display()))),
    };
    written.with_context(|| format!("writing {}", out.display()))?;
    tracing::info!(rows = table.rows.len(), out = %out.display(), "exported");
    stdout::write_done(
        &format!("{} row(s) written to {}\n", table.rows.len(), out.display()),
        &format!("{} is written", out.display()),
        "the file holds every row",
    );
    Ok(Exit::Done)
}

async fn matches_table(store: &Store) -> Result<Table> {
    let matches = store.matches(&MatchFilter::default()).await.context("reading matches")?;
    let mut table = Table::new(MATCH_COLUMNS);
    for found in &matches {
        // Why it matched, in the analyst's sentence: written from the row (see `match_summary`).
        let summary = crate::mapping::match_summary(found).unwrap_or_else(|| {
            tracing::warn!(match_id = %found.match_id, rule = %found.rule, "no sentence for this match: left empty");
            String::new()
        });
        // One row per (statement line, Odoo line) pair: a rule's match has one statement line; a manual
        // one may have several statement lines for one Odoo line, and an ignore disposition has one
        // line only (the other column is empty), so that no match is missing from the table.
        let side_ids = |side: ItemSide| {
            let ids: Vec<&str> =
                found.items.iter().filter(|item| item.side == side).map(|item| item.item_id.as_str()).collect();
            if ids.is_empty() { vec![""] } else { ids }
        };
        let pairs = side_ids(ItemSide::Statement)
            .into_iter()
            .flat_map(|statement_id| side_ids(ItemSide::Move).into_iter().map(move |move_id| (statement_id, move_id)));
        for (statement_id, move_line_id) in pairs {
            table.push_row([
                found.match_id.clone(),
                statement_id.to_owned(),
                move_line_id.to_owned(),
                found.rule.clone(),
                found.review.to_string(),
                found.status.to_string(),
                found.account.clone(),
                found.business_date.to_string(),
                found.amount.clone(),
                found.currency.clone(),
                found.reference_kind.clone().unwrap_or_default(),
                found.reference.clone().unwrap_or_default(),
                found.date_delta_banking_days.to_string(),
                summary.clone(),
            ]);
        }
    }
    Ok(table)
}

/// One query per case for its items: exports are an operator's tool, bounded by the cases stored.
async fn cases_table(store: &Store) -> Result<Table> {
    let cases = store.cases(&CaseFilter::default()).await.context("reading cases")?;
    let mut table = Table::new(CASE_COLUMNS);
    for case in &cases {
        let detail = store
            .case(&case.case_id)
            .await
            .with_context(|| format!("reading case {}", case.case_id))?
            .with_context(|| format!("case {} vanished while exporting", case.case_id))?;
        for item in &detail.items {
            table.push_row([
                case.case_id.clone(),
                case.kind.clone(),
                case.status.to_string(),
                item.side.to_string(),
                item.item_id.clone(),
                case.account.clone(),
                case.business_date.to_string(),
                case.amount.clone().unwrap_or_default(),
                case.currency.clone().unwrap_or_default(),
                case.summary.clone(),
            ]);
        }
    }
    Ok(table)
}
