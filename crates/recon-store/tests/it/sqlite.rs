//! The scenarios on SQLite files, plus what is specific to SQLite.

use std::path::PathBuf;

use recon_store::{MatchReview, RunWrite, Store, StoreError, TestHooks};
use tempfile::TempDir;

use crate::fixtures::{day, matched, mv, night_one, stmt};
use crate::migrations::query;
use crate::scenarios::{self, all_scenarios, second_like, snapshot};

/// A fresh directory and the `sqlite://` URL of a database file in it (not yet created).
fn fresh() -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("recon.sqlite").display());
    (dir, url)
}

macro_rules! sqlite_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, url) = fresh();
                scenarios::$name(&url).await;
            }
        )*
    };
}

all_scenarios!(sqlite_tests);

#[tokio::test]
async fn plain_path_creates_the_file_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path: PathBuf = dir.path().join("nested.sqlite");
    let store = Store::open(path.to_str().expect("utf-8 path")).await.expect("open by path");
    assert!(path.exists(), "database file created");
    assert_eq!(store.backend_name(), "sqlite");
    let lock = store.try_lock("wal check").await.expect("lock");
    assert_eq!(lock.description(), format!("{}.lock", path.display()));
    drop(lock);
    store.close().await;
    let header = std::fs::read(&path).expect("database file");
    // Bytes 18 and 19 of the header are 2 in WAL mode.
    assert_eq!((header[18], header[19]), (2, 2), "journal mode is WAL");
}

/// A new store is created with 16 KiB pages (a first night's bulk load commits faster); a store
/// made before keeps its 4 KiB pages, takes the migrations and writes runs as before.
#[tokio::test]
async fn new_stores_get_16_kib_pages_and_older_ones_keep_theirs() {
    let page_size = async |url: &str| query(url, "SELECT CAST(page_size AS TEXT) FROM pragma_page_size").await.concat();
    let (_new_dir, new_url) = fresh();
    let store = Store::open(&new_url).await.expect("new store opens");
    store.write_run(&night_one("R1", 2)).await.expect("write into the new store");
    store.close().await;
    assert_eq!(page_size(&new_url).await, "16384");

    let (_old_dir, old_url) = fresh();
    // SQLite's default page size, fixed by the first table of a store made by an older recon (in
    // WAL mode, as recon makes them: there the page size can no longer change at all).
    assert_eq!(query(&old_url, "PRAGMA journal_mode = WAL").await, ["wal"]);
    query(&old_url, "CREATE TABLE made_before (x INTEGER)").await;
    assert_eq!(page_size(&old_url).await, "4096");
    let store = Store::open(&old_url).await.expect("older store opens");
    let summary = store.write_run(&night_one("R1", 2)).await.expect("write into the older store");
    assert_eq!(summary.matches_inserted, 2);
    store.close().await;
    assert_eq!(page_size(&old_url).await, "4096", "an existing store keeps its page size");
}

#[tokio::test]
async fn in_memory_is_refused() {
    match Store::open("sqlite::memory:").await {
        Err(StoreError::InvalidUrl { reason, .. }) => assert!(reason.contains("in-memory")),
        other => panic!("in-memory SQLite must be refused, got {other:?}"),
    }
}

/// The secondary indexes of `matches` and `match_items` as SQLite keeps them (name and SQL).
async fn secondary_indexes(url: &str) -> Vec<String> {
    query(
        url,
        "SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN ('matches', 'match_items') AND sql IS NOT NULL ORDER BY name",
    )
    .await
}

/// SQLite's schema version: it moves whenever a run drops and builds indexes, so a test can tell
/// which path a run took.
async fn schema_version(url: &str) -> String {
    query(url, "SELECT CAST(schema_version AS TEXT) FROM pragma_schema_version").await.concat()
}

/// A store whose runs take the bulk-load path whenever they bring more matches than it holds.
async fn bulk_loading(url: &str) -> Store {
    Store::open(url).await.expect("store opens").with_test_hooks(TestHooks::new().bulk_load_from(1))
}

/// Night one plus `extra` matches, one in three a settlement of three Odoo lines (so
/// `match_items` gets rows too), enough for several statements per table.
fn bigger_night(run_id: &str, hour: u32, extra: usize) -> RunWrite {
    let mut night = second_like(run_id, hour);
    night.matches.extend((0..extra).map(|i| {
        let mut items = vec![stmt(&format!("BS{i}")), mv(&format!("BL{i}"))];
        if i % 3 == 0 {
            items.extend([mv(&format!("BL{i}b")), mv(&format!("BL{i}c"))]);
        }
        matched(&format!("MB{i:04}"), day(10), items)
    }));
    night
}

/// The bulk-load path (secondary indexes dropped, rows upserted, indexes built again) leaves the
/// same store as the row-by-row path: the same rows, and the same indexes, defined as the
/// migrations define them.
#[tokio::test]
async fn bulk_load_writes_what_row_by_row_writes() {
    let (_bulk_dir, bulk_url) = fresh();
    let (_rows_dir, rows_url) = fresh();
    let bulk = bulk_loading(&bulk_url).await;
    let rows = Store::open(&rows_url).await.expect("store opens");
    let migrated = secondary_indexes(&rows_url).await;
    assert_eq!(migrated.len(), 5, "four indexes on matches, one on match_items: {migrated:?}");
    // On the first store: R1 (2 matches into an empty store) and R2 (3 matches, 2 stored) take
    // the bulk path; R3 (3 matches, 3 stored) and R4 (2 matches) do not; R5 (603 matches, 3 stored)
    // does, with several statements per table. R2 keeps M1 and M2, R4 supersedes M3, R5 revives it.
    let nights = [
        (night_one("R1", 2), true),
        (second_like("R2", 3), true),
        (second_like("R3", 4), false),
        (night_one("R4", 5), false),
        (with_manual_match(bigger_night("R5", 6, 600)), true),
    ];
    for (run, bulk_path) in nights {
        let version = schema_version(&bulk_url).await;
        let bulk_summary = bulk.write_run(&run).await.expect("bulk-load write");
        let rows_summary = rows.write_run(&run).await.expect("row-by-row write");
        assert_eq!(bulk_summary, rows_summary, "run {}", run.header.run_id);
        assert_eq!(schema_version(&bulk_url).await != version, bulk_path, "bulk path taken by {}", run.header.run_id);
    }
    assert_eq!(snapshot(&bulk).await, snapshot(&rows).await);
    // R5's 600 new matches went through the staging table, their run columns bound once per round:
    // every row got them.
    let stamped = "SELECT CAST(COUNT(*) AS TEXT) FROM matches m JOIN runs r ON r.run_id = 'R5' \
        WHERE m.match_id LIKE 'MB%' AND m.status = 'active' AND m.first_run_id = 'R5' AND m.last_run_id = 'R5' \
        AND m.created_at = r.finished_at";
    assert_eq!(query(&bulk_url, stamped).await, ["600"]);
    assert_eq!(query(&rows_url, stamped).await, ["600"]);
    assert_eq!(secondary_indexes(&bulk_url).await, migrated);
    assert_eq!(secondary_indexes(&rows_url).await, migrated);
    // `matches_manual` stays through a bulk load and is kept up row by row: every index still
    // holds exactly its table's rows, and the manual match is found through it.
    assert_eq!(query(&bulk_url, "SELECT integrity_check FROM pragma_integrity_check").await, ["ok"]);
    let manual = "SELECT match_id FROM matches INDEXED BY matches_manual WHERE status = 'active' AND review = 'manual'";
    assert_eq!(query(&bulk_url, manual).await, ["MB0001"]);
    assert_eq!(query(&rows_url, manual).await, ["MB0001"]);
}

/// `night` with one of its matches (`MB0001`) made by hand.
fn with_manual_match(mut night: RunWrite) -> RunWrite {
    let manual = night.matches.iter_mut().find(|m| m.match_id == "MB0001").expect("the night has MB0001");
    manual.review = MatchReview::Manual;
    night
}

/// A run that fails while its bulk load has the indexes dropped (a settlement lists one Odoo
/// line twice, which `match_items` refuses) leaves the schema and every row as they were.
#[tokio::test]
async fn failed_bulk_load_leaves_the_indexes() {
    let (_dir, url) = fresh();
    let store = bulk_loading(&url).await;
    store.write_run(&night_one("R1", 2)).await.expect("first run");
    let before = snapshot(&store).await;
    let indexes = secondary_indexes(&url).await;
    let version = schema_version(&url).await;

    let mut broken = second_like("R2", 3);
    broken.matches.push(matched("M4", day(10), vec![stmt("S4"), mv("L5"), mv("L5")]));
    let error = store.write_run(&broken).await.expect_err("an item listed twice must fail");
    assert!(matches!(error, StoreError::Database { .. }), "got {error:?}");
    assert!(error.to_string().contains("match_items"), "the error names the step: {error}");
    assert_eq!(snapshot(&store).await, before);
    assert_eq!(secondary_indexes(&url).await, indexes);
    assert_eq!(schema_version(&url).await, version, "the drop was rolled back with the run");
}
