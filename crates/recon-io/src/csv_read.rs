//! Streaming CSV reader.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use crate::error::Error;
use crate::layout::{Layout, locate};
use crate::record::{Provenance, Record};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// An iterator over the records of one CSV file, read one record at a time
/// (memory stays bounded by the largest record, whatever the file's size).
///
/// Made by [`open_csv`](crate::open_csv). After a record-level error
/// ([`Error::RaggedRow`], [`Error::InvalidUtf8`]) iteration goes on with the
/// next record, so a caller may set bad records aside; after any other error
/// the iterator ends.
pub struct CsvRecords<T> {
    path: Arc<Path>,
    reader: csv::Reader<LineTracker<BufReader<File>>>,
    header: Arc<[String]>,
    /// Per logical field, the index of its column, or `None` if left out.
    indices: Arc<[Option<usize>]>,
    values: Vec<String>,
    /// Buffers of records a caller handed back ([`CsvRecords::recycle`]), read into again.
    spare_records: Vec<csv::ByteRecord>,
    /// The row list of a chunk handed back, filled again by [`CsvRecords::next_chunk`].
    spare_rows: Option<Vec<Result<Row, Error>>>,
    done: bool,
    kind: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for CsvRecords<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvRecords")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("indices", &self.indices)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: Record> CsvRecords<T> {
    pub(crate) fn open(path: &Path, layout: &Layout) -> Result<Self, Error> {
        let mapped = layout.resolve::<T>()?;
        let delimiter = layout.delimiter_byte::<T>()?;
        let io = |source| Error::Io { path: path.to_owned(), source };
        let file = File::open(path).map_err(io)?;
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        if buffered.fill_buf().map_err(io)?.starts_with(UTF8_BOM) {
            buffered.consume(UTF8_BOM.len());
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(LineTracker::new(buffered));
        let header: Arc<[String]> = reader
            .byte_headers()
            .map_err(|e| convert(path, e, |_| 1).0)?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_owned())
            .collect();
        let indices = locate::<T>(path, &header, &mapped)?.into();
        Ok(Self {
            path: Arc::from(path),
            reader,
            header,
            indices,
            values: Vec::with_capacity(T::FIELDS.len()),
            spare_records: Vec::new(),
            spare_rows: None,
            done: false,
            kind: PhantomData,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names of the file's header (trimmed; decoded lossily if
    /// not UTF-8).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Reads the next record as checked text, or `None` at the end of the file (or after a fatal
    /// error, which is returned once).
    fn next_row(&mut self) -> Option<Result<Row, Error>> {
        if self.done {
            return None;
        }
        // A buffer handed back, or room for a typical record up front: growing from empty reallocates
        // several times a record.
        let mut record = self.spare_records.pop().unwrap_or_else(|| csv::ByteRecord::with_capacity(256, 16));
        match self.reader.read_byte_record(&mut record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => Some(self.check(record)),
            Err(e) => {
                let here = self.reader.position().byte();
                let tracker = self.reader.get_mut();
                let (error, fatal) = convert(&self.path, e, |byte| tracker.line_at(byte.unwrap_or(here)));
                self.done = fatal;
                Some(Err(error))
            }
        }
    }

    /// The record as text, with the line where it starts.
    fn check(&mut self, record: csv::ByteRecord) -> Result<Row, Error> {
        let line = match record.position() {
            Some(position) => self.reader.get_mut().line_at(position.byte()),
            None => 0,
        };
        // The whole record must be UTF-8, not only the mapped columns: a bad
        // byte anywhere means the file's encoding is wrong.
        match csv::StringRecord::from_byte_record(record) {
            Ok(record) => Ok(Row { line, record }),
            Err(error) => {
                let index = error.utf8_error().field();
                let record = error.into_byte_record();
                let value = record.get(index).unwrap_or_default();
                Err(Error::InvalidUtf8 {
                    path: self.path.to_path_buf(),
                    line,
                    column: self.header.get(index).cloned().unwrap_or_default(),
                    value: String::from_utf8_lossy(value).into_owned(),
                })
            }
        }
    }

    /// Up to `max_rows` records (and record errors, in file order) as text, without building `T`:
    /// for callers that type records in parallel. `None` once the file is read. After a fatal error
    /// (anything but [`Error::RaggedRow`] and [`Error::InvalidUtf8`]) the chunk ends with it and no
    /// chunk follows.
    pub fn next_chunk(&mut self, max_rows: usize) -> Option<CsvChunk> {
        let mut rows = self.spare_rows.take().unwrap_or_else(|| Vec::with_capacity(max_rows.min(1 << 16)));
        while rows.len() < max_rows.max(1) {
            match self.next_row() {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        if rows.is_empty() {
            return None;
        }
        Some(CsvChunk { path: Arc::clone(&self.path), indices: Arc::clone(&self.indices), rows })
    }

    /// Takes back a chunk the caller is done with, so that the next chunks are read into its
    /// buffers instead of new ones. Reading a file otherwise allocates two blocks a record and
    /// frees them on the caller's thread, and the allocator hands out fresh pages for the next
    /// chunk: in a profile of the 1 M read, those pages were about a tenth of the read's CPU time.
    pub fn recycle(&mut self, mut chunk: CsvChunk) {
        self.spare_records
            .extend(chunk.rows.drain(..).filter_map(|row| row.ok()).map(|row| row.record.into_byte_record()));
        self.spare_rows = Some(chunk.rows);
    }
}

impl<T: Record> Iterator for CsvRecords<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = match self.next_row()? {
            Ok(row) => row,
            Err(error) => return Some(Err(error)),
        };
        let view = RecordView { path: &self.path, indices: &self.indices, row: &row };
        self.values.clear();
        self.values.extend((0..self.indices.len()).map(|index| view.field(index).unwrap_or_default().to_owned()));
        Some(Ok(T::from_fields(view.provenance(), self.values.drain(..))))
    }
}

/// One record as text, with the line where it starts.
#[derive(Debug)]
struct Row {
    line: u64,
    record: csv::StringRecord,
}

/// A run of consecutive records of one CSV file, as text: see [`CsvRecords::next_chunk`].
#[derive(Debug)]
pub struct CsvChunk {
    path: Arc<Path>,
    indices: Arc<[Option<usize>]>,
    rows: Vec<Result<Row, Error>>,
}

impl CsvChunk {
    /// Records and record errors in the chunk.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Bytes of field text in the chunk's records (separators, quotes and line breaks not
    /// counted): with the file's size, a caller can estimate how many records the file holds.
    pub fn text_len(&self) -> usize {
        self.rows.iter().map(|row| row.as_ref().map_or(0, |row| row.record.as_slice().len())).sum()
    }

    /// Whether the chunk holds nothing (never true for a chunk from [`CsvRecords::next_chunk`]).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The `index`-th record of the chunk, or the error found in its place; `None` past the end.
    pub fn get(&self, index: usize) -> Option<Result<RecordView<'_>, &Error>> {
        Some(match self.rows.get(index)? {
            Ok(row) => Ok(RecordView { path: &self.path, indices: &self.indices, row }),
            Err(error) => Err(error),
        })
    }
}

/// A record of a [`CsvChunk`], its fields borrowed from the chunk.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    path: &'a Arc<Path>,
    indices: &'a [Option<usize>],
    row: &'a Row,
}

impl<'a> RecordView<'a> {
    /// The text of the logical field at `index` in [`Record::FIELDS`] (`""` for a field the layout
    /// leaves out), or `None` past the last field.
    pub fn field(&self, index: usize) -> Option<&'a str> {
        let column = self.indices.get(index)?;
        Some(column.and_then(|column| self.row.record.get(column)).unwrap_or_default())
    }

    /// The 1-based line where the record starts.
    pub fn line(&self) -> u64 {
        self.row.line
    }

    /// Where the record came from.
    pub fn provenance(&self) -> Provenance {
        Provenance { file: Arc::clone(self.path), line: self.row.line }
    }
}

/// Converts a `csv` error; the flag tells whether reading cannot go on.
/// `line_at` turns the byte offset of the error's record (if it has one)
/// into a line.
fn convert(path: &Path, error: csv::Error, line_at: impl FnOnce(Option<u64>) -> u64) -> (Error, bool) {
    let reason = error.to_string();
    let line = line_at(error.position().map(csv::Position::byte));
    match error.into_kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            (Error::RaggedRow { path: path.to_owned(), line, expected: expected_len, found: len }, false)
        }
        csv::ErrorKind::Io(source) => (Error::Io { path: path.to_owned(), source }, true),
        _ => (Error::MalformedCsv { path: path.to_owned(), line, reason }, true),
    }
}

/// Counts physical lines in the bytes the CSV parser reads, so a record's
/// byte offset can be turned into the line where it starts.
///
/// The `csv` crate's own `Position::line` is wrong after CRLF line endings
/// and after blank lines (BurntSushi/rust-csv issues 395 and 208), and its
/// `Position::byte` points at the line break(s) before the record rather
/// than at the record itself. So: a line break is `\n`, `\r\n` or a lone
/// `\r`; every break is remembered with the offset where its run of
/// consecutive CR/LF bytes began; the record at reported offset `b` starts
/// after every break whose run began at or before `b` (a record never
/// starts with CR or LF, so the bytes from `b` up to the record are such a
/// run). Breaks are forgotten once passed, so memory is bounded by the
/// parser's read-ahead.
struct LineTracker<R> {
    inner: R,
    /// Offset of the next byte to be read.
    offset: u64,
    /// Where the current run of CR/LF bytes began, if the last byte was one.
    run_start: Option<u64>,
    /// The last byte was `\r`, whose break is recorded once the next byte
    /// shows it was not the start of `\r\n`.
    pending_cr: bool,
    /// For each break not yet passed, where its run began.
    breaks: VecDeque<u64>,
    /// Number of breaks passed.
    passed: u64,
}

impl<R> LineTracker<R> {
    fn new(inner: R) -> Self {
        Self { inner, offset: 0, run_start: None, pending_cr: false, breaks: VecDeque::new(), passed: 0 }
    }

    /// The 1-based line of the record the parser reports at `byte`.
    /// Calls must come with non-decreasing offsets.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.breaks.front().is_some_and(|&start| start <= byte) {
            self.breaks.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }

    fn scan(&mut self, bytes: &[u8]) {
        // Only CR and LF change the state; a run of other bytes has the same effect as one of them,
        // so jump from line break to line break (memchr) instead of looking at every byte.
        let mut after_break = 0;
        for index in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if index > after_break {
                self.other_bytes();
            }
            let offset = self.offset + index as u64;
            let start = *self.run_start.get_or_insert(offset);
            if bytes[index] == b'\n' {
                self.breaks.push_back(start);
                self.pending_cr = false;
            } else {
                if self.pending_cr {
                    self.breaks.push_back(start);
                }
                self.pending_cr = true;
            }
            after_break = index + 1;
        }
        if bytes.len() > after_break {
            self.other_bytes();
        }
        self.offset += bytes.len() as u64;
    }

    /// A byte that is neither CR nor LF: it ends a run of line breaks (a pending lone CR is one).
    fn other_bytes(&mut self) {
        if let Some(start) = self.run_start.take()
            && self.pending_cr
        {
            self.breaks.push_back(start);
        }
        self.pending_cr = false;
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}
