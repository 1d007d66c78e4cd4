//! NEON bank statement lines, read from the `bank_statement_lines` table.

use std::path::Path;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use recon_io::{Layout, Provenance, RawStatementLine, Record};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::connect::{Database, Session};
use crate::ident::{Identifier, TableName};
use crate::keyset::{self, DEFAULT_BATCH_ROWS, KeysetQuery, Param, ReadSummary};
use crate::{Error, similar};

/// The table read when none is configured.
pub const DEFAULT_TABLE: &str = "bank_statement_lines";

/// Days added on each side of the run's date range when selecting rows, so that a
/// line booked late in the evening in Mexico (already the next day in UTC, where a
/// `timestamptz` is cast to a date) is not missed. The caller scopes the lines
/// precisely afterwards, in the business time zone.
pub const DATE_MARGIN_DAYS: u64 = 1;

/// Where and what to read from a NEON database.
///
/// In TOML (unknown keys are rejected; `table`, `layout` and `batch_rows` are
/// optional):
/// ```toml
/// table = "bank_statement_lines"       # or "schema.table"
/// date_from = "2024-03-01"
/// date_to = "2024-03-31"
/// batch_rows = 10000
/// [layout.columns]                      # logical field -> column; default: same names
/// amount = "importe"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeonSource {
    /// The table, `table` or `schema.table`; a validated identifier (see
    /// [`TableName`]). Default [`DEFAULT_TABLE`].
    #[serde(default = "default_table")]
    pub table: String,
    /// Which column holds which field, as for a CSV export (the delimiter is
    /// ignored). Default [`Layout::neon_default`]: every field from the column of
    /// the same name. An optional field the layout leaves out reads as `""`. `id`
    /// is required here, whether mapped or not (default column `id`): it must be
    /// an integer column with unique values, the key for paging.
    #[serde(default = "Layout::neon_default")]
    pub layout: Layout,
    /// The first day of the run (inclusive).
    pub date_from: NaiveDate,
    /// The last day of the run (inclusive).
    pub date_to: NaiveDate,
    /// Rows per page, 1 to 100 000; a page is held in memory whole. Default
    /// [`DEFAULT_BATCH_ROWS`].
    #[serde(default = "default_batch_rows")]
    pub batch_rows: u32,
}

fn default_table() -> String {
    DEFAULT_TABLE.to_owned()
}

fn default_batch_rows() -> u32 {
    DEFAULT_BATCH_ROWS
}

impl NeonSource {
    /// The default table, layout and batch size, for the run's days
    /// `date_from..=date_to`.
    pub fn new(date_from: NaiveDate, date_to: NaiveDate) -> Self {
        Self {
            table: default_table(),
            layout: Layout::neon_default(),
            date_from,
            date_to,
            batch_rows: DEFAULT_BATCH_ROWS,
        }
    }
}

/// The validated plan of a read: the table and, per field of
/// [`RawStatementLine::FIELDS`], the column it is read from (or `None`).
struct Plan {
    table: TableName,
    columns: Vec<Option<Identifier>>,
}

const ID: usize = 0;
const BOOKED_AT: usize = 2;
const VALUE_DATE: usize = 3;

impl Plan {
    fn new(source: &NeonSource) -> Result<Self, Error> {
        let table = TableName::parse("NEON table", &source.table)?;
        source
            .layout
            .validate::<RawStatementLine>()
            .map_err(|error| Error::InvalidConfig { what: "NEON column layout", reason: error.to_string() })?;
        let columns = RawStatementLine::FIELDS
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let column = match source.layout.columns.get(field.name) {
                    Some(column) => Some(column.trim()),
                    None if field.required || index == ID => Some(field.name),
                    None => None,
                };
                column.map(|name| Identifier::parse(&format!("column for field {}", field.name), name)).transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { table, columns })
    }

    fn column(&self, index: usize) -> Option<&Identifier> {
        self.columns.get(index).and_then(Option::as_ref)
    }

    /// `SELECT key, <each mapped column as text> FROM table WHERE key > $1 AND <in
    /// range: $3..=$4> ORDER BY key LIMIT $2`.
    fn sql(&self) -> String {
        // Columns are qualified by the alias `t`: a bare name in ORDER BY would be
        // ambiguous between the key and the id's text, both named like the column.
        let qualified = |column: &Identifier| format!("t.{}", column.quoted());
        let id = self.column(ID).map_or_else(String::new, qualified);
        let mut select = vec![format!("{id}::int8")];
        select.extend(self.columns.iter().flatten().map(|column| format!("{}::text", qualified(column))));
        let date_columns: Vec<String> =
            [BOOKED_AT, VALUE_DATE].iter().filter_map(|&index| self.column(index)).map(qualified).collect();
        let in_range: Vec<String> =
            date_columns.iter().map(|column| format!("{column}::date BETWEEN $3::date AND $4::date")).collect();
        // A line with no date at all is read too, so that the caller quarantines it
        // instead of it vanishing.
        let undated: Vec<String> = date_columns.iter().map(|column| format!("{column} IS NULL")).collect();
        format!(
            "SELECT {} FROM {} AS t WHERE {id} > $1 AND ({} OR ({})) ORDER BY {id} LIMIT $2",
            select.join(", "),
            self.table.quoted(),
            in_range.join(" OR "),
            undated.join(" AND "),
        )
    }

    fn field_names(&self) -> Vec<(&'static str, &Identifier)> {
        RawStatementLine::FIELDS
            .iter()
            .zip(&self.columns)
            .filter_map(|(field, column)| column.as_ref().map(|column| (field.name, column)))
            .collect()
    }
}

/// Reads every statement line of `source.table` whose `booked_at` or `value_date`
/// falls within the run's days widened by [`DATE_MARGIN_DAYS`] on each side (or
/// that has neither date), in id order.
///
/// See [`for_each_statement_page`] for how; this collects the pages.
pub async fn read_statements(database: &Database, source: &NeonSource) -> Result<Vec<RawStatementLine>, Error> {
    let mut lines = Vec::new();
    for_each_statement_page(database, source, async |page: Vec<RawStatementLine>| {
        lines.extend(page);
        Ok::<(), Error>(())
    })
    .await?;
    Ok(lines)
}

/// Calls `on_page` with each page (at most `source.batch_rows` lines, in id order)
/// of the statement lines [`read_statements`] returns, with memory bounded by one
/// page.
///
/// - The table and columns are checked first ([`check_neon_table`]).
/// - Pages are read by keyset (`WHERE id > $last ORDER BY id LIMIT $batch`), every
///   column cast to text in SQL (`numeric` amounts keep their exact digits,
///   `timestamptz` reads in UTC, NULL reads as `""`).
/// - A page that fails with a transient error is retried on a new connection
///   (see [`crate::retry`]) from the last id delivered: every line is delivered
///   exactly once. `on_page` is never called again for a page it already had.
/// - Each line's [`Provenance`] is `file` = `postgres://host/db#table` (with
///   `:port` after the host when it is not 5432; never the user or password),
///   `line` = the row's id (ids must be integers ≥ 0).
///
/// Returns how many rows and pages were delivered and how many attempts were
/// retried; stops at the first error, from reading or from `on_page`.
pub async fn for_each_statement_page<E, F>(
    database: &Database,
    source: &NeonSource,
    mut on_page: F,
) -> Result<ReadSummary, E>
where
    E: From<Error>,
    F: AsyncFnMut(Vec<RawStatementLine>) -> Result<(), E>,
{
    let plan = Plan::new(source)?;
    keyset::check_batch_rows(source.batch_rows)?;
    let (from, to) = widened_range(source.date_from, source.date_to)?;
    let mut session = database.session();
    let result: Result<ReadSummary, E> = async {
        check_table(&mut session, &plan).await?;
        let file: Arc<Path> = Arc::from(Path::new(&format!("{}#{}", database.description(), plan.table)));
        let query = KeysetQuery {
            what: format!("{} from {}", plan.table, database.description()),
            sql: plan.sql(),
            params: vec![Param::Text(from.to_string()), Param::Text(to.to_string())],
            batch_rows: source.batch_rows,
        };
        keyset::for_each_page(&mut session, &query, async |rows: Vec<PgRow>| {
            let lines =
                rows.iter().map(|row| to_line(row, &plan, &file, &query.what)).collect::<Result<Vec<_>, _>>()?;
            on_page(lines).await
        })
        .await
    }
    .await;
    session.close().await;
    result
}

/// `date_from - margin ..= date_to + margin`, or an error when the range is empty.
fn widened_range(date_from: NaiveDate, date_to: NaiveDate) -> Result<(NaiveDate, NaiveDate), Error> {
    if date_from > date_to {
        return Err(Error::InvalidConfig {
            what: "date range",
            reason: format!("date_from {date_from} is after date_to {date_to}"),
        });
    }
    let margin = Days::new(DATE_MARGIN_DAYS);
    Ok((date_from.checked_sub_days(margin).unwrap_or(date_from), date_to.checked_add_days(margin).unwrap_or(date_to)))
}

fn to_line(row: &PgRow, plan: &Plan, file: &Arc<Path>, what: &str) -> Result<RawStatementLine, Error> {
    let key: i64 = row.try_get(0).map_err(|source| keyset::decode_error(what, source))?;
    let mut fields: [String; 10] = Default::default();
    let mut next_column = 1;
    for (index, column) in plan.columns.iter().enumerate() {
        if column.is_some() {
            fields[index] = keyset::text(row, next_column, what)?;
            next_column += 1;
        }
    }
    let line = u64::try_from(key).map_err(|_| Error::InvalidValue {
        source_name: file.display().to_string(),
        column: plan.column(ID).map(ToString::to_string).unwrap_or_default(),
        value: key.to_string(),
        reason: "a negative id cannot be a provenance line number".to_owned(),
    })?;
    let [
        id,
        account,
        booked_at,
        value_date,
        amount,
        currency,
        reference,
        description,
        counterparty_name,
        counterparty_account,
    ] = fields;
    Ok(RawStatementLine {
        provenance: Provenance { file: Arc::clone(file), line },
        id,
        account,
        booked_at,
        value_date,
        amount,
        currency,
        reference,
        description,
        counterparty_name,
        counterparty_account,
    })
}

/// Checks that `source.table` exists and has every column `source.layout` maps
/// (plus the `id` column), that the id column is an integer, and, for a plain
/// table, that it has a unique index (keyset paging needs unique ids). Errors:
/// [`Error::TableNotFound`] (with similar table names), [`Error::TableColumns`]
/// (naming each missing column and its field, and the table's columns).
pub async fn check_neon_table(database: &Database, source: &NeonSource) -> Result<(), Error> {
    let plan = Plan::new(source)?;
    let mut session = database.session();
    let result = check_table(&mut session, &plan).await;
    session.close().await;
    result
}

/// The columns of a table: name, type (`format_type`), and whether the table is a
/// plain or partitioned table and the id column has a single-column unique index.
const TABLE_COLUMNS_SQL: &str = "\
    SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), c.relkind::text, \
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique \
                   AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) \
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
    WHERE c.oid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
    ORDER BY a.attnum";

/// At most this many table names are compared when suggesting similar ones.
const TABLES_LISTED_MAX: i64 = 10_000;

async fn check_table(session: &mut Session<'_>, plan: &Plan) -> Result<(), Error> {
    let database = session.database().description().to_owned();
    let operation = format!("check table {} in {database}", plan.table);
    let rows = keyset::fetch_all(session, &operation, TABLE_COLUMNS_SQL, &[Param::Text(plan.table.quoted())]).await?;
    if rows.is_empty() {
        let similar = similar_tables(session, plan, &operation).await?;
        return Err(Error::TableNotFound { database, table: plan.table.to_string(), similar });
    }
    let id_name = plan.column(ID).map(Identifier::as_str);
    let mut existing = Vec::with_capacity(rows.len());
    let mut id_column = None;
    for row in &rows {
        let name = keyset::text(row, 0, &operation)?;
        if id_name == Some(name.as_str()) {
            let data_type = keyset::text(row, 1, &operation)?;
            let relkind = keyset::text(row, 2, &operation)?;
            let unique: bool = row.try_get(3).map_err(|source| keyset::decode_error(&operation, source))?;
            id_column = Some(IdColumn { data_type, is_table: matches!(relkind.as_str(), "r" | "p"), unique });
        }
        existing.push(name);
    }
    let problems = column_problems(plan, &existing, id_column);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::TableColumns { database, table: plan.table.to_string(), problems, existing })
    }
}

/// What the key column is like.
struct IdColumn {
    /// `format_type` of the column, e.g. `bigint`.
    data_type: String,
    /// A plain or partitioned table (not a view).
    is_table: bool,
    /// A single-column unique index (or primary key) covers it.
    unique: bool,
}

fn column_problems(plan: &Plan, existing: &[String], id_column: Option<IdColumn>) -> Vec<String> {
    let mut problems: Vec<String> = plan
        .field_names()
        .into_iter()
        .filter(|(_, column)| !existing.iter().any(|name| name == column.as_str()))
        .map(|(field, column)| {
            let hint = similar::most_similar(column.as_str(), existing.iter().map(String::as_str));
            let hint = if hint.is_empty() { String::new() } else { format!(" (similar: {})", hint.join(", ")) };
            format!("column {:?} (for field {field}) does not exist{hint}", column.as_str())
        })
        .collect();
    if let Some(id_column) = id_column {
        let id = plan.column(ID).map(Identifier::as_str).unwrap_or_default();
        if !matches!(id_column.data_type.as_str(), "smallint" | "integer" | "bigint") {
            problems
                .push(format!("id column {id:?} is {}; it must be smallint, integer or bigint", id_column.data_type));
        }
        // A view cannot have an index; its ids are checked page by page instead.
        if id_column.is_table && !id_column.unique {
            problems
                .push(format!("id column {id:?} has no primary key or unique index; keyset paging needs unique ids"));
        }
    }
    problems
}

async fn similar_tables(session: &mut Session<'_>, plan: &Plan, operation: &str) -> Result<Vec<String>, Error> {
    const SQL: &str = "SELECT table_schema::text || '.' || table_name::text FROM information_schema.tables \
                       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT $1";
    let rows = keyset::fetch_all(session, operation, SQL, &[Param::Int(TABLES_LISTED_MAX)]).await?;
    let names = rows.iter().map(|row| keyset::text(row, 0, operation)).collect::<Result<Vec<_>, _>>()?;
    let wanted = plan.table.table().as_str();
    Ok(similar::most_similar_by(wanted, names.iter().map(String::as_str), |name| {
        name.rsplit('.').next().unwrap_or(name)
    }))
}
