//! Where `recon run` reads its two inputs: files (CSV, Parquet: [`crate::input`]) or PostgreSQL
//! databases, read straight from their tables by recon-postgres — the NEON table of bank statement
//! lines, and Odoo's own `account_move_line` — and the check, before any work, that the
//! configuration matches those databases.
//!
//! A database is read for the run's context range only (the range plus `context_banking_days`
//! banking days on each side; NEON one calendar day more on each side, for evening bookings that
//! are already the next day in UTC), by keyset pages: memory holds the typed lines and one page of
//! raw rows. What comes out is typed exactly as the same rows read from a CSV export would be, so a
//! run over a database gives the matches and cases of a run over its export.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use recon_core::matching::{MoveLine, StatementLine};
use recon_io::{RawMoveLine, RawStatementLine, Record};
use recon_postgres::{Database, NeonSource, OdooSource};
use recon_store::RunInput;

use crate::config::Settings;
use crate::exit::bad_input;
use crate::input::{self, Judge, Loaded, Typer, Verdict};
use crate::scope::{DateRange, Place, SideCounts};
use crate::terminal;

/// One input as given on the command line: a file, or a PostgreSQL database.
#[derive(Debug)]
pub enum Input {
    /// A `.csv`, `.parquet` or `.pq` file.
    File(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(Database),
}

impl Input {
    /// A `postgres://` or `postgresql://` argument is a database (a URL that does not parse is a
    /// usage error, named without its password); anything else is a file.
    pub fn parse(argument: &Path) -> Result<Input> {
        let text = argument.to_string_lossy();
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Ok(Input::File(argument.to_owned()));
        }
        Database::from_url(&text).map(Input::Postgres).map_err(|error| bad_input(error.to_string()))
    }
}

/// The two inputs of a run.
#[derive(Debug)]
pub struct Sources {
    /// NEON bank statement lines.
    pub statements: Input,
    /// Odoo journal items.
    pub moves: Input,
}

/// The typed inputs of a run, and what the run records about them.
#[derive(Debug)]
pub struct Inputs {
    /// Statement lines of the context range (and bad rows).
    pub statements: Loaded<StatementLine>,
    /// Odoo lines of the context range on a configured bank GL account (and bad rows).
    pub moves: Loaded<MoveLine>,
    /// Statement lines by date: in the range, in the margin, outside (left out).
    pub statement_counts: SideCounts,
    /// Odoo lines by date, counterpart lines included.
    pub move_counts: SideCounts,
    /// Odoo lines of the context range left out at read because they are not on a configured bank
    /// GL account (receivable, payable: never matched, only counted).
    pub counterpart_lines: u64,
    /// Name, place, BLAKE3 and row count of each input.
    pub run_inputs: Vec<RunInput>,
}

impl Sources {
    /// The inputs named by `--statements` and `--moves`.
    pub fn parse(statements: &Path, moves: &Path) -> Result<Sources> {
        Ok(Sources { statements: Input::parse(statements)?, moves: Input::parse(moves)? })
    }

    /// Checks the configuration against the database inputs before any work: the NEON table exists
    /// with every mapped column (identifiers validated, an integer key with a unique index), and
    /// every configured journal and bank GL account exists in the Odoo company. Any mismatch, or a
    /// database that cannot be reached after retries, is a bad-input error (exit 2) that lists every
    /// problem with the names that look like it. Files are checked as they are read.
    pub async fn check(&self, settings: &Settings, context: DateRange) -> Result<()> {
        if let Input::Postgres(database) = &self.statements {
            let source = neon_source(settings, context);
            recon_postgres::check_neon_table(database, &source)
                .await
                .map_err(|error| source_error(&settings.statements.name, "configuration check", &error))?;
        }
        if let Input::Postgres(database) = &self.moves {
            let source = odoo_source(settings, context);
            recon_postgres::check_odoo_config(database, &source)
                .await
                .map_err(|error| source_error(&settings.moves.name, "configuration check", &error))?;
        }
        Ok(())
    }

    /// Reads and types both inputs, keeping the lines of `context` (a database input is read for
    /// `context` only) and, of Odoo, only the lines on a configured bank GL account: the rest is
    /// counted and dropped as it is read.
    pub async fn read(&self, settings: &Settings, range: DateRange, context: DateRange) -> Result<Inputs> {
        let zone = settings.zone;
        let config = &settings.match_config;
        // Tallies: a line's place, or for an Odoo counterpart line in the context its place plus
        // `COUNTERPART` (the core would have counted it as not on a bank account).
        let judge_statement = |line: &StatementLine| {
            let place = Place::of_statement(line, zone, range, context);
            Verdict { keep: place != Place::Outside, tally: place as u8 }
        };
        let judge_move = |line: &MoveLine| {
            let place = Place::of(line.date, range, context);
            let counterpart = place != Place::Outside && config.bank_account_index(line.account()).is_none();
            let tally = if counterpart { COUNTERPART + place as u8 } else { place as u8 };
            Verdict { keep: place != Place::Outside && !counterpart, tally }
        };
        let ((statements, statements_input), (moves, moves_input)) = match (&self.statements, &self.moves) {
            // Two files are read at once: one file's read keeps about one core of two busy (its
            // stages wait on one another), and the other's fills the rest (BENCHMARKS.md,
            // fourteenth session). A failure of either read stops the other, so a bad first line
            // is reported at once; the statement file's failure is reported first, as when the
            // files were read one after the other.
            (Input::File(statements), Input::File(moves)) => {
                let stop = AtomicBool::new(false);
                let (statements, moves) = std::thread::scope(|scope| {
                    let moves =
                        scope.spawn(|| stop_on_failure(read_move_file(settings, moves, &judge_move, &stop), &stop));
                    let statements =
                        stop_on_failure(read_statement_file(settings, statements, &judge_statement, &stop), &stop);
                    (statements, moves.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                });
                match (statements, moves) {
                    (Ok(statements), Ok(moves)) => (statements, moves),
                    // A read that only stopped because the other failed is not what went wrong.
                    (Err(error), _) if !error.is::<input::ReadStopped>() => return Err(error),
                    (_, Err(error)) | (Err(error), Ok(_)) => return Err(error),
                }
            }
            _ => {
                let never = AtomicBool::new(false);
                let statements = match &self.statements {
                    Input::File(path) => read_statement_file(settings, path, &judge_statement, &never)?,
                    Input::Postgres(database) => read_neon(database, settings, context, &judge_statement).await?,
                };
                let moves = match &self.moves {
                    Input::File(path) => read_move_file(settings, path, &judge_move, &never)?,
                    Input::Postgres(database) => read_odoo(database, settings, context, &judge_move).await?,
                };
                (statements, moves)
            }
        };
        let statement_counts = SideCounts::from_places(Place::ALL.map(|place| statements.tally(place as u8)));
        let move_counts = SideCounts::from_places(
            Place::ALL.map(|place| moves.tally(place as u8) + moves.tally(COUNTERPART + place as u8)),
        );
        let counterpart_lines = Place::ALL.map(|place| moves.tally(COUNTERPART + place as u8)).iter().sum();
        Ok(Inputs {
            statements,
            moves,
            statement_counts,
            move_counts,
            counterpart_lines,
            run_inputs: vec![statements_input, moves_input],
        })
    }
}

/// `read`, setting `stop` if it failed.
fn stop_on_failure<T>(read: Result<T>, stop: &AtomicBool) -> Result<T> {
    if read.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    read
}

/// The tallies of Odoo counterpart lines start here, after the places: `COUNTERPART + place` counts
/// the counterpart lines of a place.
const COUNTERPART: u8 = Place::Outside as u8 + 1;

/// What to read from NEON: the configured table and columns, over the context range.
pub fn neon_source(settings: &Settings, context: DateRange) -> NeonSource {
    let mut source = NeonSource::new(context.from, context.to);
    source.table = settings.statements.table.clone();
    source.layout = settings.statements.layout.clone();
    source.batch_rows = settings.statements.batch_rows;
    source
}

/// What to read from Odoo: the configured company, the accounts' journals and bank GL accounts,
/// over the context range.
pub fn odoo_source(settings: &Settings, context: DateRange) -> OdooSource {
    let mut journals: Vec<String> = Vec::new();
    for account in &settings.match_config.accounts {
        if !journals.contains(&account.journal) {
            journals.push(account.journal.clone());
        }
    }
    OdooSource {
        company_id: settings.moves.company_id,
        journals,
        bank_account_codes: settings.match_config.accounts.iter().map(|a| a.gl_account_code.clone()).collect(),
        date_from: context.from,
        date_to: context.to,
        language: settings.moves.language.clone(),
        batch_rows: settings.moves.batch_rows,
    }
}

async fn read_neon(
    database: &Database,
    settings: &Settings,
    context: DateRange,
    judge: input::Judge<'_, StatementLine>,
) -> Result<(Loaded<StatementLine>, RunInput)> {
    let source = neon_source(settings, context);
    let statements = &settings.statements;
    let progress = terminal::progress("reading statement lines");
    let mut typer = Typer::new(&statements.name, &statements.layout, judge);
    let mut hasher = RowHasher::new();
    let read = recon_postgres::for_each_statement_page(database, &source, async |page: Vec<RawStatementLine>| {
        progress.inc(page.len() as u64);
        for raw in &page {
            hasher.add(raw);
            typer.push(raw, |raw| input::type_statement(raw, statements, settings.zone));
        }
        Ok::<(), recon_postgres::Error>(())
    })
    .await
    .map_err(|error| source_error(&statements.name, "read", &error))?;
    progress.finish_and_clear();
    tracing::info!(
        source = %statements.name, database = database.description(), table = %source.table, rows = read.rows,
        pages = read.pages, retries = read.retries, "statement lines read from PostgreSQL"
    );
    let loaded = typer.finish();
    let place = format!("{}#{}", database.description(), source.table);
    let run_input =
        RunInput { name: statements.name.clone(), path: place, blake3: hasher.finish(), rows: loaded.rows() };
    Ok((loaded, run_input))
}

async fn read_odoo(
    database: &Database,
    settings: &Settings,
    context: DateRange,
    judge: input::Judge<'_, MoveLine>,
) -> Result<(Loaded<MoveLine>, RunInput)> {
    let source = odoo_source(settings, context);
    let moves = &settings.moves;
    let progress = terminal::progress("reading Odoo lines");
    let mut typer = Typer::new(&moves.name, &moves.layout, judge);
    let mut hasher = RowHasher::new();
    let read = recon_postgres::for_each_odoo_page(database, &source, async |page: Vec<RawMoveLine>| {
        progress.inc(page.len() as u64);
        for raw in &page {
            hasher.add(raw);
            typer.push(raw, |raw| input::type_move(raw, moves));
        }
        Ok::<(), recon_postgres::Error>(())
    })
    .await
    .map_err(|error| source_error(&moves.name, "read", &error))?;
    progress.finish_and_clear();
    tracing::info!(
        source = %moves.name, database = database.description(), rows = read.summary.rows, pages = read.summary.pages,
        retries = read.summary.retries, draft_lines = read.draft_lines, cancelled_lines = read.cancelled_lines,
        flavour = ?read.flavour, "Odoo lines read from PostgreSQL"
    );
    let loaded = typer.finish();
    let place = format!("{}#account_move_line", database.description());
    let run_input = RunInput { name: moves.name.clone(), path: place, blake3: hasher.finish(), rows: loaded.rows() };
    Ok((loaded, run_input))
}

/// A database source that failed: the caller's problem (exit 2), like an unreadable file.
fn source_error(source: &str, what: &str, error: &recon_postgres::Error) -> anyhow::Error {
    bad_input(format!("{source} input: {what} failed: {error}"))
}

/// Reads a NEON statement file with the source's layout and formats in the run's zone, keeping lines
/// as `judge` says, and hashes it meanwhile ([`read_and_hash`]); gives up once `stop` is set
/// ([`input::ReadStopped`]).
pub fn read_statement_file(
    settings: &Settings,
    path: &Path,
    judge: Judge<'_, StatementLine>,
    stop: &AtomicBool,
) -> Result<(Loaded<StatementLine>, RunInput)> {
    read_and_hash(&settings.statements.name, path, "reading statement lines", |progress| {
        input::read_statements(path, &settings.statements, settings.zone, progress, judge, stop)
    })
}

/// Reads an Odoo journal item file with the source's layout and formats, keeping lines as `judge`
/// says, and hashes it meanwhile ([`read_and_hash`]); gives up once `stop` is set
/// ([`input::ReadStopped`]).
pub fn read_move_file(
    settings: &Settings,
    path: &Path,
    judge: Judge<'_, MoveLine>,
    stop: &AtomicBool,
) -> Result<(Loaded<MoveLine>, RunInput)> {
    read_and_hash(&settings.moves.name, path, "reading Odoo lines", |progress| {
        input::read_moves(path, &settings.moves, progress, judge, stop)
    })
}

/// Reads the file input `name` at `path` with `read` (behind a progress bar saying `what`), while
/// another thread hashes the file for the run's record of its inputs, and stops hashing if the read
/// fails. Hashed after the read, the 1 M
/// night's two files (710 MB) took another pass over the bytes with the read's threads idle; the
/// read leaves a core partly idle, where the hash now runs.
fn read_and_hash<L: input::Identified + Send>(
    name: &str,
    path: &Path,
    what: &'static str,
    read: impl FnOnce(&ProgressBar) -> Result<Loaded<L>>,
) -> Result<(Loaded<L>, RunInput)> {
    let stop = AtomicBool::new(false);
    let (loaded, blake3) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| input::hash_unless_stopped(path, &stop));
        let progress = terminal::progress(what);
        let loaded = read(&progress);
        progress.finish_and_clear();
        if loaded.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let blake3 = hashing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (loaded, blake3)
    });
    let loaded = loaded?;
    let blake3 = blake3?.context("hashing an input: stopped although the read succeeded")?;
    let rows = loaded.rows();
    Ok((loaded, RunInput { name: name.to_owned(), path: path.display().to_string(), blake3, rows }))
}

/// BLAKE3 of the rows read from a database, the run's record of what it read (a file input is
/// hashed as bytes instead): every row in id order, each field's text in the record's field order
/// followed by 0x1F (unit separator), each row followed by 0x1E (record separator).
struct RowHasher(blake3::Hasher);

impl RowHasher {
    fn new() -> Self {
        RowHasher(blake3::Hasher::new())
    }

    fn add<T: Record>(&mut self, record: &T) {
        for index in 0..T::FIELDS.len() {
            self.0.update(record.field(index).unwrap_or_default().as_bytes());
            self.0.update(&[0x1f]);
        }
        self.0.update(&[0x1e]);
    }

    fn finish(&self) -> String {
        self.0.finalize().to_hex().to_string()
    }
}
