//! Normalization of records into the compact lines the tiers work on, duplicate flagging and
//! partitioning by (account, currency).

use hashbrown::HashTable;
use rustc_hash::FxHashMap as HashMap;
use std::cmp::Ordering;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::arena::{self, ReferenceArena, ReferenceSpan, ReferenceView};
use super::{
    Counts, Exception, ExceptionItem, ExceptionKind, Match, MatchConfig, MoveLine, MoveState, Side, StatementLine,
};
use crate::clabe::Clabe;
use crate::currency::Currency;
use crate::fingerprint::{Fingerprint, FingerprintInput, fingerprint};
use crate::money::Money;
use crate::reference::{ReferenceKind, References, TextSource, primary_reference, references_in};
use crate::time::{Timestamp, business_date, operation_date};

/// Orders ids the way people read them (natural order): runs of digits compare by value, everything
/// else bytewise, so `line_9` sorts before `line_10` and NEON's numeric ids sort numerically.
pub fn id_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let run_x = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let run_y = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (digits_x, digits_y) = (trim_zeros(&x[..run_x]), trim_zeros(&y[..run_y]));
                let order = digits_x.len().cmp(&digits_y.len()).then_with(|| digits_x.cmp(digits_y));
                if order != Ordering::Equal {
                    return order;
                }
                x = &x[run_x..];
                y = &y[run_y..];
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    &digits[zeros..]
}

/// A line ready for matching.
#[derive(Debug)]
pub(super) struct Line {
    /// Index in the caller's slice (see [`Line::source`]).
    pub source_index: u32,
    /// Index in `Prepared::accounts` (see [`Line::account`]).
    pub account_index: u32,
    pub currency: Currency,
    pub amount_minor: i64,
    pub business_date: NaiveDate,
    /// Banking-day ordinals of the dates this line may be booked under: for a statement line its
    /// business date and its SPEI operation date; for an Odoo line its accounting date (twice).
    /// Held as `i32` (every `NaiveDate` has one in range; see [`Line::date_ordinals`]).
    ordinals: [i32; 2],
    /// Where the line's references start in `Prepared::arena` and how many there are
    /// ([`Line::references`]; two fields rather than a [`ReferenceSpan`], whose padding would
    /// take seven bytes more).
    references_start: u64,
    references_count: u8,
    /// The first half of the line's fingerprint ([`FingerprintKey`]); the whole one is worked out
    /// again from the line for an exception's evidence ([`Prepared::fingerprint`]).
    pub fingerprint: FingerprintKey,
    pub has_reference: bool,
    /// For a duplicate: the index (in the same side's line list) of the line kept, plus one
    /// ([`Line::duplicate_of`]): four bytes where an `Option<u32>` takes eight.
    duplicate_of: Option<NonZeroU32>,
    /// Reconciled by hand in a manual controlled run: out of the tiers, reconciled in the KPI.
    pub manual: bool,
    /// Whether a statement line's counterparty account is a valid CLABE ([`Prepared::counterparty_clabe`]
    /// reads it from the record: no copy per line).
    pub has_counterparty_clabe: bool,
}

// Every line of a night is one of these: 64 bytes since its references are in the arena (136 with
// them inline, 152 with the whole fingerprint; 168 before indexes and ordinals were 32-bit; 200
// with a copy of the counterparty CLABE).
const _: () = assert!(size_of::<Line>() <= 64);

/// The first 16 bytes (128 bits) of a line's fingerprint: what duplicate flagging and tier 1 compare.
/// Two lines whose fingerprints differ share these 16 bytes with a probability of 2^-128 per pair,
/// for inputs not chosen to collide (a night of 23 M lines has about 2.6 × 10^14 pairs: about 10^-24
/// that any pair does; an upper bound, since only lines of one partition are compared). Keeping half
/// saves 16 bytes a line: 0.37 GB for a night of 23 M lines (10 M statement, 12.9 M Odoo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FingerprintKey([u8; 16]);

impl FingerprintKey {
    fn of(fingerprint: &Fingerprint) -> FingerprintKey {
        FingerprintKey(fingerprint.0[..16].try_into().expect("a fingerprint has 32 bytes"))
    }
}

impl Line {
    /// What [`prepare_lines`] fills its vector with before it writes each line in its place.
    const PLACEHOLDER: Line = Line {
        source_index: 0,
        account_index: 0,
        currency: Currency::MXN,
        amount_minor: 0,
        business_date: NaiveDate::MIN,
        ordinals: [0; 2],
        references_start: 0,
        references_count: 0,
        fingerprint: FingerprintKey([0; 16]),
        has_reference: false,
        duplicate_of: None,
        manual: false,
        has_counterparty_clabe: false,
    };

    /// Index in the caller's slice.
    pub fn source(&self) -> usize {
        self.source_index as usize
    }

    /// Index in `Prepared::accounts`.
    pub fn account(&self) -> usize {
        self.account_index as usize
    }

    /// Banking-day ordinals of the line's dates (see the field `ordinals`).
    pub fn date_ordinals(&self) -> [i64; 2] {
        self.ordinals.map(i64::from)
    }

    /// For a duplicate: the index (in the same side's line list) of the line kept.
    pub fn duplicate_of(&self) -> Option<usize> {
        self.duplicate_of.map(|first| first.get() as usize - 1)
    }

    /// Where the line's references are in its arena.
    pub fn references(&self) -> ReferenceSpan {
        ReferenceSpan { start: self.references_start, count: self.references_count }
    }

    fn set_references(&mut self, span: ReferenceSpan) {
        (self.references_start, self.references_count) = (span.start, span.count);
    }

    fn set_duplicate_of(&mut self, first: u32) {
        self.duplicate_of = Some(NonZeroU32::new(first + 1).expect("fewer than 2^32 - 1 lines a side"));
    }

    pub fn money(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }

    /// Smallest banking-day distance between this line's dates and `other`'s.
    pub fn date_delta(&self, other: &Line) -> i64 {
        let mut best = i64::MAX;
        for a in self.date_ordinals() {
            for b in other.date_ordinals() {
                best = best.min((b - a).abs());
            }
        }
        best
    }

    /// The banking-day ordinal of an Odoo line's accounting date: Odoo lines have one date (stored
    /// twice in `ordinals`), which is what lets `ByDate` sort them on it.
    pub fn odoo_ordinal(&self) -> i64 {
        let [ordinal, again] = self.date_ordinals();
        debug_assert_eq!(ordinal, again, "an Odoo line has one date");
        ordinal
    }
}

/// A group of lines that can match each other: one account, one currency.
#[derive(Debug)]
pub(super) struct Partition {
    pub account_index: usize,
    pub currency: Currency,
    /// Indexes into `Prepared::statements`, sorted by id.
    pub statements: Vec<usize>,
    /// Indexes into `Prepared::moves`, sorted by id.
    pub moves: Vec<usize>,
}

/// Normalized input plus what was set aside.
pub(super) struct Prepared<'a> {
    pub statements_raw: &'a [StatementLine],
    pub moves_raw: &'a [MoveLine],
    pub statements: Vec<Line>,
    pub moves: Vec<Line>,
    /// Every line's references ([`Prepared::references`]); outlives the lines, for the shared
    /// reference of each tier 1 or 2 match (`tiers::Settled`).
    pub arena: ReferenceArena,
    pub accounts: Vec<String>,
    pub counts: Counts,
}

pub(super) fn prepare<'a>(
    statements: &'a [StatementLine],
    moves: &'a [MoveLine],
    config: &MatchConfig,
    manual: &super::ManualAssignments,
) -> Prepared<'a> {
    let mut counts =
        Counts { statements_total: statements.len() as u64, moves_total: moves.len() as u64, ..Counts::default() };
    let account_by_clabe: HashMap<&str, usize> =
        config.accounts.iter().enumerate().map(|(i, a)| (a.clabe.trim(), i)).collect();
    // Normalizing is independent per line: done in parallel. Which lines take part is decided first,
    // into a list of small items, so that the lines themselves are made by an indexed map that writes
    // each straight into its place: collecting a filtered iterator appends the pieces one after
    // another on one core.
    let mut kept: Vec<(usize, usize)> = statements
        .par_iter()
        .enumerate()
        .filter_map(|(index, statement)| Some((index, *account_by_clabe.get(statement.account().trim())?)))
        .collect();
    // Odoo lines are counted and chosen in one pass (which account a line is on is a scan of the
    // configured accounts, once a line): only posted lines on a bank account become `Line`s. The
    // pieces are joined in input order.
    let (mut kept_moves, scopes) = moves
        .par_iter()
        .enumerate()
        .fold(
            || (Vec::new(), Scopes::default()),
            |(mut kept, scopes), (index, line)| {
                let account = config.bank_account_index(line.account());
                if let (Some(account), MoveState::Posted) = (account, line.state) {
                    kept.push((index, account));
                }
                (kept, Scopes::sum(scopes, Scopes::of(account, line.state)))
            },
        )
        .reduce(
            || (Vec::new(), Scopes::default()),
            |(mut left, left_scopes), (right, right_scopes)| {
                left.extend(right);
                (left, Scopes::sum(left_scopes, right_scopes))
            },
        );
    // Each side in id order, so nothing depends on input order: the small (index, account) pairs are
    // sorted, the two sides at once, each on all cores (a stable sort: the order of a sequential
    // one), and the lines are then made in that order.
    rayon::join(
        || kept.par_sort_by(|a, b| id_cmp(statements[a.0].id(), statements[b.0].id())),
        || kept_moves.par_sort_by(|a, b| id_cmp(moves[a.0].id(), moves[b.0].id())),
    );
    let mut arena = ReferenceArena::default();
    let statement_lines = prepare_lines(&kept, &mut arena, LINES_PER_TASK, |index, account_index| {
        let statement = &statements[index];
        let (mut line, references) = prepare_statement(index, statement, account_index, config);
        line.manual = manual.statement_ids.contains(statement.id().trim());
        (line, references)
    });
    drop(kept);
    counts.statements_unmapped = (statements.len() - statement_lines.len()) as u64;
    counts.moves_not_bank_account = scopes.not_bank_account;
    counts.moves_draft = scopes.draft;
    counts.moves_cancelled = scopes.cancelled;
    counts.moves_in_scope = scopes.posted;
    let move_lines = prepare_lines(&kept_moves, &mut arena, LINES_PER_TASK, |index, account_index| {
        let line = &moves[index];
        let (mut prepared, references) = prepare_move(index, line, account_index, config);
        prepared.manual = manual.move_line_ids.contains(line.id().trim());
        (prepared, references)
    });
    drop(kept_moves);
    let mut prepared = Prepared {
        statements_raw: statements,
        moves_raw: moves,
        statements: statement_lines,
        moves: move_lines,
        arena,
        accounts: config.accounts.iter().map(|a| a.clabe.trim().to_owned()).collect(),
        counts,
    };
    prepared.flag_duplicates();
    prepared
}

/// Lines made per task of [`prepare_lines`]: each task appends its lines' references to an arena
/// of its own, a few hundred kilobytes, which are then joined in order.
const LINES_PER_TASK: usize = 1 << 14;

/// Makes the lines of `kept` (record index, account index) on every core, in order, with `make`,
/// and appends their references to `arena`, `lines_per_task` lines a task. The lines are written in place (a vector of
/// placeholders, split by task) so that no copy of them is made; each task's references go into
/// its own arena, joined after in task order, and each line's span is then moved by where its
/// task's references landed. Deterministic: the tasks are fixed by `lines_per_task`.
fn prepare_lines(
    kept: &[(usize, usize)],
    arena: &mut ReferenceArena,
    lines_per_task: usize,
    make: impl Fn(usize, usize) -> (Line, References) + Sync,
) -> Vec<Line> {
    let mut lines: Vec<Line> = (0..kept.len()).into_par_iter().map(|_| Line::PLACEHOLDER).collect();
    let tasks: Vec<ReferenceArena> = lines
        .par_chunks_mut(lines_per_task)
        .zip(kept.par_chunks(lines_per_task))
        .map(|(out, items)| {
            let mut local = ReferenceArena::default();
            for (slot, &(index, account_index)) in out.iter_mut().zip(items) {
                let (mut line, references) = make(index, account_index);
                line.set_references(local.push(&references));
                *slot = line;
            }
            local
        })
        .collect();
    arena.reserve(tasks.iter().map(ReferenceArena::len).sum());
    // Each task's buffer is freed as soon as it is appended.
    let offsets: Vec<u64> = tasks.into_iter().map(|task| arena.append(&task)).collect();
    lines.par_chunks_mut(lines_per_task).zip(offsets).for_each(|(lines, offset)| {
        for line in lines {
            line.references_start += offset;
        }
    });
    lines
}

/// Line positions by fingerprint, for the duplicate flags and tier 1. The table holds positions
/// (4 bytes an entry, where a map of fingerprint to position took 40): a fingerprint is already a
/// uniform hash, so its first eight bytes are the table's hash, and a probe compares the
/// [`FingerprintKey`] of the line at the position it finds (`fingerprint_at`).
pub(super) struct ByFingerprint {
    table: HashTable<u32>,
}

impl ByFingerprint {
    pub fn with_capacity(capacity: usize) -> ByFingerprint {
        ByFingerprint { table: HashTable::with_capacity(capacity) }
    }

    fn hash(fingerprint: &FingerprintKey) -> u64 {
        u64::from_le_bytes(fingerprint.0[..8].try_into().expect("a fingerprint key has 16 bytes"))
    }

    /// The position holding `fingerprint`, if any.
    pub fn get<'l>(
        &self,
        fingerprint: &FingerprintKey,
        fingerprint_at: impl Fn(u32) -> &'l FingerprintKey,
    ) -> Option<u32> {
        self.table.find(Self::hash(fingerprint), |&position| fingerprint_at(position) == fingerprint).copied()
    }

    /// Adds `position`, whose fingerprint no position in the table has.
    pub fn insert_new<'l>(&mut self, position: usize, fingerprint_at: impl Fn(u32) -> &'l FingerprintKey) {
        let position = u32::try_from(position).expect("fewer than 2^32 lines a side");
        debug_assert!(self.get(fingerprint_at(position), &fingerprint_at).is_none(), "a fingerprint is added once");
        let hash = Self::hash(fingerprint_at(position));
        self.table.insert_unique(hash, position, |&other| Self::hash(fingerprint_at(other)));
    }
}

/// [`Prepared::flag_duplicates`] for the lines of one side, in id order.
fn flag_side(lines: &mut [Line]) {
    let mut first_by_fingerprint = ByFingerprint::with_capacity(lines.len());
    for index in 0..lines.len() {
        let line = &lines[index];
        if !line.has_reference || line.manual {
            continue;
        }
        match first_by_fingerprint.get(&line.fingerprint, |first| &lines[first as usize].fingerprint) {
            Some(first) => lines[index].set_duplicate_of(first),
            None => first_by_fingerprint.insert_new(index, |position| &lines[position as usize].fingerprint),
        }
    }
}

/// How many Odoo lines take part and why the others do not.
#[derive(Default)]
struct Scopes {
    not_bank_account: u64,
    draft: u64,
    cancelled: u64,
    posted: u64,
}

impl Scopes {
    fn of(bank_account: Option<usize>, state: MoveState) -> Scopes {
        let mut scopes = Scopes::default();
        match (bank_account, state) {
            (None, _) => scopes.not_bank_account = 1,
            (Some(_), MoveState::Draft) => scopes.draft = 1,
            (Some(_), MoveState::Cancelled) => scopes.cancelled = 1,
            (Some(_), MoveState::Posted) => scopes.posted = 1,
        }
        scopes
    }

    fn sum(a: Scopes, b: Scopes) -> Scopes {
        Scopes {
            not_bank_account: a.not_bank_account + b.not_bank_account,
            draft: a.draft + b.draft,
            cancelled: a.cancelled + b.cancelled,
            posted: a.posted + b.posted,
        }
    }
}

fn references_of(reference_field: &str, free_text: &str) -> References {
    let mut references = references_in(reference_field, TextSource::ReferenceField);
    for reference in references_in(free_text, TextSource::FreeText) {
        if !references.iter().any(|r| r.kind.family() == reference.kind.family() && r.canonical == reference.canonical)
        {
            references.push(reference);
        }
    }
    references
}

/// An index of a line or an account as a [`Line`] holds it.
pub(super) fn narrow_index(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 lines of a side and accounts")
}

/// `date`'s banking-day ordinal as a [`Line`] holds it: `NaiveDate` spans about ±262,000 years,
/// fewer than 10^8 banking days either way, far inside `i32`.
fn ordinal(config: &MatchConfig, date: NaiveDate) -> i32 {
    i32::try_from(config.calendar.banking_day_ordinal(date)).expect("a banking-day ordinal fits in i32")
}

fn prepare_statement(
    index: usize,
    statement: &StatementLine,
    account_index: usize,
    config: &MatchConfig,
) -> (Line, References) {
    let account = config.accounts[account_index].clabe.trim();
    let (business, operation) = match statement.booked_at {
        Some(Timestamp::Instant(instant)) => (
            business_date(&Timestamp::Instant(instant), config.zone),
            operation_date(instant, config.zone, &config.calendar),
        ),
        Some(Timestamp::Date(date)) => (date, date),
        None => {
            let date = statement.value_date.unwrap_or(NaiveDate::MIN);
            (date, date)
        }
    };
    let references = references_of(statement.reference(), statement.description());
    let primary = primary_reference(&references);
    let fingerprint = fingerprint(&FingerprintInput {
        money: statement.amount,
        reference: primary,
        business_date: business,
        account,
    });
    let line = Line {
        source_index: narrow_index(index),
        account_index: narrow_index(account_index),
        currency: statement.amount.currency,
        amount_minor: statement.amount.amount_minor,
        business_date: business,
        ordinals: [ordinal(config, business), ordinal(config, operation)],
        has_reference: primary.is_some(),
        references_start: 0,
        references_count: 0,
        fingerprint: FingerprintKey::of(&fingerprint),
        duplicate_of: None,
        manual: false,
        has_counterparty_clabe: Clabe::parse(statement.counterparty_account()).is_ok(),
    };
    (line, references)
}

fn prepare_move(index: usize, line: &MoveLine, account_index: usize, config: &MatchConfig) -> (Line, References) {
    let account_config = &config.accounts[account_index];
    // Amounts compare in the bank line's currency: for a foreign-currency journal that is
    // amount_currency, not the company-currency balance.
    let money = if account_config.currency == config.company_currency {
        line.balance
    } else {
        line.amount_currency.unwrap_or(line.balance)
    };
    let references = references_of(line.reference(), line.label());
    let primary = primary_reference(&references);
    let fingerprint = fingerprint(&FingerprintInput {
        money,
        reference: primary,
        business_date: line.date,
        account: account_config.clabe.trim(),
    });
    let ordinal = ordinal(config, line.date);
    let line = Line {
        source_index: narrow_index(index),
        account_index: narrow_index(account_index),
        currency: money.currency,
        amount_minor: money.amount_minor,
        business_date: line.date,
        ordinals: [ordinal, ordinal],
        has_reference: primary.is_some(),
        references_start: 0,
        references_count: 0,
        fingerprint: FingerprintKey::of(&fingerprint),
        duplicate_of: None,
        manual: false,
        has_counterparty_clabe: false,
    };
    (line, references)
}

/// Words of a name that can corroborate a match: uppercase, accents folded, legal-form words dropped.
pub(super) fn name_tokens(name: &str) -> Vec<String> {
    const STOPWORDS: &[&str] =
        &["SA", "DE", "CV", "SAPI", "SAB", "RL", "SC", "SOFOM", "ENR", "ER", "THE", "LOS", "LAS", "DEL", "Y"];
    let folded: String = name
        .chars()
        .map(|c| match c.to_uppercase().next().unwrap_or(c) {
            'Á' | 'À' | 'Ä' => 'A',
            'É' | 'È' | 'Ë' => 'E',
            'Í' | 'Ì' | 'Ï' => 'I',
            'Ó' | 'Ò' | 'Ö' => 'O',
            'Ú' | 'Ù' | 'Ü' => 'U',
            'Ñ' => 'N',
            other if other.is_alphanumeric() => other,
            _ => ' ',
        })
        .collect();
    let mut tokens: Vec<String> =
        folded.split_whitespace().filter(|t| t.len() >= 3 && !STOPWORDS.contains(t)).map(str::to_owned).collect();
    tokens.sort();
    tokens.dedup();
    tokens.truncate(8);
    tokens
}

impl Prepared<'_> {
    pub fn line(&self, side: Side, index: usize) -> &Line {
        match side {
            Side::Statement => &self.statements[index],
            Side::Move => &self.moves[index],
        }
    }

    pub fn id(&self, side: Side, index: usize) -> &str {
        let line = self.line(side, index);
        match side {
            Side::Statement => self.statements_raw[line.source()].id(),
            Side::Move => self.moves_raw[line.source()].id(),
        }
    }

    /// Words of the counterparty name (statement) or partner (Odoo line), computed when a tier needs
    /// them rather than for every line.
    pub fn name_tokens(&self, side: Side, index: usize) -> Vec<String> {
        name_tokens(self.name(side, index))
    }

    /// The counterparty name (statement) or partner (Odoo line), as read.
    pub fn name(&self, side: Side, index: usize) -> &str {
        let line = self.line(side, index);
        match side {
            Side::Statement => self.statements_raw[line.source()].counterparty_name(),
            Side::Move => self.moves_raw[line.source()].partner(),
        }
    }

    /// A statement line's counterparty CLABE, when valid: its 18 digits, the trimmed text as given.
    pub fn counterparty_clabe(&self, index: usize) -> Option<&str> {
        let line = &self.statements[index];
        line.has_counterparty_clabe.then(|| self.statements_raw[line.source()].counterparty_account().trim())
    }

    pub fn account(&self, line: &Line) -> &str {
        &self.accounts[line.account()]
    }

    /// A line's references, in the order found (its reference field's first).
    pub fn references(&self, line: &Line) -> arena::References<'_> {
        self.arena.get(line.references())
    }

    /// A line's references with where each starts in the arena ([`ReferenceArena::at`]).
    pub fn references_positioned(&self, line: &Line) -> impl Iterator<Item = (u64, ReferenceView<'_>)> + Clone {
        self.arena.get_positioned(line.references())
    }

    /// A line's reference keys usable for matching (family tag, canonical text): CLABEs identify
    /// accounts, not transactions.
    pub fn reference_keys(&self, line: &Line) -> impl Iterator<Item = (u8, &str)> + Clone {
        self.references(line).filter(|r| r.kind != ReferenceKind::Clabe).map(|r| (r.kind.family().tag(), r.canonical))
    }

    /// A line's references as the parser gave them, for an exception's evidence and its fingerprint.
    fn reference_list(&self, line: &Line) -> References {
        self.references(line).map(ReferenceView::to_reference).collect()
    }

    /// A line's whole fingerprint, worked out again from the line and its references (in the
    /// arena): the same inputs as when it was prepared (its amount in the compared currency, its
    /// primary reference, its business date, its account's CLABE), so the same fingerprint.
    pub fn fingerprint(&self, line: &Line) -> Fingerprint {
        let fingerprint = fingerprint(&FingerprintInput {
            money: line.money(),
            reference: primary_reference(&self.reference_list(line)),
            business_date: line.business_date,
            account: self.account(line),
        });
        debug_assert_eq!(FingerprintKey::of(&fingerprint), line.fingerprint, "the line's own fingerprint");
        fingerprint
    }

    /// Flags duplicates: lines with a reference and the same fingerprint; the lowest id (lines are in
    /// id order) takes part, the others are flagged. The two sides at once.
    fn flag_duplicates(&mut self) {
        rayon::join(|| flag_side(&mut self.statements), || flag_side(&mut self.moves));
    }

    /// Partitions of (account, currency), in a stable order, holding the lines that take part.
    pub fn partitions(&self) -> Vec<Partition> {
        let mut by_key: HashMap<(usize, Currency), Partition> = HashMap::default();
        for (side, lines) in [(Side::Statement, &self.statements), (Side::Move, &self.moves)] {
            for (index, line) in lines.iter().enumerate() {
                if line.duplicate_of().is_some() || line.manual {
                    continue;
                }
                let partition = by_key.entry((line.account(), line.currency)).or_insert_with(|| Partition {
                    account_index: line.account(),
                    currency: line.currency,
                    statements: Vec::new(),
                    moves: Vec::new(),
                });
                match side {
                    Side::Statement => partition.statements.push(index),
                    Side::Move => partition.moves.push(index),
                }
            }
        }
        let mut partitions: Vec<Partition> = by_key.into_values().collect();
        partitions.sort_by_key(|p| (p.account_index, p.currency));
        // Largest first, so rayon does not leave the biggest partition for last.
        partitions.sort_by_key(|p| std::cmp::Reverse(p.statements.len() + p.moves.len()));
        partitions
    }

    pub fn exception_item(&self, side: Side, index: usize) -> ExceptionItem {
        let line = self.line(side, index);
        let (id, raw_reference, raw_text, move_name) = match side {
            Side::Statement => {
                let raw = &self.statements_raw[line.source()];
                (raw.id().to_string(), raw.reference().to_string(), raw.description().to_string(), None)
            }
            Side::Move => {
                let raw = &self.moves_raw[line.source()];
                (
                    raw.id().to_string(),
                    raw.reference().to_string(),
                    raw.label().to_string(),
                    Some(raw.move_name().to_string()),
                )
            }
        };
        ExceptionItem {
            side,
            id,
            fingerprint: self.fingerprint(line),
            amount: line.money(),
            business_date: line.business_date,
            account: self.account(line).to_owned(),
            references: self.reference_list(line).into_vec(),
            raw_reference,
            raw_text,
            move_name,
            record: Some(line.source()),
        }
    }

    /// One `duplicate` exception per group of lines sharing a fingerprint on one side.
    pub fn duplicate_exceptions(&self) -> Vec<Exception> {
        let mut out = Vec::new();
        for (side, lines) in [(Side::Statement, &self.statements), (Side::Move, &self.moves)] {
            let mut groups: HashMap<usize, Vec<usize>> = HashMap::default();
            for (index, line) in lines.iter().enumerate() {
                if let Some(first) = line.duplicate_of() {
                    groups.entry(first).or_default().push(index);
                }
            }
            let mut firsts: Vec<usize> = groups.keys().copied().collect();
            firsts.sort_unstable();
            for first in firsts {
                let mut items = vec![self.exception_item(side, first)];
                items.extend(groups[&first].iter().map(|&i| self.exception_item(side, i)));
                let kept = items[0].id.clone();
                let flagged: Vec<String> = items[1..].iter().map(|i| i.id.clone()).collect();
                let side_name = if side == Side::Statement { "statement lines" } else { "Odoo lines" };
                out.push(super::exceptions::exception(
                    ExceptionKind::Duplicate,
                    items,
                    Vec::new(),
                    super::Difference::default(),
                    format!(
                        "{} {side_name} share one fingerprint (amount, reference, date, account): {kept} takes part in matching, {} flagged as duplicate",
                        flagged.len() + 1,
                        flagged.join(", ")
                    ),
                ));
            }
        }
        out
    }
}

/// The run's counts: what `prepare` counted (`base`), and the matches by rule, the exceptions by
/// kind and the settlement searches cut short.
pub(super) fn counts(base: Counts, matches: &[Match], exceptions: &[Exception], truncated: u64) -> Counts {
    let mut counts = base;
    let mut by_rule: HashMap<super::MatchRule, u64> = HashMap::default();
    for m in matches {
        *by_rule.entry(m.explanation.rule).or_default() += 1;
    }
    let mut by_kind: HashMap<ExceptionKind, u64> = HashMap::default();
    for e in exceptions {
        *by_kind.entry(e.kind).or_default() += 1;
    }
    counts.matches_by_rule = by_rule.into_iter().collect();
    counts.matches_by_rule.sort();
    counts.exceptions_by_kind = by_kind.into_iter().collect();
    counts.exceptions_by_kind.sort();
    counts.settlement_searches_truncated = truncated;
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Reference;

    /// Lines made by several tasks, after references already in the arena (as an Odoo line's come
    /// after every statement line's), find their own references: each task's buffer is moved to
    /// where it lands.
    #[test]
    fn lines_made_by_several_tasks_keep_their_own_references() {
        let texts: Vec<String> = (0..50)
            .map(|i| match i % 4 {
                0 => format!("REF {i}"),
                1 => String::new(),
                2 => format!("RASTREO BBVA20261124{i:05} REF {i}"),
                _ => format!("OXXO 9300 0262 2769 {i:02}"),
            })
            .collect();
        let expected = |index: usize| references_in(&texts[index], TextSource::FreeText).into_vec();
        assert!((0..texts.len()).any(|index| expected(index).len() >= 2), "some lines have several references");
        let kept: Vec<(usize, usize)> = (0..texts.len()).map(|index| (index, 0)).collect();
        let make = |index: usize, _| {
            let line = Line { source_index: narrow_index(index), ..Line::PLACEHOLDER };
            (line, references_in(&texts[index], TextSource::FreeText))
        };
        for lines_per_task in [1, 3, 7, 64] {
            let mut arena = ReferenceArena::default();
            arena.push(&references_in("SPEI MBAN01002308280073291391", TextSource::FreeText));
            let lines = prepare_lines(&kept, &mut arena, lines_per_task, make);
            assert_eq!(lines.len(), texts.len());
            for (index, line) in lines.iter().enumerate() {
                assert_eq!(line.source(), index, "lines in order");
                let back: Vec<Reference> = arena.get(line.references()).map(ReferenceView::to_reference).collect();
                assert_eq!(back, expected(index), "line {index}, {lines_per_task} lines a task");
            }
        }
    }
}
