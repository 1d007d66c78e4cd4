//! Behaviour every backend must show. Each scenario gets the URL of an empty store.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use recon_store::{
    AppliedMigration, CaseClosure, CaseDetail, CaseEventKind, CaseFilter, CaseResolution, CaseStatus, CaseWrite,
    KeyedRow, KpiRecord, MatchFilter, MatchRecord, MatchReview, MatchStatus, MatchWrite, RowSource, RunFilter,
    RunRecord, RunStatus, RunWrite, RunWriteSummary, Store, StoreError,
};

use crate::fixtures::{at, case, day, header, kpi, matched, mv, night_one, run, stmt};

/// Calls `$callback!` with the name of every scenario, so each backend runs them all.
macro_rules! all_scenarios {
    ($callback:ident) => {
        $callback!(
            write_then_read_back,
            rerun_is_idempotent,
            later_run_resolves_and_reopens,
            ignored_case_stays_ignored,
            scope_bounds_supersede_and_resolve,
            lock_is_exclusive,
            failed_write_changes_nothing,
            resolve_case_records_operator,
            failed_run_is_recorded,
            migrations_are_listed,
            large_run_is_batched,
            rows_mapped_round_by_round,
            invalid_input_is_refused,
            failed_migration_leaves_the_schema_as_it_was,
            match_pairs_migration_keeps_every_item,
            proposal_needs_a_second_operator,
            manual_run_moves_cases_and_marks_the_proposal_applied,
            failed_manual_run_changes_nothing,
        );
    };
}
pub(crate) use all_scenarios;

pub use crate::migrations::{failed_migration_leaves_the_schema_as_it_was, match_pairs_migration_keeps_every_item};

pub use crate::manual::{
    failed_manual_run_changes_nothing, manual_run_moves_cases_and_marks_the_proposal_applied,
    proposal_needs_a_second_operator,
};

async fn open(url: &str) -> Store {
    Store::open(url).await.expect("store opens")
}

async fn all_matches(store: &Store) -> Vec<MatchRecord> {
    store.matches(&MatchFilter::default()).await.expect("matches")
}

async fn case_detail(store: &Store, case_id: &str) -> CaseDetail {
    store.case(case_id).await.expect("case query").expect("case exists")
}

fn events(detail: &CaseDetail) -> Vec<CaseEventKind> {
    detail.events.iter().map(|e| e.event).collect()
}

async fn all_kpi(store: &Store) -> Vec<KpiRecord> {
    store.kpi_rows(day(1), day(31), None).await.expect("kpi rows")
}

pub async fn write_then_read_back(url: &str) {
    let store = open(url).await;
    let night = night_one("R1", 2);
    let summary = store.write_run(&night).await.expect("write_run");
    assert_eq!(
        summary,
        RunWriteSummary {
            matches_inserted: 2,
            cases_opened: 2,
            kpi_rows: 2,
            quarantined_rows: 1,
            ..RunWriteSummary::default()
        }
    );

    let runs = store.runs(&RunFilter::default()).await.expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.header, night.header);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.counts.as_ref(), Some(&night.counts));
    assert_eq!(run.kpi.as_ref(), Some(&night.kpi));
    assert_eq!(run.error, None);
    let last = store.last_successful_run().await.expect("last run");
    assert_eq!(last.as_ref().map(|r| r.header.run_id.as_str()), Some("R1"));

    let matches = all_matches(&store).await;
    assert_eq!(matches.len(), 2);
    let m2 = &matches[1];
    assert_eq!(m2.match_id, "M2");
    assert_eq!(m2.items, vec![mv("L2"), mv("L3"), stmt("S2")]);
    assert_eq!((m2.first_run_id.as_str(), m2.last_run_id.as_str()), ("R1", "R1"));
    assert_eq!(m2.status, MatchStatus::Active);
    assert_eq!(m2.amount, "1234.50");
    assert_eq!(m2.created_at, at(2));
    assert_eq!(m2.explanation, night.matches[1].explanation.to_value().expect("explanation JSON"));

    let cases = store.cases(&CaseFilter::default()).await.expect("cases");
    assert_eq!(cases.iter().map(|c| c.case_id.as_str()).collect::<Vec<_>>(), ["C1", "C2"]);
    assert!(cases.iter().all(|c| c.status == CaseStatus::Open));
    let c1 = case_detail(&store, "C1").await;
    assert_eq!(c1.case.correlation_id, "corr-R1");
    assert_eq!(c1.case.opened_at, at(2));
    assert_eq!(c1.items.len(), 1);
    assert_eq!(c1.items[0].fingerprint.as_deref(), Some("fp-S3"));
    assert_eq!(events(&c1), [CaseEventKind::Opened]);
    assert_eq!(c1.events[0].run_id.as_deref(), Some("R1"));
    assert!(store.case("C404").await.expect("case query").is_none());

    let filtered =
        CaseFilter { kind: Some("unmatched_move".to_owned()), date_from: Some(day(11)), ..CaseFilter::default() };
    let found = store.cases(&filtered).await.expect("filtered cases");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].case_id, "C2");

    let kpi_rows = all_kpi(&store).await;
    assert_eq!(kpi_rows.len(), 2);
    assert_eq!(kpi_rows[0].kpi, night.kpi_rows[0]);
    assert_eq!(kpi_rows[0].run_id, "R1");
    let acc2 = store.kpi_rows(day(1), day(31), Some(&["ACC-2".to_owned()])).await.expect("kpi rows of ACC-2");
    assert_eq!(acc2.len(), 1);
    assert_eq!(acc2[0].kpi.account, "ACC-2");

    assert_eq!(store.quarantined_rows("R1").await.expect("quarantine"), night.quarantine);
    let counts = store.open_case_counts_by_kind().await.expect("counts");
    assert_eq!(counts.get("unmatched_statement"), Some(&1));
    assert_eq!(counts.get("unmatched_move"), Some(&1));
}

pub async fn rerun_is_idempotent(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");
    let matches_before = all_matches(&store).await;
    let cases_before = store.cases(&CaseFilter::default()).await.expect("cases");

    let summary = store.write_run(&night_one("R2", 3)).await.expect("second run");
    assert_eq!(
        summary,
        RunWriteSummary {
            matches_kept: 2,
            cases_seen: 2,
            kpi_rows: 2,
            quarantined_rows: 1,
            ..RunWriteSummary::default()
        }
    );
    let matches_after = all_matches(&store).await;
    assert_eq!(matches_after.len(), matches_before.len());
    for (before, after) in matches_before.iter().zip(&matches_after) {
        assert_eq!(after.last_run_id, "R2");
        let mut expected = before.clone();
        expected.last_run_id = "R2".to_owned();
        assert_eq!(after, &expected);
    }
    let cases_after = store.cases(&CaseFilter::default()).await.expect("cases");
    assert_eq!(cases_after.len(), cases_before.len());
    for (before, after) in cases_before.iter().zip(&cases_after) {
        let mut expected = before.clone();
        expected.last_run_id = "R2".to_owned();
        assert_eq!(after, &expected);
        let detail = case_detail(&store, &after.case_id).await;
        assert_eq!(events(&detail), [CaseEventKind::Opened, CaseEventKind::Seen]);
        assert_eq!(detail.events[1].run_id.as_deref(), Some("R2"));
        assert_eq!(detail.items.len(), 1, "items are not duplicated");
    }
    // The later run's KPI wins for the same account and day.
    let kpi_rows = all_kpi(&store).await;
    assert_eq!(kpi_rows.len(), 2);
    assert!(kpi_rows.iter().all(|row| row.run_id == "R2"));
    assert_eq!(store.runs(&RunFilter::default()).await.expect("runs").len(), 2);
    let limited = RunFilter { limit: Some(1), ..RunFilter::default() };
    let newest = store.runs(&limited).await.expect("runs");
    assert_eq!(newest.iter().map(|r| r.header.run_id.as_str()).collect::<Vec<_>>(), ["R2"]);
}

pub async fn later_run_resolves_and_reopens(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");

    // R2 matches S3 (the item of C1) and no longer reports C1; C2 is still there.
    let mut second = night_one("R2", 3);
    second.matches.push(matched("M3", day(10), vec![stmt("S3"), mv("L4")]));
    second.cases.retain(|c| c.case_id == "C2");
    let summary = store.write_run(&second).await.expect("second run");
    assert_eq!((summary.cases_resolved, summary.cases_seen, summary.matches_inserted), (1, 1, 1));
    let c1 = case_detail(&store, "C1").await;
    assert_eq!(c1.case.status, CaseStatus::Resolved);
    assert_eq!(c1.case.resolved_by_run_id.as_deref(), Some("R2"));
    assert_eq!(c1.case.resolved_at, Some(at(3)));
    assert_eq!(c1.case.last_run_id, "R1");
    assert_eq!(events(&c1), [CaseEventKind::Opened, CaseEventKind::Resolved]);
    assert_eq!(case_detail(&store, "C2").await.case.status, CaseStatus::Open);

    // R3 is R1 again: M3 is gone (superseded) and C1 is back (reopened).
    let summary = store.write_run(&night_one("R3", 4)).await.expect("third run");
    assert_eq!((summary.cases_reopened, summary.cases_seen, summary.matches_superseded), (1, 1, 1));
    let c1 = case_detail(&store, "C1").await;
    assert_eq!(c1.case.status, CaseStatus::Open);
    assert_eq!(c1.case.resolved_at, None);
    assert_eq!(c1.case.resolved_by_run_id, None);
    assert_eq!(c1.case.last_run_id, "R3");
    assert_eq!(events(&c1), [CaseEventKind::Opened, CaseEventKind::Resolved, CaseEventKind::Reopened]);
    let m3 = all_matches(&store).await.into_iter().find(|m| m.match_id == "M3").expect("M3 kept");
    assert_eq!(m3.status, MatchStatus::Superseded);
    assert_eq!(m3.superseded_by_run_id.as_deref(), Some("R3"));

    // M3 produced again: active once more.
    let summary = store.write_run(&second_like("R4", 5)).await.expect("fourth run");
    assert_eq!(summary.matches_reactivated, 1);
    let m3 = all_matches(&store).await.into_iter().find(|m| m.match_id == "M3").expect("M3 kept");
    assert_eq!((m3.status, m3.superseded_by_run_id), (MatchStatus::Active, None));
}

/// Night one plus M3 (covering C1's item), without C1.
pub(crate) fn second_like(run_id: &str, hour: u32) -> recon_store::RunWrite {
    let mut night = night_one(run_id, hour);
    night.matches.push(matched("M3", day(10), vec![stmt("S3"), mv("L4")]));
    night.cases.retain(|c| c.case_id == "C2");
    night
}

pub async fn ignored_case_stays_ignored(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");
    let ignore = CaseResolution {
        case_id: "C2".to_owned(),
        operator: "ana".to_owned(),
        corrective_action: "none: internal transfer".to_owned(),
        prevention: "exclude transfers".to_owned(),
        closure: CaseClosure::Ignored,
        at: at(2) + chrono::Duration::minutes(30),
    };
    store.resolve_case(&ignore).await.expect("ignore C2");
    let summary = store.write_run(&night_one("R2", 3)).await.expect("second run");
    assert_eq!((summary.cases_ignored_seen, summary.cases_seen, summary.cases_reopened), (1, 1, 0));
    let c2 = case_detail(&store, "C2").await;
    assert_eq!(c2.case.status, CaseStatus::Ignored);
    assert_eq!(c2.case.last_run_id, "R2");
    assert_eq!(c2.case.resolved_by.as_deref(), Some("ana"));
    assert_eq!(events(&c2), [CaseEventKind::Opened, CaseEventKind::Ignored, CaseEventKind::Seen]);
}

pub async fn scope_bounds_supersede_and_resolve(url: &str) {
    let store = open(url).await;
    let mut first = night_one("R1", 2);
    let mut on_acc2 = matched("M9", day(10), vec![stmt("S9"), mv("L9")]);
    on_acc2.account = "ACC-2".to_owned();
    let mut manual = matched("M8", day(10), vec![stmt("S8"), mv("L8")]);
    manual.review = MatchReview::Manual;
    first.matches.extend([on_acc2, manual]);
    store.write_run(&first).await.expect("first run");

    // R2 covers ACC-1 only, days 1..=10, and produces nothing.
    let mut second = run("R2", 3);
    second.header.scope.accounts = vec!["ACC-1".to_owned()];
    second.header.scope.date_to = day(10);
    let summary = store.write_run(&second).await.expect("second run");
    // M1 and M2 are superseded; M9 (ACC-2) and M8 (manual) are not.
    assert_eq!(summary.matches_superseded, 2);
    let statuses: Vec<(String, MatchStatus)> =
        all_matches(&store).await.into_iter().map(|m| (m.match_id, m.status)).collect();
    assert_eq!(
        statuses,
        [
            ("M1".to_owned(), MatchStatus::Superseded),
            ("M2".to_owned(), MatchStatus::Superseded),
            ("M8".to_owned(), MatchStatus::Active),
            ("M9".to_owned(), MatchStatus::Active),
        ]
    );
    // C2 (ACC-1, day 11, L9 in active M9) is out of R2's date scope: not resolved.
    assert_eq!(summary.cases_resolved, 0);
    assert_eq!(case_detail(&store, "C2").await.case.status, CaseStatus::Open);

    // R3 covers all of January: C2's only item L9 is in active M9, so C2 is resolved.
    let mut third = run("R3", 4);
    third.matches.push({
        let mut m9 = matched("M9", day(10), vec![stmt("S9"), mv("L9")]);
        m9.account = "ACC-2".to_owned();
        m9
    });
    let summary = store.write_run(&third).await.expect("third run");
    assert_eq!((summary.cases_resolved, summary.matches_kept), (1, 1));
    assert_eq!(case_detail(&store, "C2").await.case.status, CaseStatus::Resolved);
    assert_eq!(case_detail(&store, "C1").await.case.status, CaseStatus::Open);
}

pub async fn lock_is_exclusive(url: &str) {
    let first = open(url).await;
    let second = open(url).await;
    let guard = first.try_lock("nightly 2025-01-31").await.expect("first lock");
    match second.try_lock("manual rerun").await {
        Err(StoreError::Locked { holder, .. }) => {
            assert!(holder.contains("nightly 2025-01-31"), "the holder is named: {holder}");
        }
        other => panic!("second lock must be refused, got {other:?}"),
    }
    guard.release().await.expect("release");
    let again = second.try_lock("manual rerun").await.expect("free after release");
    assert!(first.try_lock("third").await.is_err(), "held again");
    drop(again);
    // Dropping frees the lock too (PostgreSQL notices the closed session shortly after).
    let mut taken = None;
    for _ in 0..50 {
        if let Ok(lock) = first.try_lock("after drop").await {
            taken = Some(lock);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(taken.is_some(), "lock free after the guard was dropped");
}

/// Everything readable through the API, to compare before and after.
pub(crate) async fn snapshot(store: &Store) -> (Vec<RunRecord>, Vec<MatchRecord>, Vec<CaseDetail>, Vec<KpiRecord>) {
    let runs = store.runs(&RunFilter::default()).await.expect("runs");
    let matches = all_matches(store).await;
    let mut cases = Vec::new();
    for c in store.cases(&CaseFilter::default()).await.expect("cases") {
        cases.push(case_detail(store, &c.case_id).await);
    }
    (runs, matches, cases, all_kpi(store).await)
}

pub async fn failed_write_changes_nothing(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");
    let before = snapshot(&store).await;

    // R2 writes its run row, KPI and matches, supersedes M1 and M2, upserts cases, and
    // then fails half way: its new case C3 lists the same item twice.
    let mut broken = run("R2", 3);
    broken.kpi_rows = vec![kpi("ACC-1", day(10), 3)];
    broken.cases = vec![
        case("C2", "unmatched_move", day(11), vec![mv("L9")]),
        case("C3", "duplicate", day(12), vec![stmt("S7"), stmt("S7")]),
    ];
    broken.matches =
        vec![matched("M3", day(10), vec![stmt("S3"), mv("L4")]), matched("M4", day(10), vec![stmt("S4"), mv("L5")])];
    let error = store.write_run(&broken).await.expect_err("duplicate item must fail");
    assert!(matches!(error, StoreError::Database { .. }), "got {error:?}");
    assert!(error.to_string().contains("R2"), "error names the run: {error}");
    assert_eq!(snapshot(&store).await, before);
    assert!(store.quarantined_rows("R2").await.expect("quarantine").is_empty());

    // The same run id can be written once fixed: nothing of the failed attempt remained.
    broken.cases[1].items.pop();
    let summary = store.write_run(&broken).await.expect("fixed run");
    assert_eq!((summary.matches_inserted, summary.cases_resolved), (2, 1));
}

pub async fn resolve_case_records_operator(url: &str) {
    let store = open(url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");
    let resolution = CaseResolution {
        case_id: "C1".to_owned(),
        operator: "luis".to_owned(),
        corrective_action: "posted the missing bank fee".to_owned(),
        prevention: "fee rule added".to_owned(),
        closure: CaseClosure::Resolved,
        at: at(9),
    };
    store.resolve_case(&resolution).await.expect("resolve");
    let c1 = case_detail(&store, "C1").await;
    assert_eq!(c1.case.status, CaseStatus::Resolved);
    assert_eq!(c1.case.resolved_by.as_deref(), Some("luis"));
    assert_eq!(c1.case.corrective_action.as_deref(), Some("posted the missing bank fee"));
    assert_eq!(c1.case.prevention.as_deref(), Some("fee rule added"));
    assert_eq!(c1.case.resolved_at, Some(at(9)));
    assert_eq!(c1.case.resolved_by_run_id, None);
    let last = c1.events.last().expect("resolved event");
    assert_eq!((last.event, last.operator.as_deref(), last.at), (CaseEventKind::Resolved, Some("luis"), at(9)));
    assert!(last.note.as_deref().is_some_and(|n| n.contains("fee rule added")));

    match store.resolve_case(&resolution).await {
        Err(StoreError::CaseNotOpen { case_id, status }) => {
            assert_eq!((case_id.as_str(), status.as_str()), ("C1", "resolved"))
        }
        other => panic!("resolving twice must fail, got {other:?}"),
    }
    let missing = CaseResolution { case_id: "C404".to_owned(), ..resolution };
    match store.resolve_case(&missing).await {
        Err(StoreError::CaseNotFound { case_id }) => assert_eq!(case_id, "C404"),
        other => panic!("resolving a missing case must fail, got {other:?}"),
    }
    let counts = store.open_case_counts_by_kind().await.expect("counts");
    assert_eq!(counts.get("unmatched_statement"), None);
}

pub async fn failed_run_is_recorded(url: &str) {
    let store = open(url).await;
    let failed = header("R1", 2);
    store.record_failed_run(&failed, "odoo export: missing column 'move_name'").await.expect("record failure");
    let runs = store.runs(&RunFilter::default()).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].header, failed);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].error.as_deref(), Some("odoo export: missing column 'move_name'"));
    assert_eq!((runs[0].counts.as_ref(), runs[0].kpi.as_ref()), (None, None));
    assert!(store.last_successful_run().await.expect("last run").is_none());
    let only_failed = RunFilter { status: Some(RunStatus::Failed), ..RunFilter::default() };
    assert_eq!(store.runs(&only_failed).await.expect("runs").len(), 1);
    match store.write_run(&night_one("R1", 3)).await {
        Err(StoreError::RunExists { run_id, status }) => {
            assert_eq!((run_id.as_str(), status.as_str()), ("R1", "failed"))
        }
        other => panic!("a recorded run id cannot be written again, got {other:?}"),
    }
    store.write_run(&night_one("R2", 3)).await.expect("next run");
    let last = store.last_successful_run().await.expect("last run").expect("one succeeded");
    assert_eq!(last.header.run_id, "R2");
}

pub async fn migrations_are_listed(url: &str) {
    let expected = vec![
        AppliedMigration { version: 1, description: "init".to_owned() },
        AppliedMigration { version: 2, description: "manual".to_owned() },
        AppliedMigration { version: 3, description: "match pairs".to_owned() },
        AppliedMigration { version: 4, description: "manual matches index".to_owned() },
    ];
    let store = open(url).await;
    assert_eq!(store.applied_migrations().await.expect("migrations"), expected);
    store.close().await;
    let reopened = open(url).await;
    assert_eq!(reopened.applied_migrations().await.expect("migrations"), expected);
}

pub async fn large_run_is_batched(url: &str) {
    // More than one round of `upsert_matches` (65,536) and of `upsert_cases` (16,384), more
    // than one statement on both backends, and on SQLite the staging table of every width used
    // twice (matches, items, cases, events) and emptied in between. One match in ten is a
    // settlement of three journal items, so `match_items` gets rows too; the others are pairs.
    // One in seven has no reference and a negative date delta: NULLs and integers go through the
    // staging table as they went in.
    const MATCHES: usize = 70_000;
    const CASES: usize = 20_000;
    let items = |i: usize| {
        let mut items = vec![stmt(&format!("S{i}")), mv(&format!("L{i}"))];
        if i.is_multiple_of(10) {
            items.extend([mv(&format!("L{i}b")), mv(&format!("L{i}c"))]);
        }
        items
    };
    let store = open(url).await;
    let mut big = run("R1", 2);
    let written = |i: usize| {
        let mut m = matched(&format!("M{i:05}"), day(10), items(i));
        if i.is_multiple_of(7) {
            (m.reference_kind, m.reference, m.date_delta_banking_days) = (None, None, -2);
        }
        m
    };
    big.matches = (0..MATCHES).map(written).collect();
    big.cases =
        (0..CASES).map(|i| case(&format!("C{i:05}"), "unmatched_move", day(11), vec![mv(&format!("X{i}"))])).collect();
    let summary = store.write_run(&big).await.expect("large run");
    assert_eq!((summary.matches_inserted, summary.cases_opened), (MATCHES as u64, CASES as u64));
    let matches = all_matches(&store).await;
    assert_eq!(matches.len(), MATCHES);
    for (i, found) in matches.iter().enumerate() {
        let mut expected = items(i);
        expected.sort_by(|a, b| (a.side.as_str(), &a.item_id).cmp(&(b.side.as_str(), &b.item_id)));
        assert_eq!(found.items, expected, "items of {}", found.match_id);
        let m = written(i);
        assert_eq!(
            (&found.reference_kind, &found.reference, found.date_delta_banking_days),
            (&m.reference_kind, &m.reference, m.date_delta_banking_days),
            "reference and delta of {}",
            found.match_id
        );
        assert_eq!((&found.amount, found.business_date, &found.rule), (&m.amount, m.business_date, &m.rule));
        assert_eq!(found.explanation.to_string(), m.explanation.as_str(), "explanation of {}", found.match_id);
    }
    let summary = store
        .write_run(&{
            let mut again = big.clone();
            again.header = header("R2", 3);
            again
        })
        .await
        .expect("large rerun");
    assert_eq!((summary.matches_kept, summary.cases_seen), (MATCHES as u64, CASES as u64));
    let matches = all_matches(&store).await;
    assert!(matches.iter().all(|m| m.first_run_id == "R1" && m.last_run_id == "R2" && m.items.len() >= 2));
    let counts = store.open_case_counts_by_kind().await.expect("counts");
    assert_eq!(counts.get("unmatched_move"), Some(&(CASES as u64)));
    for case_id in ["C00000", "C16384", "C19999"] {
        let detail = case_detail(&store, case_id).await;
        assert_eq!(events(&detail), [CaseEventKind::Opened, CaseEventKind::Seen], "events of {case_id}");
        assert_eq!(detail.items.len(), 1, "items of {case_id}");
    }
}

/// Rows (matches or cases) given as a [`RowSource`] that maps each row when asked (with `make`,
/// from its id and index), in reverse id order, with one row that cannot be mapped or that carries
/// another id.
struct Mapped<R> {
    ids: Vec<String>,
    broken: Option<(usize, Broken)>,
    asked: AtomicUsize,
    make: fn(&str, usize) -> R,
}

#[derive(Clone, Copy)]
enum Broken {
    Unmappable,
    OtherId,
    Panics,
}

impl<R> Mapped<R> {
    /// `count` rows with ids `{prefix}{index:05}`.
    fn new(count: usize, prefix: &str, make: fn(&str, usize) -> R, broken: Option<(usize, Broken)>) -> Mapped<R> {
        let ids = (0..count).rev().map(|i| format!("{prefix}{i:05}")).collect();
        Mapped { ids, broken, asked: AtomicUsize::new(0), make }
    }
}

impl<R: KeyedRow> RowSource<R> for Mapped<R> {
    fn count(&self) -> usize {
        self.ids.len()
    }

    fn id(&self, index: usize) -> &str {
        &self.ids[index]
    }

    fn row(&self, index: usize) -> Result<Cow<'_, R>, String> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let id = match self.broken {
            Some((at, Broken::Unmappable)) if at == index => return Err("its evidence is not JSON".to_owned()),
            Some((at, Broken::OtherId)) if at == index => "X-other",
            Some((at, Broken::Panics)) if at == index => panic!("a source that panics at row {index}"),
            _ => &self.ids[index],
        };
        Ok(Cow::Owned((self.make)(id, index)))
    }
}

/// A pair of `S{index}` and `L{index}`.
fn mapped_match(id: &str, index: usize) -> MatchWrite {
    matched(id, day(10), vec![stmt(&format!("S{index}")), mv(&format!("L{index}"))])
}

/// An unmatched Odoo line `X{index}`.
fn mapped_case(id: &str, index: usize) -> CaseWrite {
    case(id, "unmatched_move", day(11), vec![mv(&format!("X{index}"))])
}

pub async fn rows_mapped_round_by_round(url: &str) {
    // More than one round of matches (65,536) and of cases (16,384). A row that cannot be mapped,
    // or that carries another id, is found in the second round of the write (rows go in id order,
    // and index 0 is the largest id): the first round is rolled back with everything else.
    const MATCHES: usize = 70_000;
    const CASES: usize = 20_000;
    let store = open(url).await;
    let RunWrite { header, counts, kpi, kpi_rows, quarantine, .. } = run("R1", 2);
    let matches = Mapped::new(MATCHES, "M", mapped_match, None);
    let cases = Mapped::new(CASES, "C", mapped_case, None);
    let mut night = RunWrite { header, counts, kpi, kpi_rows, matches, cases, quarantine };
    // (broken match, broken case, the row the error names, why)
    let refusals = [
        (Some((0, Broken::Unmappable)), None, "match M69999", "its evidence is not JSON"),
        (Some((5, Broken::OtherId)), None, "match M69994", "\"X-other\""),
        (None, Some((1, Broken::Unmappable)), "case C19998", "its evidence is not JSON"),
        (None, Some((2, Broken::OtherId)), "case C19997", "\"X-other\""),
    ];
    for (broken_match, broken_case, named, why) in refusals {
        night.matches = Mapped::new(MATCHES, "M", mapped_match, broken_match);
        night.cases = Mapped::new(CASES, "C", mapped_case, broken_case);
        let error = store.write_run(&night).await.expect_err(named);
        assert!(matches!(error, StoreError::InvalidInput { .. }), "{named}: {error:?}");
        let text = error.to_string();
        assert!(text.contains(named) && text.contains(why), "{text}");
    }
    // A source that panics in the second round (on SQLite, on the thread that maps it while the
    // first round is written): the panic reaches the caller, nothing is written, and the store
    // takes the next write.
    night.cases = Mapped::new(CASES, "C", mapped_case, None);
    night.matches = Mapped::new(MATCHES, "M", mapped_match, Some((0, Broken::Panics)));
    let (panicking, night) = (store.clone(), std::sync::Arc::new(night));
    let shared = std::sync::Arc::clone(&night);
    let ended = tokio::spawn(async move { panicking.write_run(&*shared).await }).await;
    assert!(ended.expect_err("the source panicked").is_panic());
    let mut night = std::sync::Arc::into_inner(night).expect("the task is done");
    assert!(store.runs(&RunFilter::default()).await.expect("runs").is_empty());
    assert!(all_matches(&store).await.is_empty());
    assert!(store.open_case_counts_by_kind().await.expect("counts").is_empty());
    // Whole, every row is mapped once, and the rows are stored as mapped.
    night.matches = Mapped::new(MATCHES, "M", mapped_match, None);
    night.cases = Mapped::new(CASES, "C", mapped_case, None);
    let summary = store.write_run(&night).await.expect("mapped round by round");
    assert_eq!((summary.matches_inserted, summary.cases_opened), (MATCHES as u64, CASES as u64));
    assert_eq!(night.matches.asked.load(Ordering::Relaxed), MATCHES);
    assert_eq!(night.cases.asked.load(Ordering::Relaxed), CASES);
    let matches = all_matches(&store).await;
    assert_eq!(matches.len(), MATCHES);
    assert_eq!((matches[0].match_id.as_str(), matches[0].items[1].item_id.as_str()), ("M00000", "S69999"));
    let detail = case_detail(&store, "C00000").await;
    assert_eq!(detail.items.iter().map(|item| item.item_id.as_str()).collect::<Vec<_>>(), ["X19999"]);
}

pub async fn invalid_input_is_refused(url: &str) {
    let store = open(url).await;
    let mut twice = night_one("R1", 2);
    twice.matches.push(twice.matches[0].clone());
    let error = store.write_run(&twice).await.expect_err("a match id twice");
    assert!(matches!(error, StoreError::InvalidInput { .. }), "{error:?}");
    let repeated = &twice.matches[0].match_id;
    assert!(error.to_string().contains(&format!("match {repeated}")), "error names the repeated id: {error}");
    assert!(error.to_string().contains("appears twice"), "{error}");
    let mut empty = night_one("R1", 2);
    empty.matches[1].items.clear();
    let error = store.write_run(&empty).await.expect_err("a match without items");
    let second = &empty.matches[1].match_id;
    assert!(error.to_string().contains(&format!("match {second}")), "error names the match: {error}");
    // Of several problems, repeated ids come first (they are checked before the transaction), and of
    // them the smallest is named; a match's own checks run as its round is written, in id order, so
    // of two bad matches the one with the smaller id is named, whatever the run's order.
    let mut several = night_one("R1", 2);
    several.matches.push(several.matches[1].clone());
    several.matches.push(several.matches[0].clone());
    several.matches[2].items.clear();
    let smallest = several.matches[..2].iter().map(|m| m.match_id.clone()).min().expect("two matches");
    let error = store.write_run(&several).await.expect_err("ids twice").to_string();
    assert!(error.contains(&format!("match {smallest})")), "names the smallest repeated id: {error}");
    assert!(error.contains("appears twice"), "{error}");
    let mut two_bad = night_one("R1", 2);
    two_bad.matches.swap(0, 1);
    two_bad.matches[0].items.clear();
    two_bad.matches[1].amount = "1,5".to_owned();
    let error = store.write_run(&two_bad).await.expect_err("a bad amount before an empty match").to_string();
    assert!(error.contains("match M1)") && error.contains("not a decimal string"), "{error}");
    // Cases are checked the same way: repeated ids first, then each case's amount as its round is
    // written.
    let mut cases = night_one("R1", 2);
    cases.cases.push(cases.cases[0].clone());
    cases.cases[1].amount = Some("12,50".to_owned());
    let repeated = cases.cases[0].case_id.clone();
    let error = store.write_run(&cases).await.expect_err("a case id twice").to_string();
    assert!(error.contains(&format!("case {repeated})")) && error.contains("appears twice"), "{error}");
    cases.cases.pop();
    let error = store.write_run(&cases).await.expect_err("a bad case amount").to_string();
    let second = &cases.cases[1].case_id;
    assert!(error.contains(&format!("case {second})")) && error.contains("not a decimal string"), "{error}");
    let mut float = night_one("R1", 2);
    float.matches[0].amount = "1.2e3".to_owned();
    let error = store.write_run(&float).await.expect_err("not a decimal string");
    assert!(error.to_string().contains("match M1"), "error names the match: {error}");
    let mut backwards = night_one("R1", 2);
    backwards.header.scope.date_from = day(31);
    backwards.header.scope.date_to = day(1);
    assert!(matches!(store.write_run(&backwards).await, Err(StoreError::InvalidInput { .. })));
    assert!(store.runs(&RunFilter::default()).await.expect("runs").is_empty());
}
