//! Atomic writers: tables and raw records to CSV or Parquet.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::Format;
use crate::error::Error;
use crate::parquet::write_text_columns;
use crate::record::Record;

/// A table of text to export: a header and rows of the same width.
///
/// Widths are checked when the table is written: a row whose width differs
/// from the header fails the write with [`Error::RowWidth`] before anything
/// is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column names, in order; each must be unique.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Self { columns: columns.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends a row (its width is checked when the table is written).
    pub fn push_row<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    /// Checks that column names are unique and every row is as wide as the
    /// header; `path` is only used in the error.
    pub fn check(&self, path: &Path) -> Result<(), Error> {
        let mut seen = HashSet::with_capacity(self.columns.len());
        for column in &self.columns {
            if !seen.insert(column.as_str()) {
                return Err(Error::DuplicateTableColumn { path: path.to_owned(), column: column.clone() });
            }
        }
        for (index, row) in self.rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                return Err(Error::RowWidth {
                    path: path.to_owned(),
                    row: to_u64(index).saturating_add(1),
                    expected: to_u64(self.columns.len()),
                    found: to_u64(row.len()),
                });
            }
        }
        Ok(())
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Writes `path` atomically: `write` fills a temporary file in the same
/// directory, which is then flushed to disk and renamed over `path`. On any
/// failure the temporary file is removed and `path` is left as it was.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> Result<(), Error>) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name =
        path.file_name().ok_or_else(|| io(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file")))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The usual 0o666 less the umask, not tempfile's owner-only 0o600:
        // exports are read by other tools.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropping `temp` on any early return removes the temporary file.
    let mut temp = builder.tempfile_in(dir).map_err(io)?;
    write(temp.as_file_mut())?;
    temp.as_file().sync_all().map_err(io)?;
    // On failure the returned error owns the temporary file and removes it.
    temp.persist(path).map_err(|e| io(e.error))?;
    #[cfg(unix)]
    {
        // Make the rename itself durable.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

fn csv_error(path: &Path, error: csv::Error) -> Error {
    let source = match error.into_kind() {
        csv::ErrorKind::Io(source) => source,
        other => io::Error::other(format!("CSV writer: {other:?}")),
    };
    Error::Io { path: path.to_owned(), source }
}

/// Writes a header and rows as comma-separated CSV, quoting only where needed.
fn write_csv_rows<'a, R>(
    path: &Path,
    file: &mut File,
    header: impl IntoIterator<Item = &'a str>,
    rows: impl IntoIterator<Item = R>,
) -> Result<(), Error>
where
    R: IntoIterator<Item = &'a str>,
{
    let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
    let err = |e| csv_error(path, e);
    writer.write_record(header).map_err(err)?;
    for row in rows {
        writer.write_record(row).map_err(err)?;
    }
    writer.flush().map_err(|source| Error::Io { path: path.to_owned(), source })
}

/// Writes text columns as Parquet into `file`, through a buffer that is
/// flushed explicitly (a flush on drop would hide errors).
fn write_parquet_columns(
    path: &Path,
    file: &mut File,
    height: usize,
    columns: Vec<(&str, Vec<&str>)>,
) -> Result<(), Error> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    write_text_columns(path, &mut out, height, columns)?;
    out.flush().map_err(|source| Error::Io { path: path.to_owned(), source })
}

/// Writes `table` to `path` as CSV (comma-separated, header first),
/// atomically.
pub fn write_table_csv(path: impl AsRef<Path>, table: &Table) -> Result<(), Error> {
    let path = path.as_ref();
    table.check(path)?;
    write_atomically(path, |file| {
        write_csv_rows(
            path,
            file,
            table.columns.iter().map(String::as_str),
            table.rows.iter().map(|row| row.iter().map(String::as_str)),
        )
    })
}

/// Writes `table` to `path` as Parquet (every column of type `String`),
/// atomically.
pub fn write_table_parquet(path: impl AsRef<Path>, table: &Table) -> Result<(), Error> {
    let path = path.as_ref();
    table.check(path)?;
    let columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let values = table.rows.iter().map(|row| row[j].as_str()).collect();
            (name.as_str(), values)
        })
        .collect();
    write_atomically(path, |file| write_parquet_columns(path, file, table.rows.len(), columns))
}

/// Writes `table` to `path` as CSV or Parquet, chosen by the extension
/// (see [`Format::from_path`]), atomically.
pub fn write_table(path: impl AsRef<Path>, table: &Table) -> Result<(), Error> {
    let path = path.as_ref();
    match Format::from_path(path)? {
        Format::Csv => write_table_csv(path, table),
        Format::Parquet => write_table_parquet(path, table),
    }
}

/// Writes raw records to `path` as CSV with the default header (the logical
/// field names, e.g. NEON's or Odoo's), atomically. Provenance is not
/// written.
pub fn write_records_csv<'a, T: Record + 'a>(
    path: impl AsRef<Path>,
    records: impl IntoIterator<Item = &'a T>,
) -> Result<(), Error> {
    let path = path.as_ref();
    write_atomically(path, |file| {
        write_csv_rows(
            path,
            file,
            T::FIELDS.iter().map(|f| f.name),
            records.into_iter().map(|r| (0..T::FIELDS.len()).map(|j| r.field(j).unwrap_or_default())),
        )
    })
}

/// Writes raw records to `path` as Parquet, one `String` column per logical
/// field, named like the field, atomically. Provenance is not written.
pub fn write_records_parquet<'a, T: Record + 'a>(
    path: impl AsRef<Path>,
    records: impl IntoIterator<Item = &'a T>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let mut values: Vec<Vec<&str>> = vec![Vec::new(); T::FIELDS.len()];
    let mut height = 0;
    for record in records {
        for (j, column) in values.iter_mut().enumerate() {
            column.push(record.field(j).unwrap_or_default());
        }
        height += 1;
    }
    let columns = T::FIELDS.iter().map(|f| f.name).zip(values).collect();
    write_atomically(path, |file| write_parquet_columns(path, file, height, columns))
}

/// Writes raw records to `path` as CSV or Parquet, chosen by the extension,
/// atomically.
pub fn write_records<'a, T: Record + 'a>(
    path: impl AsRef<Path>,
    records: impl IntoIterator<Item = &'a T>,
) -> Result<(), Error> {
    let path = path.as_ref();
    match Format::from_path(path)? {
        Format::Csv => write_records_csv(path, records),
        Format::Parquet => write_records_parquet(path, records),
    }
}
