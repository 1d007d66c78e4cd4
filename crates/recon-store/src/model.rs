//! The plain row types the store reads and writes.
//!
//! Money is a decimal string (`"1234.50"`) plus a currency code, never a float. Dates are
//! [`NaiveDate`]s stored as `YYYY-MM-DD`; instants are UTC and stored as fixed-width
//! RFC 3339 text (nanoseconds, `Z`), so text order is time order.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::StoreError;

/// Declares a closed set of values stored as lowercase text.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $table:literal, $column:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Reads the stored text back.
            pub(crate) fn from_db(value: &str) -> Result<Self, StoreError> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::Corrupt {
                        table: $table,
                        column: $column,
                        value: value.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// How a run was started.
    RunMode, "runs", "mode" {
        /// The scheduled nightly run.
        Nightly => "nightly",
        /// A run started by an operator.
        Manual => "manual",
    }
);

text_enum!(
    /// Where a run stands.
    RunStatus, "runs", "status" {
        /// Started, not finished (reserved: the store records runs when they end).
        Running => "running",
        /// Finished and written.
        Succeeded => "succeeded",
        /// Failed; only the header and the error are kept.
        Failed => "failed",
    }
);

text_enum!(
    /// How much a match was trusted.
    MatchReview, "matches", "review" {
        /// Matched by a rule with no doubt.
        Auto => "auto",
        /// Matched by a rule, to be looked at by a person.
        NeedsReview => "needs_review",
        /// Made by a person; runs never supersede it.
        Manual => "manual",
    }
);

text_enum!(
    /// Whether a match is current.
    MatchStatus, "matches", "status" {
        /// Produced (or kept) by the latest run covering it.
        Active => "active",
        /// A later run covering its account and date no longer produced it.
        Superseded => "superseded",
    }
);

text_enum!(
    /// Which side of the reconciliation an item comes from.
    ItemSide, "match_items", "side" {
        /// A bank statement line (NEON).
        Statement => "statement",
        /// An accounting journal item (Odoo move line).
        Move => "move",
    }
);

text_enum!(
    /// Where a case stands.
    CaseStatus, "cases", "status" {
        /// Needs attention.
        Open => "open",
        /// Closed, by a person or because a later run matched all its items.
        Resolved => "resolved",
        /// Closed by a person as not worth acting on; stays closed when seen again.
        Ignored => "ignored",
    }
);

text_enum!(
    /// What happened to a case (its audit trail).
    CaseEventKind, "case_events", "event" {
        /// First found.
        Opened => "opened",
        /// Found again by a later run.
        Seen => "seen",
        /// Closed as resolved.
        Resolved => "resolved",
        /// Found again after it had been resolved.
        Reopened => "reopened",
        /// Closed as ignored.
        Ignored => "ignored",
    }
);

/// The accounts and business dates a run covered. Matches and cases outside it are
/// never touched by the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunScope {
    /// The accounts reconciled. Empty means none: nothing is superseded or auto-resolved.
    pub accounts: Vec<String>,
    /// First business date covered (inclusive).
    pub date_from: NaiveDate,
    /// Last business date covered (inclusive).
    pub date_to: NaiveDate,
}

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInput {
    /// Logical name, e.g. `neon_statements`.
    pub name: String,
    /// Path as given to the run.
    pub path: String,
    /// BLAKE3 hash of the file, hex.
    pub blake3: String,
    /// Rows read.
    pub rows: u64,
}

/// What is known about a run from its start: written for failed and succeeded runs alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// Unique id of the run, given by the caller.
    pub run_id: String,
    /// Nightly or manual.
    pub mode: RunMode,
    /// Who started it (user name or `scheduler`).
    pub operator: String,
    /// Id tying the run to its logs.
    pub correlation_id: String,
    /// Accounts and dates covered.
    pub scope: RunScope,
    /// Input files.
    pub inputs: Vec<RunInput>,
    /// BLAKE3 hash of the effective configuration, hex.
    pub config_blake3: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When the run ended. Every row a run writes carries this instant
    /// (`created_at`, `opened_at`, `resolved_at`, event times).
    pub finished_at: DateTime<Utc>,
    /// Phase timings, opaque JSON.
    pub timings: serde_json::Value,
}

/// The headline KPI of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunKpi {
    /// The full KPI report, opaque JSON.
    pub report: serde_json::Value,
    /// Matched lines / statement lines, a decimal string such as `"0.9731"`.
    pub count_rate: String,
    /// Matched amount / statement amount, a decimal string.
    pub amount_rate: String,
    /// The rate the run had to reach, a decimal string.
    pub threshold: String,
}

/// KPI of one account on one business date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiRow {
    /// Bank account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Statement lines on that date.
    pub statement_lines: u64,
    /// Of those, lines matched.
    pub matched_lines: u64,
    /// Sum of the statement lines, a decimal string.
    pub statement_amount: String,
    /// Sum of the matched lines, a decimal string.
    pub matched_amount: String,
    /// Currency code of both amounts.
    pub currency: String,
}

/// A KPI row as read back, with the run that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KpiRecord {
    /// The latest succeeded run covering this account and date.
    pub run_id: String,
    /// The row.
    #[serde(flatten)]
    pub kpi: KpiRow,
}

/// One item taking part in a match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    /// Statement line or journal item.
    pub side: ItemSide,
    /// Its id in the source system.
    pub item_id: String,
}

/// One item a case is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseItemRef {
    /// Statement line or journal item.
    pub side: ItemSide,
    /// Its id in the source system.
    pub item_id: String,
    /// Content fingerprint the case id was derived from, if any.
    pub fingerprint: Option<String>,
}

/// JSON text, serialised once by the caller and stored as it is: a run writes a million
/// explanations, and building a [`serde_json::Value`] tree for each only to serialise it again
/// cost more than the rows' inserts. It can only be made by serialising a value, so it is
/// always valid JSON and the store does not parse it again. Two are equal when their texts are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// `value` serialised as compact JSON.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<JsonText, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The JSON text parsed into a tree.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.as_str())
    }
}

impl From<&serde_json::Value> for JsonText {
    fn from(value: &serde_json::Value) -> Self {
        // A `Value` always serialises: its map keys are strings and its numbers are finite.
        JsonText::new(value).expect("a serde_json::Value serialises to JSON")
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> Self {
        JsonText::from(&value)
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// A match produced by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchWrite {
    /// Stable id given by the caller (same items, same id).
    pub match_id: String,
    /// The rule that made it.
    pub rule: String,
    /// How much it is trusted.
    pub review: MatchReview,
    /// Bank account.
    pub account: String,
    /// Business date of the statement side.
    pub business_date: NaiveDate,
    /// Amount matched, a decimal string.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// Kind of reference used (e.g. `invoice`), if any.
    pub reference_kind: Option<String>,
    /// The reference used, if any.
    pub reference: Option<String>,
    /// Banking days between statement and journal dates.
    pub date_delta_banking_days: i64,
    /// Why the rule matched, opaque JSON, serialised once by the caller and stored as it is.
    pub explanation: JsonText,
    /// The items: one statement line and one or more journal items.
    pub items: Vec<ItemRef>,
}

impl MatchWrite {
    /// `(statement line, journal item)` when the match pairs exactly one of each: such a match
    /// keeps its items in its own row (`statement_id`, `move_id`) instead of `match_items`.
    pub(crate) fn pair(&self) -> Option<(&str, &str)> {
        item_pair(&self.items)
    }
}

/// `(statement line, journal item)` when `items` are exactly one of each.
pub(crate) fn item_pair(items: &[ItemRef]) -> Option<(&str, &str)> {
    match items {
        [a, b] => match (a.side, b.side) {
            (ItemSide::Statement, ItemSide::Move) => Some((&a.item_id, &b.item_id)),
            (ItemSide::Move, ItemSide::Statement) => Some((&b.item_id, &a.item_id)),
            _ => None,
        },
        _ => None,
    }
}

/// A match as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRecord {
    /// Stable id.
    pub match_id: String,
    /// The rule that made it.
    pub rule: String,
    /// How much it is trusted.
    pub review: MatchReview,
    /// Active or superseded.
    pub status: MatchStatus,
    /// Bank account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount, a decimal string.
    pub amount: String,
    /// Currency code.
    pub currency: String,
    /// Kind of reference used, if any.
    pub reference_kind: Option<String>,
    /// Reference used, if any.
    pub reference: Option<String>,
    /// Banking days between statement and journal dates.
    pub date_delta_banking_days: i64,
    /// Why the rule matched.
    pub explanation: serde_json::Value,
    /// Run that first produced it.
    pub first_run_id: String,
    /// Last run that produced it.
    pub last_run_id: String,
    /// Run that superseded it, if superseded.
    pub superseded_by_run_id: Option<String>,
    /// When it was first written.
    pub created_at: DateTime<Utc>,
    /// Its items, ordered by side then id.
    pub items: Vec<ItemRef>,
}

/// A case (exception) found by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseWrite {
    /// Stable id given by the caller (kind + item fingerprints), so a re-run never duplicates it.
    pub case_id: String,
    /// Kind, e.g. `unmatched_statement`, `amount_mismatch`.
    pub kind: String,
    /// Bank account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount concerned, a decimal string, if one applies.
    pub amount: Option<String>,
    /// Currency code of `amount`.
    pub currency: Option<String>,
    /// One line for people.
    pub summary: String,
    /// What the run saw, opaque JSON, serialised once by the caller (in parallel, before the write
    /// transaction) and stored as it is.
    pub evidence: JsonText,
    /// NEON ids, Odoo move names and line ids, references found: opaque JSON, serialised by the
    /// caller (when the store maps the case's round, for a run's cases) and stored as it is.
    pub external_ids: JsonText,
    /// The items the case is about. A case is auto-resolved when all of them are matched.
    pub items: Vec<CaseItemRef>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRecord {
    /// Stable id.
    pub case_id: String,
    /// Kind.
    pub kind: String,
    /// Open, resolved or ignored.
    pub status: CaseStatus,
    /// Bank account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount concerned, if any.
    pub amount: Option<String>,
    /// Currency of `amount`.
    pub currency: Option<String>,
    /// One line for people.
    pub summary: String,
    /// Latest evidence.
    pub evidence: serde_json::Value,
    /// Latest external ids.
    pub external_ids: serde_json::Value,
    /// Correlation id of the run that opened it.
    pub correlation_id: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Run that opened it.
    pub first_run_id: String,
    /// Last run that saw it.
    pub last_run_id: String,
    /// When it was closed, if closed.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Run that auto-resolved it, if one did.
    pub resolved_by_run_id: Option<String>,
    /// Operator who closed it, if a person did.
    pub resolved_by: Option<String>,
    /// What was done about it.
    pub corrective_action: Option<String>,
    /// What will keep it from happening again.
    pub prevention: Option<String>,
}

/// One entry of a case's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEvent {
    /// Increasing id (order of events).
    pub event_id: i64,
    /// The run, when a run caused it.
    pub run_id: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: CaseEventKind,
    /// The operator, when a person caused it.
    pub operator: Option<String>,
    /// Free text.
    pub note: Option<String>,
}

/// A case with its items and audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: CaseRecord,
    /// Its items, ordered by side then id.
    pub items: Vec<CaseItemRef>,
    /// Its events, oldest first.
    pub events: Vec<CaseEvent>,
}

/// A bad input row kept aside by a run started with `--skip-bad-rows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRow {
    /// Source system, e.g. `neon` or `odoo`.
    pub source: String,
    /// Input file.
    pub file: String,
    /// Line number in the file (1-based).
    pub line: u64,
    /// Offending column, when one is known.
    pub column_name: Option<String>,
    /// Offending value, when one is known.
    pub value: Option<String>,
    /// Why the row was refused.
    pub reason: String,
    /// The raw line.
    pub raw: String,
}

/// A row [`crate::Store::write_run`] writes under an id of the caller's: a match or a case.
pub trait KeyedRow: Clone + Send + Sync {
    /// The row's id (`match_id`, `case_id`).
    fn id(&self) -> &str;
}

impl KeyedRow for MatchWrite {
    fn id(&self) -> &str {
        &self.match_id
    }
}

impl KeyedRow for CaseWrite {
    fn id(&self) -> &str {
        &self.case_id
    }
}

/// Where [`crate::Store::write_run`] reads a run's matches or cases from: counted and named up
/// front (the ids are checked for repeats and sorted before anything is written), each mapped to
/// its row only when its round is written. A night's rows take hundreds of bytes a match and about
/// two kilobytes a case, so a caller holding its matches and cases in a smaller form of its own
/// maps them here, a round at a time, instead of holding every row for the whole write (the 10 M
/// night's write held 9.7-10.6 GB with its matches and cases all mapped before it, 4.6-5.6 GB with
/// neither; BENCHMARKS.md).
/// A `Vec` of rows is a source of rows already mapped.
///
/// The store asks for rows on every core (hence `Sync`), and asks again for all of them when a
/// transient fault makes the caller retry the whole write. A row the source cannot give, or one
/// that fails the store's checks, is an [`StoreError::InvalidInput`] naming the match or case;
/// since rows are mapped inside the transaction, the rounds before it are rolled back with
/// everything else. On PostgreSQL each round is mapped (on every core) before its statements,
/// inside the open transaction; on SQLite while the round before is written (see
/// `Conn::upsert_batched_reporting`).
pub trait RowSource<R: KeyedRow>: Sync {
    /// How many rows.
    fn count(&self) -> usize;
    /// The id of the row at `index` (below [`RowSource::count`]); the row must carry the same.
    fn id(&self, index: usize) -> &str;
    /// The row at `index`, or why it cannot be written (the write then fails, naming the row, and
    /// nothing of the run is stored).
    fn row(&self, index: usize) -> Result<Cow<'_, R>, String>;
}

impl<R: KeyedRow> RowSource<R> for Vec<R> {
    fn count(&self) -> usize {
        self.len()
    }

    fn id(&self, index: usize) -> &str {
        self[index].id()
    }

    fn row(&self, index: usize) -> Result<Cow<'_, R>, String> {
        Ok(Cow::Borrowed(&self[index]))
    }
}

/// Everything a successful run produced, written at once by [`crate::Store::write_run`]. Its
/// matches and cases are rows already mapped ([`MatchWrite`], [`CaseWrite`]) unless the caller
/// gives another [`RowSource`] for either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunWrite<M = Vec<MatchWrite>, C = Vec<CaseWrite>> {
    /// The run header (its scope bounds what is superseded and auto-resolved).
    pub header: RunHeader,
    /// Counts of the run (rows read, matched, ...), opaque JSON.
    pub counts: serde_json::Value,
    /// Headline KPI.
    pub kpi: RunKpi,
    /// KPI per account and business date.
    pub kpi_rows: Vec<KpiRow>,
    /// Matches found.
    pub matches: M,
    /// Cases found.
    pub cases: C,
    /// Bad input rows skipped.
    pub quarantine: Vec<QuarantineRow>,
}

/// What [`crate::Store::write_run`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunWriteSummary {
    /// Matches seen for the first time.
    pub matches_inserted: u64,
    /// Active matches produced again.
    pub matches_kept: u64,
    /// Superseded matches produced again, active once more.
    pub matches_reactivated: u64,
    /// In-scope active, non-manual matches this run did not produce.
    pub matches_superseded: u64,
    /// New cases.
    pub cases_opened: u64,
    /// Open cases found again.
    pub cases_seen: u64,
    /// Resolved cases found again, open once more.
    pub cases_reopened: u64,
    /// Ignored cases found again (they stay ignored).
    pub cases_ignored_seen: u64,
    /// Open in-scope cases not found again whose items are all matched now.
    pub cases_resolved: u64,
    /// KPI rows written.
    pub kpi_rows: u64,
    /// Quarantined rows written.
    pub quarantined_rows: u64,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The header as written.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Succeeded or failed.
    pub status: RunStatus,
    /// Counts, for succeeded runs.
    pub counts: Option<serde_json::Value>,
    /// Headline KPI, for succeeded runs.
    pub kpi: Option<RunKpi>,
    /// The error, for failed runs.
    pub error: Option<String>,
}

/// Which runs to list. The default lists all, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only runs of this mode.
    pub mode: Option<RunMode>,
    /// At most this many runs.
    pub limit: Option<u32>,
}

/// Which cases to list. The default lists all, ordered by case id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFilter {
    /// Only cases with this status.
    pub status: Option<CaseStatus>,
    /// Only cases of this kind.
    pub kind: Option<String>,
    /// Only cases of this account.
    pub account: Option<String>,
    /// Only cases on or after this business date.
    pub date_from: Option<NaiveDate>,
    /// Only cases on or before this business date.
    pub date_to: Option<NaiveDate>,
}

/// Which matches to list. The default lists all, ordered by match id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchFilter {
    /// Only matches with this status.
    pub status: Option<MatchStatus>,
    /// Only matches with this review level.
    pub review: Option<MatchReview>,
    /// Only matches of this account.
    pub account: Option<String>,
    /// Only matches on or after this business date.
    pub date_from: Option<NaiveDate>,
    /// Only matches on or before this business date.
    pub date_to: Option<NaiveDate>,
    /// Only matches last produced by this run.
    pub last_run_id: Option<String>,
}

/// How a person closes a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseClosure {
    /// The problem was dealt with.
    Resolved,
    /// Not worth acting on; stays closed when seen again.
    Ignored,
}

/// A person closing a case, for [`crate::Store::resolve_case`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResolution {
    /// The case.
    pub case_id: String,
    /// Who closes it.
    pub operator: String,
    /// What was done about it.
    pub corrective_action: String,
    /// What will keep it from happening again.
    pub prevention: String,
    /// Resolved or ignored.
    pub closure: CaseClosure,
    /// When.
    pub at: DateTime<Utc>,
}

/// A schema migration applied to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Version (the number the file name starts with).
    pub version: i64,
    /// Description (the rest of the file name).
    pub description: String,
}
