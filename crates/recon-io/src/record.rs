//! Logical record types: the raw text of each field plus where it came from.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Provenance {
    /// The file the record was read from; shared by all records of one file.
    pub file: Arc<Path>,
    /// 1-based position of the record in the file.
    ///
    /// For CSV: the physical line where the record starts (the header is line
    /// 1, so the first data record is usually line 2; a record whose quoted
    /// field holds a newline spans several lines and reports the first).
    /// For Parquet: the row index + 1 (the first row is 1; there is no header
    /// line).
    pub line: u64,
}

impl Provenance {
    /// A provenance for `line` of `file`.
    pub fn new(file: impl Into<Arc<Path>>, line: u64) -> Self {
        Self { file: file.into(), line }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A logical field of a record kind, as [`Record::FIELDS`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's logical name; also the column name in the default layouts
    /// and in files this crate writes.
    pub name: &'static str,
    /// A required field cannot be left out of a layout: when the layout does
    /// not mention it, its column name defaults to [`FieldSpec::name`], and the
    /// column must be in the file. An optional field left out of the layout
    /// reads as `""` in every record.
    pub required: bool,
}

const fn req(name: &'static str) -> FieldSpec {
    FieldSpec { name, required: true }
}

const fn opt(name: &'static str) -> FieldSpec {
    FieldSpec { name, required: false }
}

/// A kind of raw record this crate can read and write:
/// [`RawStatementLine`] or [`RawMoveLine`].
///
/// The trait is sealed: only this crate implements it.
pub trait Record: Sized + sealed::Sealed {
    /// A plural noun for messages, e.g. `statement lines`.
    const KIND: &'static str;
    /// The logical fields, in the order of the default header.
    const FIELDS: &'static [FieldSpec];

    /// Where the record came from.
    fn provenance(&self) -> &Provenance;

    /// The text of the logical field at `index` in [`Record::FIELDS`], or
    /// `None` past the last field.
    fn field(&self, index: usize) -> Option<&str>;
}

pub(crate) mod sealed {
    use super::Provenance;

    /// Construction from field values, kept private so the set of record
    /// kinds stays closed.
    pub trait Sealed {
        /// Builds a record from the values of its fields in
        /// [`super::Record::FIELDS`] order; a missing value is `""`.
        fn from_fields(provenance: Provenance, fields: impl Iterator<Item = String>) -> Self;
    }
}

/// One bank statement line (NEON `bank_statement_lines` or a bank's own
/// export), every field as the raw text found in the file.
///
/// Empty and NULL values are both `""`. Amounts and dates are not parsed here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawStatementLine {
    /// Where the line came from.
    pub provenance: Provenance,
    /// The line's id in the source system.
    pub id: String,
    /// The bank account the line belongs to.
    pub account: String,
    /// When the bank booked the movement (date or timestamp text).
    pub booked_at: String,
    /// The value date.
    pub value_date: String,
    /// The signed amount, as text (e.g. `-1234.50`).
    pub amount: String,
    /// ISO currency code.
    pub currency: String,
    /// The payment reference.
    pub reference: String,
    /// Free text; may hold commas and newlines.
    pub description: String,
    /// The counterparty's name.
    pub counterparty_name: String,
    /// The counterparty's account (e.g. CLABE).
    pub counterparty_account: String,
}

impl Record for RawStatementLine {
    const KIND: &'static str = "statement lines";
    /// Required: `value_date`, `amount`. All others are optional.
    const FIELDS: &'static [FieldSpec] = &[
        opt("id"),
        opt("account"),
        opt("booked_at"),
        req("value_date"),
        req("amount"),
        opt("currency"),
        opt("reference"),
        opt("description"),
        opt("counterparty_name"),
        opt("counterparty_account"),
    ];

    fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    fn field(&self, index: usize) -> Option<&str> {
        Some(match index {
            0 => &self.id,
            1 => &self.account,
            2 => &self.booked_at,
            3 => &self.value_date,
            4 => &self.amount,
            5 => &self.currency,
            6 => &self.reference,
            7 => &self.description,
            8 => &self.counterparty_name,
            9 => &self.counterparty_account,
            _ => return None,
        })
    }
}

impl sealed::Sealed for RawStatementLine {
    fn from_fields(provenance: Provenance, mut fields: impl Iterator<Item = String>) -> Self {
        let mut next = || fields.next().unwrap_or_default();
        // Struct-literal fields are evaluated in source order, i.e. FIELDS order.
        Self {
            provenance,
            id: next(),
            account: next(),
            booked_at: next(),
            value_date: next(),
            amount: next(),
            currency: next(),
            reference: next(),
            description: next(),
            counterparty_name: next(),
            counterparty_account: next(),
        }
    }
}

/// One Odoo journal item (`account.move.line`, import-compatible export),
/// every field as the raw text found in the file.
///
/// Many2one fields hold display names (`102.01.01 Bancos STP`); amounts are
/// Python float text (`1234.5`). Empty values are `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawMoveLine {
    /// Where the line came from.
    pub provenance: Provenance,
    /// External id, e.g. `__export__.account_move_line_52542_2692c41e`.
    pub id: String,
    /// The journal entry's name, e.g. `BNK1/2024/00012`.
    pub move_name: String,
    /// The accounting date.
    pub date: String,
    /// The journal (display name).
    pub journal_id: String,
    /// The account (display name, e.g. `102.01.01 Bancos STP`).
    pub account_id: String,
    /// The partner (display name).
    pub partner_id: String,
    /// The label.
    pub name: String,
    /// The reference.
    pub r#ref: String,
    /// Debit, as text.
    pub debit: String,
    /// Credit, as text.
    pub credit: String,
    /// Amount in the line's currency, as text.
    pub amount_currency: String,
    /// The currency (display name, e.g. `MXN`).
    pub currency_id: String,
    /// State of the journal entry (`posted`, `draft`, `cancel`).
    pub parent_state: String,
}

impl Record for RawMoveLine {
    const KIND: &'static str = "move lines";
    /// Required: `id`, `date`, `debit`, `credit`. All others are optional.
    const FIELDS: &'static [FieldSpec] = &[
        req("id"),
        opt("move_name"),
        req("date"),
        opt("journal_id"),
        opt("account_id"),
        opt("partner_id"),
        opt("name"),
        opt("ref"),
        req("debit"),
        req("credit"),
        opt("amount_currency"),
        opt("currency_id"),
        opt("parent_state"),
    ];

    fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    fn field(&self, index: usize) -> Option<&str> {
        Some(match index {
            0 => &self.id,
            1 => &self.move_name,
            2 => &self.date,
            3 => &self.journal_id,
            4 => &self.account_id,
            5 => &self.partner_id,
            6 => &self.name,
            7 => &self.r#ref,
            8 => &self.debit,
            9 => &self.credit,
            10 => &self.amount_currency,
            11 => &self.currency_id,
            12 => &self.parent_state,
            _ => return None,
        })
    }
}

impl sealed::Sealed for RawMoveLine {
    fn from_fields(provenance: Provenance, mut fields: impl Iterator<Item = String>) -> Self {
        let mut next = || fields.next().unwrap_or_default();
        Self {
            provenance,
            id: next(),
            move_name: next(),
            date: next(),
            journal_id: next(),
            account_id: next(),
            partner_id: next(),
            name: next(),
            r#ref: next(),
            debit: next(),
            credit: next(),
            amount_currency: next(),
            currency_id: next(),
            parent_state: next(),
        }
    }
}
