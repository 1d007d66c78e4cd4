//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading, writing or hashing a file.
///
/// Every variant names the file it is about; variants about one record also
/// carry its 1-based line (the physical line where the record starts, as the
/// `csv` crate's `Position::line` reports it; for Parquet, the row index + 1),
/// and variants about one value carry the column name and the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened, read, created or written.
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },

    /// The file's extension is none of `.csv`, `.parquet`, `.pq`, so its
    /// format is unknown.
    #[error(
        "{}: unknown file format: the extension must be .csv, .parquet or .pq",
        path.display()
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },

    /// The layout itself is unusable (unknown logical field, a required field
    /// disabled, a delimiter that is not one ASCII byte, an empty column name).
    #[error("invalid layout for {kind}: {reason}")]
    InvalidLayout {
        /// The kind of record the layout was used for (`statement lines`,
        /// `move lines`).
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A column the layout maps is not in the file's header.
    #[error(
        "{}: column {column:?} (for field `{field}`) is not in the header; the header is {header:?}",
        path.display()
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The logical field the column was mapped to.
        field: &'static str,
        /// The physical column name the layout asked for.
        column: String,
        /// The column names actually found in the file.
        header: Vec<String>,
    },

    /// A column the layout maps appears more than once in the header, so it
    /// is ambiguous which one to read.
    #[error(
        "{}: column {column:?} (for field `{field}`) appears more than once in the header",
        path.display()
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The logical field the column was mapped to.
        field: &'static str,
        /// The repeated physical column name.
        column: String,
    },

    /// A CSV record has a different number of fields than the header.
    #[error(
        "{}: line {line}: the record has {found} fields but the header has {expected}",
        path.display()
    )]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// Number of fields in the header.
        expected: u64,
        /// Number of fields in this record.
        found: u64,
    },

    /// A value is not valid UTF-8.
    #[error(
        "{}: line {line}: column {column:?}: value {value:?} is not valid UTF-8 \
         (invalid bytes shown as U+FFFD; the file must be UTF-8 encoded)",
        path.display()
    )]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// The physical column name.
        column: String,
        /// The value, decoded lossily.
        value: String,
    },

    /// The CSV parser rejected the input for another reason.
    #[error("{}: line {line}: malformed CSV: {reason}", path.display())]
    MalformedCsv {
        /// The file.
        path: PathBuf,
        /// 1-based line the parser was at.
        line: u64,
        /// The parser's explanation.
        reason: String,
    },

    /// Polars could not read or write the Parquet file.
    #[error("{}: Parquet error: {source}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What polars reported.
        #[source]
        source: polars::error::PolarsError,
    },

    /// A Parquet column could not be converted to text.
    #[error(
        "{}: column {column:?} has type {dtype}, which cannot be read as text: {source}",
        path.display()
    )]
    ColumnType {
        /// The file.
        path: PathBuf,
        /// The physical column name.
        column: String,
        /// The column's data type in the file.
        dtype: String,
        /// What polars reported.
        #[source]
        source: polars::error::PolarsError,
    },

    /// A table to write has a row whose width differs from its header.
    /// Nothing was written.
    #[error(
        "{}: row {row} has {found} values but the table has {expected} columns; nothing was written",
        path.display()
    )]
    RowWidth {
        /// The file that was to be written.
        path: PathBuf,
        /// 1-based index of the row among the data rows (the header excluded).
        row: u64,
        /// Number of columns.
        expected: u64,
        /// Number of values in the row.
        found: u64,
    },

    /// A table to write names the same column twice. Nothing was written.
    #[error("{}: column {column:?} appears twice in the table; nothing was written", path.display())]
    DuplicateTableColumn {
        /// The file that was to be written.
        path: PathBuf,
        /// The repeated column name.
        column: String,
    },
}
