//! Opening the store and handing out connections.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use crate::db::{Pooled, Tx};
use crate::error::StoreError;
use crate::model::AppliedMigration;

/// Schema migrations for SQLite.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Schema migrations for PostgreSQL (same schema, PostgreSQL types).
static PG_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The recon store: runs, KPI, matches, cases and quarantined rows, in a SQLite file or
/// a PostgreSQL database. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
}

/// The database behind a [`Store`].
#[derive(Clone)]
pub(crate) enum Backend {
    /// A SQLite file.
    Sqlite {
        /// The pool.
        pool: SqlitePool,
        /// The database file (the run lock lives beside it).
        db_path: PathBuf,
    },
    /// A PostgreSQL database.
    Postgres {
        /// The pool.
        pool: PgPool,
        /// How to open the dedicated connection that holds the run lock.
        options: Box<PgConnectOptions>,
    },
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.backend {
            Backend::Sqlite { db_path, .. } => f.debug_struct("Store").field("sqlite", db_path).finish(),
            Backend::Postgres { options, .. } => f
                .debug_struct("Store")
                .field("postgres_host", &options.get_host())
                .field("database", &options.get_database())
                .finish(),
        }
    }
}

impl Store {
    /// Opens the store and applies pending migrations. `url` is a file path,
    /// `sqlite://path` (the file is created if missing), or `postgres://...`.
    /// In-memory SQLite is refused: the run lock needs a file.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            open_postgres(url).await?
        } else {
            open_sqlite(url).await?
        };
        let store = Store { backend };
        store.migrate(url).await?;
        tracing::debug!(store = ?store, "store opened");
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { pool, .. } => pool.close().await,
            Backend::Postgres { pool, .. } => pool.close().await,
        }
    }

    async fn migrate(&self, url: &str) -> Result<(), StoreError> {
        let migrated = match &self.backend {
            Backend::Sqlite { pool, .. } => SQLITE_MIGRATOR.run(pool).await,
            Backend::Postgres { pool, .. } => PG_MIGRATOR.run(pool).await,
        };
        migrated.map_err(|source| StoreError::Migrate { url: redact(url), source })
    }

    /// The migrations applied to this store, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        const SQL: &str = "SELECT version, description FROM _sqlx_migrations WHERE success = TRUE ORDER BY version";
        let mut pooled = self.acquire("applied_migrations", "").await?;
        let rows = pooled.conn().fetch_all(SQL, Vec::new()).await.map_err(StoreError::db("applied_migrations", ""))?;
        rows.iter()
            .map(|row| Ok(AppliedMigration { version: row.int("version")?, description: row.text("description")? }))
            .collect()
    }

    /// A pooled connection for reads.
    pub(crate) async fn acquire(&self, operation: &'static str, context: &str) -> Result<Pooled, StoreError> {
        let pooled = match &self.backend {
            Backend::Sqlite { pool, .. } => pool.acquire().await.map(Pooled::Sqlite),
            Backend::Postgres { pool, .. } => pool.acquire().await.map(Pooled::Pg),
        };
        pooled.map_err(StoreError::db(operation, context))
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`)
    /// so that it never fails half way because another connection wrote meanwhile.
    pub(crate) async fn begin(&self, operation: &'static str, context: &str) -> Result<Tx, StoreError> {
        let tx = match &self.backend {
            Backend::Sqlite { pool, .. } => pool.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Backend::Postgres { pool, .. } => pool.begin().await.map(Tx::Pg),
        };
        tx.map_err(StoreError::db(operation, context))
    }
}

async fn open_sqlite(url: &str) -> Result<Backend, StoreError> {
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url).map_err(|source| StoreError::Connect { url: redact(url), source })?
    } else {
        SqliteConnectOptions::new().filename(url)
    };
    let db_path = options.get_filename().to_path_buf();
    if is_in_memory(&db_path, url) {
        return Err(StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: "in-memory SQLite is not supported (the run lock needs a file); give a file path".into(),
        });
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect { url: url.to_owned(), source })?;
    Ok(Backend::Sqlite { pool, db_path })
}

fn is_in_memory(db_path: &Path, url: &str) -> bool {
    let name = db_path.to_string_lossy();
    name.is_empty() || name == ":memory:" || name.starts_with("file:sqlx-in-memory") || url.contains("mode=memory")
}

async fn open_postgres(url: &str) -> Result<Backend, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::Connect { url: redact(url), source })?;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(options.clone())
        .await
        .map_err(|source| StoreError::Connect { url: redact(url), source })?;
    Ok(Backend::Postgres { pool, options: Box::new(options) })
}

/// The URL with any password replaced by `***`, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_password_only() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/tmp/x.db"), "/tmp/x.db");
    }
}
