//! Parquet reading and writing through polars.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::{Column, DataFrame, DataType, ParquetReader, ParquetWriter, PlSmallStr, PolarsError, SerReader};

use crate::error::Error;
use crate::layout::{Layout, locate};
use crate::record::{Provenance, Record};

fn parquet_error(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |source| Error::Parquet { path: path.to_owned(), source }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_owned(), source }
}

/// Calls `f` with each record of a Parquet file, in order, reading one row
/// group at a time (memory stays bounded by a row group, not the file).
///
/// Every mapped column is cast to text (polars' cast to `String`; a null
/// reads as `""`). [`Provenance::line`] is the row index + 1.
pub(crate) fn for_each_parquet<T: Record, E: From<Error>>(
    path: &Path,
    layout: &Layout,
    mut f: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    let mapped = layout.resolve::<T>()?;
    let pq = parquet_error(path);
    let io = io_error(path);

    let mut reader = ParquetReader::new(File::open(path).map_err(&io)?);
    let header: Vec<String> = reader.schema().map_err(&pq)?.iter_names().map(|name| name.to_string()).collect();
    let indices = locate::<T>(path, &header, &mapped)?;
    let metadata = Arc::clone(reader.get_metadata().map_err(&pq)?);

    // Each physical column once, even if several fields read it.
    let mut wanted: Vec<String> = Vec::new();
    for index in indices.iter().flatten() {
        if !wanted.contains(&header[*index]) {
            wanted.push(header[*index].clone());
        }
    }

    let file: Arc<Path> = Arc::from(path);
    let mut first_row: usize = 0;
    for row_group in &metadata.row_groups {
        let rows = row_group.num_rows();
        if rows == 0 {
            continue;
        }
        let mut reader = ParquetReader::new(File::open(path).map_err(&io)?);
        reader.set_metadata(Arc::clone(&metadata));
        let frame =
            reader.with_columns(Some(wanted.clone())).with_slice(Some((first_row, rows))).finish().map_err(&pq)?;

        let mut texts = Vec::with_capacity(indices.len());
        for index in &indices {
            texts.push(match index {
                Some(i) => Some(as_text(path, &frame, &header[*i])?),
                None => None,
            });
        }
        let mut columns = Vec::with_capacity(texts.len());
        for text in &texts {
            columns.push(match text {
                Some(column) => Some(column.str().map_err(&pq)?.iter()),
                None => None,
            });
        }

        for row in 0..frame.height() {
            let values = columns.iter_mut().map(|column| {
                column.as_mut().and_then(|values| values.next().flatten()).unwrap_or_default().to_owned()
            });
            let record = T::from_fields(Provenance { file: Arc::clone(&file), line: line_of(first_row + row) }, values);
            f(record)?;
        }
        first_row += rows;
    }
    Ok(())
}

/// 1-based line for a 0-based row index.
fn line_of(row: usize) -> u64 {
    u64::try_from(row).map_or(u64::MAX, |r| r.saturating_add(1))
}

/// The column `name` of `frame`, cast to text.
fn as_text(path: &Path, frame: &DataFrame, name: &str) -> Result<Column, Error> {
    let column = frame.column(name).map_err(parquet_error(path))?;
    column.cast(&DataType::String).map_err(|source| Error::ColumnType {
        path: path.to_owned(),
        column: name.to_owned(),
        dtype: column.dtype().to_string(),
        source,
    })
}

/// Writes text columns as Parquet into `out` (all columns of type `String`,
/// no nulls). `columns` holds (name, values) pairs of equal length.
pub(crate) fn write_text_columns<W: Write>(
    path: &Path,
    out: W,
    height: usize,
    columns: Vec<(&str, Vec<&str>)>,
) -> Result<(), Error> {
    let columns: Vec<Column> =
        columns.into_iter().map(|(name, values)| Column::new(PlSmallStr::from(name), values)).collect();
    let mut frame = DataFrame::new(height, columns).map_err(parquet_error(path))?;
    ParquetWriter::new(out).finish(&mut frame).map_err(parquet_error(path))?;
    Ok(())
}
