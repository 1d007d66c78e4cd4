//! Opening the store and handing out connections.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, PgPool, SqlitePool};
// sqlx's logging settings take `log` levels; sqlx turns on tracing's `log` feature, which
// re-exports the `log` crate.
use tracing::log::LevelFilter;

use crate::db::{Pooled, Tx};
use crate::error::StoreError;
use crate::hooks::TestHooks;
use crate::model::AppliedMigration;

/// Schema migrations for SQLite.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Schema migrations for PostgreSQL (same schema, PostgreSQL types).
static PG_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite page cache per connection, in KiB.
pub(crate) const SQLITE_CACHE_KIB: u32 = 256 * 1024;
/// Page size of a new SQLite store (SQLite's default is 4 KiB; an existing store keeps its own).
const SQLITE_PAGE_SIZE: u32 = 16 * 1024;
/// Page cache of a SQLite connection's temporary database (the write's staging tables), in KiB:
/// a round of staged rows stays in memory (SQLite's default is 2 MiB).
const SQLITE_TEMP_CACHE_KIB: u32 = 64 * 1024;
/// Helper threads a SQLite connection's sorts may use besides its own (`CREATE INDEX`, `ORDER BY`
/// without an index). Each may hold a sorted run of up to the page cache's size, so an index build
/// holds at most about (threads + 1) x 256 MiB of keys at once.
const SQLITE_SORT_THREADS: u32 = 2;

/// The `application_name` of the store's PostgreSQL connections when the URL names none:
/// it shows in `pg_stat_activity` (and `pg_terminate_backend` tests pick connections by it).
pub const DEFAULT_APPLICATION_NAME: &str = "recon";

/// How long the pool waits for a connection when the URL says nothing (`connect_timeout`):
/// long enough for a Neon compute waking from suspension, short enough that a caller
/// retrying a write against a server that is down gives up within a minute.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a pooled endpoint cannot do for the run lock.
const LOCK_NEEDS: &str = "hold the run lock (a session advisory lock)";
/// What a pooled endpoint cannot do for migrations.
const MIGRATE_NEEDS: &str = "apply schema migrations (sqlx's migrator holds a session advisory lock while it works)";

/// The recon store: runs, KPI, matches, cases and quarantined rows, in a SQLite file or
/// a PostgreSQL database. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Fault-injection test hooks; `None` in production.
    pub(crate) hooks: Option<Arc<TestHooks>>,
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
        /// Set when the host is a pooled endpoint (see [`pooled_endpoint`]).
        pooled: Option<PooledEndpoint>,
    },
}

/// A connection pooler's endpoint and the direct endpoint beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PooledEndpoint {
    /// The pooled host.
    pub(crate) host: String,
    /// The direct host.
    pub(crate) direct_host: String,
}

impl PooledEndpoint {
    /// The refusal of `needs` on this endpoint.
    pub(crate) fn refuse(&self, needs: &'static str) -> StoreError {
        StoreError::PooledEndpoint { host: self.host.clone(), needs, direct_host: self.direct_host.clone() }
    }
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
        let backend = if is_postgres_url(url) { open_postgres(url).await? } else { open_sqlite(url).await? };
        let store = Store { backend, hooks: None };
        store.migrate(url).await?;
        tracing::debug!(store = ?store, "store opened");
        Ok(store)
    }

    /// This store with fault-injection test hooks (see [`TestHooks`]). Tests only.
    #[must_use]
    pub fn with_test_hooks(mut self, hooks: TestHooks) -> Store {
        self.hooks = Some(Arc::new(hooks));
        self
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

    /// Applies pending migrations. Each migration runs in one transaction together with
    /// its row in `_sqlx_migrations` (on both backends), so a migration that fails leaves
    /// the schema as it was. Through a pooled endpoint nothing is applied: the schema must
    /// be current already (see [`StoreError::PooledEndpoint`]).
    async fn migrate(&self, url: &str) -> Result<(), StoreError> {
        let migrated = match &self.backend {
            Backend::Sqlite { pool, .. } => SQLITE_MIGRATOR.run(pool).await,
            Backend::Postgres { pooled: Some(endpoint), .. } => return self.check_schema_is_current(endpoint).await,
            Backend::Postgres { pool, .. } => PG_MIGRATOR.run(pool).await,
        };
        migrated.map_err(|source| StoreError::Migrate { url: redact(url), source })
    }

    /// Through a pooled endpoint: every migration recon knows must be applied already.
    async fn check_schema_is_current(&self, endpoint: &PooledEndpoint) -> Result<(), StoreError> {
        let applied = match self.applied_migrations().await {
            Ok(applied) => applied,
            Err(error) if is_undefined_table(&error) => Vec::new(),
            Err(error) => return Err(error),
        };
        let pending = PG_MIGRATOR.iter().filter(|m| !applied.iter().any(|a| a.version == m.version)).count();
        if pending == 0 { Ok(()) } else { Err(endpoint.refuse(MIGRATE_NEEDS)) }
    }

    /// The migrations applied to this store, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        const SQL: &str = "SELECT version, description FROM _sqlx_migrations WHERE success = TRUE ORDER BY version";
        let mut pooled = self.acquire("applied_migrations", "").await?;
        let rows = pooled.conn().fetch_all(SQL, Vec::new()).await.map_err(StoreError::db("applied_migrations", ""))?;
        pooled.finish().await.map_err(StoreError::db("applied_migrations", ""))?;
        rows.iter()
            .map(|row| Ok(AppliedMigration { version: row.int("version")?, description: row.text("description")? }))
            .collect()
    }

    /// A pooled connection for reads. On PostgreSQL it is a read transaction (see
    /// [`Pooled`]); call [`Pooled::finish`] when done.
    pub(crate) async fn acquire(&self, operation: &'static str, context: &str) -> Result<Pooled, StoreError> {
        let pooled = match &self.backend {
            Backend::Sqlite { pool, .. } => pool.acquire().await.map(Pooled::Sqlite),
            Backend::Postgres { pool, .. } => pool.begin().await.map(Pooled::Pg),
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
    let options = quiet_slow_statements(options)
        .create_if_missing(true)
        .page_size(SQLITE_PAGE_SIZE)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // A nightly run upserts about a million matches keyed by random-looking ids: with SQLite's
        // default 2 MiB page cache the B-tree pages thrash. 256 MiB per connection, at most.
        .pragma("cache_size", format!("-{}", SQLITE_CACHE_KIB))
        // Temporary storage in files, not memory: with `temp_store = memory` SQLite sorts without
        // a bound, as one list of every row, and the 10 M night's index builds took 66-72 s where
        // bounded runs merged from the temporary file take 44-48 s (BENCHMARKS.md, seventeenth
        // session). The staging tables stay in their page cache. The files go where SQLite puts
        // temporary files (`SQLITE_TMPDIR`, else `TMPDIR`, else `/var/tmp`): a first night of 10 M
        // lines sorts up to about 0.5 GB there at a time (README, "Store").
        .pragma("temp_store", "file")
        .pragma("temp.cache_size", format!("-{}", SQLITE_TEMP_CACHE_KIB))
        .pragma("threads", SQLITE_SORT_THREADS.to_string());
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
    let (options, connect_timeout) = parse_pg_url(url)?;
    let pooled = pooled_endpoint(&options);
    if let Some(endpoint) = &pooled {
        tracing::info!(host = endpoint.host, "the store is on a pooled endpoint: no run lock, no migrations");
    }
    // A connection that died while idle (a suspended Neon compute, a restarted server) is
    // found out by the ping before it is handed out, and replaced.
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .test_before_acquire(true)
        .acquire_timeout(connect_timeout)
        .connect_with(options.clone())
        .await
        .map_err(|source| StoreError::Connect { url: redact(url), source })?;
    Ok(Backend::Postgres { pool, options: Box::new(options), pooled })
}

/// Connection options for a PostgreSQL store URL, made safe for Neon:
///
/// - `channel_binding=...` is dropped: sqlx authenticates with SCRAM-SHA-256 without
///   channel binding (it would only warn about the parameter). `sslmode=require` still
///   encrypts, and `sslmode=verify-full` also checks the server's certificate and name.
/// - `extra_float_digits` is not sent at startup: a pooler may refuse unknown startup
///   parameters, and the store reads no floating-point column.
/// - `application_name` defaults to [`DEFAULT_APPLICATION_NAME`].
/// - `connect_timeout=SECONDS` (libpq's parameter, which sqlx does not read) bounds how
///   long the store waits for a pooled connection; default 10 s.
pub fn pg_connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    parse_pg_url(url).map(|(options, _)| options)
}

/// [`pg_connect_options`] and the connect timeout.
fn parse_pg_url(url: &str) -> Result<(PgConnectOptions, Duration), StoreError> {
    let connect_timeout = match query_parameter(url, "connect_timeout") {
        None => DEFAULT_CONNECT_TIMEOUT,
        Some(value) => match value.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
            _ => {
                return Err(StoreError::InvalidUrl {
                    url: redact(url),
                    reason: format!("connect_timeout={value} is not a whole number of seconds above 0"),
                });
            }
        },
    };
    let cleaned = strip_query_parameter(&strip_query_parameter(url, "channel_binding"), "connect_timeout");
    let options = PgConnectOptions::from_str(&cleaned)
        .map_err(|source| StoreError::Connect { url: redact(url), source })?
        .extra_float_digits(None);
    let has_application_name = options.get_application_name().is_some();
    let options = if has_application_name { options } else { options.application_name(DEFAULT_APPLICATION_NAME) };
    Ok((quiet_slow_statements(options), connect_timeout))
}

/// The value of the query parameter `key` of `url` (the first, if repeated).
fn query_parameter<'u>(url: &'u str, key: &str) -> Option<&'u str> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| pair.split_once('=').filter(|(name, _)| *name == key).map(|(_, value)| value))
}

/// sqlx logs a statement slower than a second at warn level with its whole text: a batched
/// insert of a large run is hundreds of kilobytes of placeholders, once per statement. The
/// store's own debug log times each step of a write instead.
fn quiet_slow_statements<O: ConnectOptions>(options: O) -> O {
    options.log_slow_statements(LevelFilter::Debug, SLOW_STATEMENT)
}

/// Beyond this, sqlx logs a statement as slow (at debug level, see [`quiet_slow_statements`]).
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// Refuses, before anything is connected, a PostgreSQL store URL whose host is a pooled
/// endpoint, for commands that take the run lock (see [`StoreError::PooledEndpoint`]).
/// SQLite paths and direct endpoints pass.
pub fn check_lock_endpoint(url: &str) -> Result<(), StoreError> {
    if !is_postgres_url(url) {
        return Ok(());
    }
    match pooled_endpoint(&pg_connect_options(url)?) {
        Some(endpoint) => Err(endpoint.refuse(LOCK_NEEDS)),
        None => Ok(()),
    }
}

/// `postgres://` or `postgresql://`.
fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The pooled endpoint `options` points at, if it does: a host whose first DNS label
/// ends with `-pooler`, Neon's naming for its PgBouncer (transaction mode) in front of
/// the compute, whose direct endpoint is the same host without `-pooler`. Another
/// transaction-mode pooler cannot be recognised from its URL; see the README.
pub(crate) fn pooled_endpoint(options: &PgConnectOptions) -> Option<PooledEndpoint> {
    if options.get_socket().is_some() {
        return None;
    }
    let host = options.get_host();
    let (first_label, rest) = host.split_once('.').map_or((host, None), |(first, rest)| (first, Some(rest)));
    let direct_label = first_label.strip_suffix("-pooler").filter(|label| !label.is_empty())?;
    let direct_host = match rest {
        Some(rest) => format!("{direct_label}.{rest}"),
        None => direct_label.to_owned(),
    };
    Some(PooledEndpoint { host: host.to_owned(), direct_host })
}

/// Whether `error` is PostgreSQL's "relation does not exist" (42P01).
fn is_undefined_table(error: &StoreError) -> bool {
    error
        .driver_error()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|database_error| database_error.code())
        .is_some_and(|code| code == "42P01")
}

/// `url` without the query parameter `key` (every occurrence).
fn strip_query_parameter(url: &str, key: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> =
        query.split('&').filter(|pair| pair.split_once('=').map_or(*pair, |(name, _)| name) != key).collect();
    if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) }
}

/// A connection URL with its password hidden, in the user-info part and in a `password=` query
/// parameter: `postgres://u:***@h/db?password=***`. Everything else is kept, so an on-call engineer can
/// still tell which server and database were meant.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // The user-info ends at the last `@` (a password may hold `/` or `@`); the host follows it.
    let redacted = match before_query.rsplit_once('@') {
        Some((userinfo, host_and_path)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host_and_path}"),
            None => format!("{userinfo}@{host_and_path}"),
        },
        None => before_query.to_owned(),
    };
    let Some(query) = query else {
        return format!("{scheme}://{redacted}");
    };
    let parameters: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{scheme}://{redacted}?{}", parameters.join("&"))
}

/// [`redact_url`] under its short name.
pub(crate) fn redact(url: &str) -> String {
    redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::{
        check_lock_endpoint, parse_pg_url, pg_connect_options, pooled_endpoint, redact, strip_query_parameter,
    };
    use crate::StoreError;
    use sqlx::postgres::PgSslMode;

    #[test]
    fn neon_pooled_endpoints_are_recognised_and_refused_for_the_lock() {
        let pooled = "postgresql://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/dbname\
                      ?sslmode=require&channel_binding=require";
        let endpoint = pooled_endpoint(&pg_connect_options(pooled).expect("parses")).expect("pooled");
        assert_eq!(endpoint.direct_host, "ep-cool-darkness-123456.us-east-2.aws.neon.tech");
        match check_lock_endpoint(pooled) {
            Err(error @ StoreError::PooledEndpoint { .. }) => {
                let message = error.to_string();
                assert!(message.contains("use the direct endpoint"), "{message}");
                assert!(message.contains("host ep-cool-darkness-123456.us-east-2.aws.neon.tech"), "{message}");
                assert!(!message.contains("AbC123dEf"), "{message}");
            }
            other => panic!("a pooled endpoint cannot hold the lock, got {other:?}"),
        }
        for direct in [
            "postgresql://alex@ep-cool-darkness-123456.us-east-2.aws.neon.tech/dbname?sslmode=require",
            "postgres://u@db.example.com/pooler",
            "postgres://u@-pooler/x",
            "recon.sqlite",
        ] {
            assert!(check_lock_endpoint(direct).is_ok(), "{direct}");
        }
    }

    #[test]
    fn neon_urls_parse_with_channel_binding_and_get_an_application_name() {
        let options =
            pg_connect_options("postgres://u@h/d?channel_binding=require&sslmode=verify-full").expect("parses");
        assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyFull));
        assert_eq!(options.get_application_name(), Some("recon"));
        let named = pg_connect_options("postgres://u@h/d?application_name=nightly").expect("parses");
        assert_eq!(named.get_application_name(), Some("nightly"));
        assert_eq!(
            strip_query_parameter("postgres://h/d?a=1&channel_binding=prefer", "channel_binding"),
            "postgres://h/d?a=1"
        );
        let (_, timeout) = parse_pg_url("postgres://u@h/d?connect_timeout=3&sslmode=require").expect("parses");
        assert_eq!(timeout, std::time::Duration::from_secs(3));
        assert!(matches!(parse_pg_url("postgres://u@h/d?connect_timeout=soon"), Err(StoreError::InvalidUrl { .. })));
    }

    #[test]
    fn redact_hides_password_only() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(
            redact("postgres://u@h/db?password=S3cret&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://u:a/b@c@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/tmp/x.db"), "/tmp/x.db");
    }
}
