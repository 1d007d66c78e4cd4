//! Writing runs: everything a run produced, in one transaction.

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

use crate::codec::{check_decimal, count_to_db, date, instant, is_decimal, not_decimal_reason, to_json};
use crate::db::{Conn, Param, Sql, Upsert};
use crate::error::StoreError;
use crate::hooks::TestHooks;
use crate::model::{
    CaseEventKind, CaseStatus, CaseWrite, KeyedRow, KpiRow, MatchStatus, MatchWrite, QuarantineRow, RowSource,
    RunHeader, RunKpi, RunStatus, RunWrite, RunWriteSummary,
};
use crate::store::{SQLITE_CACHE_KIB, Store};

const OP: &str = "write_run";

impl Store {
    /// Writes everything a run produced in one transaction (all or nothing): the run row
    /// (status `succeeded`), KPI rows, matches, cases, auto-resolutions and quarantined rows.
    ///
    /// Matches are upserted by id (new: inserted with `first_run_id`; existing: only
    /// `last_run_id` moves, a superseded one becomes active again); in-scope active,
    /// non-manual matches the run did not produce become `superseded`. Cases are upserted
    /// by id (new: `open` + `opened` event; open: evidence and `last_run_id` updated +
    /// `seen`; resolved: `open` again + `reopened`; ignored: stays ignored + `seen`).
    /// Then every open in-scope case the run did not produce, all of whose items are in
    /// active matches, is resolved by the run. Every row carries `header.finished_at`.
    ///
    /// Everything is checked before it is written: the header, the KPI and that no match id and
    /// no case id repeats before the transaction begins; each match's and case's row as its round
    /// is mapped (see [`RowSource`]), a failure rolling back the whole transaction.
    pub async fn write_run<M, C>(&self, run: &RunWrite<M, C>) -> Result<RunWriteSummary, StoreError>
    where
        M: RowSource<MatchWrite>,
        C: RowSource<CaseWrite>,
    {
        let validated = validate_run(run)?;
        let run_id = run.header.run_id.as_str();
        let hooks = self.hooks.as_deref();
        let mut tx = self.begin(OP, run_id).await?;
        let summary = write_all_with_hooks(&mut tx.conn(), &validated, hooks).await?;
        tx.commit().await.map_err(StoreError::db("write_run: commit", run_id))?;
        if hooks.is_some_and(TestHooks::drops_commit_ack) {
            tracing::warn!(run_id, "test hook: committed, reporting the acknowledgement as lost");
            let lost = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "test hook: acknowledgement dropped");
            return Err(StoreError::db("write_run: commit", run_id)(sqlx::Error::Io(lost)));
        }
        tracing::info!(run_id, ?summary, "run written");
        Ok(summary)
    }

    /// Records a failed run: its header, status `failed` and the error text, in its own
    /// transaction. Nothing else is written.
    pub async fn record_failed_run(&self, header: &RunHeader, error: &str) -> Result<(), StoreError> {
        const OP_FAILED: &str = "record_failed_run";
        let run_id = header.run_id.as_str();
        validate_header(header, OP_FAILED)?;
        let mut tx = self.begin(OP_FAILED, run_id).await?;
        let mut conn = tx.conn();
        ensure_new_run(&mut conn, run_id, OP_FAILED).await?;
        let row = run_row(header, RunStatus::Failed, None, None, Some(error), OP_FAILED)?;
        conn.insert_batched(RUN_INSERT, "", vec![row]).await.map_err(StoreError::db(OP_FAILED, run_id))?;
        tx.commit().await.map_err(StoreError::db("record_failed_run: commit", run_id))?;
        tracing::info!(run_id, "failed run recorded");
        Ok(())
    }
}

pub(crate) async fn write_all<M: RowSource<MatchWrite>, C: RowSource<CaseWrite>>(
    conn: &mut Conn<'_>,
    run: &Validated<'_, M, C>,
) -> Result<RunWriteSummary, StoreError> {
    write_all_with_hooks(conn, run, None).await
}

/// [`write_all`], pausing inside the transaction after the run row when `hooks` say so.
async fn write_all_with_hooks<M: RowSource<MatchWrite>, C: RowSource<CaseWrite>>(
    conn: &mut Conn<'_>,
    validated: &Validated<'_, M, C>,
    hooks: Option<&TestHooks>,
) -> Result<RunWriteSummary, StoreError> {
    let run = validated.run;
    let header = &run.header;
    let run_id = header.run_id.as_str();
    ensure_new_run(conn, run_id, OP).await?;
    let row = run_row(header, RunStatus::Succeeded, Some(&run.counts), Some(&run.kpi), None, OP)?;
    conn.insert_batched(RUN_INSERT, "", vec![row]).await.map_err(StoreError::db("write_run: insert run", run_id))?;
    if let Some(hooks) = hooks {
        hooks.in_write(run_id).await;
    }
    let mut step = Step::start(run_id);
    let mut summary =
        RunWriteSummary { kpi_rows: insert_kpi_rows(conn, run_id, &run.kpi_rows).await?, ..RunWriteSummary::default() };
    let active_before = active_in_scope(conn, header).await?;
    step.done("active matches in scope read");
    let bulk_from = hooks.and_then(TestHooks::bulk_load_threshold).unwrap_or(BULK_LOAD_MIN_MATCHES);
    let deferred = defer_indexes_for_bulk_load(conn, run_id, run.matches.count(), bulk_from).await?;
    upsert_matches(conn, header, &run.matches, &validated.match_order, &mut summary).await?;
    step.done("matches upserted");
    if !deferred.is_empty() {
        build_deferred_indexes(conn, run_id, deferred).await?;
        step.done("deferred indexes built");
    }
    summary.matches_superseded =
        supersede_matches(conn, header, active_before, &run.matches, &validated.match_order).await?;
    step.done("matches superseded");
    upsert_cases(conn, header, &run.cases, &validated.case_order, &mut summary).await?;
    step.done("cases upserted");
    summary.cases_resolved = auto_resolve_cases(conn, header).await?;
    step.done("cases auto-resolved");
    summary.quarantined_rows = insert_quarantine(conn, run_id, &run.quarantine).await?;
    step.done("quarantine written");
    Ok(summary)
}

/// Debug-level timing of the steps of a write, to see where a slow write spends its time.
struct Step<'a> {
    run_id: &'a str,
    started: std::time::Instant,
}

impl<'a> Step<'a> {
    fn start(run_id: &'a str) -> Self {
        Step { run_id, started: std::time::Instant::now() }
    }

    fn done(&mut self, step: &str) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(run_id = self.run_id, ms, "write_run: {step}");
        self.started = std::time::Instant::now();
    }
}

// ---------------------------------------------------------------- validation

/// A run that passed [`validate_run`], with its matches and cases in id order (the order they are
/// written in).
pub(crate) struct Validated<'r, M, C> {
    run: &'r RunWrite<M, C>,
    /// Indexes of the run's matches (see [`RowSource`]), in id order.
    match_order: Vec<usize>,
    /// Indexes of the run's cases, in id order.
    case_order: Vec<usize>,
}

/// Checks everything a run brings before anything is written, but each match's and case's own
/// row, which is checked as its round is mapped (see [`map_rows`]).
pub(crate) fn validate_run<M, C>(run: &RunWrite<M, C>) -> Result<Validated<'_, M, C>, StoreError>
where
    M: RowSource<MatchWrite>,
    C: RowSource<CaseWrite>,
{
    validate_header(&run.header, OP)?;
    let run_id = &run.header.run_id;
    for (name, rate) in [
        ("kpi.count_rate", &run.kpi.count_rate),
        ("kpi.amount_rate", &run.kpi.amount_rate),
        ("kpi.threshold", &run.kpi.threshold),
    ] {
        check_decimal(rate, OP, &format!("run {run_id}, {name}"))?;
    }
    for row in &run.kpi_rows {
        let context = format!("run {run_id}, KPI of {} on {}", row.account, row.business_date);
        check_decimal(&row.statement_amount, OP, &context)?;
        check_decimal(&row.matched_amount, OP, &context)?;
    }
    let match_order = order_by_id(run.matches.count(), |index| run.matches.id(index)).map_err(|index| {
        let context = format!("run {run_id}, match {}", run.matches.id(index));
        StoreError::invalid(OP, context, "match id appears twice in the run")
    })?;
    let case_order = order_by_id(run.cases.count(), |index| run.cases.id(index)).map_err(|index| {
        let context = format!("run {run_id}, case {}", run.cases.id(index));
        StoreError::invalid(OP, context, "case id appears twice in the run")
    })?;
    Ok(Validated { run, match_order, case_order })
}

fn validate_header(header: &RunHeader, operation: &'static str) -> Result<(), StoreError> {
    if header.run_id.trim().is_empty() {
        return Err(StoreError::invalid(operation, "run header", "run_id is empty"));
    }
    if header.scope.date_from > header.scope.date_to {
        return Err(StoreError::invalid(
            operation,
            format!("run {}", header.run_id),
            format!("scope date_from {} is after date_to {}", header.scope.date_from, header.scope.date_to),
        ));
    }
    Ok(())
}

/// The rows of `source` at `indexes` (matches or cases, `what`), mapped on every core if
/// `on_all_cores` and checked: each must carry the id its source names it by and pass `check`
/// (which gives the reason it fails). The first failure in `indexes`' order is the one reported,
/// and the context of an error is written only for the row that fails (BENCHMARKS.md, twelfth
/// session).
fn map_rows<'s, R: KeyedRow, S: RowSource<R>>(
    what: &str,
    run_id: &str,
    source: &'s S,
    indexes: &[usize],
    on_all_cores: bool,
    check: impl Fn(&R) -> Result<(), String>,
) -> Result<Vec<Cow<'s, R>>, StoreError> {
    let mapped: Vec<Result<Cow<'s, R>, String>> = if on_all_cores {
        indexes.par_iter().map(|&index| source.row(index)).collect()
    } else {
        indexes.iter().map(|&index| source.row(index)).collect()
    };
    let mut round = Vec::with_capacity(mapped.len());
    for (&index, row) in indexes.iter().zip(mapped) {
        let id = source.id(index);
        let checked = row.and_then(|row| match row.id() == id {
            true => check(&row).map(|()| row),
            false => Err(format!("its row carries another id, {:?}", row.id())),
        });
        round.push(checked.map_err(|reason| StoreError::invalid(OP, format!("run {run_id}, {what} {id}"), reason))?);
    }
    Ok(round)
}

/// A match's own checks ([`map_rows`]): at least one item, a decimal amount.
fn check_match(row: &MatchWrite) -> Result<(), String> {
    if row.items.is_empty() {
        return Err("a match needs at least one item".to_owned());
    }
    if !is_decimal(&row.amount) {
        return Err(not_decimal_reason(&row.amount));
    }
    Ok(())
}

/// A case's own checks ([`map_rows`]): a decimal amount, when it has one.
fn check_case(row: &CaseWrite) -> Result<(), String> {
    match row.amount.as_deref() {
        Some(amount) if !is_decimal(amount) => Err(not_decimal_reason(amount)),
        _ => Ok(()),
    }
}

/// The indexes `0..count` in the order of their ids, on every core, or the index of the smallest id
/// that repeats. Sorted by the ids' first 16 bytes, held beside each index, and by the whole id
/// only on a tie: the sort reads one array instead of following two pointers per comparison.
fn order_by_id<'a>(count: usize, id: impl Fn(usize) -> &'a str + Sync) -> Result<Vec<usize>, usize> {
    let mut keyed: Vec<([u8; 16], usize)> =
        (0..count).into_par_iter().map(|index| (id_prefix(id(index)), index)).collect();
    keyed.par_sort_unstable_by(|(a_key, a), (b_key, b)| a_key.cmp(b_key).then_with(|| id(*a).cmp(id(*b))));
    let order: Vec<usize> = keyed.into_iter().map(|(_, index)| index).collect();
    match order.windows(2).find(|pair| id(pair[0]) == id(pair[1])) {
        Some(pair) => Err(pair[0]),
        None => Ok(order),
    }
}

/// An id's first 16 bytes, zero-padded: arrays compare byte by byte, and a shorter id's padding
/// sorts it before the ids it starts, so this orders as the ids do wherever it differs.
fn id_prefix(id: &str) -> [u8; 16] {
    let mut prefix = [0; 16];
    let bytes = &id.as_bytes()[..id.len().min(16)];
    prefix[..bytes.len()].copy_from_slice(bytes);
    prefix
}

// ---------------------------------------------------------------- runs and KPI

const RUN_INSERT: &str = "INSERT INTO runs (run_id, mode, status, operator, correlation_id, scope_json, \
    inputs_json, config_blake3, counts_json, kpi_json, kpi_count_rate, kpi_amount_rate, kpi_threshold, \
    started_at, finished_at, timings_json, error)";

/// Refuses a run id that is already recorded.
async fn ensure_new_run(conn: &mut Conn<'_>, run_id: &str, operation: &'static str) -> Result<(), StoreError> {
    let rows = conn
        .fetch_all("SELECT status FROM runs WHERE run_id = $1", vec![run_id.into()])
        .await
        .map_err(StoreError::db(operation, run_id))?;
    match rows.first() {
        None => Ok(()),
        Some(row) => Err(StoreError::RunExists { run_id: run_id.to_owned(), status: row.text("status")? }),
    }
}

/// The values of one `runs` row, in [`RUN_INSERT`] order.
fn run_row<'a>(
    header: &'a RunHeader,
    status: RunStatus,
    counts: Option<&serde_json::Value>,
    kpi: Option<&RunKpi>,
    error: Option<&str>,
    operation: &'static str,
) -> Result<Vec<Param<'a>>, StoreError> {
    let context = format!("run {}", header.run_id);
    let json = |value: &serde_json::Value| to_json(value, operation, &context);
    Ok(vec![
        header.run_id.as_str().into(),
        header.mode.as_str().into(),
        status.as_str().into(),
        header.operator.as_str().into(),
        header.correlation_id.as_str().into(),
        to_json(&header.scope, operation, &context)?.into(),
        to_json(&header.inputs, operation, &context)?.into(),
        header.config_blake3.as_str().into(),
        counts.map(json).transpose()?.into(),
        kpi.map(|k| json(&k.report)).transpose()?.into(),
        kpi.map(|k| k.count_rate.clone()).into(),
        kpi.map(|k| k.amount_rate.clone()).into(),
        kpi.map(|k| k.threshold.clone()).into(),
        instant(header.started_at).into(),
        Some(instant(header.finished_at)).into(),
        json(&header.timings)?.into(),
        error.map(str::to_owned).into(),
    ])
}

async fn insert_kpi_rows(conn: &mut Conn<'_>, run_id: &str, rows: &[KpiRow]) -> Result<u64, StoreError> {
    const HEAD: &str = "INSERT INTO run_kpi (run_id, account, business_date, statement_lines, matched_lines, \
        statement_amount, matched_amount, currency)";
    let values = rows
        .iter()
        .map(|row| {
            let context = format!("run {run_id}, KPI of {} on {}", row.account, row.business_date);
            Ok(vec![
                run_id.into(),
                row.account.as_str().into(),
                date(row.business_date).into(),
                count_to_db(row.statement_lines, OP, &context)?.into(),
                count_to_db(row.matched_lines, OP, &context)?.into(),
                row.statement_amount.as_str().into(),
                row.matched_amount.as_str().into(),
                row.currency.as_str().into(),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    conn.insert_batched(HEAD, "", values).await.map_err(StoreError::db("write_run: insert run_kpi", run_id))
}

// ---------------------------------------------------------------- matches

/// Matches written per round of [`upsert_matches`]: a round upserts its rows (reading the prior
/// statuses of those already stored), then inserts its new items; the next round's rows are mapped
/// meanwhile, and nothing of the round after. Memory holds two rounds' rows and one round's
/// parameters (tens of megabytes), not the run's (a million matches as parameters were
/// gigabytes). On SQLite a round is one `INSERT ... SELECT` from a staging table (see
/// `Conn::upsert_batched_reporting`), and every such statement copies the index pages it
/// touches into its statement journal, so fewer, bigger rounds write faster: `store-write` at
/// 885 k matches upserted them in 24-27 s in rounds of 8,192 and 21-24 s in rounds of 65,536
/// (first write; 20 s and 15-20 s for the second).
const MATCHES_PER_ROUND: usize = 65_536;

/// Fewest matches for which a run may take the bulk-load path (see
/// [`defer_indexes_for_bulk_load`]): one round. The path pays off once the indexes outgrow the
/// page cache; even at 885 k matches the shell measured no gain (BENCHMARKS.md), so a smaller
/// run keeps its indexes and leaves the schema alone.
const BULK_LOAD_MIN_MATCHES: usize = MATCHES_PER_ROUND;

/// The operation errors of a bulk load name ([`defer_indexes_for_bulk_load`], [`build_deferred_indexes`]).
const OP_BULK: &str = "write_run: bulk load";

/// Tables whose secondary indexes a bulk load builds after its rows.
const BULK_LOAD_TABLES: [&str; 2] = ["matches", "match_items"];
/// Secondary indexes a bulk load keeps: partial indexes a run's rows hardly ever enter (a night's
/// matches are automatic; `matches_manual` holds manual ones), so keeping them costs one test of
/// their condition per row, where building one again reads the whole table (`matches_manual` over
/// the 10 M night's 9.7 M matches in the `sqlite3` shell: 1.5 s with the table in the page cache,
/// 8.2 s with it read from disk).
const KEPT_BY_BULK_LOAD: [&str; 1] = ["matches_manual"];

/// Bulk load on SQLite: when a run brings at least `threshold` matches and more than the
/// `matches` table already holds (a first night, a backfill of history), the secondary indexes
/// of `matches` and `match_items` (but [`KEPT_BY_BULK_LOAD`]) are dropped inside the run's
/// transaction and returned, to be built again by [`build_deferred_indexes`] after the upserts. The
/// primary keys stay, so the upserts and the existing-id lookups work as always.
///
/// Each secondary index is keyed by something other than the match id (scope, statement id, Odoo
/// id), so rows arriving in id order land at random places in it; once an index outgrows the page
/// cache, nearly every row costs a page read and a page written again later. `CREATE INDEX` sorts
/// once and writes each page once. In the `sqlite3` shell, 9.7 M matches of the 10 M night into an
/// empty store took 275 s with the indexes in place and 141 s dropped and built again, with the
/// same 256 MiB page cache (BENCHMARKS.md). Each build sorts in runs bounded by the page cache's
/// size, merged from a temporary file on SQLite's helper threads (`temp_store = file`,
/// `threads`; see `store.rs`).
/// The drop is transactional: a run that fails or is killed leaves the indexes as they were.
/// Readers (other connections, WAL) see the committed schema until the run commits. Unique
/// indexes stay, so their constraints are checked row by row as always (there are none today).
///
/// The table's size is estimated by its largest rowid (matches are never deleted), which costs
/// one B-tree descent rather than a count of every row. The run's matches are counted whether new
/// or already stored (the lookup comes later, by rounds); that errs towards the bulk path only when
/// the table holds fewer rows than the run brings, so the builds cost at most about twice the run's
/// own rows.
async fn defer_indexes_for_bulk_load(
    conn: &mut Conn<'_>,
    run_id: &str,
    matches: usize,
    threshold: usize,
) -> Result<Vec<String>, StoreError> {
    if !conn.is_sqlite() || matches < threshold.max(1) {
        return Ok(Vec::new());
    }
    let rows = conn
        .fetch_all("SELECT COALESCE(MAX(rowid), 0) AS stored FROM matches", Vec::new())
        .await
        .map_err(StoreError::db(OP_BULK, format!("run {run_id}, estimating the rows of matches")))?;
    let stored = rows.first().map(|row| row.int("stored")).transpose()?.unwrap_or(0);
    if i64::try_from(matches).unwrap_or(i64::MAX) <= stored {
        return Ok(Vec::new());
    }
    let mut deferred = Vec::new();
    for table in BULK_LOAD_TABLES {
        // Indexes a constraint creates (the primary keys) have no SQL text and stay; so do unique ones.
        let rows = conn
            .fetch_all(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL \
                 AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
                vec![table.into()],
            )
            .await
            .map_err(StoreError::db(OP_BULK, format!("run {run_id}, listing the indexes of {table}")))?;
        let indexes =
            rows.iter().map(|row| Ok((row.text("name")?, row.text("sql")?))).collect::<Result<Vec<_>, StoreError>>()?;
        let indexes = indexes.into_iter().filter(|(name, _)| !KEPT_BY_BULK_LOAD.contains(&name.as_str()));
        for (name, sql) in indexes {
            conn.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")), Vec::new())
                .await
                .map_err(StoreError::db(OP_BULK, format!("run {run_id}, dropping index {name}")))?;
            deferred.push(sql);
        }
    }
    tracing::info!(
        run_id,
        matches,
        stored,
        indexes = deferred.len(),
        "bulk load: secondary indexes built after the rows"
    );
    Ok(deferred)
}

/// SQLite page cache, in KiB, while [`build_deferred_indexes`] runs. SQLite's sorter cuts its runs
/// at the page cache's size, and sorts of many small runs merged from the temporary file beat
/// sorts of few large ones: over the 10 M night's store, `matches_scope` built in 9.7-12.8 s with
/// 4-16 MiB, 14.7-21.5 s with 256 MiB and 29-31 s with 1 GiB (`matches_move`: 5.0-6.9, 11.6-12.5
/// and 15-16 s; BENCHMARKS.md, seventeenth session). The page cache matters little to the builds
/// otherwise: each reads its table once, in order.
const INDEX_BUILD_CACHE_KIB: u32 = 16 * 1024;

/// Builds the indexes [`defer_indexes_for_bulk_load`] dropped (SQLite only) from their own SQL
/// text, with the page cache at [`INDEX_BUILD_CACHE_KIB`] meanwhile and at its usual size again
/// after, failed or not.
async fn build_deferred_indexes(conn: &mut Conn<'_>, run_id: &str, deferred: Vec<String>) -> Result<(), StoreError> {
    let cache = |kib: u32| format!("PRAGMA cache_size = -{kib}");
    conn.execute(&cache(INDEX_BUILD_CACHE_KIB), Vec::new())
        .await
        .map_err(StoreError::db(OP_BULK, format!("run {run_id}, page cache for the index builds")))?;
    let mut built = Ok(());
    for sql in deferred {
        built = conn
            .execute(&sql, Vec::new())
            .await
            .map(drop)
            .map_err(StoreError::db(OP_BULK, format!("run {run_id}, building index: {sql}")));
        if built.is_err() {
            break;
        }
    }
    let restored = conn
        .execute(&cache(SQLITE_CACHE_KIB), Vec::new())
        .await
        .map_err(StoreError::db(OP_BULK, format!("run {run_id}, page cache after the index builds")));
    built.and(restored.map(drop))
}

async fn upsert_matches<M: RowSource<MatchWrite>>(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    matches: &M,
    order: &[usize],
    summary: &mut RunWriteSummary,
) -> Result<(), StoreError> {
    // The last four columns are the same in every row: bound once per round (`upsert_batched_reporting`).
    const HEAD: &str = "INSERT INTO matches (match_id, rule, review, account, business_date, amount, currency, \
        reference_kind, reference, date_delta_banking_days, explanation_json, statement_id, move_id, \
        status, first_run_id, last_run_id, created_at)";
    const TAIL: &str = "ON CONFLICT (match_id) DO UPDATE SET last_run_id = excluded.last_run_id, \
        status = 'active', superseded_by_run_id = NULL";
    let run_id = header.run_id.as_str();
    let created_at = instant(header.finished_at);
    // Rows go in primary-key order (`order`, by `validate_run`): ids are hashes, and random-order
    // inserts into a B-tree touch a different page per row; sorted, they append to the same few pages.
    let upsert = Upsert { head: HEAD, tail: TAIL, table: "matches", key: "match_id", column: "status" };
    // Each round's rows are mapped just before it is written and freed after: the run's rows are
    // never all held at once. On SQLite the next round's are mapped on one core while SQLite writes
    // this one on the other (see `Conn::upsert_batched_reporting`); elsewhere, on every core.
    let overlapped = conn.is_sqlite();
    let rounds: Vec<&[usize]> = order.chunks(MATCHES_PER_ROUND).collect();
    let map_round =
        |indexes: &[usize], on_all_cores| map_rows("match", run_id, matches, indexes, on_all_cores, check_match);
    let mut next = rounds.first().map(|indexes| map_round(indexes, true));
    for number in 0..rounds.len() {
        let round = next.take().expect("a round is mapped before it is written")?;
        // The parameters borrow the round's texts: a vector of a dozen values each, built on every core.
        let rows: Vec<Vec<Param>> = round.par_iter().map(|m| match_row(m)).collect();
        let shared =
            vec![MatchStatus::Active.as_str().into(), run_id.into(), run_id.into(), created_at.as_str().into()];
        let following = rounds.get(number + 1);
        let (stored, mapped) = conn
            .upsert_batched_reporting(upsert, shared, rows, || following.map(|indexes| map_round(indexes, !overlapped)))
            .await
            .map_err(StoreError::db("write_run: upsert matches", run_id))?;
        next = mapped;
        let existing: HashMap<String, String> = stored.into_iter().collect();
        let mut new_items = Vec::new();
        for m in &round {
            match existing.get(&m.match_id).map(String::as_str) {
                None => {
                    summary.matches_inserted += 1;
                    // A pair's items are in its row; the ids are hashes of the items, so an
                    // existing match already has the same items.
                    if m.pair().is_none() {
                        new_items.extend(m.items.iter().map(|item| {
                            vec![m.match_id.as_str().into(), item.side.as_str().into(), item.item_id.as_str().into()]
                        }));
                    }
                }
                Some(status) if status == MatchStatus::Superseded.as_str() => summary.matches_reactivated += 1,
                Some(_) => summary.matches_kept += 1,
            }
        }
        conn.insert_batched("INSERT INTO match_items (match_id, side, item_id)", "", new_items)
            .await
            .map_err(StoreError::db("write_run: insert match_items", run_id))?;
    }
    Ok(())
}

/// The values of one `matches` row that differ from row to row, in `upsert_matches`' order.
fn match_row(m: &MatchWrite) -> Vec<Param<'_>> {
    let pair = m.pair();
    vec![
        m.match_id.as_str().into(),
        m.rule.as_str().into(),
        m.review.as_str().into(),
        m.account.as_str().into(),
        date(m.business_date).into(),
        m.amount.as_str().into(),
        m.currency.as_str().into(),
        (&m.reference_kind).into(),
        (&m.reference).into(),
        m.date_delta_banking_days.into(),
        m.explanation.as_str().into(),
        pair.map(|(statement_id, _)| statement_id).into(),
        pair.map(|(_, move_id)| move_id).into(),
    ]
}

/// Appends `AND business_date BETWEEN .. AND account IN (..)` for one chunk of accounts.
fn push_scope<'a>(sql: &mut Sql<'a>, header: &RunHeader, accounts: &'a [String]) {
    sql.push_bind(" AND business_date >= ", date(header.scope.date_from))
        .push_bind(" AND business_date <= ", date(header.scope.date_to))
        .push(" AND account IN ")
        .push_in_list(accounts.iter());
}

/// The scope's accounts in chunks small enough for one statement.
fn account_chunks<'h>(conn: &Conn<'_>, header: &'h RunHeader) -> std::slice::Chunks<'h, String> {
    header.scope.accounts.chunks(conn.max_params() - 8)
}

/// The active, non-manual matches in the run's scope before the run writes any: those it does not
/// produce again are superseded after its upserts (see [`supersede_matches`]). Read through the
/// `matches_scope` index before the writes, this costs what the store already holds in scope,
/// nothing on a first night; filtering the scope after the upserts read every row just written.
async fn active_in_scope(conn: &mut Conn<'_>, header: &RunHeader) -> Result<Vec<String>, StoreError> {
    let run_id = header.run_id.as_str();
    let mut ids = Vec::new();
    for accounts in account_chunks(conn, header) {
        let mut sql = Sql::new("SELECT match_id FROM matches WHERE status = 'active' AND review <> 'manual'");
        push_scope(&mut sql, header, accounts);
        ids.extend(fetch_texts(conn, sql, "match_id", "write_run: read active matches in scope", run_id).await?);
    }
    Ok(ids)
}

/// The text column `column` of every row `sql` returns.
async fn fetch_texts(
    conn: &mut Conn<'_>,
    sql: Sql<'_>,
    column: &str,
    operation: &'static str,
    run_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = conn.fetch_all(&sql.text, sql.params).await.map_err(StoreError::db(operation, run_id))?;
    rows.iter().map(|row| row.text(column)).collect()
}

/// Supersedes the matches of `active_before` (see [`active_in_scope`]) that the run did not produce.
async fn supersede_matches(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    active_before: Vec<String>,
    matches: &impl RowSource<MatchWrite>,
    order: &[usize],
) -> Result<u64, StoreError> {
    let run_id = header.run_id.as_str();
    let produced = |id: &str| order.binary_search_by(|&index| matches.id(index).cmp(id)).is_ok();
    let mut gone: Vec<String> = active_before.into_iter().filter(|id| !produced(id)).collect();
    gone.sort_unstable();
    let mut superseded = 0;
    for ids in gone.chunks(conn.max_params() - 1) {
        let mut sql = Sql::new("UPDATE matches SET status = 'superseded', ");
        sql.push_bind("superseded_by_run_id = ", run_id)
            .push(" WHERE status = 'active' AND review <> 'manual' AND match_id IN ")
            .push_in_list(ids.iter());
        superseded += conn
            .execute(&sql.text, sql.params)
            .await
            .map_err(StoreError::db("write_run: supersede matches", run_id))?;
    }
    Ok(superseded)
}

// ---------------------------------------------------------------- cases

/// Cases written per round of [`upsert_cases`], as [`MATCHES_PER_ROUND`] for matches. A case's
/// row is about three times a match's (its evidence averaged 1.5 KB of JSON in the 10 M night), so a
/// round's parameters are some tens of megabytes, where the night's 360 k cases at once were most of
/// a gigabyte.
const CASES_PER_ROUND: usize = 16_384;

async fn upsert_cases<C: RowSource<CaseWrite>>(
    conn: &mut Conn<'_>,
    header: &RunHeader,
    cases: &C,
    order: &[usize],
    summary: &mut RunWriteSummary,
) -> Result<(), StoreError> {
    const HEAD: &str = "INSERT INTO cases (case_id, kind, status, account, business_date, amount, currency, \
        summary, evidence_json, external_ids_json, correlation_id, opened_at, first_run_id, last_run_id)";
    const TAIL: &str = "ON CONFLICT (case_id) DO UPDATE SET last_run_id = excluded.last_run_id, \
        evidence_json = excluded.evidence_json, external_ids_json = excluded.external_ids_json, \
        status = CASE WHEN cases.status = 'resolved' THEN 'open' ELSE cases.status END, \
        resolved_at = CASE WHEN cases.status = 'resolved' THEN NULL ELSE cases.resolved_at END, \
        resolved_by_run_id = CASE WHEN cases.status = 'resolved' THEN NULL ELSE cases.resolved_by_run_id END, \
        resolved_by = CASE WHEN cases.status = 'resolved' THEN NULL ELSE cases.resolved_by END, \
        corrective_action = CASE WHEN cases.status = 'resolved' THEN NULL ELSE cases.corrective_action END, \
        prevention = CASE WHEN cases.status = 'resolved' THEN NULL ELSE cases.prevention END";
    let run_id = header.run_id.as_str();
    // In id order (`order`, by `validate_run`), as the matches, and mapped the same way: a case's
    // row carries its evidence as JSON, which its source may serialize only when asked (the job's
    // does), so each round after the first is mapped while SQLite writes the one before.
    let upsert = Upsert { head: HEAD, tail: TAIL, table: "cases", key: "case_id", column: "status" };
    let overlapped = conn.is_sqlite();
    let rounds: Vec<&[usize]> = order.chunks(CASES_PER_ROUND).collect();
    let map_round =
        |indexes: &[usize], on_all_cores| map_rows("case", run_id, cases, indexes, on_all_cores, check_case);
    let mut next = rounds.first().map(|indexes| map_round(indexes, true));
    for number in 0..rounds.len() {
        let round = next.take().expect("a round is mapped before it is written")?;
        let rows: Vec<Vec<Param>> = round.par_iter().map(|c| case_row(header, c)).collect();
        let following = rounds.get(number + 1);
        let (stored, mapped) = conn
            .upsert_batched_reporting(upsert, Vec::new(), rows, || {
                following.map(|indexes| map_round(indexes, !overlapped))
            })
            .await
            .map_err(StoreError::db("write_run: upsert cases", run_id))?;
        next = mapped;
        let existing: HashMap<String, String> = stored.into_iter().collect();
        let mut new_items = Vec::new();
        let mut events = Vec::with_capacity(round.len());
        for c in &round {
            let event = case_event(existing.get(&c.case_id).map(String::as_str), summary);
            if event == CaseEventKind::Opened {
                new_items.extend(case_item_rows(c));
            }
            events.push(event_row(&c.case_id, header, event, None));
        }
        conn.insert_batched("INSERT INTO case_items (case_id, side, item_id, fingerprint)", "", new_items)
            .await
            .map_err(StoreError::db("write_run: insert case_items", run_id))?;
        insert_events(conn, events).await.map_err(StoreError::db("write_run: insert case_events", run_id))?;
    }
    Ok(())
}

/// What a run finding a case with prior status `existing` means; counts it in `summary`.
fn case_event(existing: Option<&str>, summary: &mut RunWriteSummary) -> CaseEventKind {
    let (counter, event) = match existing {
        None => (&mut summary.cases_opened, CaseEventKind::Opened),
        Some(status) if status == CaseStatus::Resolved.as_str() => {
            (&mut summary.cases_reopened, CaseEventKind::Reopened)
        }
        Some(status) if status == CaseStatus::Ignored.as_str() => {
            (&mut summary.cases_ignored_seen, CaseEventKind::Seen)
        }
        Some(_) => (&mut summary.cases_seen, CaseEventKind::Seen),
    };
    *counter += 1;
    event
}

/// The `case_items` rows of a new case.
fn case_item_rows(c: &CaseWrite) -> impl Iterator<Item = Vec<Param<'_>>> + '_ {
    c.items.iter().map(|item| {
        vec![
            c.case_id.as_str().into(),
            item.side.as_str().into(),
            item.item_id.as_str().into(),
            (&item.fingerprint).into(),
        ]
    })
}

fn case_row<'a>(header: &'a RunHeader, c: &'a CaseWrite) -> Vec<Param<'a>> {
    vec![
        c.case_id.as_str().into(),
        c.kind.as_str().into(),
        CaseStatus::Open.as_str().into(),
        c.account.as_str().into(),
        date(c.business_date).into(),
        (&c.amount).into(),
        (&c.currency).into(),
        c.summary.as_str().into(),
        c.evidence.as_str().into(),
        c.external_ids.as_str().into(),
        header.correlation_id.as_str().into(),
        instant(header.finished_at).into(),
        header.run_id.as_str().into(),
        header.run_id.as_str().into(),
    ]
}

/// A `case_events` row caused by the run.
fn event_row<'a>(case_id: &'a str, header: &RunHeader, event: CaseEventKind, note: Option<&'a str>) -> Vec<Param<'a>> {
    vec![
        case_id.into(),
        Some(header.run_id.clone()).into(),
        instant(header.finished_at).into(),
        event.as_str().into(),
        Param::OptText(None),
        note.into(),
    ]
}

/// Inserts `case_events` rows made by [`event_row`] (or of the same shape).
pub(crate) async fn insert_events(conn: &mut Conn<'_>, events: Vec<Vec<Param<'_>>>) -> Result<u64, sqlx::Error> {
    conn.insert_batched("INSERT INTO case_events (case_id, run_id, at, event, operator, note)", "", events).await
}

/// Resolves the open in-scope cases the run did not produce whose items are all in
/// active matches (as one of a pair's two items, or in `match_items`). Cases without items are
/// never auto-resolved.
async fn auto_resolve_cases(conn: &mut Conn<'_>, header: &RunHeader) -> Result<u64, StoreError> {
    const NOTE: &str = "auto-resolved: every item is in an active match";
    let run_id = header.run_id.as_str();
    let mut resolved = Vec::new();
    for accounts in account_chunks(conn, header) {
        let mut sql = Sql::new("UPDATE cases SET status = 'resolved'");
        sql.push_bind(", resolved_at = ", instant(header.finished_at))
            .push_bind(", resolved_by_run_id = ", run_id)
            .push(" WHERE status = 'open'")
            .push_bind(" AND last_run_id <> ", run_id);
        push_scope(&mut sql, header, accounts);
        sql.push(
            " AND EXISTS (SELECT 1 FROM case_items ci WHERE ci.case_id = cases.case_id) \
             AND NOT EXISTS (SELECT 1 FROM case_items ci WHERE ci.case_id = cases.case_id \
               AND NOT EXISTS (SELECT 1 FROM matches m WHERE ci.side = 'statement' \
                 AND m.statement_id = ci.item_id AND m.status = 'active') \
               AND NOT EXISTS (SELECT 1 FROM matches m WHERE ci.side = 'move' \
                 AND m.move_id = ci.item_id AND m.status = 'active') \
               AND NOT EXISTS (SELECT 1 FROM match_items mi JOIN matches m ON m.match_id = mi.match_id \
                 WHERE m.status = 'active' AND mi.side = ci.side AND mi.item_id = ci.item_id)) \
             RETURNING case_id",
        );
        resolved.extend(fetch_texts(conn, sql, "case_id", "write_run: auto-resolve cases", run_id).await?);
    }
    resolved.sort();
    let events =
        resolved.iter().map(|case_id| event_row(case_id, header, CaseEventKind::Resolved, Some(NOTE))).collect();
    insert_events(conn, events).await.map_err(StoreError::db("write_run: insert resolved events", run_id))?;
    Ok(resolved.len() as u64)
}

// ---------------------------------------------------------------- quarantine

async fn insert_quarantine(conn: &mut Conn<'_>, run_id: &str, rows: &[QuarantineRow]) -> Result<u64, StoreError> {
    const HEAD: &str = "INSERT INTO quarantine (run_id, source, file, line, column_name, value, reason, raw)";
    let values = rows
        .iter()
        .map(|row| {
            let context = format!("run {run_id}, quarantined {}:{}", row.file, row.line);
            Ok(vec![
                run_id.into(),
                row.source.as_str().into(),
                row.file.as_str().into(),
                count_to_db(row.line, OP, &context)?.into(),
                (&row.column_name).into(),
                (&row.value).into(),
                row.reason.as_str().into(),
                row.raw.as_str().into(),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    conn.insert_batched(HEAD, "", values).await.map_err(StoreError::db("write_run: insert quarantine", run_id))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::id_prefix;

    fn by_prefix(a: &str, b: &str) -> std::cmp::Ordering {
        id_prefix(a).cmp(&id_prefix(b)).then_with(|| a.cmp(b))
    }

    /// Ordering by the 16-byte prefix, then by the whole id, is the whole id's order: shorter ids,
    /// ids that differ past 16 bytes, NUL bytes and multi-byte characters included.
    #[test]
    fn id_prefix_orders_as_the_ids_do() {
        let ids = [
            "",
            "M",
            "M-",
            "M-0",
            "M-00",
            "M-0000000000000",
            "M-00000000000000",
            "M-000000000000000",
            "M-00000000000000a",
            "M-00000000000000b",
            "M-0000000000000\0",
            "M-0000000000000\0\0",
            "M-1",
            "M-ñ",
            "M-ÿ",
            "N",
            "\u{10FFFF}",
        ];
        let mut sorted: Vec<&str> = ids.iter().rev().copied().collect();
        sorted.sort_by(|a, b| by_prefix(a, b));
        let mut by_id = ids.to_vec();
        by_id.sort();
        assert_eq!(sorted, by_id);
    }

    proptest! {
        #[test]
        fn id_prefix_order_is_str_order(a in "(M-)?[0-9a-f\\x00ñ]{0,20}", b in "(M-)?[0-9a-f\\x00ñ]{0,20}") {
            prop_assert_eq!(by_prefix(&a, &b), a.cmp(&b));
        }

        #[test]
        fn id_prefix_order_is_str_order_for_any_text(a in any::<String>(), b in any::<String>()) {
            prop_assert_eq!(by_prefix(&a, &b), a.cmp(&b));
        }
    }
}
