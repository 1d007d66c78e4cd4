//! Migrations are transactional: a migration that fails leaves the schema as it was.

use std::str::FromStr;

use recon_store::{ItemRef, ItemSide, MatchFilter, Store, StoreError};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

/// Runs `sql` on the database at `url` (creating a missing SQLite file); returns the first
/// column of the rows as text.
pub(crate) async fn query(url: &str, sql: &str) -> Vec<String> {
    let sql = AssertSqlSafe(sql.to_owned());
    if url.starts_with("postgres") {
        let mut connection = PgConnectOptions::from_str(url).expect("URL").connect().await.expect("connect");
        let rows = sqlx::query(sql).fetch_all(&mut connection).await.expect("query");
        connection.close().await.expect("close");
        rows.iter().map(|row| row.get::<String, _>(0)).collect()
    } else {
        let options = SqliteConnectOptions::from_str(url).expect("URL").create_if_missing(true);
        let mut connection = options.connect().await.expect("connect");
        let rows = sqlx::query(sql).fetch_all(&mut connection).await.expect("query");
        connection.close().await.expect("close");
        rows.iter().map(|row| row.get::<String, _>(0)).collect()
    }
}

/// Applies the migrations up to `version` only, as a store of that schema had them.
async fn migrate_to(url: &str, version: i64) {
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let migrator = Migrator::new(dir.as_path()).await.expect("migrations directory");
    if url.starts_with("postgres") {
        let mut connection = PgConnectOptions::from_str(url).expect("URL").connect().await.expect("connect");
        migrator.run_to(version, &mut connection).await.expect("migrate");
        connection.close().await.expect("close");
    } else {
        let options = SqliteConnectOptions::from_str(url).expect("URL").create_if_missing(true);
        let mut connection = options.connect().await.expect("connect");
        migrator.run_to(version, &mut connection).await.expect("migrate");
        connection.close().await.expect("close");
    }
}

/// The tables of the database, sorted.
async fn tables(url: &str) -> Vec<String> {
    let sql = if url.starts_with("postgres") {
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    };
    query(url, sql).await
}

pub async fn failed_migration_leaves_the_schema_as_it_was(url: &str) {
    // A table in the way of the first migration's last CREATE TABLE.
    query(url, "CREATE TABLE quarantine (note TEXT)").await;
    match Store::open(url).await {
        Err(error @ StoreError::Migrate { .. }) => assert!(error.to_string().contains("quarantine"), "{error}"),
        other => panic!("the first migration must fail on the existing table, got {other:?}"),
    }
    // Nothing of the failed migration is left, and it is not recorded as applied.
    assert_eq!(tables(url).await, ["_sqlx_migrations", "quarantine"]);
    assert!(query(url, "SELECT CAST(version AS TEXT) FROM _sqlx_migrations").await.is_empty());

    query(url, "DROP TABLE quarantine").await;
    let store = Store::open(url).await.expect("opens once the obstacle is gone");
    let applied = store.applied_migrations().await.expect("migrations");
    assert_eq!(applied.first().map(|m| m.version), Some(1));
    assert!(tables(url).await.iter().any(|table| table == "runs"));
    store.close().await;
}

/// Migration 0003 moves the items of one-to-one matches into the match row and leaves every other
/// shape (a settlement, a one-sided manual disposition) in `match_items`; the matches read the same.
pub async fn match_pairs_migration_keeps_every_item(url: &str) {
    migrate_to(url, 2).await;
    for sql in [
        "INSERT INTO runs (run_id, mode, status, operator, correlation_id, scope_json, inputs_json, config_blake3, \
         started_at, finished_at, timings_json) VALUES ('R0', 'nightly', 'succeeded', 'scheduler', 'c0', '{}', '[]', \
         'b3', '2025-02-01T06:00:00.000000Z', '2025-02-01T06:05:00.000000Z', '{}')",
        "INSERT INTO matches (match_id, rule, review, status, account, business_date, amount, currency, \
         reference_kind, reference, date_delta_banking_days, explanation_json, first_run_id, last_run_id, created_at) \
         VALUES \
         ('M-pair', 'fingerprint', 'auto', 'active', '012', '2025-01-02', '10.00', 'MXN', NULL, NULL, 0, '{}', \
          'R0', 'R0', '2025-02-01T06:05:00.000000Z'), \
         ('M-settle', 'settlement_sum', 'auto', 'active', '012', '2025-01-02', '30.00', 'MXN', NULL, NULL, 0, '{}', \
          'R0', 'R0', '2025-02-01T06:05:00.000000Z'), \
         ('M-ignore', 'manual_ignore', 'manual', 'active', '012', '2025-01-02', '5.00', 'MXN', NULL, NULL, 0, '{}', \
          'R0', 'R0', '2025-02-01T06:05:00.000000Z')",
        "INSERT INTO match_items (match_id, side, item_id) VALUES ('M-pair', 'statement', 'S1'), \
         ('M-pair', 'move', 'L1'), ('M-settle', 'statement', 'S2'), ('M-settle', 'move', 'L2'), \
         ('M-settle', 'move', 'L3'), ('M-ignore', 'statement', 'S3')",
    ] {
        query(url, sql).await;
    }

    let store = Store::open(url).await.expect("migrates to the latest schema");
    assert_eq!(
        query(url, "SELECT match_id || ' ' || COALESCE(statement_id, '-') || ' ' || COALESCE(move_id, '-') FROM matches ORDER BY match_id")
            .await,
        ["M-ignore - -", "M-pair S1 L1", "M-settle - -"]
    );
    assert_eq!(
        query(
            url,
            "SELECT match_id || ' ' || side || ' ' || item_id FROM match_items ORDER BY match_id, side, item_id"
        )
        .await,
        ["M-ignore statement S3", "M-settle move L2", "M-settle move L3", "M-settle statement S2"]
    );
    let item = |side, id: &str| ItemRef { side, item_id: id.to_owned() };
    let items: Vec<(String, Vec<ItemRef>)> = store
        .matches(&MatchFilter::default())
        .await
        .expect("matches")
        .into_iter()
        .map(|m| (m.match_id, m.items))
        .collect();
    assert_eq!(
        items,
        [
            ("M-ignore".to_owned(), vec![item(ItemSide::Statement, "S3")]),
            ("M-pair".to_owned(), vec![item(ItemSide::Move, "L1"), item(ItemSide::Statement, "S1")]),
            (
                "M-settle".to_owned(),
                vec![item(ItemSide::Move, "L2"), item(ItemSide::Move, "L3"), item(ItemSide::Statement, "S2")]
            ),
        ]
    );
    store.close().await;
}
