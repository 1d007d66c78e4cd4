//! Readers and writers for recon's input and output files.
//!
//! Inputs are bank statement lines (NEON's `COPY bank_statement_lines TO
//! STDOUT WITH CSV HEADER`, or a bank's own export) and Odoo journal items
//! (the import-compatible CSV export of `account.move.line`), as CSV or
//! Parquet. They are read into raw records — [`RawStatementLine`],
//! [`RawMoveLine`] — that keep every field as the text found in the file,
//! plus its [`Provenance`] (file and line). Nothing is parsed here: amounts
//! stay text (never `f64`) until the core crate parses them into money.
//!
//! Which column holds which field is a [`Layout`], deserializable from TOML,
//! so a new bank's export is read by configuration only.
//!
//! Outputs (exports) are written atomically: to a temporary file in the same
//! directory, then renamed, so a failure never leaves a half-written file.
//!
//! Every failure is an [`Error`] naming the file and, where it applies, the
//! 1-based line, the column and the offending value.

#![forbid(unsafe_code)]

mod csv_read;
mod error;
mod layout;
mod parquet;
mod record;
mod write;

use std::fs::File;
use std::path::Path;

pub use csv_read::{CsvChunk, CsvRecords, RecordView};
pub use error::Error;
pub use layout::Layout;
pub use record::{FieldSpec, Provenance, RawMoveLine, RawStatementLine, Record};
pub use write::{
    Table, write_records, write_records_csv, write_records_parquet, write_table, write_table_csv, write_table_parquet,
};

/// A file format, known from a file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `.csv` (any case).
    Csv,
    /// `.parquet` or `.pq` (any case).
    Parquet,
}

impl Format {
    /// The format of `path` by its extension, or
    /// [`Error::UnsupportedFormat`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("parquet" | "pq") => Ok(Self::Parquet),
            _ => Err(Error::UnsupportedFormat { path: path.to_owned() }),
        }
    }
}

// ---------------------------------------------------------------------------
// Generic readers
// ---------------------------------------------------------------------------

/// Opens a CSV file for streaming: checks the layout and the header, and
/// returns an iterator that reads one record at a time.
pub fn open_csv<T: Record>(path: impl AsRef<Path>, layout: &Layout) -> Result<CsvRecords<T>, Error> {
    CsvRecords::open(path.as_ref(), layout)
}

/// Reads every record of a CSV file; stops at the first error.
pub fn read_csv<T: Record>(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<T>, Error> {
    open_csv(path, layout)?.collect()
}

/// Reads every record of a Parquet file. Every mapped column is cast to text
/// (nulls read as `""`); [`Provenance::line`] is the row index + 1.
pub fn read_parquet<T: Record>(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<T>, Error> {
    let mut records = Vec::new();
    parquet::for_each_parquet(path.as_ref(), layout, |record| {
        records.push(record);
        Ok::<(), Error>(())
    })?;
    Ok(records)
}

/// Reads every record of a CSV or Parquet file, chosen by the extension
/// (see [`Format::from_path`]).
pub fn read_records<T: Record>(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<T>, Error> {
    let path = path.as_ref();
    match Format::from_path(path)? {
        Format::Csv => read_csv(path, layout),
        Format::Parquet => read_parquet(path, layout),
    }
}

/// Calls `f` with each record of a CSV or Parquet file (by extension), in
/// file order, with bounded memory: CSV is read one record at a time,
/// Parquet one row group at a time. Stops at the first error, from reading
/// or from `f`.
pub fn for_each_record<T, E, F>(path: impl AsRef<Path>, layout: &Layout, mut f: F) -> Result<(), E>
where
    T: Record,
    E: From<Error>,
    F: FnMut(T) -> Result<(), E>,
{
    let path = path.as_ref();
    match Format::from_path(path)? {
        Format::Csv => {
            for record in open_csv(path, layout)? {
                f(record?)?;
            }
            Ok(())
        }
        Format::Parquet => parquet::for_each_parquet(path, layout, f),
    }
}

// ---------------------------------------------------------------------------
// Named readers
// ---------------------------------------------------------------------------

/// Reads bank statement lines from a CSV file.
pub fn read_statements_csv(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawStatementLine>, Error> {
    read_csv(path, layout)
}

/// Reads bank statement lines from a Parquet file (see [`read_parquet`]).
pub fn read_statements_parquet(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawStatementLine>, Error> {
    read_parquet(path, layout)
}

/// Reads bank statement lines from a `.csv`, `.parquet` or `.pq` file.
pub fn read_statements(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawStatementLine>, Error> {
    read_records(path, layout)
}

/// Calls `f` with each bank statement line of a `.csv`, `.parquet` or `.pq`
/// file, with bounded memory (see [`for_each_record`]).
pub fn for_each_statement<E: From<Error>>(
    path: impl AsRef<Path>,
    layout: &Layout,
    f: impl FnMut(RawStatementLine) -> Result<(), E>,
) -> Result<(), E> {
    for_each_record(path, layout, f)
}

/// Reads Odoo journal items from a CSV file.
pub fn read_moves_csv(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawMoveLine>, Error> {
    read_csv(path, layout)
}

/// Reads Odoo journal items from a Parquet file (see [`read_parquet`]).
pub fn read_moves_parquet(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawMoveLine>, Error> {
    read_parquet(path, layout)
}

/// Reads Odoo journal items from a `.csv`, `.parquet` or `.pq` file.
pub fn read_moves(path: impl AsRef<Path>, layout: &Layout) -> Result<Vec<RawMoveLine>, Error> {
    read_records(path, layout)
}

/// Calls `f` with each Odoo journal item of a `.csv`, `.parquet` or `.pq`
/// file, with bounded memory (see [`for_each_record`]).
pub fn for_each_move<E: From<Error>>(
    path: impl AsRef<Path>,
    layout: &Layout,
    f: impl FnMut(RawMoveLine) -> Result<(), E>,
) -> Result<(), E> {
    for_each_record(path, layout, f)
}

// ---------------------------------------------------------------------------
// Named writers
// ---------------------------------------------------------------------------

/// Writes statement lines as NEON-style CSV (default header), atomically.
pub fn write_statements_csv(path: impl AsRef<Path>, lines: &[RawStatementLine]) -> Result<(), Error> {
    write_records_csv(path, lines)
}

/// Writes statement lines as Parquet (one `String` column per field),
/// atomically.
pub fn write_statements_parquet(path: impl AsRef<Path>, lines: &[RawStatementLine]) -> Result<(), Error> {
    write_records_parquet(path, lines)
}

/// Writes journal items as Odoo-style CSV (default header), atomically.
pub fn write_moves_csv(path: impl AsRef<Path>, lines: &[RawMoveLine]) -> Result<(), Error> {
    write_records_csv(path, lines)
}

/// Writes journal items as Parquet (one `String` column per field),
/// atomically.
pub fn write_moves_parquet(path: impl AsRef<Path>, lines: &[RawMoveLine]) -> Result<(), Error> {
    write_records_parquet(path, lines)
}

// ---------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------

/// The BLAKE3 hash of a file's bytes, as 64 lowercase hex digits; the file
/// is streamed, not loaded whole.
pub fn blake3_file(path: impl AsRef<Path>) -> Result<String, Error> {
    let path = path.as_ref();
    let io = |source| Error::Io { path: path.to_owned(), source };
    let file = File::open(path).map_err(io)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(file).map_err(io)?;
    Ok(hasher.finalize().to_hex().to_string())
}
