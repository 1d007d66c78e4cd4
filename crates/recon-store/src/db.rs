//! A thin layer over the two sqlx drivers so that every statement is written once.
//!
//! All SQL uses `$N` placeholders, which both SQLite and PostgreSQL accept, and only
//! three kinds of values: text, nullable text and 64-bit integers.

use std::borrow::Cow;

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::{LockedSqliteHandle, SqliteRow};
use sqlx::{AssertSqlSafe, Database, Encode, PgConnection, Postgres, Row, Sqlite, SqliteConnection, Transaction, Type};

use crate::error::StoreError;

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;
/// PostgreSQL's protocol limit on bind parameters per statement.
const PG_MAX_PARAMS: usize = 65_535;

/// A value bound to a placeholder: borrowed from the caller's rows where it can be (a round of
/// matches binds its texts where they are, without a copy per value), owned where it is computed.
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// Text or NULL.
    OptText(Option<Cow<'a, str>>),
    /// A 64-bit integer.
    Int(i64),
}

impl Param<'_> {
    /// The text, when this is one.
    fn as_text(&self) -> Option<&str> {
        match self {
            Param::Text(text) => Some(text),
            Param::OptText(text) => text.as_deref(),
            Param::Int(_) => None,
        }
    }
}

impl From<String> for Param<'_> {
    fn from(value: String) -> Self {
        Param::Text(Cow::Owned(value))
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Param::Text(Cow::Borrowed(value))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(value: &'a String) -> Self {
        Param::Text(Cow::Borrowed(value))
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(value: Option<String>) -> Self {
        Param::OptText(value.map(Cow::Owned))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Param::OptText(value.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Param::OptText(value.as_deref().map(Cow::Borrowed))
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(value)
    }
}

/// Binds `params` in order.
fn bind_all<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    params: Vec<Param<'_>>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'s> &'s str: Encode<'s, DB> + Type<DB>,
    for<'s> Option<&'s str>: Encode<'s, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
{
    for param in &params {
        query = match param {
            Param::Text(value) => query.bind(&**value),
            Param::OptText(value) => query.bind(value.as_deref()),
            Param::Int(value) => query.bind(*value),
        };
    }
    query
}

/// A connection of either backend, borrowed from a pool or a transaction.
pub(crate) enum Conn<'a> {
    /// SQLite.
    Sqlite(&'a mut SqliteConnection),
    /// PostgreSQL.
    Pg(&'a mut PgConnection),
}

impl Conn<'_> {
    /// Whether this is a SQLite connection.
    pub(crate) fn is_sqlite(&self) -> bool {
        matches!(self, Conn::Sqlite(_))
    }

    /// The most placeholders one statement may use.
    pub(crate) fn max_params(&self) -> usize {
        match self {
            Conn::Sqlite(_) => SQLITE_MAX_PARAMS,
            Conn::Pg(_) => PG_MAX_PARAMS,
        }
    }

    /// The statement text for this backend (see [`sqlite_placeholders`]).
    fn dialect(&self, sql: &str) -> AssertSqlSafe<String> {
        match self {
            Conn::Sqlite(_) => AssertSqlSafe(sqlite_placeholders(sql)),
            Conn::Pg(_) => AssertSqlSafe(sql.to_owned()),
        }
    }

    /// Runs a statement; returns the rows affected.
    ///
    /// On PostgreSQL every statement is the unnamed prepared statement
    /// (`.persistent(false)`), never a named one cached on the connection: a named
    /// statement outlives its transaction, which a pooler in transaction mode (Neon's
    /// `-pooler` endpoint) cannot follow. The store runs a few hundred statements per run,
    /// each a multi-row batch, so parsing each one again costs nothing measurable; and
    /// every PostgreSQL statement runs inside a transaction (see [`Pooled`]).
    pub(crate) async fn execute(&mut self, sql: &str, params: Vec<Param<'_>>) -> Result<u64, sqlx::Error> {
        let sql = self.dialect(sql);
        match self {
            Conn::Sqlite(conn) => Ok(bind_all(sqlx::query(sql), params).execute(&mut **conn).await?.rows_affected()),
            Conn::Pg(conn) => {
                Ok(bind_all(sqlx::query(sql), params).persistent(false).execute(&mut **conn).await?.rows_affected())
            }
        }
    }

    /// Runs a query; returns all its rows.
    pub(crate) async fn fetch_all(&mut self, sql: &str, params: Vec<Param<'_>>) -> Result<Vec<DbRow>, sqlx::Error> {
        let sql = self.dialect(sql);
        match self {
            Conn::Sqlite(conn) => Ok(bind_all(sqlx::query(sql), params)
                .fetch_all(&mut **conn)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect()),
            Conn::Pg(conn) => Ok(bind_all(sqlx::query(sql), params)
                .persistent(false)
                .fetch_all(&mut **conn)
                .await?
                .into_iter()
                .map(DbRow::Pg)
                .collect()),
        }
    }

    /// The rows of `select` (`SELECT ... FROM t WHERE`) whose `column` is one of `values`, in
    /// chunks: SQLite `column IN (?, ...)` up to the placeholder limit, PostgreSQL
    /// `column = ANY($1::text[])` of [`PG_ROWS_PER_STATEMENT`] values.
    pub(crate) async fn fetch_where_in(
        &mut self,
        select: &str,
        column: &str,
        values: &[&str],
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        let mut rows = Vec::new();
        if let Conn::Pg(conn) = self {
            let sql = format!("{select} {column} = ANY($1::text[])");
            for chunk in values.chunks(PG_ROWS_PER_STATEMENT) {
                let query = sqlx::query(AssertSqlSafe(sql.clone())).persistent(false).bind(chunk.to_vec());
                rows.extend(query.fetch_all(&mut **conn).await?.into_iter().map(DbRow::Pg));
            }
            return Ok(rows);
        }
        for chunk in values.chunks(self.max_params()) {
            let sql = format!("{select} {column} IN ({})", placeholders(1, chunk.len()));
            rows.extend(self.fetch_all(&sql, chunk.iter().map(|value| Param::from(*value)).collect()).await?);
        }
        Ok(rows)
    }

    /// Inserts `rows` in batches. `head` is `INSERT INTO t (a, b)`, `tail` follows the rows
    /// (e.g. an `ON CONFLICT` clause) and may be empty. Returns rows affected. Callers with
    /// many rows call this once per chunk of rows they built (see `upsert_matches`), so that
    /// a run's rows are never all held as parameters at once.
    ///
    /// SQLite: multi-row `INSERT ... VALUES` of [`SQLITE_ROWS_PER_STATEMENT`] rows (fewer when
    /// the placeholder limit says so), one statement text for every full batch, prepared once
    /// per connection (sqlx caches prepared statements by text). A batch of more rows than one
    /// statement takes goes through a staging table first (see [`stage_rows`]).
    /// PostgreSQL: `INSERT ... SELECT * FROM UNNEST($1::text[], ...)`, one array per column and
    /// [`PG_ROWS_PER_STATEMENT`] rows per statement: the statement text stays small whatever
    /// the batch, instead of a `VALUES` list of 65,535 placeholders for the server to parse
    /// and plan (a run of a million lines upserted its 914,922 matches in 67 s instead of
    /// 78 s; see BENCHMARKS.md).
    pub(crate) async fn insert_batched(
        &mut self,
        head: &str,
        tail: &str,
        rows: Vec<Vec<Param<'_>>>,
    ) -> Result<u64, sqlx::Error> {
        self.insert_batched_sharing(head, Vec::new(), tail, rows).await
    }

    /// [`Conn::insert_batched`] where the last columns of `head` take the same values in every
    /// row: `shared`, bound once per statement rather than once per row where the backend
    /// allows. Each row holds the values of the other columns, in `head` order.
    ///
    /// On SQLite a staged batch binds `shared` once, in the `INSERT ... SELECT` from the staging
    /// table, so the staging table is that much narrower: binding is what a staged row costs
    /// (`upsert_matches` shares four of its seventeen columns: see BENCHMARKS.md). Elsewhere
    /// (a batch that fits one statement, PostgreSQL's arrays) each row gets a copy.
    pub(crate) async fn insert_batched_sharing(
        &mut self,
        head: &str,
        shared: Vec<Param<'_>>,
        tail: &str,
        mut rows: Vec<Vec<Param<'_>>>,
    ) -> Result<u64, sqlx::Error> {
        let Some(own) = rows.first().map(Vec::len) else {
            return Ok(0);
        };
        debug_assert!(own > 0 || shared.is_empty(), "rows hold at least one value besides the shared ones");
        let width = own + shared.len();
        let conn = match self {
            Conn::Pg(conn) => {
                rows.iter_mut().for_each(|row| row.extend_from_slice(&shared));
                return insert_unnest(conn, head, tail, rows, width).await;
            }
            Conn::Sqlite(conn) => conn,
        };
        let per_statement = (SQLITE_MAX_PARAMS / width.max(1)).clamp(1, SQLITE_ROWS_PER_STATEMENT);
        if rows.len() <= per_statement {
            let sql = sqlite_placeholders(&format!("{head} VALUES {} {tail}", values_list(rows.len(), width)));
            let params = rows.into_iter().flat_map(|mut row| {
                row.extend_from_slice(&shared);
                row
            });
            return Ok(bind_all(sqlx::query(AssertSqlSafe(sql)), params.collect())
                .execute(&mut **conn)
                .await?
                .rows_affected());
        }
        // The staging table holds only the rows' own values.
        let stage = stage_rows(conn, rows, own).await?;
        insert_from_stage(conn, head, shared, tail, &stage, own).await
    }

    /// [`Conn::insert_batched_sharing`] for rows whose first value is the key (`upsert.key`) of
    /// `upsert.table`, returning the key and `upsert.column` of the rows that were already in the
    /// table before this batch (what an upsert reports as kept rather than inserted), and what
    /// `meanwhile` returned.
    ///
    /// On SQLite the batch is staged (see [`stage_rows`]), the stored rows found with a join on the
    /// staging table (instead of binding every id again in `IN` lists: 0.4-0.5 s of a 1 M night's
    /// 4-5 s of matches upsert) and the rows moved into the table, all through SQLite's own API on
    /// the locked connection, on the caller's thread, while `meanwhile` runs on a thread of its own:
    /// the caller prepares its next batch there (`upsert_matches` maps its next round of rows) while
    /// SQLite writes this one. The caller's thread is blocked meanwhile (about 0.1-0.3 s for a round
    /// of 65,536 matches), where sqlx's statements would have run on its worker thread with the
    /// caller's waiting for them anyway. Elsewhere the ids are looked up as
    /// [`Conn::fetch_where_in`] does and the rows inserted, after `meanwhile`.
    pub(crate) async fn upsert_batched_reporting<T: Send>(
        &mut self,
        upsert: Upsert<'_>,
        shared: Vec<Param<'_>>,
        rows: Vec<Vec<Param<'_>>>,
        meanwhile: impl FnOnce() -> T + Send,
    ) -> Result<(Vec<(String, String)>, T), sqlx::Error> {
        let Upsert { head, tail, table, key, column } = upsert;
        let conn = match self {
            Conn::Sqlite(conn) => conn,
            Conn::Pg(_) => {
                let done = meanwhile();
                let ids: Vec<&str> = rows
                    .iter()
                    .map(|row| row.first().and_then(Param::as_text).expect("an upsert row starts with its text key"))
                    .collect();
                let select = format!("SELECT {key} AS id, {column} AS value FROM {table} WHERE");
                let existing = self.fetch_where_in(&select, key, &ids).await?;
                let existing = existing.iter().map(|row| Ok((row.sqlx_text("id")?, row.sqlx_text("value")?)));
                let existing = existing.collect::<Result<Vec<_>, sqlx::Error>>()?;
                self.insert_batched_sharing(head, shared, tail, rows).await?;
                return Ok((existing, done));
            }
        };
        let Some(own) = rows.first().map(Vec::len) else {
            return Ok((Vec::new(), meanwhile()));
        };
        let stage = empty_stage(conn, own).await?;
        let sql = RoundSql {
            stage: format!("INSERT INTO temp.{stage} ({}) VALUES ({})", stage_columns(own), placeholders(1, own)),
            existing: format!("SELECT t.{key}, t.{column} FROM temp.{stage} s JOIN {table} t ON t.{key} = s.c0"),
            insert: insert_from_stage_sql(head, shared.len(), tail, &stage, own),
            empty: format!("DELETE FROM temp.{stage}"),
        };
        let mut handle = conn.lock_handle().await?;
        let (existing, done) = std::thread::scope(|scope| {
            let other = scope.spawn(meanwhile);
            let existing = with_raw_connection(&mut handle, |raw| upsert_round(raw, &sql, &shared, &rows));
            let done = other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (existing, done)
        });
        Ok((existing.map_err(RawSqliteError::into_sqlx)?, done))
    }
}

/// What [`Conn::upsert_batched_reporting`] writes and reports: `head` and `tail` as in
/// [`Conn::insert_batched_sharing`], and the `column` of the rows of `table` whose `key` is
/// already there.
#[derive(Clone, Copy)]
pub(crate) struct Upsert<'s> {
    pub(crate) head: &'s str,
    pub(crate) tail: &'s str,
    pub(crate) table: &'s str,
    pub(crate) key: &'s str,
    pub(crate) column: &'s str,
}

/// The statements of one round of [`Conn::upsert_batched_reporting`] on SQLite.
struct RoundSql {
    /// Stages one row.
    stage: String,
    /// Key and column of the staged rows already in the table.
    existing: String,
    /// Moves the staged rows into the table ([`insert_from_stage_sql`]).
    insert: String,
    /// Empties the staging table.
    empty: String,
}

/// One round of [`Conn::upsert_batched_reporting`] on SQLite's own API: stage `rows`, read which are
/// stored already, move them into their table with `shared` bound once, empty the staging table.
fn upsert_round(
    raw: &rusqlite::Connection,
    sql: &RoundSql,
    shared: &[Param<'_>],
    rows: &[Vec<Param<'_>>],
) -> Result<Vec<(String, String)>, rusqlite::Error> {
    stage_through(raw, &sql.stage, rows)?;
    let mut existing = Vec::new();
    let mut select = raw.prepare(&sql.existing)?;
    let mut found = select.raw_query();
    while let Some(row) = found.next()? {
        existing.push((row.get(0)?, row.get(1)?));
    }
    drop(found);
    drop(select);
    let mut insert = raw.prepare(&sql.insert)?;
    bind_row(&mut insert, shared)?;
    insert.raw_execute()?;
    drop(insert);
    raw.execute(&sql.empty, [])?;
    Ok(existing)
}

/// `head`, then a `SELECT` of the `own` columns staged in `stage` in staging order followed by
/// `shared` placeholders, then `tail`: moves staged rows into their table in one statement.
fn insert_from_stage_sql(head: &str, shared: usize, tail: &str, stage: &str, own: usize) -> String {
    let select = match shared {
        0 => stage_columns(own),
        count => format!("{}, {}", stage_columns(own), placeholders(1, count)),
    };
    // `WHERE true` keeps SQLite from reading an `ON CONFLICT` tail as a join constraint.
    sqlite_placeholders(&format!("{head} SELECT {select} FROM temp.{stage} WHERE true ORDER BY rowid {tail}"))
}

/// Moves the rows staged by [`stage_rows`] into their table with one `INSERT ... SELECT` (see
/// [`insert_from_stage_sql`]), and empties the staging table.
async fn insert_from_stage(
    conn: &mut SqliteConnection,
    head: &str,
    shared: Vec<Param<'_>>,
    tail: &str,
    stage: &str,
    own: usize,
) -> Result<u64, sqlx::Error> {
    let sql = insert_from_stage_sql(head, shared.len(), tail, stage, own);
    let affected = bind_all(sqlx::query(AssertSqlSafe(sql)), shared).execute(&mut *conn).await?.rows_affected();
    sqlx::query(AssertSqlSafe(format!("DELETE FROM temp.{stage}"))).execute(&mut *conn).await?;
    Ok(affected)
}

/// Puts `rows` into an empty staging table of this connection (`temp.recon_stage_{width}`, no
/// indexes, no constraints, untyped columns `c0, c1, ...` that keep values as bound) and
/// returns its name; the caller moves them into their table with one `INSERT ... SELECT`.
///
/// SQLite copies every page a statement first touches into its statement journal, so that it
/// can undo the statement alone: many small statements into a table and its indexes copy the
/// same index pages again and again (a run of a million lines upserted its matches in 33 s in
/// statements of 256 rows; see BENCHMARKS.md). Appending to a table without indexes touches
/// only new pages, and the single `INSERT ... SELECT` into the real table journals each of its
/// pages once. The staging table is emptied first, in case an earlier call outside a
/// transaction failed after staging; inside a transaction, a rollback empties it too.
///
/// The rows go in through SQLite's own API on sqlx's connection (locked for this thread, see
/// [`with_raw_connection`]): one prepared single-row `INSERT`, each value bound from the caller's
/// rows without a copy on the Rust side (SQLite copies each text) and the statement stepped and
/// reset per row. Unlike sqlx's statements, which run on its worker thread, this loop runs on the
/// caller's: 65,536 rows block it for some tens of milliseconds. Through sqlx, each 256-row statement travelled to
/// its worker thread with its values copied into sqlx's arguments; staging took 2.1 s of a 1 M
/// run's write that way and 1.0 s this way.
async fn stage_rows(
    conn: &mut SqliteConnection,
    rows: Vec<Vec<Param<'_>>>,
    width: usize,
) -> Result<String, sqlx::Error> {
    let stage = empty_stage(conn, width).await?;
    let insert = format!("INSERT INTO temp.{stage} ({}) VALUES ({})", stage_columns(width), placeholders(1, width));
    let mut handle = conn.lock_handle().await?;
    with_raw_connection(&mut handle, |raw| stage_through(raw, &insert, &rows)).map_err(RawSqliteError::into_sqlx)?;
    Ok(stage)
}

/// The staging table of `width` columns of this connection (see [`stage_rows`]), created if it is
/// not there and emptied; returns its name.
async fn empty_stage(conn: &mut SqliteConnection, width: usize) -> Result<String, sqlx::Error> {
    let stage = format!("recon_stage_{width}");
    let columns = stage_columns(width);
    sqlx::query(AssertSqlSafe(format!("CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns})")))
        .execute(&mut *conn)
        .await?;
    sqlx::query(AssertSqlSafe(format!("DELETE FROM temp.{stage}"))).execute(&mut *conn).await?;
    Ok(stage)
}

/// Runs `work` on SQLite's own API (rusqlite) for the connection `handle` keeps locked. What `work`
/// prepares cannot outlive it (its statements borrow the connection), so every statement is
/// finalized before the connection is sqlx's again.
#[allow(unsafe_code)]
fn with_raw_connection<T>(
    handle: &mut LockedSqliteHandle<'_>,
    work: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    // SAFETY: the pointer is sqlx's open connection, which `handle` keeps locked (sqlx's worker
    // thread runs nothing on it) until after `raw` is dropped at the end of this function, on this
    // thread; `from_handle` neither closes it on drop nor touches its settings, and the statements
    // `work` prepares borrow `raw`, so they are finalized before it drops.
    let raw = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
    work(&raw)
}

/// Runs `insert` (one row's placeholders) once per row of `rows`.
fn stage_through(raw: &rusqlite::Connection, insert: &str, rows: &[Vec<Param<'_>>]) -> Result<(), rusqlite::Error> {
    let mut statement = raw.prepare(insert)?;
    for row in rows {
        bind_row(&mut statement, row)?;
        statement.raw_execute()?;
    }
    Ok(())
}

/// Binds `row` to every placeholder of `statement`, in order.
fn bind_row(statement: &mut rusqlite::Statement<'_>, row: &[Param<'_>]) -> Result<(), rusqlite::Error> {
    // SQLite keeps a binding until it is replaced: a short row would take the previous row's values.
    assert_eq!(row.len(), statement.parameter_count(), "every row binds every placeholder");
    for (index, param) in row.iter().enumerate() {
        match param {
            Param::Text(text) => statement.raw_bind_parameter(index + 1, &**text)?,
            Param::OptText(text) => statement.raw_bind_parameter(index + 1, text.as_deref())?,
            Param::Int(value) => statement.raw_bind_parameter(index + 1, value)?,
        }
    }
    Ok(())
}

/// An error of SQLite's own API (see [`with_raw_connection`]), as sqlx reports database errors: the message
/// and SQLite's extended result code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct RawSqliteError {
    message: String,
    /// SQLite's extended result code.
    extended_code: std::ffi::c_int,
    /// The code as text, for [`sqlx::error::DatabaseError::code`].
    code: String,
}

impl RawSqliteError {
    /// A failure SQLite reported becomes a database error; anything rusqlite refused before calling
    /// SQLite (a misuse of its API) becomes a protocol error.
    fn into_sqlx(error: rusqlite::Error) -> sqlx::Error {
        let rusqlite::Error::SqliteFailure(failure, _) = &error else {
            return sqlx::Error::Protocol(format!("writing rows through SQLite's API: {error}"));
        };
        let (extended_code, code) = (failure.extended_code, failure.extended_code.to_string());
        sqlx::Error::Database(Box::new(RawSqliteError { message: error.to_string(), extended_code, code }))
    }
}

impl sqlx::error::DatabaseError for RawSqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.code))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// `c0, c1, ...`: the columns of a staging table of `width` (see [`stage_rows`]).
fn stage_columns(width: usize) -> String {
    (0..width).map(|column| format!("c{column}")).collect::<Vec<_>>().join(", ")
}

/// Rows per multi-row `INSERT ... VALUES` statement on SQLite (see [`Conn::insert_batched`]).
/// Measured with `store-write` (benches, one run each) at 300 k matches, first write, when the
/// rows still went straight into their table: 16 rows 13.9 s, 64 rows 9.9 s, 256 rows 9.2 s,
/// 1024 rows 12.2 s. Smaller statements pay per statement (sqlx's round trip to its worker
/// thread), bigger ones pay the allocator (SQLite copies every bound text and keeps the copies
/// until the statement is reset).
const SQLITE_ROWS_PER_STATEMENT: usize = 256;

/// Rows per `INSERT ... SELECT FROM UNNEST` statement on PostgreSQL: bounds the arrays
/// held and sent at once (a few megabytes for the widest rows).
const PG_ROWS_PER_STATEMENT: usize = 10_000;

/// The values of one column, as a PostgreSQL array.
enum Column {
    /// `text[]` (with NULLs).
    Text(Vec<Option<String>>),
    /// `int8[]`.
    Int(Vec<i64>),
}

/// [`Conn::insert_batched`] on PostgreSQL. A column is `int8[]` when its first value is an
/// integer, else `text[]`; a row that breaks its column's type is a programming error.
async fn insert_unnest(
    conn: &mut PgConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Param<'_>>>,
    width: usize,
) -> Result<u64, sqlx::Error> {
    let is_int: Vec<bool> = rows[0].iter().map(|param| matches!(param, Param::Int(_))).collect();
    let arrays: Vec<String> = is_int
        .iter()
        .enumerate()
        .map(|(index, &int)| format!("${}::{}", index + 1, if int { "int8[]" } else { "text[]" }))
        .collect();
    let sql = format!("{head} SELECT * FROM UNNEST({}) {tail}", arrays.join(", "));
    let mut affected = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut columns: Vec<Column> =
            is_int.iter().map(|&int| if int { Column::Int(Vec::new()) } else { Column::Text(Vec::new()) }).collect();
        for row in rows.by_ref().take(PG_ROWS_PER_STATEMENT) {
            assert_eq!(row.len(), width, "every row of a batch has the same width");
            for (column, param) in columns.iter_mut().zip(row) {
                match (column, param) {
                    (Column::Int(values), Param::Int(value)) => values.push(value),
                    (Column::Text(values), Param::Text(value)) => values.push(Some(value.into_owned())),
                    (Column::Text(values), Param::OptText(value)) => values.push(value.map(Cow::into_owned)),
                    _ => panic!("a batch mixes integers and text in one column"),
                }
            }
        }
        let mut query = sqlx::query(AssertSqlSafe(sql.clone())).persistent(false);
        for column in columns {
            query = match column {
                Column::Int(values) => query.bind(values),
                Column::Text(values) => query.bind(values),
            };
        }
        affected += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(affected)
}

/// The SQL text for SQLite. SQLite keeps numbered and named parameters (`?N`, `$N`) in
/// a list it searches linearly, so preparing and binding a statement with thousands of
/// them is quadratic; anonymous `?` parameters cost nothing. When the placeholders appear
/// as `$1, $2, $3, ...` in text order (as the store always writes them) they become `?`;
/// otherwise `?N`. The store's SQL has no `$` inside literals.
fn sqlite_placeholders(sql: &str) -> String {
    let mut anonymous = String::with_capacity(sql.len());
    let mut numbered = String::with_capacity(sql.len());
    let mut in_order = true;
    let mut expected = 1_u64;
    let mut rest = sql;
    while let Some(dollar) = rest.find('$') {
        let (before, after) = rest.split_at(dollar);
        let digits = after[1..].bytes().take_while(u8::is_ascii_digit).count();
        anonymous.push_str(before);
        numbered.push_str(before);
        if digits == 0 {
            anonymous.push('$');
            numbered.push('$');
        } else {
            let number = &after[1..=digits];
            in_order &= number.parse::<u64>().is_ok_and(|n| n == expected);
            expected += 1;
            anonymous.push('?');
            numbered.push('?');
            numbered.push_str(number);
        }
        rest = &after[1 + digits..];
    }
    let tail = if in_order { &mut anonymous } else { &mut numbered };
    tail.push_str(rest);
    std::mem::take(tail)
}

/// `($1, $2), ($3, $4)` for 2 rows of width 2.
fn values_list(rows: usize, width: usize) -> String {
    (0..rows).map(|row| format!("({})", placeholders(row * width + 1, width))).collect::<Vec<_>>().join(", ")
}

/// `$first, $first+1, ...`, `count` of them.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// A transaction of either backend.
pub(crate) enum Tx {
    /// SQLite (begun with `BEGIN IMMEDIATE`).
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    /// The transaction's connection.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Pg(tx) => Conn::Pg(tx),
        }
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Pg(tx) => tx.commit().await,
        }
    }
}

/// A pooled connection for reads. On PostgreSQL it is a transaction: sqlx sends an
/// unnamed statement's Parse and its Bind/Execute in two round trips, each ending with a
/// Sync, and a pooler in transaction mode may hand the second to another server
/// connection unless both are inside one transaction.
pub(crate) enum Pooled {
    /// SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// PostgreSQL: a read transaction (rolled back if dropped without [`Pooled::finish`]).
    Pg(Transaction<'static, Postgres>),
}

impl Pooled {
    /// The connection.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(conn) => Conn::Sqlite(conn),
            Pooled::Pg(tx) => Conn::Pg(tx),
        }
    }

    /// Ends the read (commits the PostgreSQL read transaction) and returns the
    /// connection to its pool.
    pub(crate) async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Pooled::Sqlite(_) => Ok(()),
            Pooled::Pg(tx) => tx.commit().await,
        }
    }
}

/// A result row of either backend.
pub(crate) enum DbRow {
    /// SQLite.
    Sqlite(SqliteRow),
    /// PostgreSQL.
    Pg(PgRow),
}

impl DbRow {
    fn get<T>(&self, column: &str) -> Result<T, StoreError>
    where
        T: for<'r> sqlx::Decode<'r, Sqlite> + Type<Sqlite>,
        T: for<'r> sqlx::Decode<'r, Postgres> + Type<Postgres>,
    {
        match self {
            DbRow::Sqlite(row) => row.try_get(column),
            DbRow::Pg(row) => row.try_get(column),
        }
        .map_err(StoreError::db("decode row", format!("column {column}")))
    }

    /// A non-null text column.
    pub(crate) fn text(&self, column: &str) -> Result<String, StoreError> {
        self.get(column)
    }

    /// A non-null text column, as sqlx reports a failure to decode it.
    fn sqlx_text(&self, column: &str) -> Result<String, sqlx::Error> {
        match self {
            DbRow::Sqlite(row) => row.try_get(column),
            DbRow::Pg(row) => row.try_get(column),
        }
    }

    /// A nullable text column.
    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }

    /// A non-null integer column.
    pub(crate) fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.get(column)
    }
}

/// A statement built piece by piece, numbering placeholders as values are bound.
#[derive(Debug, Default)]
pub(crate) struct Sql<'a> {
    /// The SQL text so far.
    pub(crate) text: String,
    /// The values bound so far.
    pub(crate) params: Vec<Param<'a>>,
}

impl<'a> Sql<'a> {
    /// Starts with `text`.
    pub(crate) fn new(text: &str) -> Self {
        Sql { text: text.to_owned(), params: Vec::new() }
    }

    /// Appends `text`.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends `text` followed by a placeholder bound to `value`.
    pub(crate) fn push_bind(&mut self, text: &str, value: impl Into<Param<'a>>) -> &mut Self {
        self.params.push(value.into());
        self.text.push_str(text);
        self.text.push_str(&format!("${}", self.params.len()));
        self
    }

    /// Appends `(ph, ph, ...)` bound to `values` (at least one).
    pub(crate) fn push_in_list<P: Into<Param<'a>>>(&mut self, values: impl IntoIterator<Item = P>) -> &mut Self {
        let first = self.params.len() + 1;
        self.params.extend(values.into_iter().map(Into::into));
        let count = self.params.len() + 1 - first;
        self.text.push_str(&format!("({})", placeholders(first, count)));
        self
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::{
        Conn, Param, RawSqliteError, SqliteConnection, Upsert, sqlite_placeholders, stage_through, values_list,
        with_raw_connection,
    };

    /// Stages `rows` through the raw handle of `conn` with `insert`, as sqlx would report the error.
    async fn stage(conn: &mut SqliteConnection, insert: &str, rows: &[Vec<Param<'_>>]) -> Result<(), sqlx::Error> {
        let mut handle = conn.lock_handle().await.expect("lock the handle");
        with_raw_connection(&mut handle, |raw| stage_through(raw, insert, rows)).map_err(RawSqliteError::into_sqlx)
    }

    #[tokio::test]
    async fn raw_staging_errors_read_as_sqlx_database_errors() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.expect("in-memory SQLite");
        sqlx::query("CREATE TABLE t (a TEXT NOT NULL, b INTEGER)").execute(&mut conn).await.expect("table");
        let rows = vec![vec![Param::from("x"), Param::Int(-3)], vec![Param::OptText(None), Param::Int(4)]];
        let error = stage(&mut conn, "INSERT INTO t (a, b) VALUES (?1, ?2)", &rows).await.expect_err("NULL in a");
        let sqlx::Error::Database(error) = error else { panic!("a database error: {error:?}") };
        assert_eq!(error.kind(), sqlx::error::ErrorKind::NotNullViolation);
        assert!(error.message().contains("NOT NULL constraint failed: t.a"), "{}", error.message());
        assert_eq!(error.code().as_deref(), Some("1299"), "SQLITE_CONSTRAINT_NOTNULL");
        // The statement was finalized and the connection is sqlx's again: the first row is there.
        let first: (String, i64) = sqlx::query_as("SELECT a, b FROM t").fetch_one(&mut conn).await.expect("read");
        assert_eq!(first, ("x".to_owned(), -3));

        let error = stage(&mut conn, "INSERT INTO nowhere (a) VALUES (?1)", &rows).await.expect_err("no table");
        let sqlx::Error::Database(error) = error else { panic!("a database error: {error:?}") };
        assert_eq!(error.kind(), sqlx::error::ErrorKind::Other);
        assert!(error.message().contains("no such table: nowhere"), "{}", error.message());
    }

    #[tokio::test]
    async fn a_failed_round_through_sqlites_api_leaves_the_connection_usable() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.expect("in-memory SQLite");
        let table = "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0), s TEXT NOT NULL)";
        sqlx::query(table).execute(&mut conn).await.expect("table");
        let upsert = Upsert {
            head: "INSERT INTO t (k, v, s)",
            tail: "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            table: "t",
            key: "k",
            column: "s",
        };
        let row = |k: &'static str, v: i64| vec![Param::from(k), Param::Int(v)];
        // The `INSERT ... SELECT` fails on its second row: an error as sqlx reports it, no row
        // written, and `meanwhile` ran all the same.
        let failed = Conn::Sqlite(&mut conn)
            .upsert_batched_reporting(upsert, vec![Param::from("new")], vec![row("a", 1), row("b", -1)], || 7)
            .await
            .expect_err("a CHECK constraint");
        let sqlx::Error::Database(error) = failed else { panic!("a database error: {failed:?}") };
        assert_eq!(error.kind(), sqlx::error::ErrorKind::CheckViolation);
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut conn).await.expect("count");
        assert_eq!(count, 0);
        // The next round finds its staging table emptied and reports the rows stored before it.
        let (stored, ran) = Conn::Sqlite(&mut conn)
            .upsert_batched_reporting(upsert, vec![Param::from("new")], vec![row("a", 1)], || 7)
            .await
            .expect("first round");
        assert_eq!((stored, ran), (Vec::new(), 7));
        let (stored, _) = Conn::Sqlite(&mut conn)
            .upsert_batched_reporting(upsert, vec![Param::from("again")], vec![row("a", 2), row("c", 3)], || ())
            .await
            .expect("second round");
        assert_eq!(stored, vec![("a".to_owned(), "new".to_owned())]);
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT k, v, s FROM t ORDER BY k").fetch_all(&mut conn).await.expect("rows");
        assert_eq!(rows, [("a".to_owned(), 2, "new".to_owned()), ("c".to_owned(), 3, "again".to_owned())]);
        // Every statement prepared through SQLite's API was finalized: the connection closes cleanly.
        conn.close().await.expect("close");
    }

    #[test]
    fn values_lists_number_placeholders_in_order() {
        assert_eq!(values_list(2, 2), "($1, $2), ($3, $4)");
    }

    #[test]
    fn sqlite_gets_anonymous_placeholders_when_in_order() {
        assert_eq!(sqlite_placeholders("a = $1 AND b IN ($2, $3) AND c = '$'"), "a = ? AND b IN (?, ?) AND c = '$'");
        assert_eq!(sqlite_placeholders("a = $2 AND b = $1"), "a = ?2 AND b = ?1");
        assert_eq!(sqlite_placeholders("a = $1 OR b = $1"), "a = ?1 OR b = ?1");
    }
}
