//! `recon cases list|show|resolve` and `recon migrate`.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use chrono::Utc;
use recon_core::matching::ExceptionKind;
use recon_store::{CaseClosure, CaseDetail, CaseFilter, CaseResolution, Store};

use crate::cli::{CaseFilterArgs, ResolveArgs};
use crate::exit::{Exit, bad_input};
use crate::stdout;
use crate::terminal::{TextTable, grouped, redact_url};

/// Opens the store, naming it (without password) on failure; a transient failure (a Neon compute
/// waking up) is retried. Opening creates a missing SQLite file, which `run` and `migrate` want;
/// commands that only read or amend a store call [`open_existing_store`].
pub async fn open_store(store_url: &str) -> Result<Store> {
    crate::store_retry::open(store_url, None).await.with_context(|| format!("opening store {}", redact_url(store_url)))
}

/// Opens a store that must exist already: a mistyped SQLite path is an error (exit 2), not a new empty
/// store whose KPI reads as "no data".
pub async fn open_existing_store(store_url: &str) -> Result<Store> {
    let is_file_path = !store_url.contains("://") && !store_url.starts_with("sqlite:");
    if is_file_path && !std::path::Path::new(store_url).exists() {
        return Err(bad_input(format!(
            "store {store_url} does not exist (create it with `recon migrate --store {store_url}` or a first `recon run`)"
        )));
    }
    open_store(store_url).await
}

/// The kinds the core produces.
const KINDS: [ExceptionKind; 7] = [
    ExceptionKind::UnmatchedStatement,
    ExceptionKind::UnmatchedMove,
    ExceptionKind::Duplicate,
    ExceptionKind::AmountMismatch,
    ExceptionKind::CurrencyMismatch,
    ExceptionKind::DateOutOfWindow,
    ExceptionKind::Ambiguous,
];

/// The store filter of `--status --kind --account --from --to`; an unknown kind is a usage error.
pub fn case_filter(args: &CaseFilterArgs) -> Result<CaseFilter> {
    if let Some(kind) = &args.kind
        && !KINDS.iter().any(|k| k.as_str() == kind)
    {
        let known: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
        return Err(bad_input(format!("--kind {kind:?} is not one of {}", known.join(", "))));
    }
    Ok(CaseFilter {
        status: args.status.map(Into::into),
        kind: args.kind.clone(),
        account: args.account.clone(),
        date_from: args.from,
        date_to: args.to,
    })
}

/// `recon cases list`.
pub async fn list(args: &CaseFilterArgs, store_url: &str) -> Result<Exit> {
    let filter = case_filter(args)?;
    let store = open_existing_store(store_url).await?;
    let cases = store.cases(&filter).await.context("listing cases")?;
    if args.json {
        stdout::write(&(serde_json::to_string_pretty(&cases).context("serializing cases")? + "\n"))?;
        return Ok(Exit::Done);
    }
    let mut table = TextTable::new(&["CASE", "KIND", "STATUS", "ACCOUNT", "DATE", ">AMOUNT", "CUR", "SUMMARY"]);
    for case in &cases {
        table.row(vec![
            case.case_id.clone(),
            case.kind.clone(),
            case.status.to_string(),
            case.account.clone(),
            case.business_date.to_string(),
            case.amount.as_deref().map(grouped).unwrap_or_default(),
            case.currency.clone().unwrap_or_default(),
            case.summary.clone(),
        ]);
    }
    stdout::write(&format!("{}{} case(s)\n", table.render(0), cases.len()))?;
    Ok(Exit::Done)
}

/// `recon cases show`.
pub async fn show(case_id: &str, json: bool, store_url: &str) -> Result<Exit> {
    let store = open_existing_store(store_url).await?;
    let detail = store
        .case(case_id)
        .await
        .context("reading the case")?
        .ok_or_else(|| bad_input(format!("case {case_id} not found")))?;
    if json {
        stdout::write(&(serde_json::to_string_pretty(&detail).context("serializing the case")? + "\n"))?;
    } else {
        stdout::write(&render_detail(&detail)?)?;
    }
    Ok(Exit::Done)
}

fn render_detail(detail: &CaseDetail) -> Result<String> {
    let case = &detail.case;
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}  {}", case.case_id, case.kind, case.status);
    let _ = writeln!(out, "{}", case.summary);
    let amount = case.amount.as_deref().map(grouped).unwrap_or_default();
    let _ = writeln!(
        out,
        "account {}  business date {}  amount {} {}",
        case.account,
        case.business_date,
        amount,
        case.currency.as_deref().unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "opened {} by run {} (correlation id {}); last seen by run {}",
        case.opened_at, case.first_run_id, case.correlation_id, case.last_run_id
    );
    if let Some(at) = case.resolved_at {
        let by = case.resolved_by.as_deref().or(case.resolved_by_run_id.as_deref()).unwrap_or_default();
        let _ = writeln!(out, "closed {at} by {by}");
        let _ = writeln!(out, "  action: {}", case.corrective_action.as_deref().unwrap_or("-"));
        let _ = writeln!(out, "  prevention: {}", case.prevention.as_deref().unwrap_or("-"));
    }
    let _ = writeln!(out, "\nItems");
    for item in &detail.items {
        let fingerprint = item.fingerprint.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  {:<9} {}  fingerprint {fingerprint}", item.side.as_str(), item.item_id);
    }
    let _ = writeln!(out, "\nExternal ids\n{}", serde_json::to_string_pretty(&case.external_ids)?);
    let _ = writeln!(out, "\nEvidence\n{}", serde_json::to_string_pretty(&case.evidence)?);
    let _ = writeln!(out, "\nAudit trail");
    for event in &detail.events {
        let who = event.operator.as_deref().or(event.run_id.as_deref()).unwrap_or_default();
        let note = event.note.as_deref().unwrap_or_default();
        let _ = writeln!(out, "  {}  {:<9} {who}  {note}", event.at, event.event.as_str());
    }
    Ok(out)
}

/// `recon cases resolve`.
pub async fn resolve(args: &ResolveArgs, store_url: &str) -> Result<Exit> {
    for (flag, value) in
        [("--operator", &args.operator), ("--action", &args.action), ("--prevention", &args.prevention)]
    {
        if value.trim().is_empty() {
            return Err(bad_input(format!("{flag} must not be empty")));
        }
    }
    let store = open_existing_store(store_url).await?;
    let closure = if args.ignore { CaseClosure::Ignored } else { CaseClosure::Resolved };
    let resolution = CaseResolution {
        case_id: args.case_id.clone(),
        operator: args.operator.trim().to_owned(),
        corrective_action: args.action.trim().to_owned(),
        prevention: args.prevention.trim().to_owned(),
        closure,
        at: Utc::now(),
    };
    store.resolve_case(&resolution).await.with_context(|| format!("closing case {}", args.case_id))?;
    tracing::info!(case_id = %args.case_id, operator = %resolution.operator, ?closure, "case closed");
    let word = if args.ignore { "ignored" } else { "resolved" };
    stdout::write_done(
        &format!("case {} {word} by {}\n", args.case_id, resolution.operator),
        &format!("case {} is {word}", args.case_id),
        "`recon cases show` reads it from the store",
    );
    Ok(Exit::Done)
}

/// `recon migrate`: opening the store applies pending migrations; then list what is applied.
pub async fn migrate(store_url: &str) -> Result<Exit> {
    let store = open_store(store_url).await?;
    let applied = store.applied_migrations().await.context("listing applied migrations")?;
    let mut text = format!("store {} ({})\n", redact_url(store_url), store.backend_name());
    for migration in &applied {
        text.push_str(&format!("  applied {:04} {}\n", migration.version, migration.description));
    }
    text.push_str(&format!("{} migration(s) applied\n", applied.len()));
    stdout::write_done(&text, "the store's migrations are applied", "`recon migrate` lists them again");
    Ok(Exit::Done)
}
