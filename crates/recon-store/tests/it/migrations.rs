//! Migrations are transactional: a migration that fails leaves the schema as it was.

use std::str::FromStr;

use recon_store::{Store, StoreError};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

/// Runs `sql` on the database at `url` (creating a missing SQLite file); returns the first
/// column of the rows as text.
async fn query(url: &str, sql: &str) -> Vec<String> {
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
