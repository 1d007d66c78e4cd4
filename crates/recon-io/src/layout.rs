//! Column mappings: which physical column holds which logical field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::record::{RawMoveLine, RawStatementLine, Record};

/// How a file's columns map to the logical fields of a record kind.
///
/// `columns` maps a logical field name (see [`Record::FIELDS`]) to the
/// physical column name in the file's header (for Parquet, the column name).
/// A logical field that `columns` does not mention:
/// - if it is required, is read from a column named like the field itself;
/// - if it is optional, reads as `""` in every record.
///
/// Every column the layout names (explicitly or by that default) must be in
/// the file, or reading fails with [`Error::MissingColumn`]. Header names are
/// matched exactly (case-sensitive) after trimming surrounding whitespace; a
/// UTF-8 byte order mark before the header is ignored.
///
/// In TOML (unknown keys are rejected):
/// ```toml
/// delimiter = ";"            # optional, default ","; one ASCII character
/// [columns]
/// value_date = "Fecha"
/// amount = "Importe"
/// reference = "Referencia"
/// description = "Concepto"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// The CSV field delimiter; must be one ASCII character. Ignored for
    /// Parquet.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Logical field name -> physical column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

fn default_delimiter() -> char {
    ','
}

impl Default for Layout {
    /// Comma-delimited, no columns mapped: required fields are read from
    /// columns named like the fields, optional fields are `""`.
    fn default() -> Self {
        Self { delimiter: default_delimiter(), columns: BTreeMap::new() }
    }
}

impl Layout {
    /// The layout that maps every field of `T` to a column of the same name.
    pub fn identity<T: Record>() -> Self {
        Self {
            delimiter: default_delimiter(),
            columns: T::FIELDS.iter().map(|f| (f.name.to_owned(), f.name.to_owned())).collect(),
        }
    }

    /// The layout of `COPY bank_statement_lines TO STDOUT WITH CSV HEADER`:
    /// header `id,account,booked_at,value_date,amount,currency,reference,description,counterparty_name,counterparty_account`,
    /// every column present.
    pub fn neon_default() -> Self {
        Self::identity::<RawStatementLine>()
    }

    /// The layout of Odoo's import-compatible CSV export of
    /// `account.move.line`: header
    /// `id,move_name,date,journal_id,account_id,partner_id,name,ref,debit,credit,amount_currency,currency_id,parent_state`,
    /// every column present.
    pub fn odoo_default() -> Self {
        Self::identity::<RawMoveLine>()
    }

    /// This layout with another delimiter.
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: char) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// This layout with logical `field` read from physical `column`.
    #[must_use]
    pub fn with_column(mut self, field: impl Into<String>, column: impl Into<String>) -> Self {
        self.columns.insert(field.into(), column.into());
        self
    }

    /// This layout without a mapping for `field` (an optional field then
    /// reads as `""`; a required one falls back to its own name).
    #[must_use]
    pub fn without_column(mut self, field: &str) -> Self {
        self.columns.remove(field);
        self
    }

    /// Checks that the layout suits record kind `T`: every mapped name is a
    /// field of `T`, no column name is empty, and the delimiter is one ASCII
    /// character. Readers call this too; call it early to reject a bad
    /// configuration before any file is opened.
    pub fn validate<T: Record>(&self) -> Result<(), Error> {
        self.resolve::<T>().map(|_| ())
    }

    /// The delimiter as a byte, or an error naming the record kind.
    pub(crate) fn delimiter_byte<T: Record>(&self) -> Result<u8, Error> {
        match u8::try_from(self.delimiter) {
            Ok(byte) if byte.is_ascii() => Ok(byte),
            _ => Err(invalid::<T>(format!("delimiter {:?} is not one ASCII character", self.delimiter))),
        }
    }

    /// For each field of `T` in order, the physical column to read, or
    /// `None` for an optional field left out.
    pub(crate) fn resolve<T: Record>(&self) -> Result<Vec<Option<String>>, Error> {
        self.delimiter_byte::<T>()?;
        for (field, column) in &self.columns {
            if !T::FIELDS.iter().any(|f| f.name == field) {
                let known: Vec<&str> = T::FIELDS.iter().map(|f| f.name).collect();
                return Err(invalid::<T>(format!("unknown field `{field}`; the fields are {known:?}")));
            }
            if column.trim().is_empty() {
                return Err(invalid::<T>(format!("field `{field}` is mapped to an empty column name")));
            }
        }
        Ok(T::FIELDS
            .iter()
            .map(|f| match self.columns.get(f.name) {
                Some(column) => Some(column.trim().to_owned()),
                None if f.required => Some(f.name.to_owned()),
                None => None,
            })
            .collect())
    }
}

fn invalid<T: Record>(reason: String) -> Error {
    Error::InvalidLayout { kind: T::KIND, reason }
}

/// For each field of `T`, the index of its column in `header`, or `None` for
/// a field the layout leaves out.
pub(crate) fn locate<T: Record>(
    path: &Path,
    header: &[String],
    mapped: &[Option<String>],
) -> Result<Vec<Option<usize>>, Error> {
    T::FIELDS
        .iter()
        .zip(mapped)
        .map(|(field, column)| {
            let Some(column) = column else {
                return Ok(None);
            };
            let mut hits = header.iter().enumerate().filter(|(_, h)| h.trim() == column);
            match (hits.next(), hits.next()) {
                (Some((index, _)), None) => Ok(Some(index)),
                (Some(_), Some(_)) => {
                    Err(Error::DuplicateColumn { path: path.to_owned(), field: field.name, column: column.clone() })
                }
                (None, _) => Err(Error::MissingColumn {
                    path: path.to_owned(),
                    field: field.name,
                    column: column.clone(),
                    header: header.to_vec(),
                }),
            }
        })
        .collect()
}
