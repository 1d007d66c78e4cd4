//! Odoo journal items read straight from Odoo's PostgreSQL tables.
//!
//! The lines are those of `account_move_line` on the mapped bank GL accounts, in
//! the mapped journals, of one company, dated within the run (Odoo's `date` is a
//! plain date: no margin is added). They come out as the text Odoo's
//! import-compatible CSV export of `account.move.line` would show, except that
//! `id` is the database id, not an `__export__` external id, and amounts keep the
//! exact digits of the `numeric` column instead of Python float text.
//!
//! Two layouts of `account_account` are supported, found by inspecting
//! `information_schema` ([`OdooFlavour`]); translated names (`jsonb`, Odoo 16 and
//! later for journals, 17 and later for accounts) and plain `varchar` names are
//! both read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use recon_io::{Provenance, RawMoveLine};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::connect::{Database, Session};
use crate::error::Missing;
use crate::keyset::{self, DEFAULT_BATCH_ROWS, KeysetQuery, Param, Params, ReadSummary};
use crate::{Error, similar};

/// The language of translated names when none is configured; also the fallback
/// when a name has no translation in the configured language, as in Odoo.
pub const DEFAULT_LANGUAGE: &str = "en_US";

/// The most journals one company may have: all of them are read to resolve the
/// configured ones.
const JOURNALS_MAX: usize = 10_000;

/// The most accounts compared when suggesting similar codes.
const ACCOUNTS_LISTED_MAX: i64 = 50_000;

/// Which Odoo journal items to read.
///
/// In TOML (unknown keys are rejected):
/// ```toml
/// company_id = 1
/// journals = ["BNK1", "BBVA USD"]                 # codes or names; empty: any journal
/// bank_account_codes = ["102.01.01", "102.01.02"]
/// date_from = "2024-03-01"
/// date_to = "2024-03-31"
/// language = "es_MX"                              # optional, default en_US
/// batch_rows = 10000                              # optional
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdooSource {
    /// The `res_company` id whose lines are read (and, on Odoo 18, the key of
    /// `account_account.code_store` under which the codes are looked up).
    pub company_id: i64,
    /// The journals to read, each by its short code (`BNK1`) or its name in
    /// `language` (`Bancos STP`); exact match. Empty: lines of any journal.
    #[serde(default)]
    pub journals: Vec<String>,
    /// The bank (or outstanding payments) GL account codes, e.g. `102.01.01`; at
    /// least one.
    pub bank_account_codes: Vec<String>,
    /// The first accounting date (inclusive).
    pub date_from: NaiveDate,
    /// The last accounting date (inclusive).
    pub date_to: NaiveDate,
    /// The language of translated names, e.g. `es_MX`; a name without a
    /// translation falls back to `en_US`. Default [`DEFAULT_LANGUAGE`].
    #[serde(default = "default_language")]
    pub language: String,
    /// Rows per page, 1 to 100 000. Default [`DEFAULT_BATCH_ROWS`](crate::DEFAULT_BATCH_ROWS).
    #[serde(default = "default_batch_rows")]
    pub batch_rows: u32,
}

fn default_language() -> String {
    DEFAULT_LANGUAGE.to_owned()
}

fn default_batch_rows() -> u32 {
    DEFAULT_BATCH_ROWS
}

/// How `account_account` stores account codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OdooFlavour {
    /// `account_account.code` is a stored `varchar` and the account belongs to one
    /// company (`company_id`): Odoo 17 and earlier.
    StoredCode,
    /// `account_account.code_store` is `jsonb` keyed by company id as text
    /// (`{"1": "102.01.01"}`) and accounts are shared by companies: Odoo 18 and
    /// later.
    CodeStore,
}

/// The journal items read, and how many lines on the same accounts were left out
/// because their entry is not posted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OdooMoves {
    /// The posted lines, in id order.
    pub lines: Vec<RawMoveLine>,
    /// Lines of draft entries (`parent_state = 'draft'`) on the mapped accounts,
    /// journals and dates; not read.
    pub draft_lines: u64,
    /// Lines of cancelled entries (`parent_state = 'cancel'`); not read.
    pub cancelled_lines: u64,
    /// The layout found.
    pub flavour: OdooFlavour,
    /// Rows and pages read, attempts retried.
    pub summary: ReadSummary,
}

/// Reads the posted journal items `source` selects, in id order, with keyset
/// paging (see [`crate::for_each_statement_page`] for how retries keep
/// every row exactly once).
///
/// First the schema is inspected ([`OdooFlavour`]; [`Error::OdooSchema`] when a
/// needed table or column is missing) and the configuration checked
/// ([`Error::OdooConfig`] when a journal or account does not exist). The fields are
/// the text of the CSV export:
///
/// | field | from |
/// |---|---|
/// | `id` | `account_move_line.id`, the database id (not an `__export__` external id) |
/// | `move_name` | `account_move.name` |
/// | `date` | `account_move_line.date`, `YYYY-MM-DD` |
/// | `journal_id` | the journal's name, plus ` (USD)` when its currency is not the company's, as Odoo displays it |
/// | `account_id` | `code name` |
/// | `partner_id` | `res_partner.complete_name` (else `display_name`, else `name`) |
/// | `name`, `ref` | the line's label and reference |
/// | `debit`, `credit`, `amount_currency` | the `numeric` value as text (`1235.04`) |
/// | `currency_id` | `res_currency.name` (`MXN`) |
/// | `parent_state` | `posted` |
///
/// NULL reads as `""`. [`Provenance`]: `file` = `postgres://host/db#account_move_line`,
/// `line` = the line's id.
pub async fn read_odoo_moves(database: &Database, source: &OdooSource) -> Result<OdooMoves, Error> {
    let mut lines = Vec::new();
    let read = for_each_odoo_page(database, source, async |page: Vec<RawMoveLine>| {
        lines.extend(page);
        Ok::<(), Error>(())
    })
    .await?;
    Ok(OdooMoves {
        lines,
        draft_lines: read.draft_lines,
        cancelled_lines: read.cancelled_lines,
        flavour: read.flavour,
        summary: read.summary,
    })
}

/// What [`for_each_odoo_page`] read: everything [`OdooMoves`] says but the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OdooReadSummary {
    /// Lines of draft entries on the mapped accounts, journals and dates; not read.
    pub draft_lines: u64,
    /// Lines of cancelled entries; not read.
    pub cancelled_lines: u64,
    /// The layout found.
    pub flavour: OdooFlavour,
    /// Rows and pages delivered, attempts retried.
    pub summary: ReadSummary,
}

/// Calls `on_page` with each page (at most `source.batch_rows` lines, in id order) of
/// the lines [`read_odoo_moves`] returns, with memory bounded by one page. A page that
/// fails with a transient error is read again from the last id delivered, so `on_page`
/// sees every line exactly once. Stops at the first error, from reading or from
/// `on_page`.
pub async fn for_each_odoo_page<E, F>(
    database: &Database,
    source: &OdooSource,
    on_page: F,
) -> Result<OdooReadSummary, E>
where
    E: From<Error>,
    F: AsyncFnMut(Vec<RawMoveLine>) -> Result<(), E>,
{
    validate(source)?;
    let mut session = database.session();
    let result = read_with(&mut session, source, on_page).await;
    session.close().await;
    result
}

/// Checks that every journal and bank GL account `source` maps exists in the
/// company; [`Error::OdooConfig`] lists those that do not, each with the existing
/// names that look like it. Also fails with [`Error::OdooSchema`] when the database
/// does not have the Odoo tables recon reads.
pub async fn check_odoo_config(database: &Database, source: &OdooSource) -> Result<(), Error> {
    validate(source)?;
    let mut session = database.session();
    let result = async {
        let schema = detect_schema(&mut session).await?;
        resolve(&mut session, &schema, source).await.map(|_| ())
    }
    .await;
    session.close().await;
    result
}

/// The flavour of the Odoo database: which layout of `account_account` it has.
pub async fn detect_odoo_flavour(database: &Database) -> Result<OdooFlavour, Error> {
    let mut session = database.session();
    let result = detect_schema(&mut session).await.map(|schema| schema.flavour);
    session.close().await;
    result
}

async fn read_with<E, F>(session: &mut Session<'_>, source: &OdooSource, mut on_page: F) -> Result<OdooReadSummary, E>
where
    E: From<Error>,
    F: AsyncFnMut(Vec<RawMoveLine>) -> Result<(), E>,
{
    let schema = detect_schema(session).await?;
    let resolved = resolve(session, &schema, source).await?;
    let (draft_lines, cancelled_lines) = count_unposted(session, source, &resolved).await?;
    let description = session.database().description().to_owned();
    let file: Arc<Path> = Arc::from(Path::new(&format!("{description}#account_move_line")));
    let mut params = Placeholders::new(Params::after_keyset(), source);
    let from_where = from_where(source, &resolved, &mut params);
    let select = select_list(&schema, &mut params);
    let query = KeysetQuery {
        what: format!("account_move_line from {description}"),
        sql: format!(
            "SELECT {select} {from_where} AND aml.parent_state = 'posted' AND aml.id > $1 ORDER BY aml.id LIMIT $2"
        ),
        params: params.into_values(),
        batch_rows: source.batch_rows,
    };
    let summary = keyset::for_each_page(session, &query, async |rows: Vec<PgRow>| {
        let lines = rows.iter().map(|row| to_move_line(row, &file, &query.what)).collect::<Result<Vec<_>, _>>()?;
        on_page(lines).await
    })
    .await?;
    Ok(OdooReadSummary { draft_lines, cancelled_lines, flavour: schema.flavour, summary })
}

fn validate(source: &OdooSource) -> Result<(), Error> {
    keyset::check_batch_rows(source.batch_rows)?;
    let invalid = |what, reason: String| Err(Error::InvalidConfig { what, reason });
    if source.date_from > source.date_to {
        return invalid("date range", format!("date_from {} is after date_to {}", source.date_from, source.date_to));
    }
    if source.company_id < 1 {
        return invalid("company_id", format!("{} is not a res_company id (ids start at 1)", source.company_id));
    }
    if source.bank_account_codes.is_empty() {
        return invalid("bank_account_codes", "at least one bank GL account code is needed".to_owned());
    }
    if source.bank_account_codes.iter().chain(&source.journals).any(|name| name.trim().is_empty()) {
        return invalid("journals or bank_account_codes", "an entry is empty".to_owned());
    }
    if source.language.trim().is_empty() {
        return invalid("language", "it is empty; use e.g. en_US".to_owned());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------

/// How a name column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    /// `varchar`/`text`.
    Plain,
    /// `jsonb` keyed by language (`{"en_US": "Bank", "es_MX": "Banco"}`).
    Translated,
}

struct Schema {
    flavour: OdooFlavour,
    journal_name: NameKind,
    account_name: NameKind,
    /// The `res_partner` column holding the display name.
    partner_name: &'static str,
}

/// The tables and columns read, whatever the flavour.
const NEEDED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "account_move_line",
        &[
            "id",
            "move_id",
            "date",
            "ref",
            "name",
            "parent_state",
            "journal_id",
            "account_id",
            "partner_id",
            "company_id",
            "currency_id",
            "debit",
            "credit",
            "amount_currency",
        ],
    ),
    ("account_move", &["id", "name"]),
    ("account_journal", &["id", "code", "name", "company_id", "currency_id"]),
    ("account_account", &["id", "name"]),
    ("res_company", &["id", "currency_id"]),
    ("res_currency", &["id", "name"]),
    ("res_partner", &["id", "name"]),
];

async fn detect_schema(session: &mut Session<'_>) -> Result<Schema, Error> {
    const SQL: &str = "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                       WHERE table_schema = current_schema() AND table_name = ANY($1)";
    let database = session.database().description().to_owned();
    let operation = format!("inspect the Odoo schema of {database}");
    let tables = NEEDED_COLUMNS.iter().map(|(table, _)| (*table).to_owned()).collect();
    let rows = keyset::fetch_all(session, &operation, SQL, &[Param::TextArray(tables)]).await?;
    let mut columns: BTreeMap<(String, String), String> = BTreeMap::new();
    for row in &rows {
        let text = |index| keyset::text(row, index, &operation);
        columns.insert((text(0)?, text(1)?), text(2)?);
    }
    let has = |table: &str, column: &str| columns.contains_key(&(table.to_owned(), column.to_owned()));
    let mut missing: Vec<String> = NEEDED_COLUMNS
        .iter()
        .flat_map(|(table, needed)| needed.iter().map(move |column| (*table, *column)))
        .filter(|(table, column)| !has(table, column))
        .map(|(table, column)| format!("{table}.{column}"))
        .collect();
    let flavour = if has("account_account", "code") {
        if !has("account_account", "company_id") {
            missing.push("account_account.company_id".to_owned());
        }
        OdooFlavour::StoredCode
    } else if has("account_account", "code_store") {
        OdooFlavour::CodeStore
    } else {
        missing.push("account_account.code (Odoo 17 and earlier) or account_account.code_store (Odoo 18)".to_owned());
        OdooFlavour::StoredCode
    };
    if !missing.is_empty() {
        return Err(Error::OdooSchema { database, reason: format!("missing columns: {}", missing.join(", ")) });
    }
    let name_kind = |table: &str| match columns.get(&(table.to_owned(), "name".to_owned())).map(String::as_str) {
        Some("jsonb") => NameKind::Translated,
        _ => NameKind::Plain,
    };
    let partner_name = ["complete_name", "display_name"].into_iter().find(|c| has("res_partner", c)).unwrap_or("name");
    tracing::debug!(%database, ?flavour, "Odoo schema inspected");
    Ok(Schema {
        flavour,
        journal_name: name_kind("account_journal"),
        account_name: name_kind("account_account"),
        partner_name,
    })
}

/// Parameters of one statement, each of the source's values pushed on first use
/// so that the statement references every parameter it binds.
struct Placeholders<'a> {
    params: Params,
    source: &'a OdooSource,
    company: Option<String>,
    company_key: Option<String>,
    language: Option<String>,
}

impl<'a> Placeholders<'a> {
    fn new(params: Params, source: &'a OdooSource) -> Self {
        Self { params, source, company: None, company_key: None, language: None }
    }

    fn push(&mut self, value: Param) -> String {
        self.params.push(value)
    }

    /// The company id (`int8`).
    fn company(&mut self) -> String {
        let value = Param::Int(self.source.company_id);
        self.company.get_or_insert_with(|| self.params.push(value)).clone()
    }

    /// The company id as text, the key of `code_store`.
    fn company_key(&mut self) -> String {
        let value = Param::Text(self.source.company_id.to_string());
        self.company_key.get_or_insert_with(|| self.params.push(value)).clone()
    }

    fn language(&mut self) -> String {
        let value = Param::Text(self.source.language.clone());
        self.language.get_or_insert_with(|| self.params.push(value)).clone()
    }

    /// The SQL of a name column: the translation in the configured language
    /// (falling back to `en_US`, as Odoo does) for a `jsonb` column, else the column
    /// as text.
    fn name(&mut self, kind: NameKind, column: &str) -> String {
        match kind {
            NameKind::Plain => format!("{column}::text"),
            NameKind::Translated => {
                let language = self.language();
                format!("COALESCE({column}->>{language}, {column}->>'en_US')")
            }
        }
    }

    /// The SQL of an account's (`a`) code for the company.
    fn code(&mut self, flavour: OdooFlavour) -> String {
        match flavour {
            OdooFlavour::StoredCode => "a.code::text".to_owned(),
            OdooFlavour::CodeStore => format!("(a.code_store->>{})", self.company_key()),
        }
    }

    /// The condition that account `a` belongs to the company.
    fn account_belongs(&mut self, flavour: OdooFlavour) -> String {
        match flavour {
            OdooFlavour::StoredCode => format!("a.company_id = {}", self.company()),
            OdooFlavour::CodeStore => format!("{} IS NOT NULL", self.code(flavour)),
        }
    }

    fn into_values(self) -> Vec<Param> {
        self.params.into_values()
    }
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// The database ids of the configured journals (empty: any journal) and
/// accounts.
struct Resolved {
    journal_ids: Vec<i64>,
    account_ids: Vec<i64>,
}

async fn resolve(session: &mut Session<'_>, schema: &Schema, source: &OdooSource) -> Result<Resolved, Error> {
    let (journal_ids, missing_journals) = resolve_journals(session, schema, source).await?;
    let (account_ids, missing_accounts) = resolve_accounts(session, schema, source).await?;
    if missing_journals.is_empty() && missing_accounts.is_empty() {
        return Ok(Resolved { journal_ids, account_ids });
    }
    Err(Error::OdooConfig {
        database: session.database().description().to_owned(),
        company_id: source.company_id,
        missing_journals,
        missing_accounts,
    })
}

/// A journal of the company, as configuration may name it.
struct Journal {
    id: i64,
    code: String,
    /// The name in the configured language.
    name: String,
    /// The name in every language (the name itself when it is not translated).
    translations: Vec<String>,
}

async fn resolve_journals(
    session: &mut Session<'_>,
    schema: &Schema,
    source: &OdooSource,
) -> Result<(Vec<i64>, Vec<Missing>), Error> {
    if source.journals.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut params = Placeholders::new(Params::new(), source);
    let company = params.company();
    let limit = params.push(Param::Int(i64::try_from(JOURNALS_MAX + 1).unwrap_or(i64::MAX)));
    let name = params.name(schema.journal_name, "j.name");
    // Every translation of the name, for suggestions: a user may write the Spanish
    // name while reading in en_US.
    let all_names = match schema.journal_name {
        NameKind::Plain => "ARRAY[j.name::text]".to_owned(),
        NameKind::Translated => "ARRAY(SELECT value FROM jsonb_each_text(j.name) ORDER BY key)".to_owned(),
    };
    let sql = format!(
        "SELECT j.id::int8, j.code::text, {name}, {all_names} FROM account_journal j WHERE j.company_id = {company} \
         ORDER BY j.id LIMIT {limit}"
    );
    let operation =
        format!("read the journals of company {} in {}", source.company_id, session.database().description());
    let rows = keyset::fetch_all(session, &operation, &sql, &params.into_values()).await?;
    if rows.len() > JOURNALS_MAX {
        return Err(Error::OdooSchema {
            database: session.database().description().to_owned(),
            reason: format!("company {} has more than {JOURNALS_MAX} journals", source.company_id),
        });
    }
    let mut journals = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get(0).map_err(|e| keyset::decode_error(&operation, e))?;
        let translations: Vec<Option<String>> = row.try_get(3).map_err(|e| keyset::decode_error(&operation, e))?;
        journals.push(Journal {
            id,
            code: keyset::text(row, 1, &operation)?,
            name: keyset::text(row, 2, &operation)?,
            translations: translations.into_iter().flatten().collect(),
        });
    }
    let mut ids = Vec::new();
    let mut missing = Vec::new();
    for wanted in &source.journals {
        let wanted = wanted.trim();
        let found: Vec<i64> = journals
            .iter()
            .filter(|journal| journal.code == wanted || journal.name == wanted)
            .map(|journal| journal.id)
            .collect();
        if found.is_empty() {
            let labels: Vec<String> = journals.iter().map(|j| format!("{} {}", j.code, j.name)).collect();
            let pairs = journals.iter().zip(&labels).flat_map(|(journal, label)| {
                let names = journal.translations.iter().chain([&journal.code, &journal.name]);
                names.map(move |key| (key.as_str(), label.as_str()))
            });
            missing.push(Missing { wanted: wanted.to_owned(), similar: similar::most_similar_keyed(wanted, pairs) });
        }
        ids.extend(found);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, missing))
}

async fn resolve_accounts(
    session: &mut Session<'_>,
    schema: &Schema,
    source: &OdooSource,
) -> Result<(Vec<i64>, Vec<Missing>), Error> {
    let wanted: Vec<String> = source.bank_account_codes.iter().map(|code| code.trim().to_owned()).collect();
    let mut params = Placeholders::new(Params::new(), source);
    let code = params.code(schema.flavour);
    let belongs = params.account_belongs(schema.flavour);
    let codes = params.push(Param::TextArray(wanted.clone()));
    let sql = format!(
        "SELECT a.id::int8, {code} FROM account_account a WHERE {belongs} AND {code} = ANY({codes}) ORDER BY a.id"
    );
    let operation =
        format!("find bank GL accounts of company {} in {}", source.company_id, session.database().description());
    let rows = keyset::fetch_all(session, &operation, &sql, &params.into_values()).await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut found_codes = Vec::with_capacity(rows.len());
    for row in &rows {
        ids.push(row.try_get::<i64, _>(0).map_err(|e| keyset::decode_error(&operation, e))?);
        found_codes.push(keyset::text(row, 1, &operation)?);
    }
    let missing_codes: Vec<&String> = wanted.iter().filter(|code| !found_codes.contains(code)).collect();
    if missing_codes.is_empty() {
        return Ok((ids, Vec::new()));
    }
    let accounts = list_accounts(session, schema, source).await?;
    let missing = missing_codes
        .into_iter()
        .map(|code| Missing {
            wanted: code.clone(),
            similar: similar::most_similar_by(code, accounts.iter().map(String::as_str), |label| {
                label.split(' ').next().unwrap_or(label)
            }),
        })
        .collect();
    Ok((ids, missing))
}

/// `code name` of the company's accounts (at most [`ACCOUNTS_LISTED_MAX`]), for
/// suggestions.
async fn list_accounts(session: &mut Session<'_>, schema: &Schema, source: &OdooSource) -> Result<Vec<String>, Error> {
    let mut params = Placeholders::new(Params::new(), source);
    let code = params.code(schema.flavour);
    let name = params.name(schema.account_name, "a.name");
    let belongs = params.account_belongs(schema.flavour);
    let limit = params.push(Param::Int(ACCOUNTS_LISTED_MAX));
    let sql = format!(
        "SELECT concat_ws(' ', {code}, {name}) FROM account_account a WHERE {belongs} ORDER BY 1 LIMIT {limit}"
    );
    let operation =
        format!("list the accounts of company {} in {}", source.company_id, session.database().description());
    let rows = keyset::fetch_all(session, &operation, &sql, &params.into_values()).await?;
    rows.iter().map(|row| keyset::text(row, 0, &operation)).collect()
}

// ---------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------

/// `FROM … WHERE …` selecting the company's lines on the resolved accounts and
/// journals within the dates, whatever their state.
fn from_where(source: &OdooSource, resolved: &Resolved, params: &mut Placeholders<'_>) -> String {
    let company = params.company();
    let from = params.push(Param::Text(source.date_from.to_string()));
    let to = params.push(Param::Text(source.date_to.to_string()));
    let accounts = params.push(Param::IntArray(resolved.account_ids.clone()));
    let mut sql = format!(
        "FROM account_move_line aml \
         JOIN account_move am ON am.id = aml.move_id \
         JOIN account_journal j ON j.id = aml.journal_id \
         JOIN account_account a ON a.id = aml.account_id \
         LEFT JOIN res_company c ON c.id = j.company_id \
         LEFT JOIN res_currency jc ON jc.id = j.currency_id \
         LEFT JOIN res_currency cur ON cur.id = aml.currency_id \
         LEFT JOIN res_partner p ON p.id = aml.partner_id \
         WHERE aml.company_id = {company} AND aml.date BETWEEN {from}::date AND {to}::date \
         AND aml.account_id = ANY({accounts})"
    );
    if !resolved.journal_ids.is_empty() {
        let journals = params.push(Param::IntArray(resolved.journal_ids.clone()));
        sql.push_str(&format!(" AND aml.journal_id = ANY({journals})"));
    }
    sql
}

/// The key, then the fields of [`RawMoveLine`] in order, as text.
fn select_list(schema: &Schema, params: &mut Placeholders<'_>) -> String {
    let journal = params.name(schema.journal_name, "j.name");
    let account = params.name(schema.account_name, "a.name");
    let code = params.code(schema.flavour);
    let partner = format!("p.{}::text", schema.partner_name);
    [
        "aml.id::int8".to_owned(),
        "aml.id::text".to_owned(),
        "am.name::text".to_owned(),
        "aml.date::text".to_owned(),
        format!(
            "{journal} || CASE WHEN j.currency_id IS NOT NULL AND j.currency_id <> c.currency_id \
             THEN ' (' || jc.name::text || ')' ELSE '' END"
        ),
        format!("concat_ws(' ', {code}, {account})"),
        partner,
        "aml.name::text".to_owned(),
        "aml.ref::text".to_owned(),
        "aml.debit::text".to_owned(),
        "aml.credit::text".to_owned(),
        "aml.amount_currency::text".to_owned(),
        "cur.name::text".to_owned(),
        "aml.parent_state::text".to_owned(),
    ]
    .join(", ")
}

/// Lines of draft and cancelled entries on the same accounts, journals and dates.
async fn count_unposted(
    session: &mut Session<'_>,
    source: &OdooSource,
    resolved: &Resolved,
) -> Result<(u64, u64), Error> {
    let mut params = Placeholders::new(Params::new(), source);
    let from_where = from_where(source, resolved, &mut params);
    let sql = format!("SELECT aml.parent_state::text, count(*)::int8 {from_where} GROUP BY 1");
    let operation = format!("count unposted lines in {}", session.database().description());
    let rows = keyset::fetch_all(session, &operation, &sql, &params.into_values()).await?;
    let (mut draft, mut cancelled) = (0, 0);
    for row in &rows {
        let state = keyset::text(row, 0, &operation)?;
        let count: i64 = row.try_get(1).map_err(|e| keyset::decode_error(&operation, e))?;
        let count = u64::try_from(count).unwrap_or_default();
        match state.as_str() {
            "draft" => draft += count,
            "cancel" => cancelled += count,
            _ => {}
        }
    }
    Ok((draft, cancelled))
}

fn to_move_line(row: &PgRow, file: &Arc<Path>, what: &str) -> Result<RawMoveLine, Error> {
    let key: i64 = row.try_get(0).map_err(|source| keyset::decode_error(what, source))?;
    let text = |index| keyset::text(row, index, what);
    let line = u64::try_from(key).map_err(|_| Error::InvalidValue {
        source_name: file.display().to_string(),
        column: "id".to_owned(),
        value: key.to_string(),
        reason: "a negative id cannot be a provenance line number".to_owned(),
    })?;
    Ok(RawMoveLine {
        provenance: Provenance { file: Arc::clone(file), line },
        id: text(1)?,
        move_name: text(2)?,
        date: text(3)?,
        journal_id: text(4)?,
        account_id: text(5)?,
        partner_id: text(6)?,
        name: text(7)?,
        r#ref: text(8)?,
        debit: text(9)?,
        credit: text(10)?,
        amount_currency: text(11)?,
        currency_id: text(12)?,
        parent_state: text(13)?,
    })
}
