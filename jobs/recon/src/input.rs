//! Reading the two inputs: raw rows from recon-io, typed lines from recon-core, and every row that
//! cannot be read kept as a [`BadRow`] naming file, line, column and value. Nothing is dropped silently.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono_tz::Tz;
use indicatif::ProgressBar;
use recon_core::matching::{MoveLine, StatementLine};
use recon_core::records::{FieldError, MoveFields, StatementFields, parse_move, parse_statement};
use recon_io::{Format, Layout, Provenance, RawMoveLine, RawStatementLine, Record};
use recon_store::QuarantineRow;

use crate::config::{MoveSourceSettings, StatementSourceSettings};
use crate::exit::bad_input;

/// Most bad rows listed in an error message; the rest are counted.
pub const BAD_ROWS_SHOWN_MAX: usize = 20;

/// A row that could not be read or typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// Source name (`neon`, `odoo`).
    pub source: String,
    /// The file.
    pub file: PathBuf,
    /// 1-based line (CSV) or row (Parquet).
    pub line: u64,
    /// The physical column, when one is to blame.
    pub column: Option<String>,
    /// The offending value, when one is to blame.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
    /// The row's fields as JSON (logical name -> text), when the row could be split into fields.
    pub raw: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(column) = &self.column {
            write!(f, ": column {column:?}")?;
        }
        if let Some(value) = &self.value {
            write!(f, ": value {value:?}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl BadRow {
    /// The row as the store quarantines it.
    pub fn to_quarantine(&self) -> QuarantineRow {
        QuarantineRow {
            source: self.source.clone(),
            file: self.file.display().to_string(),
            line: self.line,
            column_name: self.column.clone(),
            value: self.value.clone(),
            reason: self.reason.clone(),
            raw: self.raw.clone(),
        }
    }
}

/// What one input produced.
#[derive(Debug)]
pub struct Loaded<T> {
    /// Typed lines, in file order.
    pub lines: Vec<T>,
    /// Where each line came from, by id.
    pub provenance: HashMap<String, Provenance>,
    /// Rows that could not be read or typed.
    pub bad_rows: Vec<BadRow>,
}

impl<T> Loaded<T> {
    fn new() -> Self {
        Loaded { lines: Vec::new(), provenance: HashMap::new(), bad_rows: Vec::new() }
    }

    /// Rows read: every row is either a line or a bad row.
    pub fn rows(&self) -> u64 {
        (self.lines.len() + self.bad_rows.len()) as u64
    }
}

/// Types raw records one at a time, from a file or a database page, into a [`Loaded`]: a record
/// that cannot be typed, or whose id was already read, becomes a bad row.
pub struct Typer<'a, L> {
    source: &'a str,
    layout: &'a Layout,
    first_line_of_id: HashMap<String, u64>,
    loaded: Loaded<L>,
}

impl<'a, L> Typer<'a, L> {
    /// A typer for source `source` (`neon`, `odoo`) whose columns are mapped by `layout`.
    pub fn new(source: &'a str, layout: &'a Layout) -> Self {
        Typer { source, layout, first_line_of_id: HashMap::new(), loaded: Loaded::new() }
    }

    /// Adds one record, typed by `typed`; `id_of` gives a line's id.
    pub fn push<T: Record>(
        &mut self,
        raw: &T,
        typed: impl FnOnce(&T) -> Result<L, FieldError>,
        id_of: impl Fn(&L) -> &str,
    ) {
        let line = match typed(raw) {
            Ok(line) => line,
            Err(error) => return self.push_bad(*field_error(self.source, self.layout, raw, &error)),
        };
        if let Err(bad) = unique_id(self.source, self.layout, raw, id_of(&line), &mut self.first_line_of_id) {
            return self.push_bad(*bad);
        }
        self.loaded.provenance.insert(id_of(&line).to_owned(), raw.provenance().clone());
        self.loaded.lines.push(line);
    }

    /// Adds a row that could not be read at all.
    pub fn push_bad(&mut self, bad: BadRow) {
        self.loaded.bad_rows.push(bad);
    }

    /// Everything typed, in the order pushed.
    pub fn finish(self) -> Loaded<L> {
        self.loaded
    }
}

/// Types a NEON record with the source's formats in `zone`.
pub fn type_statement(
    raw: &RawStatementLine,
    source: &StatementSourceSettings,
    zone: Tz,
) -> Result<StatementLine, FieldError> {
    parse_statement(&statement_fields(raw), &source.format, zone)
}

/// Types an Odoo record with the source's formats.
pub fn type_move(raw: &RawMoveLine, source: &MoveSourceSettings) -> Result<MoveLine, FieldError> {
    parse_move(&move_fields(raw), &source.format)
}

/// Reads statement lines from a `.csv`, `.parquet` or `.pq` file.
pub fn read_statements(
    path: &Path,
    source: &StatementSourceSettings,
    zone: Tz,
    progress: &ProgressBar,
) -> Result<Loaded<StatementLine>> {
    let mut typer = Typer::new(&source.name, &source.layout);
    for_each_row::<RawStatementLine>(path, &source.layout, &source.name, |row| {
        progress.inc(1);
        match row {
            Ok(raw) => typer.push(&raw, |raw| type_statement(raw, source, zone), |line| &line.id),
            Err(bad) => typer.push_bad(bad),
        }
    })?;
    Ok(typer.finish())
}

/// Reads Odoo journal items from a `.csv`, `.parquet` or `.pq` file.
pub fn read_moves(path: &Path, source: &MoveSourceSettings, progress: &ProgressBar) -> Result<Loaded<MoveLine>> {
    let mut typer = Typer::new(&source.name, &source.layout);
    for_each_row::<RawMoveLine>(path, &source.layout, &source.name, |row| {
        progress.inc(1);
        match row {
            Ok(raw) => typer.push(&raw, |raw| type_move(raw, source), |line| &line.id),
            Err(bad) => typer.push_bad(bad),
        }
    })?;
    Ok(typer.finish())
}

/// Calls `f` with every record, or with the bad row of a CSV record that recon-io can skip (a ragged
/// row, invalid UTF-8); any other read failure (missing file, missing column, broken CSV, bad Parquet)
/// is fatal.
fn for_each_row<T: Record>(
    path: &Path,
    layout: &Layout,
    source: &str,
    mut f: impl FnMut(Result<T, BadRow>),
) -> Result<()> {
    let fatal = |error: recon_io::Error| bad_input(format!("cannot read {source} input: {error}"));
    match Format::from_path(path).map_err(fatal)? {
        Format::Csv => {
            for record in recon_io::open_csv::<T>(path, layout).map_err(fatal)? {
                match record {
                    Ok(record) => f(Ok(record)),
                    Err(error) => f(Err(record_error(source, path, error).map_err(fatal)?)),
                }
            }
        }
        Format::Parquet => {
            recon_io::for_each_record::<T, recon_io::Error, _>(path, layout, |record| {
                f(Ok(record));
                Ok(())
            })
            .map_err(fatal)?;
        }
        _ => return Err(bad_input(format!("{}: unsupported input format", path.display()))),
    }
    Ok(())
}

/// A skippable record error as a bad row; a fatal one is handed back.
fn record_error(source: &str, path: &Path, error: recon_io::Error) -> Result<BadRow, recon_io::Error> {
    let bad = |line, column, value, reason: String| BadRow {
        source: source.to_owned(),
        file: path.to_owned(),
        line,
        column,
        value,
        reason,
        raw: String::new(),
    };
    match error {
        recon_io::Error::RaggedRow { line, expected, found, .. } => {
            Ok(bad(line, None, None, format!("the record has {found} fields but the header has {expected}")))
        }
        recon_io::Error::InvalidUtf8 { line, column, value, .. } => {
            Ok(bad(line, Some(column), Some(value), "not valid UTF-8 (the file must be UTF-8)".to_owned()))
        }
        other => Err(other),
    }
}

/// The physical column a logical field is read from.
fn column_of(layout: &Layout, field: &str) -> String {
    layout.columns.get(field).cloned().unwrap_or_else(|| field.to_owned())
}

/// The record's logical fields as a JSON object, for quarantine.
fn raw_json<T: Record>(record: &T) -> String {
    let fields: BTreeMap<&str, &str> = T::FIELDS
        .iter()
        .enumerate()
        .map(|(index, spec)| (spec.name, record.field(index).unwrap_or_default()))
        .collect();
    serde_json::to_string(&fields).unwrap_or_default()
}

fn field_error<T: Record>(source: &str, layout: &Layout, record: &T, error: &FieldError) -> Box<BadRow> {
    Box::new(BadRow {
        source: source.to_owned(),
        file: record.provenance().file.to_path_buf(),
        line: record.provenance().line,
        column: Some(column_of(layout, error.field)),
        value: Some(error.value.clone()),
        reason: error.error.to_string(),
        raw: raw_json(record),
    })
}

/// Refuses a second row with an id already read: ids are the identity of matches and cases.
fn unique_id<T: Record>(
    source: &str,
    layout: &Layout,
    record: &T,
    id: &str,
    first_line_of_id: &mut HashMap<String, u64>,
) -> Result<(), Box<BadRow>> {
    let line = record.provenance().line;
    if let Some(&first) = first_line_of_id.get(id) {
        return Err(Box::new(BadRow {
            source: source.to_owned(),
            file: record.provenance().file.to_path_buf(),
            line,
            column: Some(column_of(layout, "id")),
            value: Some(id.to_owned()),
            reason: format!("id already used by line {first}; ids must be unique"),
            raw: raw_json(record),
        }));
    }
    first_line_of_id.insert(id.to_owned(), line);
    Ok(())
}

fn statement_fields(raw: &RawStatementLine) -> StatementFields<'_> {
    StatementFields {
        id: &raw.id,
        account: &raw.account,
        booked_at: &raw.booked_at,
        value_date: &raw.value_date,
        amount: &raw.amount,
        currency: &raw.currency,
        reference: &raw.reference,
        description: &raw.description,
        counterparty_name: &raw.counterparty_name,
        counterparty_account: &raw.counterparty_account,
    }
}

fn move_fields(raw: &RawMoveLine) -> MoveFields<'_> {
    MoveFields {
        id: &raw.id,
        move_name: &raw.move_name,
        date: &raw.date,
        journal_id: &raw.journal_id,
        account_id: &raw.account_id,
        partner_id: &raw.partner_id,
        name: &raw.name,
        reference: &raw.r#ref,
        debit: &raw.debit,
        credit: &raw.credit,
        amount_currency: &raw.amount_currency,
        currency_id: &raw.currency_id,
        parent_state: &raw.parent_state,
    }
}

/// The error that stops a run over bad rows: every bad row up to [`BAD_ROWS_SHOWN_MAX`], then a count.
pub fn bad_rows_error(bad_rows: &[BadRow]) -> anyhow::Error {
    let mut message = format!(
        "{} bad input row(s); nothing was written (run with --skip-bad-rows to quarantine them and go on):",
        bad_rows.len()
    );
    for row in bad_rows.iter().take(BAD_ROWS_SHOWN_MAX) {
        message.push_str("\n  ");
        message.push_str(&row.to_string());
    }
    if bad_rows.len() > BAD_ROWS_SHOWN_MAX {
        message.push_str(&format!("\n  ... and {} more", bad_rows.len() - BAD_ROWS_SHOWN_MAX));
    }
    bad_input(message)
}

/// BLAKE3 of an input file, for the run's record of what it read.
pub fn hash(path: &Path) -> Result<String> {
    recon_io::blake3_file(path).map_err(|error| bad_input(error.to_string())).context("hashing an input")
}
