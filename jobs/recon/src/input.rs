//! Reading the two inputs: raw rows from recon-io, typed lines from recon-core, and every row that
//! cannot be read kept as a [`BadRow`] naming file, line, column and value. Nothing is dropped silently.

use std::collections::BTreeMap;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use chrono_tz::Tz;
use hashbrown::{HashTable, hash_table};
use indicatif::ProgressBar;
use rayon::prelude::*;
use recon_core::matching::{MoveLine, StatementLine};
use recon_core::records::{FieldError, MoveFields, StatementFields, parse_move, parse_statement};
use recon_io::{Format, Layout, Provenance, RawMoveLine, RawStatementLine, Record, RecordView};
use recon_store::QuarantineRow;
use rustc_hash::FxBuildHasher;

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

/// A typed line's id: the identity of matches and cases, unique per input.
pub trait Identified {
    /// The id (trimmed by the core's parser).
    fn id(&self) -> &str;
}

impl Identified for StatementLine {
    fn id(&self) -> &str {
        self.id()
    }
}

impl Identified for MoveLine {
    fn id(&self) -> &str {
        self.id()
    }
}

/// What one input produced.
#[derive(Debug)]
pub struct Loaded<T> {
    /// Typed lines kept by the reader's judge, in file order.
    pub lines: Vec<T>,
    /// Rows that could not be read or typed.
    pub bad_rows: Vec<BadRow>,
    /// Typed lines (kept or left out, not bad rows) by the tally their [`Verdict`] named.
    tallies: [u64; TALLIES],
    /// The file (or table) the lines were read from.
    origin: Option<Arc<Path>>,
    /// `line_numbers[i]` is where `lines[i]` starts in `origin`.
    line_numbers: Vec<u64>,
    /// Every id read, kept or left out, by its hash: the index of a kept line (in `lines`, or while
    /// the file is read possibly past its end, among [`Typer`]'s pending lines), or [`LEFT_OUT`] plus
    /// an index into `left_out_ids`. Ids are checked for uniqueness on the way in (one table: one
    /// lookup a line, which also finds the place to insert), without a second copy of every id.
    /// Freed once read ([`Typer::finish`]): a case finds where its lines were read by their index
    /// (`ExceptionItem::record`, [`Loaded::provenance`]).
    by_id: HashTable<usize>,
    /// What is left of each line the judge left out (outside the run's dates, Odoo counterpart
    /// lines) while the input is read: its id's hash and key and its line, in the order read.
    /// Emptied once read, when only their count is needed.
    left_out_ids: Vec<LeftOutId>,
    /// Lines the judge left out.
    left_out: usize,
}

/// Marks an entry of [`Loaded::by_id`] as an index into [`Loaded::left_out_ids`].
const LEFT_OUT: usize = 1 << (usize::BITS - 1);

/// A left-out line's id, without its text: its hash, a 128-bit BLAKE3 key (16 bytes instead of the
/// id: two ids share a key with probability 2^-128) and the line it was read from, so uniqueness
/// holds across the whole input whatever the run keeps.
#[derive(Clone, Copy, Debug)]
struct LeftOutId {
    hash: u64,
    key: u128,
    line: u64,
}

impl<T: Identified> Loaded<T> {
    fn new() -> Self {
        Loaded {
            lines: Vec::new(),
            bad_rows: Vec::new(),
            tallies: [0; TALLIES],
            origin: None,
            line_numbers: Vec::new(),
            by_id: HashTable::new(),
            left_out_ids: Vec::new(),
            left_out: 0,
        }
    }

    /// Rows read: every row is a kept line, a left-out line or a bad row.
    pub fn rows(&self) -> u64 {
        (self.lines.len() + self.bad_rows.len() + self.left_out) as u64
    }

    /// Typed lines counted in tally `index` (see [`Verdict`]).
    pub fn tally(&self, index: u8) -> u64 {
        self.tallies[usize::from(index)]
    }

    /// The hash an entry of `by_id` was filed under (see [`Typer`] for `pending`).
    fn entry_hash(lines: &[T], pending: &[T], left_out_ids: &[LeftOutId], entry: usize) -> u64 {
        match entry & LEFT_OUT {
            0 => id_hash(kept(lines, pending, entry).id()),
            _ => left_out_ids[entry & !LEFT_OUT].hash,
        }
    }

    /// Where the kept line at `index` (in [`Loaded::lines`]) was read.
    pub fn provenance(&self, index: usize) -> Option<Provenance> {
        Some(Provenance { file: Arc::clone(self.origin.as_ref()?), line: *self.line_numbers.get(index)? })
    }
}

/// The kept line at `index`: in `lines`, or past its end in `pending` (see [`Typer`]).
fn kept<'l, T>(lines: &'l [T], pending: &'l [T], index: usize) -> &'l T {
    match index.checked_sub(lines.len()) {
        Some(at) => &pending[at],
        None => &lines[index],
    }
}

fn id_hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// The key of a left-out line's id: the first 128 bits of its BLAKE3 hash.
fn left_out_key(id: &str) -> u128 {
    let hash = blake3::hash(id.as_bytes());
    let mut first = [0; 16];
    first.copy_from_slice(&hash.as_bytes()[..16]);
    u128::from_le_bytes(first)
}

/// The fields of a record by logical index ([`Record::FIELDS`] order), wherever it was read from.
pub trait Fields {
    /// The text of the field at `index` (`""` past the last field or when left out).
    fn field(&self, index: usize) -> &str;
    /// Where the record starts.
    fn line(&self) -> u64;
}

impl Fields for RecordView<'_> {
    fn field(&self, index: usize) -> &str {
        RecordView::field(self, index).unwrap_or_default()
    }

    fn line(&self) -> u64 {
        RecordView::line(self)
    }
}

/// A raw record from Parquet or a database page as [`Fields`].
pub struct Raw<'r, T>(pub &'r T);

impl<T: Record> Fields for Raw<'_, T> {
    fn field(&self, index: usize) -> &str {
        self.0.field(index).unwrap_or_default()
    }

    fn line(&self) -> u64 {
        self.0.provenance().line
    }
}

/// Tallies a reader keeps: one per value of [`Verdict::tally`], so no judge can name one that is
/// not there.
const TALLIES: usize = 1 << u8::BITS;

/// What the reader does with a typed line: keep it for the run or leave it out, and which of the
/// caller's tallies counts it ([`Loaded::tally`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the run uses the line.
    pub keep: bool,
    /// The tally that counts it.
    pub tally: u8,
}

/// Judges typed lines. It is a pure function of the line, so it runs where the line was typed
/// (on every core for a CSV file): a left-out line is dropped there, and only its id's hashes
/// reach the thread that accepts lines in file order.
pub type Judge<'j, L> = &'j (dyn Fn(&L) -> Verdict + Sync);

/// Keeps every line, counted in tally 0.
pub fn keep_all<L>(_: &L) -> Verdict {
    Verdict { keep: true, tally: 0 }
}

/// A typed line, judged: kept whole with its id's hash, or left out with only its id's hash and
/// 128-bit key ([`left_out_key`]), which is all uniqueness needs.
pub struct Judged<L> {
    kept: Result<L, u128>,
    hash: u64,
    tally: u8,
}

impl<L: Identified> Judged<L> {
    /// `line` as `judge` sees it.
    pub fn new(line: L, judge: Judge<'_, L>) -> Self {
        let verdict = judge(&line);
        let hash = id_hash(line.id());
        let kept = if verdict.keep { Ok(line) } else { Err(left_out_key(line.id())) };
        Judged { kept, hash, tally: verdict.tally }
    }
}

/// Collects typed records, from a file or a database page, into a [`Loaded`]: a record that
/// cannot be typed, or whose id was already read (kept or left out), becomes a bad row. Of a
/// left-out line only its id's hash, a 16-byte key of it and its line number are remembered.
///
/// Kept lines wait in `pending` (at most [`PENDING_MAX`], the same memory over and over) and move
/// into [`Loaded::lines`] on every core. Moving them there one at a time left the first touch of
/// that memory (0.8 GB at 1 M lines, the kernel zeroing each page) to the thread that accepts
/// lines in file order, the read's busiest.
pub struct Typer<'a, 'k, L> {
    source: &'a str,
    layout: &'a Layout,
    judge: Judge<'k, L>,
    loaded: Loaded<L>,
    /// Kept lines accepted after `loaded.lines`, numbered on from its end.
    pending: Vec<L>,
}

/// Most kept lines a [`Typer`] holds before moving them into [`Loaded::lines`]: a chunk's worth.
const PENDING_MAX: usize = CHUNK_ROWS;

impl<'a, 'k, L: Identified + Send> Typer<'a, 'k, L> {
    /// A typer for source `source` (`neon`, `odoo`) whose columns are mapped by `layout`, keeping
    /// and counting lines as `judge` says.
    pub fn new(source: &'a str, layout: &'a Layout, judge: Judge<'k, L>) -> Self {
        Typer { source, layout, judge, loaded: Loaded::new(), pending: Vec::new() }
    }

    /// Adds one record of kind `T` from `file`, typed and judged (or refused) as `typed`.
    pub fn accept<T: Record>(&mut self, file: &Arc<Path>, raw: &dyn Fields, typed: Result<Judged<L>, FieldError>) {
        let judged = match typed {
            Ok(judged) => judged,
            Err(error) => {
                let bad = field_error::<T>(self.source, self.layout, file, raw, &error);
                return self.push_bad(*bad);
            }
        };
        // Ids are unique across the whole input, kept or left out: a duplicate is a bad row whatever
        // the run's dates, and is not counted in any tally. A left-out id has no text left, so it
        // is compared with another by its key.
        let (loaded, pending) = (&mut self.loaded, &mut self.pending);
        let (lines, left_out_ids) = (&loaded.lines, &loaded.left_out_ids);
        let same_id = |&entry: &usize| match (entry & LEFT_OUT, &judged.kept) {
            (0, Ok(line)) => kept(lines, pending, entry).id() == line.id(),
            (0, Err(key)) => left_out_key(kept(lines, pending, entry).id()) == *key,
            (_, Ok(line)) => left_out_ids[entry & !LEFT_OUT].key == left_out_key(line.id()),
            (_, Err(key)) => left_out_ids[entry & !LEFT_OUT].key == *key,
        };
        let rehash = |&entry: &usize| Loaded::entry_hash(lines, pending, left_out_ids, entry);
        let vacant = match loaded.by_id.entry(judged.hash, same_id, rehash) {
            hash_table::Entry::Vacant(vacant) => vacant,
            hash_table::Entry::Occupied(occupied) => {
                let entry = *occupied.get();
                let first = match entry & LEFT_OUT {
                    0 => loaded.line_numbers[entry],
                    _ => loaded.left_out_ids[entry & !LEFT_OUT].line,
                };
                // The id is field 0 of both record kinds; the parser trims the id it types.
                let id = judged.kept.as_ref().map_or_else(|_| raw.field(0).trim(), |line| line.id());
                let bad = duplicate_id::<T>(self.source, self.layout, file, raw, id, first);
                return self.push_bad(*bad);
            }
        };
        loaded.tallies[usize::from(judged.tally)] += 1;
        match judged.kept {
            Ok(line) => {
                let index = loaded.lines.len() + pending.len();
                debug_assert!(index < LEFT_OUT, "line indexes stay below the left-out mark");
                vacant.insert(index);
                if loaded.origin.is_none() {
                    loaded.origin = Some(Arc::clone(file));
                }
                loaded.line_numbers.push(raw.line());
                pending.push(line);
                if pending.len() >= PENDING_MAX {
                    self.move_pending();
                }
            }
            Err(key) => {
                vacant.insert(LEFT_OUT | loaded.left_out_ids.len());
                loaded.left_out_ids.push(LeftOutId { hash: judged.hash, key, line: raw.line() });
            }
        }
    }

    /// Looks up the ids of a chunk about to be [accepted](Typer::accept), so that the control bytes
    /// their inserts probe are in the CPU's cache when they are taken. The table holds every id of
    /// the input (38 M at the top of a night) at random places, and its two cache misses per id,
    /// one after the other, were most of the accepting thread's time (`perf annotate`: 90 % of
    /// `accept`'s samples, 59 % on the control bytes' load and 31 % on the slot's store). Lookups
    /// that change nothing do not wait on each other: the CPU has several in flight at once. The
    /// slot's store still misses: a lookup that finds nothing never reads a slot.
    pub fn warm<'j>(&self, judged: impl Iterator<Item = &'j Judged<L>>)
    where
        L: 'j,
    {
        for judged in judged {
            std::hint::black_box(self.loaded.by_id.find(judged.hash, |_| false));
        }
    }

    /// Adds a raw record of kind `T`, typing it with `typed` and judging it here.
    pub fn push<T: Record>(&mut self, raw: &T, typed: impl FnOnce(&Raw<'_, T>) -> Result<L, FieldError>) {
        let fields = Raw(raw);
        let result = typed(&fields).map(|line| Judged::new(line, self.judge));
        self.accept::<T>(&raw.provenance().file, &fields, result);
    }

    /// Makes room for `rows` more records, so that the id table (which holds kept and left-out ids
    /// alike) and the line vectors are not grown (rehashed, copied) again and again while a big
    /// file is read. Room in the line vectors for records the judge leaves out is address space
    /// only: memory is touched as lines are kept. The left-out ids (32 bytes each) grow as needed.
    pub fn reserve(&mut self, rows: usize) {
        let (loaded, pending) = (&mut self.loaded, &self.pending);
        loaded.lines.reserve(rows);
        loaded.line_numbers.reserve(rows);
        let (lines, left_out_ids) = (&loaded.lines, &loaded.left_out_ids);
        loaded.by_id.reserve(rows, |&entry| Loaded::entry_hash(lines, pending, left_out_ids, entry));
    }

    /// Adds a row that could not be read at all.
    pub fn push_bad(&mut self, bad: BadRow) {
        self.loaded.bad_rows.push(bad);
    }

    /// Moves the pending lines to the end of [`Loaded::lines`], on every core. Called from outside
    /// rayon's pool, it waits for a worker to pick the job up (while a CSV file is read, once the
    /// workers are done with the typing they have queued); the in-order thread has the time.
    fn move_pending(&mut self) {
        self.loaded.lines.par_extend(self.pending.par_drain(..));
    }

    /// Everything typed, in the order pushed. Ids are settled, so what kept them unique is freed:
    /// the left-out lines' records (32 bytes a line: 0.4 GB for the 13 M Odoo counterpart lines of
    /// the 10 M night, held until the end of the run before the tenth session) and the id index
    /// (9 bytes a slot, sized for every id read: 0.45 GB at 10 M, held through the reconcile before
    /// the sixteenth).
    pub fn finish(mut self) -> Loaded<L> {
        self.move_pending();
        let loaded = &mut self.loaded;
        loaded.left_out = loaded.left_out_ids.len();
        loaded.by_id = HashTable::new();
        loaded.left_out_ids = Vec::new();
        self.loaded
    }
}

/// Types a NEON record with the source's formats in `zone`.
pub fn type_statement(
    raw: &(impl Fields + ?Sized),
    source: &StatementSourceSettings,
    zone: Tz,
) -> Result<StatementLine, FieldError> {
    parse_statement(&statement_fields(raw), &source.format, zone)
}

/// Types an Odoo record with the source's formats.
pub fn type_move(raw: &(impl Fields + ?Sized), source: &MoveSourceSettings) -> Result<MoveLine, FieldError> {
    parse_move(&move_fields(raw), &source.format)
}

/// Records typed in parallel per chunk of a CSV file.
const CHUNK_ROWS: usize = 8192;

/// The most records [`Typer::reserve`] is asked to make room for from an estimate.
const MAX_RESERVED_ROWS: u64 = 100_000_000;

/// Records a CSV file of `file_len` bytes holds, estimated from its first chunk (which read
/// `rows` records of `text_len` bytes of field text; separators are not counted, so this leans
/// high), at most [`MAX_RESERVED_ROWS`].
fn estimated_rows(file_len: u64, rows: usize, text_len: usize) -> usize {
    let estimate = file_len.saturating_mul(rows as u64) / (text_len as u64).max(1);
    usize::try_from(estimate.min(MAX_RESERVED_ROWS)).unwrap_or(usize::MAX)
}

/// A read given up because `stop` was set: the other input's read failed, and its error is the one
/// reported (see `Sources::read`).
#[derive(Debug)]
pub struct ReadStopped;

impl std::fmt::Display for ReadStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("read stopped: the other input could not be read")
    }
}

impl std::error::Error for ReadStopped {}

/// Reads statement lines from a `.csv`, `.parquet` or `.pq` file, kept and counted as `judge` says;
/// gives up with [`ReadStopped`] once `stop` is set.
pub fn read_statements(
    path: &Path,
    source: &StatementSourceSettings,
    zone: Tz,
    progress: &ProgressBar,
    judge: Judge<'_, StatementLine>,
    stop: &AtomicBool,
) -> Result<Loaded<StatementLine>> {
    let mut typer = Typer::new(&source.name, &source.layout, judge);
    read_file::<RawStatementLine, _>(path, &source.layout, &source.name, progress, &mut typer, stop, &|raw| {
        type_statement(raw, source, zone)
    })?;
    Ok(typer.finish())
}

/// Reads Odoo journal items from a `.csv`, `.parquet` or `.pq` file, kept and counted as `judge` says;
/// gives up with [`ReadStopped`] once `stop` is set.
pub fn read_moves(
    path: &Path,
    source: &MoveSourceSettings,
    progress: &ProgressBar,
    judge: Judge<'_, MoveLine>,
    stop: &AtomicBool,
) -> Result<Loaded<MoveLine>> {
    let mut typer = Typer::new(&source.name, &source.layout, judge);
    read_file::<RawMoveLine, _>(path, &source.layout, &source.name, progress, &mut typer, stop, &|raw| {
        type_move(raw, source)
    })?;
    Ok(typer.finish())
}

/// Feeds every record of a file to `typer`, or the bad row of a CSV record that recon-io can skip (a
/// ragged row, invalid UTF-8); any other read failure (missing file, missing column, broken CSV, bad
/// Parquet) is fatal.
///
/// CSV is read on its own thread in chunks of [`CHUNK_ROWS`] records, typed and judged in parallel
/// (rayon) on another while the chunk before is accepted; records reach `typer` in file order, so line numbers,
/// bad rows and the choice of the first of two equal ids do not depend on the thread count. Once
/// `stop` is set no further chunk is parsed, and the read ends with [`ReadStopped`].
fn read_file<T: Record, L: Identified + Send>(
    path: &Path,
    layout: &Layout,
    source: &str,
    progress: &ProgressBar,
    typer: &mut Typer<'_, '_, L>,
    stop: &AtomicBool,
    typed: &(dyn Fn(&dyn Fields) -> Result<L, FieldError> + Sync),
) -> Result<()> {
    let fatal = |error: &recon_io::Error| bad_input(format!("cannot read {source} input: {error}"));
    match Format::from_path(path).map_err(|e| fatal(&e))? {
        Format::Csv => {
            let mut records = recon_io::open_csv::<T>(path, layout).map_err(|e| fatal(&e))?;
            let file: Arc<Path> = Arc::from(path);
            let judge = typer.judge;
            // Three stages, each on its own thread, joined by bounded channels: parsing, typing (in
            // parallel, rayon) and accepting in file order (here), so a chunk is accepted while the
            // next one is typed and the one after is parsed.
            std::thread::scope(|scope| {
                let (sender, receiver) = std::sync::mpsc::sync_channel(2);
                // Chunks accepted go back to the parsing thread to be read into again.
                let (recycle_sender, recycled) = std::sync::mpsc::sync_channel::<recon_io::CsvChunk>(4);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        recycled.try_iter().for_each(|chunk| records.recycle(chunk));
                        let Some(chunk) = records.next_chunk(CHUNK_ROWS) else { break };
                        if sender.send(chunk).is_err() {
                            return; // the typing side stopped at a fatal error
                        }
                    }
                });
                let (typed_sender, typed_receiver) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || {
                    for chunk in receiver {
                        let results: Vec<Option<Result<Judged<L>, FieldError>>> = (0..chunk.len())
                            .into_par_iter()
                            .map(|index| match chunk.get(index) {
                                Some(Ok(view)) => Some(typed(&view).map(|line| Judged::new(line, judge))),
                                _ => None,
                            })
                            .collect();
                        if typed_sender.send((chunk, results)).is_err() {
                            return; // the accepting side stopped at a fatal error
                        }
                    }
                });
                let file_len = std::fs::metadata(path).map(|metadata| metadata.len()).unwrap_or(0);
                for (index, (chunk, results)) in typed_receiver.into_iter().enumerate() {
                    if index == 0 {
                        typer.reserve(estimated_rows(file_len, chunk.len(), chunk.text_len()));
                    }
                    progress.inc(chunk.len() as u64);
                    typer.warm(results.iter().filter_map(|result| result.as_ref()?.as_ref().ok()));
                    for (index, result) in results.into_iter().enumerate() {
                        match (chunk.get(index), result) {
                            (Some(Ok(view)), Some(result)) => typer.accept::<T>(&file, &view, result),
                            (Some(Err(error)), _) => {
                                typer.push_bad(record_error(source, path, error).map_err(fatal)?);
                            }
                            _ => {}
                        }
                    }
                    // The parsing thread may have finished, or have enough chunks to read into.
                    let _ = recycle_sender.try_send(chunk);
                }
                Ok::<(), anyhow::Error>(())
            })?;
        }
        Format::Parquet => {
            recon_io::for_each_record::<T, recon_io::Error, _>(path, layout, |record| {
                progress.inc(1);
                typer.push(&record, |raw| typed(raw));
                Ok(())
            })
            .map_err(|e| fatal(&e))?;
        }
        _ => return Err(bad_input(format!("{}: unsupported input format", path.display()))),
    }
    if stop.load(Ordering::Relaxed) {
        return Err(ReadStopped.into());
    }
    Ok(())
}

/// A skippable record error as a bad row; a fatal one is handed back.
fn record_error<'e>(source: &str, path: &Path, error: &'e recon_io::Error) -> Result<BadRow, &'e recon_io::Error> {
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
            Ok(bad(*line, None, None, format!("the record has {found} fields but the header has {expected}")))
        }
        recon_io::Error::InvalidUtf8 { line, column, value, .. } => Ok(bad(
            *line,
            Some(column.clone()),
            Some(value.clone()),
            "not valid UTF-8 (the file must be UTF-8)".to_owned(),
        )),
        other => Err(other),
    }
}

/// The physical column a logical field is read from.
fn column_of(layout: &Layout, field: &str) -> String {
    layout.columns.get(field).cloned().unwrap_or_else(|| field.to_owned())
}

/// The record's logical fields as a JSON object, for quarantine.
fn raw_json<T: Record>(record: &dyn Fields) -> String {
    let fields: BTreeMap<&str, &str> =
        T::FIELDS.iter().enumerate().map(|(index, spec)| (spec.name, record.field(index))).collect();
    serde_json::to_string(&fields).unwrap_or_default()
}

fn field_error<T: Record>(
    source: &str,
    layout: &Layout,
    file: &Path,
    record: &dyn Fields,
    error: &FieldError,
) -> Box<BadRow> {
    Box::new(BadRow {
        source: source.to_owned(),
        file: file.to_path_buf(),
        line: record.line(),
        column: Some(column_of(layout, error.field)),
        value: Some(error.value.clone()),
        reason: error.error.to_string(),
        raw: raw_json::<T>(record),
    })
}

/// A second row with an id already read: ids are the identity of matches and cases.
fn duplicate_id<T: Record>(
    source: &str,
    layout: &Layout,
    file: &Path,
    record: &dyn Fields,
    id: &str,
    first: u64,
) -> Box<BadRow> {
    Box::new(BadRow {
        source: source.to_owned(),
        file: file.to_path_buf(),
        line: record.line(),
        column: Some(column_of(layout, "id")),
        value: Some(id.to_owned()),
        reason: format!("id already used by line {first}; ids must be unique"),
        raw: raw_json::<T>(record),
    })
}

/// The fields in [`RawStatementLine::FIELDS`] order.
fn statement_fields(raw: &(impl Fields + ?Sized)) -> StatementFields<'_> {
    StatementFields {
        id: raw.field(0),
        account: raw.field(1),
        booked_at: raw.field(2),
        value_date: raw.field(3),
        amount: raw.field(4),
        currency: raw.field(5),
        reference: raw.field(6),
        description: raw.field(7),
        counterparty_name: raw.field(8),
        counterparty_account: raw.field(9),
    }
}

/// The fields in [`RawMoveLine::FIELDS`] order.
fn move_fields(raw: &(impl Fields + ?Sized)) -> MoveFields<'_> {
    MoveFields {
        id: raw.field(0),
        move_name: raw.field(1),
        date: raw.field(2),
        journal_id: raw.field(3),
        account_id: raw.field(4),
        partner_id: raw.field(5),
        name: raw.field(6),
        reference: raw.field(7),
        debit: raw.field(8),
        credit: raw.field(9),
        amount_currency: raw.field(10),
        currency_id: raw.field(11),
        parent_state: raw.field(12),
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

/// Blocks an input file is hashed in (see [`hash_unless_stopped`]).
const HASH_BLOCK: usize = 1 << 20;

/// BLAKE3 of an input file's bytes, the run's record of what it read; `None` once `stop` is set
/// (the read beside which it runs has failed, so nothing waits for the rest of a large file).
pub fn hash_unless_stopped(path: &Path, stop: &AtomicBool) -> Result<Option<String>> {
    let failed = |source| bad_input(recon_io::Error::Io { path: path.to_owned(), source }.to_string());
    let mut file = File::open(path).map_err(failed).context("hashing an input")?;
    let mut hasher = blake3::Hasher::new();
    let mut block = vec![0; HASH_BLOCK];
    while !stop.load(Ordering::Relaxed) {
        match file.read(&mut block) {
            Ok(0) => return Ok(Some(hasher.finalize().to_hex().to_string())),
            Ok(read) => {
                hasher.update(&block[..read]);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(failed(error)).context("hashing an input"),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use recon_io::{Layout, RawStatementLine};

    use super::{Fields, Identified, Judged, PENDING_MAX, Typer, Verdict, estimated_rows};

    #[derive(Debug)]
    struct Line(String);

    impl Identified for Line {
        fn id(&self) -> &str {
            &self.0
        }
    }

    /// A record as the typer sees it: its id (field 0) and line.
    struct Row<'a>(&'a str, u64);

    impl Fields for Row<'_> {
        fn field(&self, index: usize) -> &str {
            if index == 0 { self.0 } else { "" }
        }

        fn line(&self) -> u64 {
            self.1
        }
    }

    /// Kept lines move into `lines` a chunk at a time: an id seen again is refused whether its
    /// first line has moved, still waits, or was left out, and every kept line is found by its id
    /// at the line it was read from.
    #[test]
    fn ids_stay_unique_across_the_moves_of_kept_lines() {
        let layout = Layout::neon_default();
        let judge = |line: &Line| Verdict { keep: !line.0.ends_with('x'), tally: u8::from(line.0.ends_with('x')) };
        let mut typer = Typer::new("neon", &layout, &judge);
        let file: Arc<Path> = Arc::from(Path::new("lines.csv"));
        let mut accept = |id: &str, line: u64| {
            let judged = Judged::new(Line(id.to_owned()), &judge);
            typer.accept::<RawStatementLine>(&file, &Row(id, line), Ok(judged));
        };
        let total = 3 * PENDING_MAX + 5;
        let id = |n: usize| if n % 7 == 3 { format!("L{n}x") } else { format!("L{n}") };
        for n in 0..total {
            accept(&id(n), n as u64 + 2);
        }
        // L0 has moved into `lines`; the last kept line still waits in `pending`.
        let kept_count = (0..total).filter(|n| n % 7 != 3).count();
        assert_ne!(kept_count % PENDING_MAX, 0, "some kept lines are still pending");
        let waiting = id(total - 2);
        assert!(!waiting.ends_with('x'), "{waiting} is kept");
        for (again, line) in [("L0", 9_000_001), (waiting.as_str(), 9_000_002), ("L3x", 9_000_003)] {
            accept(again, line);
        }
        let loaded = typer.finish();
        let left_out = (0..total).filter(|n| n % 7 == 3).count();
        assert_eq!(loaded.lines.len(), total - left_out);
        assert_eq!((loaded.tally(0), loaded.tally(1)), ((total - left_out) as u64, left_out as u64));
        assert_eq!(loaded.rows(), total as u64 + 3);
        let refused: Vec<u64> = loaded.bad_rows.iter().map(|bad| bad.line).collect();
        assert_eq!(refused, [9_000_001, 9_000_002, 9_000_003]);
        let firsts: Vec<&str> = loaded.bad_rows.iter().map(|bad| bad.reason.as_str()).collect();
        let waiting_line = format!("id already used by line {total}; ids must be unique");
        assert_eq!(
            firsts,
            [
                "id already used by line 2; ids must be unique",
                &waiting_line,
                "id already used by line 5; ids must be unique"
            ]
        );
        for n in (0..total).filter(|n| n % 7 != 3) {
            let index = n - n / 7 - usize::from(n % 7 > 3);
            assert_eq!(loaded.lines[index].0, format!("L{n}"));
            assert_eq!(loaded.provenance(index).map(|p| p.line), Some(n as u64 + 2), "L{n}");
        }
        assert_eq!(loaded.provenance(loaded.lines.len()), None, "past the kept lines");
    }

    /// The hash is the file's BLAKE3, as recon-io computes it; a set stop gives none, and a missing
    /// file is an error that names it.
    #[test]
    fn input_hash_is_the_files_blake3_unless_stopped() {
        use std::sync::atomic::AtomicBool;

        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/demo/neon_statement_lines.csv");
        let going = AtomicBool::new(false);
        let hash = super::hash_unless_stopped(&demo, &going).unwrap();
        assert_eq!(hash, Some(recon_io::blake3_file(&demo).unwrap()));
        assert_eq!(super::hash_unless_stopped(&demo, &AtomicBool::new(true)).unwrap(), None);
        let missing = demo.with_file_name("no-such-file.csv");
        let error = format!("{:#}", super::hash_unless_stopped(&missing, &going).unwrap_err());
        assert!(error.contains("no-such-file.csv"), "{error}");
    }

    #[test]
    fn row_estimate_scales_the_first_chunk_to_the_file_and_is_bounded() {
        // 8,192 records of 100 bytes of text in a 10 MB file: about 100,000 records.
        assert_eq!(estimated_rows(10_000_000, 8_192, 819_200), 100_000);
        assert_eq!(estimated_rows(0, 10, 1_000), 0);
        assert_eq!(estimated_rows(1_000, 10, 0), 10_000);
        assert_eq!(estimated_rows(u64::MAX, 8_192, 1), 100_000_000, "bounded by MAX_RESERVED_ROWS");
    }
}
