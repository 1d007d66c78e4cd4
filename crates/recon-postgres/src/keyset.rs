//! Keyset paging with retries: `WHERE key > $last ORDER BY key LIMIT $batch`.
//!
//! Every page is one statement on the session's connection, retried whole on a
//! transient failure (on a new connection). A retried page starts again after the
//! last key of the previous page, so no row is delivered twice and none is skipped,
//! whatever happened to the connection in between. No OFFSET: each page costs the
//! same however deep into the table it is.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres, Row};

use crate::Error;
use crate::connect::{Session, timed_out};
use crate::retry::{is_transient, with_retry_counted};

/// Rows per page when none is configured.
pub const DEFAULT_BATCH_ROWS: u32 = 10_000;

/// The smallest and largest page sizes accepted.
pub(crate) const BATCH_ROWS_MIN: u32 = 1;
/// See [`BATCH_ROWS_MIN`]; a page is held in memory whole.
pub(crate) const BATCH_ROWS_MAX: u32 = 100_000;

/// A bind parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    /// `int8`.
    Int(i64),
    /// `text`.
    Text(String),
    /// `int8[]`.
    IntArray(Vec<i64>),
    /// `text[]`.
    TextArray(Vec<String>),
}

/// Parameters collected while SQL text is built: [`Params::push`] returns the
/// placeholder (`$n`) to write into the text.
#[derive(Debug, Default)]
pub(crate) struct Params {
    first: usize,
    values: Vec<Param>,
}

impl Params {
    /// Parameters numbered from `$1`.
    pub(crate) fn new() -> Self {
        Self { first: 1, values: Vec::new() }
    }

    /// Parameters numbered from `$3`, after a keyset query's `$1` (last key) and `$2`
    /// (page size).
    pub(crate) fn after_keyset() -> Self {
        Self { first: 3, values: Vec::new() }
    }

    /// Adds `value`; returns its placeholder.
    pub(crate) fn push(&mut self, value: Param) -> String {
        self.values.push(value);
        format!("${}", self.first + self.values.len() - 1)
    }

    /// The values, in placeholder order.
    pub(crate) fn into_values(self) -> Vec<Param> {
        self.values
    }
}

/// How a keyset read went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadSummary {
    /// Rows delivered.
    pub rows: u64,
    /// Non-empty pages delivered.
    pub pages: u64,
    /// Attempts beyond the first, over all statements of the read (0 when nothing
    /// had to be retried), including the checks made before the first page.
    pub retries: u64,
}

/// A keyset query: `sql` selects the key (`int8`) as its first column, takes the
/// last key seen as `$1` and the page size as `$2`, then `params` as `$3`, `$4`, …
pub(crate) struct KeysetQuery {
    /// What is read, for messages: `"bank_statement_lines" from postgres://host/db`.
    pub what: String,
    /// The SQL text.
    pub sql: String,
    /// Parameters from `$3` on.
    pub params: Vec<Param>,
    /// Rows per page.
    pub batch_rows: u32,
}

/// Checks that `batch_rows` is within [`BATCH_ROWS_MIN`]..=[`BATCH_ROWS_MAX`].
pub(crate) fn check_batch_rows(batch_rows: u32) -> Result<(), Error> {
    if (BATCH_ROWS_MIN..=BATCH_ROWS_MAX).contains(&batch_rows) {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            what: "batch_rows",
            reason: format!("{batch_rows} is not within {BATCH_ROWS_MIN}..={BATCH_ROWS_MAX}"),
        })
    }
}

/// Runs `query` page by page, calling `on_page` with each non-empty page's rows.
///
/// The loop is bounded by the table: every page's last key is strictly greater
/// than the previous page's, and a page shorter than the batch ends the read.
pub(crate) async fn for_each_page<E, F>(
    session: &mut Session<'_>,
    query: &KeysetQuery,
    mut on_page: F,
) -> Result<ReadSummary, E>
where
    E: From<Error>,
    F: AsyncFnMut(Vec<PgRow>) -> Result<(), E>,
{
    let mut summary = ReadSummary::default();
    // Keys are ids ≥ 0 in practice; i64::MIN as the start also admits any negative
    // key but the very smallest.
    let mut last_key = i64::MIN;
    loop {
        let mut params = vec![Param::Int(last_key), Param::Int(i64::from(query.batch_rows))];
        params.extend(query.params.iter().cloned());
        let operation = format!("read {}, rows after id {last_key}", query.what);
        let rows = fetch_all(session, &operation, &query.sql, &params).await?;
        let page_rows = rows.len();
        if let Some(key) = check_keys(&rows, last_key, &query.what)? {
            last_key = key;
        }
        if page_rows > 0 {
            summary.rows += page_rows as u64;
            summary.pages += 1;
            on_page(rows).await?;
        }
        if page_rows < query.batch_rows as usize {
            summary.retries = session.retries();
            return Ok(summary);
        }
    }
}

/// The last key of `rows`, after checking that keys strictly increase from
/// `previous` (they must be unique for keyset paging to be exact).
fn check_keys(rows: &[PgRow], previous: i64, what: &str) -> Result<Option<i64>, Error> {
    let mut last = previous;
    for row in rows {
        let key: i64 = row.try_get(0).map_err(|source| decode_error(what, source))?;
        if key <= last {
            return Err(Error::InvalidConfig {
                what: "key column",
                reason: format!(
                    "{what}: ids are not unique (id {key} came after id {last}); keyset paging needs unique ids"
                ),
            });
        }
        last = key;
    }
    Ok(rows.last().map(|_| last))
}

/// Runs one statement with retries on the session's connection (the attempts
/// beyond the first are added to [`Session::retries`]); returns its rows.
pub(crate) async fn fetch_all(
    session: &mut Session<'_>,
    operation: &str,
    sql: &str,
    params: &[Param],
) -> Result<Vec<PgRow>, Error> {
    let policy = *session.database().retry_policy();
    let (rows, attempts) = with_retry_counted(&policy, operation, async || {
        let timeout = session.database().statement_timeout();
        let connection = session.connection().await?;
        let query = bind_all(sqlx::query(AssertSqlSafe(sql)), params).persistent(false);
        let result = tokio::time::timeout(timeout, fetch_in_transaction(connection, query))
            .await
            .unwrap_or_else(|_elapsed| Err(timed_out("no answer", timeout)));
        if result.as_ref().is_err_and(is_transient) {
            session.discard();
        }
        result
    })
    .await?;
    session.add_retries(attempts - 1);
    Ok(rows)
}

/// Runs `query` inside its own transaction. sqlx sends an unnamed statement's Parse and
/// its Bind/Execute in two round trips, each ending with a Sync; PgBouncer in transaction
/// mode (Neon's pooled endpoint) may hand the second to another server connection, where
/// the unnamed statement does not exist. Inside `BEGIN ... COMMIT` the server connection
/// stays the same. The transaction only reads, so a failure leaves nothing to undo.
async fn fetch_in_transaction(
    connection: &mut PgConnection,
    query: Query<'_, Postgres, PgArguments>,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut transaction = connection.begin().await?;
    let rows = query.fetch_all(&mut *transaction).await?;
    transaction.commit().await?;
    Ok(rows)
}

fn bind_all<'q>(mut query: Query<'q, Postgres, PgArguments>, params: &[Param]) -> Query<'q, Postgres, PgArguments> {
    for param in params {
        query = match param {
            Param::Int(value) => query.bind(*value),
            Param::Text(value) => query.bind(value.clone()),
            Param::IntArray(values) => query.bind(values.clone()),
            Param::TextArray(values) => query.bind(values.clone()),
        };
    }
    query
}

/// A value that could not be decoded as the text it was cast to.
pub(crate) fn decode_error(what: &str, source: sqlx::Error) -> Error {
    Error::Database {
        operation: format!("decode a row of {what}"),
        attempts: 1,
        sqlstate: None,
        transient: false,
        source,
    }
}

/// Column `index` of `row` as text; NULL reads as `""`.
pub(crate) fn text(row: &PgRow, index: usize, what: &str) -> Result<String, Error> {
    row.try_get::<Option<String>, _>(index).map(Option::unwrap_or_default).map_err(|source| decode_error(what, source))
}
