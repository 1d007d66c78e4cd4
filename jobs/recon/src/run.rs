//! `recon run`: read, reconcile, write everything in one transaction, report the KPI.
//!
//! Order of work: configuration and, for database inputs, the configuration checked against them
//! (exit 2 before anything else), store and lock (exit 4 / 5), inputs (exit 2 on a bad row unless
//! `--skip-bad-rows`), reconciliation, then one `write_run` transaction, retried whole on transient
//! faults (see `store_retry`). A run that fails or is killed before the commit leaves no run, match,
//! case, KPI or quarantine row. Matches and cases become the store's rows inside that transaction,
//! a round at a time (`RunMatches`, `RunCases`): a row that cannot be mapped fails the write (exit
//! 4, the run recorded as failed), which cannot happen short of a JSON serializer failure.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use recon_core::matching::{Counts, KpiReport, ManualAssignments, Side, reconcile_unbuilt};
use recon_store::{
    CaseWrite, ItemSide, MatchFilter, MatchReview, MatchStatus, MatchWrite, RowSource, RunHeader, RunInput, RunLock,
    RunMode, RunScope, RunWrite, Store, TestHooks,
};
use serde::Serialize;
use tracing::Instrument;

use crate::cli::RunArgs;
use crate::config::{self, Settings};
use crate::exit::Exit;
use crate::input::{self, BadRow};
use crate::mapping::{self, Provenances};
use crate::report::{self, RunReport, TopException};
use crate::scope::{self, DateRange, SideCounts};
use crate::sources::{Inputs, Sources};
use crate::stdout;
use crate::store_retry::{self, Written};
use crate::terminal;

/// Test hook: milliseconds to sleep while holding the lock, after everything is computed and right
/// before the write transaction, so tests can kill a run or race a second one at a known point.
pub const PAUSE_ENV: &str = "RECON_TEST_PAUSE_BEFORE_WRITE_MS";
/// Test hook: milliseconds to sleep inside the write transaction, after the run row is inserted (first
/// attempt only), so tests can terminate connections, restart the server or kill the run mid-write.
pub const PAUSE_IN_WRITE_ENV: &str = "RECON_TEST_PAUSE_IN_WRITE_MS";
/// Test hook: a file whose appearance ends either pause early, when the test has done its part.
pub const RESUME_FILE_ENV: &str = "RECON_TEST_RESUME_FILE";
/// Test hook: report the first commit's acknowledgement as lost (the data is committed).
pub const DROP_COMMIT_ACK_ENV: &str = "RECON_TEST_DROP_COMMIT_ACK";

/// Who and what a run is.
#[derive(Clone, Debug)]
struct Identity {
    run_id: String,
    correlation_id: String,
    mode: RunMode,
    operator: String,
    started_at: DateTime<Utc>,
}

/// Runs `recon run`; the outcome is [`Exit::Done`] or [`Exit::BelowThreshold`].
pub async fn run(args: &RunArgs, store_url: &str) -> Result<Exit> {
    let settings = config::load(&args.config)?;
    let started_at = Utc::now();
    let today = started_at.with_timezone(&settings.zone).date_naive();
    let range = scope::resolve_range(args.from, args.to, settings.lookback_days, today)?;
    let run_id = new_run_id(started_at);
    let identity = Identity {
        correlation_id: args.correlation_id.clone().unwrap_or_else(|| format!("recon-{run_id}")),
        mode: args.mode.into(),
        operator: args.operator.clone().unwrap_or_else(|| default_operator(args.mode.into())),
        run_id,
        started_at,
    };
    let span = tracing::info_span!("run", run_id = %identity.run_id, correlation_id = %identity.correlation_id);
    execute(args, store_url, &settings, range, &identity).instrument(span).await
}

/// A unique, sortable run id: start instant plus 8 hex digits of a hash of the instant and the pid.
fn new_run_id(started_at: DateTime<Utc>) -> String {
    let nanos = started_at.timestamp_nanos_opt().unwrap_or_default();
    let seed = format!("{nanos}/{}", std::process::id());
    let suffix = &blake3::hash(seed.as_bytes()).to_hex()[..8];
    format!("R-{}-{suffix}", started_at.format("%Y%m%dT%H%M%SZ"))
}

fn default_operator(mode: RunMode) -> String {
    match mode {
        RunMode::Nightly => "scheduler".to_owned(),
        RunMode::Manual => {
            std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into())
        }
    }
}

async fn execute(
    args: &RunArgs,
    store_url: &str,
    settings: &Settings,
    range: DateRange,
    identity: &Identity,
) -> Result<Exit> {
    let redacted = terminal::redact_url(store_url);
    tracing::info!(store = %redacted, %range, mode = %identity.mode, operator = %identity.operator, "run started");
    let context = scope::context_range(range, settings.context_banking_days, &settings.match_config.calendar);
    let sources = Sources::parse(&args.statements, &args.moves)?;
    sources.check(settings, context).await?;
    recon_store::check_lock_endpoint(store_url).with_context(|| format!("store {redacted}"))?;
    let store =
        store_retry::open(store_url, test_hooks()).await.with_context(|| format!("opening store {redacted}"))?;
    let lock_scope = format!("{} run {} for {range} by {}", identity.mode, identity.run_id, identity.operator);
    let mut lock = store.try_lock(&lock_scope).await.with_context(|| format!("taking the run lock of {redacted}"))?;
    let manual = manual_assignments(&store).await?;
    let read_started = Instant::now();
    let inputs = sources.read(settings, range, context).await?;
    let (run_write, mut report) = prepare(inputs, read_started, args, settings, range, identity, &manual)?;
    pause_for_tests().await;
    let written = store_retry::write_run(&store, &mut lock, &run_write).await;
    let written = match written {
        Ok(written) => written,
        Err(error) => {
            record_failure(&store, &run_write.header, &error).await;
            return Err(error).with_context(|| format!("writing run {} to {redacted}", identity.run_id));
        }
    };
    release_after_commit(lock, &format!("run {}", identity.run_id)).await;
    if let Written::Now(summary) = written {
        report.store = Some(summary);
    }
    let mut text = report::render(&report, settings);
    if let Written::ByEarlierAttempt = written {
        text.push_str(&format!(
            "Store: run {} was committed by an earlier attempt whose acknowledgement was lost; \
             nothing was written twice\n",
            identity.run_id
        ));
    }
    // The run, its KPI and its cases are in the store whether or not the report can be printed.
    stdout::write_done(
        &text,
        &format!("run {} is committed", identity.run_id),
        "`recon kpi` and `recon cases list` read its KPI and cases from the store",
    );
    let exit = if below_threshold(&report.kpi) { Exit::BelowThreshold } else { Exit::Done };
    tracing::info!(count_rate = %run_write.kpi.count_rate, exit_code = exit.code(), "run finished");
    Ok(exit)
}

/// Releases the run lock once `what` is committed. A failure to release does not change the
/// outcome or the exit code: it is logged, and the lock (a file lock, or a PostgreSQL advisory lock
/// held by this process's connection) is freed when the process exits.
pub(crate) async fn release_after_commit(lock: RunLock, what: &str) {
    if let Err(error) = lock.release().await {
        tracing::error!(%error, "{what} is committed, but releasing the run lock failed; it is freed when this process exits");
    }
}

/// The lines of active manual matches in the store: a person matched them, so the tiers leave them
/// alone and the KPI counts them as reconciled (a run never supersedes a manual match).
async fn manual_assignments(store: &Store) -> Result<ManualAssignments> {
    let filter =
        MatchFilter { status: Some(MatchStatus::Active), review: Some(MatchReview::Manual), ..MatchFilter::default() };
    let manual = store_retry::read("read manual matches", async || store.matches(&filter).await)
        .await
        .context("reading manual matches")?;
    let mut assignments = ManualAssignments::default();
    for item in manual.iter().flat_map(|m| &m.items) {
        match item.side {
            ItemSide::Statement => assignments.statement_ids.insert(item.item_id.clone()),
            ItemSide::Move => assignments.move_line_ids.insert(item.item_id.clone()),
        };
    }
    Ok(assignments)
}

/// Below the threshold overall or for any account; a range with no statement line at all also fails
/// the check: an empty night is more likely a broken feed than a quiet bank.
fn below_threshold(kpi: &KpiReport) -> bool {
    kpi.below_threshold || kpi.overall.count_rate.is_none()
}

async fn pause_for_tests() {
    let Some(ms) = std::env::var(PAUSE_ENV).ok().and_then(|v| v.parse::<u64>().ok()) else { return };
    tracing::warn!(ms, "test hook {PAUSE_ENV}: pausing before the write transaction");
    recon_store::test_pause(Duration::from_millis(ms), resume_file().as_deref()).await;
}

fn resume_file() -> Option<PathBuf> {
    std::env::var_os(RESUME_FILE_ENV).map(PathBuf::from)
}

/// The store's test hooks from the environment, if any is set.
fn test_hooks() -> Option<TestHooks> {
    let pause_in_write = std::env::var(PAUSE_IN_WRITE_ENV).ok().and_then(|v| v.parse::<u64>().ok());
    let drop_commit_ack = std::env::var_os(DROP_COMMIT_ACK_ENV).is_some();
    if pause_in_write.is_none() && !drop_commit_ack {
        return None;
    }
    let mut hooks = TestHooks::new();
    if let Some(ms) = pause_in_write {
        hooks = hooks.pause_in_write(Duration::from_millis(ms));
    }
    if let Some(path) = resume_file() {
        hooks = hooks.resume_file(path);
    }
    if drop_commit_ack {
        hooks = hooks.drop_first_commit_ack();
    }
    tracing::warn!(?hooks, "store test hooks set from the environment");
    Some(hooks)
}

/// Records the failed run (header and error only), best effort: the store may be what failed.
async fn record_failure(store: &Store, header: &RunHeader, error: &recon_store::StoreError) {
    if let Err(second) = store.record_failed_run(header, &error.to_string()).await {
        tracing::error!(%second, "could not record the failed run either");
    }
}

/// Reconciles the inputs (read since `read_started`) and builds everything the run writes, plus the
/// report to print.
fn prepare(
    inputs: Inputs,
    read_started: Instant,
    args: &RunArgs,
    settings: &Settings,
    range: DateRange,
    identity: &Identity,
    manual: &ManualAssignments,
) -> Result<(RunWrite<RunMatches, RunCases>, RunReport)> {
    let bad_rows: Vec<BadRow> = inputs.statements.bad_rows.iter().chain(&inputs.moves.bad_rows).cloned().collect();
    if !bad_rows.is_empty() && !args.skip_bad_rows {
        return Err(input::bad_rows_error(&bad_rows));
    }
    for row in &bad_rows {
        tracing::warn!(row = %row, "bad row quarantined");
    }
    let read_ms = read_started.elapsed().as_millis();
    let reconcile_started = Instant::now();
    let (matches, mut reconciled) = reconcile_inputs(inputs, settings, range, manual);
    let timings = serde_json::json!({ "read_ms": read_ms, "reconcile_ms": reconcile_started.elapsed().as_millis() });
    let header = RunHeader {
        run_id: identity.run_id.clone(),
        mode: identity.mode,
        operator: identity.operator.clone(),
        correlation_id: identity.correlation_id.clone(),
        scope: RunScope {
            accounts: accounts_with_input(settings, &reconciled),
            date_from: range.from,
            date_to: range.to,
        },
        inputs: reconciled.run_inputs.clone(),
        config_blake3: settings.blake3.clone(),
        started_at: identity.started_at,
        finished_at: Utc::now(),
        timings,
    };
    let top_exceptions = TopException::top(&reconciled.exceptions, report::TOP_EXCEPTIONS);
    let run_write = run_write(header, matches, &mut reconciled, &bad_rows)?;
    let report = RunReport {
        run_id: identity.run_id.clone(),
        correlation_id: identity.correlation_id.clone(),
        range,
        context: reconciled.context,
        inputs: reconciled.run_inputs,
        counts: reconciled.counts,
        top_exceptions,
        kpi: reconciled.kpi,
        store: None,
    };
    Ok((run_write, report))
}

/// The outcome of reconciling a run's inputs, restricted to what the run owns, but its matches
/// (which `run_write` consumes, with the exceptions and their provenances).
struct Reconciled {
    exceptions: Vec<recon_core::matching::Exception>,
    kpi: KpiReport,
    counts: RunCounts,
    context: DateRange,
    provenances: Provenances,
    quarantined: Quarantined,
    run_inputs: Vec<RunInput>,
}

/// Reconciles the inputs (already filtered to the context at read) and keeps what the run owns (see
/// `scope`): the run's matches, and the rest.
fn reconcile_inputs(
    inputs: Inputs,
    settings: &Settings,
    range: DateRange,
    manual: &ManualAssignments,
) -> (Vec<recon_core::matching::Match>, Reconciled) {
    let context = scope::context_range(range, settings.context_banking_days, &settings.match_config.calendar);
    let (statement_counts, move_counts) = (inputs.statement_counts, inputs.move_counts);
    tracing::info!(
        statements_in_range = statement_counts.in_range,
        statements_in_margin = statement_counts.in_margin,
        statements_outside = statement_counts.outside,
        moves_in_range = move_counts.in_range,
        moves_in_margin = move_counts.in_margin,
        moves_outside = move_counts.outside,
        counterpart_lines = inputs.counterpart_lines,
        %context,
        "inputs read"
    );
    let unbuilt = reconcile_unbuilt(&inputs.statements.lines, &inputs.moves.lines, &settings.match_config, manual);
    // Where each of the run's exceptions was read: the last use of the typed lines' id index.
    let in_range = unbuilt.exceptions().iter().filter(|exception| Owned::owns_exception(exception, range));
    let provenances = Provenances::of_exceptions(in_range, |side, record| match side {
        Side::Statement => inputs.statements.provenance(record),
        Side::Move => inputs.moves.provenance(record),
    });
    let quarantined = Quarantined {
        statement_rows: inputs.statements.bad_rows.len() as u64,
        move_rows: inputs.moves.bad_rows.len() as u64,
    };
    let run_inputs = inputs.run_inputs;
    // The typed lines are not needed past this point but for the matches' ids: tens of millions of
    // lines at 10 M, about 5 GB. Their id indexes go first; the core then frees the lines on all
    // cores as it takes the ids out of them (built while the lines were still held, the matches
    // made or nearly made the run's peak at 10 M, and so did their ids copied beside the lines:
    // BENCHMARKS.md, fifteenth and sixteenth sessions), before the write, whose rows (mapped a
    // round at a time) take the memory the lines gave back.
    // The time counts in the run's `reconcile_ms` (and is logged on its own).
    let building = Instant::now();
    let (mut statements, mut moves) = (inputs.statements, inputs.moves);
    let (statement_lines, move_lines) = (std::mem::take(&mut statements.lines), std::mem::take(&mut moves.lines));
    drop((statements, moves));
    let mut outcome = unbuilt.build_from_owned(statement_lines, move_lines);
    tracing::debug!(ms = building.elapsed().as_millis(), "typed inputs freed, matches built");
    // Counterpart lines were dropped at read; the core would have counted them as not on a bank account.
    outcome.counts.moves_total += inputs.counterpart_lines;
    outcome.counts.moves_not_bank_account += inputs.counterpart_lines;
    let owned = Owned::select(outcome.matches, outcome.exceptions, &outcome.kpi, range);
    let sides = Sides { statements: statement_counts, moves: move_counts };
    let counts = RunCounts::new(&owned, sides, outcome.counts, quarantined);
    let Owned { matches, exceptions, kpi } = owned;
    (matches, Reconciled { exceptions, kpi, counts, context, provenances, quarantined, run_inputs })
}

/// The run's matches as the store reads them (`RowSource`): the core's own, each mapped to its
/// row only when the store writes its round. A row takes about twice a core match's memory (700
/// against 300 bytes): with the 10 M night's rows all mapped before the write, the write held
/// 9.7-10.6 GB; with the core's matches, 6.1-7.2 GB (BENCHMARKS.md, fourteenth session).
pub struct RunMatches(Vec<recon_core::matching::Match>);

impl RowSource<MatchWrite> for RunMatches {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn id(&self, index: usize) -> &str {
        &self.0[index].match_id
    }

    fn row(&self, index: usize) -> std::result::Result<Cow<'_, MatchWrite>, String> {
        mapping::match_write(&self.0[index]).map(Cow::Owned).map_err(|error| format!("{error:#}"))
    }
}

impl Drop for RunMatches {
    /// Millions of matches, each with a few heap blocks, are freed on all cores (dropped on one
    /// core, they kept the 3 M run waiting a second).
    fn drop(&mut self) {
        std::mem::take(&mut self.0).into_par_iter().for_each(drop);
    }
}

/// The run's cases as the store reads them (`RowSource`): its exceptions, each mapped to its row
/// (its evidence serialized as JSON, about two kilobytes) only when the store writes its round, as
/// the matches ([`RunMatches`]).
pub struct RunCases {
    exceptions: Vec<recon_core::matching::Exception>,
    provenances: Provenances,
}

impl RowSource<CaseWrite> for RunCases {
    fn count(&self) -> usize {
        self.exceptions.len()
    }

    fn id(&self, index: usize) -> &str {
        &self.exceptions[index].case_id
    }

    fn row(&self, index: usize) -> std::result::Result<Cow<'_, CaseWrite>, String> {
        mapping::case_write(&self.exceptions[index], &self.provenances)
            .map(Cow::Owned)
            .map_err(|error| format!("{error:#}"))
    }
}

/// Everything the run writes, in the store's terms; matches and cases are mapped by the store,
/// round by round ([`RunMatches`], [`RunCases`]). Takes the exceptions and their provenances out
/// of `reconciled`.
fn run_write(
    header: RunHeader,
    matches: Vec<recon_core::matching::Match>,
    reconciled: &mut Reconciled,
    bad_rows: &[BadRow],
) -> Result<RunWrite<RunMatches, RunCases>> {
    let started = Instant::now();
    let kpi_section = KpiSection { kpi: reconciled.kpi.clone(), quarantined: reconciled.quarantined };
    // Cases only for accounts the run had statement lines for: an empty feed would otherwise turn
    // every Odoo line of the account into an `unmatched_move` case.
    let in_scope = |exception: &recon_core::matching::Exception| {
        header.scope.accounts.iter().any(|account| account.trim() == exception.account)
    };
    let exceptions = std::mem::take(&mut reconciled.exceptions).into_iter().filter(in_scope).collect();
    let cases = RunCases { exceptions, provenances: std::mem::take(&mut reconciled.provenances) };
    let write = RunWrite {
        counts: serde_json::to_value(&reconciled.counts).context("serializing the run counts")?,
        kpi: mapping::run_kpi(&reconciled.kpi, serde_json::to_value(&kpi_section).context("serializing the KPI")?),
        kpi_rows: mapping::kpi_rows(&reconciled.kpi)?,
        matches: RunMatches(matches),
        cases,
        quarantine: bad_rows.iter().map(BadRow::to_quarantine).collect(),
        header,
    };
    tracing::debug!(ms = started.elapsed().as_millis(), "run rows prepared");
    Ok(write)
}

/// What the run owns: matches, exceptions and KPI of business dates in its range.
struct Owned {
    matches: Vec<recon_core::matching::Match>,
    exceptions: Vec<recon_core::matching::Exception>,
    kpi: KpiReport,
}

impl Owned {
    fn select(
        matches: Vec<recon_core::matching::Match>,
        exceptions: Vec<recon_core::matching::Exception>,
        kpi: &KpiReport,
        range: DateRange,
    ) -> Owned {
        Owned {
            matches: matches.into_iter().filter(|m| range.contains(m.business_date)).collect(),
            // A case belongs to the run when any of its lines is in range: an in-range Odoo line paired
            // with a statement line of the context margin must still be reported by somebody.
            exceptions: exceptions.into_iter().filter(|e| Owned::owns_exception(e, range)).collect(),
            kpi: scope::kpi_in_range(kpi, range),
        }
    }

    /// Whether a case belongs to the run: any of its lines is in range.
    fn owns_exception(exception: &recon_core::matching::Exception, range: DateRange) -> bool {
        exception.items.iter().any(|item| range.contains(item.business_date))
    }
}

/// Rows set aside by `--skip-bad-rows`.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Quarantined {
    /// Statement rows.
    pub statement_rows: u64,
    /// Odoo rows.
    pub move_rows: u64,
}

/// How each side's lines fell with respect to the run's dates.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sides {
    /// Statement lines.
    pub statements: SideCounts,
    /// Odoo lines.
    pub moves: SideCounts,
}

/// The run's counts, as stored in the run row and printed.
#[derive(Clone, Debug, Serialize)]
pub struct RunCounts {
    /// Lines per side, by date.
    pub lines: Sides,
    /// Rows quarantined.
    pub quarantined: Quarantined,
    /// Matches written, by rule.
    pub matches_by_rule: BTreeMap<String, u64>,
    /// Matches written that need a person's review.
    pub matches_needing_review: u64,
    /// Cases written, by kind.
    pub exceptions_by_kind: BTreeMap<String, u64>,
    /// The core's counts over everything reconciled (range and margin).
    pub reconciled: Counts,
}

impl RunCounts {
    fn new(owned: &Owned, lines: Sides, reconciled: Counts, quarantined: Quarantined) -> RunCounts {
        let mut matches_by_rule = BTreeMap::new();
        for found in &owned.matches {
            *matches_by_rule.entry(found.explanation.rule.as_str().to_owned()).or_default() += 1;
        }
        let mut exceptions_by_kind = BTreeMap::new();
        for exception in &owned.exceptions {
            *exceptions_by_kind.entry(exception.kind.as_str().to_owned()).or_default() += 1;
        }
        let matches_needing_review =
            owned.matches.iter().filter(|m| m.review == recon_core::matching::Review::NeedsReview).count() as u64;
        RunCounts { lines, quarantined, matches_by_rule, matches_needing_review, exceptions_by_kind, reconciled }
    }
}

/// The KPI as stored with the run: the core's report for the range plus the quarantined rows, which are
/// not in the rates (their account or date may be what is unreadable) but are reported beside them.
#[derive(Serialize)]
struct KpiSection {
    #[serde(flatten)]
    kpi: KpiReport,
    quarantined: Quarantined,
}

/// The configured accounts that have statement lines in the run's range. Only these are the run's to
/// supersede matches and resolve cases in: an account whose feed is empty (a failed export) keeps its
/// matches and cases as they were, instead of a night of silence looking like a night of changes.
fn accounts_with_input(settings: &Settings, reconciled: &Reconciled) -> Vec<String> {
    let mut accounts = Vec::new();
    for account in &settings.accounts {
        if reconciled.kpi.per_account.contains_key(account.clabe.trim()) {
            accounts.push(account.clabe.clone());
        } else {
            tracing::warn!(
                account = %account.clabe,
                "no statement line in the range for this account: its matches and cases are left as they were"
            );
        }
    }
    accounts
}
