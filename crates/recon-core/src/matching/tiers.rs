//! Tiers 1 to 3 within one (account, currency) partition; tier 4 is in `settlement`.

use std::borrow::Borrow;
use std::hash::Hash;
use std::num::NonZeroU64;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use super::arena::ReferenceArena;
use super::exceptions::{Ambiguity, Leftovers};
use super::prepare::{ByFingerprint, Line, Partition, Prepared};
use super::{Explanation, Match, MatchConfig, MatchRule, MoveLine, Review, StatementLine, Text, match_id};
use crate::money::Money;
use crate::reference::ReferenceKind;

/// What one partition produced.
pub(super) struct PartitionResult {
    /// The matches, in the order the tiers made them: the caller orders all partitions' matches at
    /// once, by statement index, and only then turns them into [`Match`]es.
    pub matches: Vec<Found>,
    pub leftovers: Leftovers,
    pub settlement_searches_truncated: u64,
}

/// A match as the tiers record it: line indexes and why, no ids yet. Partitions only decide; as
/// soon as a partition is done, [`Found::settle`] takes what the match needs from the lines (and
/// explains a tier 1 or 2 match) on all cores, and the partition's `Found`s are freed; once every
/// partition is done and the lines are freed, [`Settled::to_match`] writes the ids, the match id
/// (blake3) and the account on all cores, each match straight into its place in the outcome.
/// Building them inside the partitions left that work to whichever core drew the largest
/// partition, and moved every 200-byte match once more to put them in order; a `Found` is 64 bytes.
pub(super) struct Found {
    /// Index of the statement line in `Prepared::statements` (id order).
    pub statement: usize,
    /// Index of an Odoo line in `Prepared::moves`; a settlement's other lines are in `more_moves`
    /// (empty, so no heap block, for the one-to-one matches that are nearly all of them).
    pub first_move: usize,
    pub more_moves: Vec<usize>,
    pub review: Review,
    pub reason: Reason,
}

// What the doc above says of its size; a larger `Found` costs memory for every match of a night.
const _: () = assert!(size_of::<Found>() <= 64);

/// Why a match was made, as the tiers record it. A tier 1 or tier 2 match (nearly every one) is
/// explained by its two lines alone (the shared reference, the amounts, the date distance), so
/// its explanation is written with the match; the other tiers keep what they decided.
pub(super) enum Reason {
    /// Tier 1: the same fingerprint.
    Fingerprint,
    /// Tier 2: a shared reference and the exact amount within the window.
    ReferenceAmount,
    /// Tiers 3 and 4: the explanation as decided (corroborations, fees, a bounded search).
    Explained(Box<Explanation>),
}

impl Found {
    /// What [`Settled::to_match`] needs from the prepared lines, taken while they are alive: the
    /// records' indexes, the account, the business date and the explanation (of a tier 1 or 2 match
    /// worked out here from its two lines).
    pub fn settle(self, prepared: &Prepared<'_>) -> Settled {
        let line = &prepared.statements[self.statement];
        let source = |index: usize| prepared.moves[index].source_index;
        let pair = |rule: MatchRule| {
            debug_assert!(self.more_moves.is_empty(), "tiers 1 and 2 match one line with one");
            let move_line = &prepared.moves[self.first_move];
            // The amounts are not kept: tiers 1 and 2 match the exact amount, which is the
            // statement record's (`to_match` reads it there).
            debug_assert_eq!(line.money(), move_line.money(), "tiers 1 and 2 match the exact amount");
            let date_delta = line.date_delta(move_line);
            Why::Pair(Pair {
                rule,
                // Where the arena holds it plus one (the arena outlives the lines: `Unbuilt`).
                shared: shared_reference_at(prepared, line, move_line)
                    .map(|position| NonZeroU64::new(position + 1).expect("a position plus one")),
                date_delta_banking_days: i32::try_from(date_delta)
                    .expect("banking-day ordinals span fewer than 2^31 days"),
            })
        };
        let why = match self.reason {
            Reason::Fingerprint => pair(MatchRule::Fingerprint),
            Reason::ReferenceAmount => pair(MatchRule::ReferenceAmount),
            Reason::Explained(explanation) => Why::Explained(explanation),
        };
        Settled {
            line: super::prepare::narrow_index(self.statement),
            statement: line.source_index,
            first_move: source(self.first_move),
            more_moves: (!self.more_moves.is_empty())
                .then(|| Box::new(self.more_moves.iter().copied().map(source).collect())),
            account_index: line.account_index,
            business_date: line.business_date,
            review: self.review,
            why,
        }
    }
}

/// A match between the tiers and the outcome: everything its [`Match`] is built from once the
/// prepared lines are freed. The matches are the outcome's largest part (about 330 bytes each
/// with their ids, a million a night); building them only after the lines (64 bytes each, and
/// their partitions' indexes) are gone keeps the two from being held at once, and lets the
/// matches take the memory the lines gave back instead of fresh pages. A `Settled` is 48 bytes: a
/// tier 1 or 2 match keeps neither amount, since both are the statement record's, and its shared
/// reference as where the reconcile's reference arena holds it (was 88 bytes with a copy of the
/// reference, plus a heap block when over 24 bytes, and the Odoo lines in a `SmallVec`: 0.4 GB
/// more at the 10 M night's peak).
pub(super) struct Settled {
    /// Index of the statement line in `Prepared::statements` (id order): the outcome's order.
    line: u32,
    /// Index of the statement line in the caller's records.
    statement: u32,
    /// Index of the first Odoo line in the caller's records, in the order the tier found them.
    first_move: u32,
    /// The other Odoo lines of a settlement. Most matches have one Odoo line, so this is a thin
    /// pointer (8 bytes) rather than a `Vec` (24) or a boxed slice (16).
    #[expect(clippy::box_collection, reason = "a thin pointer, 8 bytes a match; see above")]
    more_moves: Option<Box<Vec<u32>>>,
    /// Index in `Prepared::accounts`.
    account_index: u32,
    business_date: chrono::NaiveDate,
    review: Review,
    why: Why,
}

// What the doc above says of its size.
const _: () = assert!(size_of::<Settled>() <= 48);

/// Why a settled match was made.
enum Why {
    /// Tiers 1 and 2: what the two lines say, worked out before they are freed.
    Pair(Pair),
    /// Tiers 3 and 4: the explanation as decided.
    Explained(Box<Explanation>),
}

/// What a tier 1 or 2 match's two lines say for it (see [`explanation`]).
struct Pair {
    rule: MatchRule,
    /// Where the reference both lines share starts in the reconcile's arena, plus one
    /// ([`ReferenceArena::at`]).
    shared: Option<NonZeroU64>,
    date_delta_banking_days: i32,
}

impl Settled {
    /// Index of the statement line in `Prepared::statements`, which is id order.
    pub fn line(&self) -> u32 {
        self.line
    }

    pub fn review(&self) -> Review {
        self.review
    }

    /// What the match takes from the caller's records: its ids and the statement's amount.
    pub fn ids(&self, statements: &[StatementLine], moves: &[MoveLine]) -> MatchIds {
        let statement = &statements[self.statement as usize];
        let move_line_ids = self.move_records().map(|m| Text::new(moves[m].id())).collect();
        MatchIds::new(Text::new(statement.id()), move_line_ids, statement.amount)
    }

    /// Index of the statement line in the caller's records.
    pub fn statement_record(&self) -> usize {
        self.statement as usize
    }

    /// Indexes of the Odoo lines in the caller's records.
    pub fn move_records(&self) -> impl Iterator<Item = usize> + '_ {
        let more = self.more_moves.as_deref().map_or(&[][..], Vec::as_slice);
        std::iter::once(self.first_move).chain(more.iter().copied()).map(|m| m as usize)
    }

    /// The match, with its ids, match id, account and explanation. `accounts` and `arena` are
    /// `Prepared::accounts` and `Prepared::arena`. Built by reference (the matches are built in id
    /// order on all cores from lists in partition order), so a tier 3 or 4 explanation is cloned:
    /// the `Settled`s are freed after every match is built, and those explanations (one match in
    /// seven on the generated data, about 0.2 GB at 10 M lines) are held twice until then.
    pub fn to_match(&self, ids: MatchIds, accounts: &[String], arena: &ReferenceArena) -> Match {
        let MatchIds { statement_id, move_line_ids, amount } = ids;
        let explanation = match &self.why {
            Why::Pair(pair) => {
                let delta = i64::from(pair.date_delta_banking_days);
                let shared = pair.shared.map(|position| {
                    let reference = arena.at(position.get() - 1);
                    (reference.kind, Text::new(reference.canonical))
                });
                let mut explanation = explanation(pair.rule, shared, amount, amount, delta);
                if pair.rule == MatchRule::ReferenceAmount && pair.date_delta_banking_days > 0 {
                    explanation.corroboration.push("within_window".into());
                }
                explanation
            }
            Why::Explained(explanation) => Explanation::clone(explanation),
        };
        Match {
            match_id: match_id(&statement_id, &move_line_ids),
            statement_id,
            move_line_ids,
            account: Text::new(&accounts[self.account_index as usize]),
            business_date: self.business_date,
            review: self.review,
            explanation,
        }
    }
}

/// What a [`Settled`] match takes from the caller's records ([`Settled::ids`]), so that the records
/// can be freed before the match is built: the statement line's id and amount, the Odoo lines' ids
/// in id order.
pub(super) struct MatchIds {
    statement_id: Text,
    move_line_ids: Vec<Text>,
    amount: Money,
}

impl MatchIds {
    /// The ids of a match's statement line and Odoo lines (in any order: sorted here) and the
    /// statement line's amount.
    pub fn new(statement_id: Text, mut move_line_ids: Vec<Text>, amount: Money) -> MatchIds {
        move_line_ids.sort_by(|a, b| super::prepare::id_cmp(a, b));
        MatchIds { statement_id, move_line_ids, amount }
    }
}

/// What a match of `statement` with `move_lines` says for itself: the rule, the reference that
/// agreed, both amounts and the (largest) banking-day distance.
fn explain<'l>(
    rule: MatchRule,
    statement: &Line,
    move_lines: impl IntoIterator<Item = &'l Line, IntoIter: Clone>,
    shared: Option<(ReferenceKind, Text)>,
) -> Explanation {
    let move_lines = move_lines.into_iter();
    let delta = move_lines.clone().map(|line| statement.date_delta(line)).max().unwrap_or(0);
    let move_sum: i64 = move_lines.map(|line| line.amount_minor).sum();
    let move_amount = Money::from_minor(move_sum, statement.currency);
    explanation(rule, shared, statement.money(), move_amount, delta)
}

/// An explanation with nothing yet corroborated and no fee: what every tier starts from.
fn explanation(
    rule: MatchRule,
    shared: Option<(ReferenceKind, Text)>,
    amount: Money,
    move_amount: Money,
    date_delta_banking_days: i64,
) -> Explanation {
    let (reference_kind, reference) = shared.unzip();
    Explanation {
        rule,
        reference_kind,
        reference,
        amount,
        move_amount,
        date_delta_banking_days,
        corroboration: Vec::new(),
        fee: None,
    }
}

/// A statement line's candidates, (banking days apart, move position), nearest first: nearly always
/// one or two, held inline.
pub(super) type Candidates = SmallVec<[(i64, usize); 2]>;

/// Open Odoo line positions by reference key (family tag, canonical text), in position order.
pub(super) type ByReference<'p> = HashMap<(u8, &'p str), SmallVec<[usize; 1]>>;

/// The state of one partition while tiers run: which local lines are used.
pub(super) struct Work<'p, 'a> {
    pub prepared: &'p Prepared<'a>,
    pub config: &'p MatchConfig,
    /// Global statement indexes, sorted by id.
    pub statements: &'p [usize],
    /// Global move indexes, sorted by id.
    pub moves: &'p [usize],
    pub statement_used: Vec<bool>,
    pub move_used: Vec<bool>,
    /// Statement positions already reported as ambiguous; later tiers leave them alone.
    pub statement_ambiguous: Vec<bool>,
    /// Matches, by global line indexes.
    pub matches: Vec<Found>,
    pub ambiguities: Vec<Ambiguity>,
}

impl<'p, 'a> Work<'p, 'a> {
    pub fn statement(&self, position: usize) -> &'p Line {
        &self.prepared.statements[self.statements[position]]
    }

    pub fn line_move(&self, position: usize) -> &'p Line {
        &self.prepared.moves[self.moves[position]]
    }

    /// Positions of the Odoo lines not yet used.
    pub fn open_moves(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.moves.len()).filter(|&m| !self.move_used[m])
    }

    /// The open Odoo lines (positions) by reference key (family tag, canonical text): the index of
    /// tiers 2 and 4, built over the lines the tiers before left open, since a used line is never a
    /// candidate. Most keys name one line, held inline; sized for one key per open line up front.
    pub fn open_moves_by_reference(&self) -> ByReference<'p> {
        let open = self.move_used.iter().filter(|&&used| !used).count();
        let mut by_reference: ByReference<'p> = HashMap::with_capacity_and_hasher(open, Default::default());
        for m in self.open_moves() {
            for key in self.prepared.reference_keys(self.line_move(m)) {
                by_reference.entry(key).or_default().push(m);
            }
        }
        by_reference
    }

    pub fn open_statements(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.statements.len()).filter(|&s| !self.statement_used[s] && !self.statement_ambiguous[s])
    }

    /// Records a match of statement position `s` with move positions `ms`.
    pub fn record(&mut self, s: usize, ms: &[usize], review: Review, reason: Reason) {
        debug_assert!(!self.statement_used[s], "a statement line is never matched twice");
        self.statement_used[s] = true;
        for &m in ms {
            assert!(!self.move_used[m], "an Odoo line is never matched twice");
            self.move_used[m] = true;
        }
        let (&first, more) = ms.split_first().expect("a match has an Odoo line");
        self.matches.push(Found {
            statement: self.statements[s],
            first_move: self.moves[first],
            more_moves: more.iter().map(|&m| self.moves[m]).collect(),
            review,
            reason,
        });
    }

    /// The explanation of a match of statement position `s` with move positions `ms`, for the tiers
    /// that add to it before recording ([`Reason::Explained`]).
    pub fn explanation(
        &self,
        rule: MatchRule,
        s: usize,
        ms: &[usize],
        shared: Option<(ReferenceKind, Text)>,
    ) -> Box<Explanation> {
        Box::new(explain(rule, self.statement(s), ms.iter().map(|&m| self.line_move(m)), shared))
    }
}

/// Odoo lines grouped by a key (an amount, a partner), each group sorted by banking-day ordinal, so a
/// window query reads only the lines within reach of a statement line's dates instead of every line
/// of the key in the partition (a common amount or a frequent partner has lines on every day).
pub(super) struct ByDate<K> {
    groups: HashMap<K, DateGroup>,
}

/// (banking-day ordinal, move position) of one key's lines, in date order; most amounts name one
/// line, held inline.
type DateGroup = SmallVec<[(i64, usize); 1]>;

impl<K: Hash + Eq> ByDate<K> {
    /// Groups move positions `m` under their keys.
    pub fn new(work: &Work<'_, '_>, keyed: impl Iterator<Item = (K, usize)>) -> ByDate<K> {
        let mut groups: HashMap<K, DateGroup> = HashMap::default();
        for (key, m) in keyed {
            groups.entry(key).or_default().push((work.line_move(m).odoo_ordinal(), m));
        }
        for group in groups.values_mut() {
            group.sort_unstable();
        }
        ByDate { groups }
    }

    /// Positions of the lines of `key` whose date is within `window` banking days of one of
    /// `statement`'s dates, plus a few a little outside it (between its two dates): callers still check
    /// `Line::date_delta`. In date order, then position.
    pub fn near<'s, Q>(&'s self, key: &Q, statement: &Line, window: i64) -> impl Iterator<Item = usize> + 's
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let group = self.groups.get(key).map(SmallVec::as_slice).unwrap_or_default();
        let [a, b] = statement.date_ordinals();
        let (low, high) = (a.min(b).saturating_sub(window), a.max(b).saturating_add(window));
        let start = group.partition_point(|&(ordinal, _)| ordinal < low);
        group[start..].iter().take_while(move |&&(ordinal, _)| ordinal <= high).map(|&(_, m)| m)
    }
}

pub(super) fn match_partition(prepared: &Prepared<'_>, partition: &Partition, config: &MatchConfig) -> PartitionResult {
    let mut work = Work {
        prepared,
        config,
        statements: &partition.statements,
        moves: &partition.moves,
        statement_used: vec![false; partition.statements.len()],
        move_used: vec![false; partition.moves.len()],
        statement_ambiguous: vec![false; partition.statements.len()],
        // At most one match per statement line; pages never written are never touched.
        matches: Vec::with_capacity(partition.statements.len()),
        ambiguities: Vec::new(),
    };
    tier_fingerprint(&mut work);
    tier_reference_amount(&mut work);
    tier_amount_date(&mut work);
    let truncated = super::settlement::tier_settlement(&mut work);
    let leftovers = Leftovers {
        statements: work.open_statements().map(|s| partition.statements[s]).collect(),
        moves: work.open_moves().map(|m| partition.moves[m]).collect(),
        ambiguities: std::mem::take(&mut work.ambiguities),
    };
    PartitionResult { matches: work.matches, leftovers, settlement_searches_truncated: truncated }
}

/// Tier 1: the same fingerprint on both sides. Duplicates were set aside, so a fingerprint is unique
/// per side and the join is one-to-one.
fn tier_fingerprint(work: &mut Work<'_, '_>) {
    let fingerprint_at = |m: u32| &work.line_move(m as usize).fingerprint;
    let mut by_fingerprint = ByFingerprint::with_capacity(work.moves.len());
    for m in 0..work.moves.len() {
        // Duplicates were set aside: a fingerprint is on one line of the partition at most.
        if work.line_move(m).has_reference {
            by_fingerprint.insert_new(m, fingerprint_at);
        }
    }
    // The lookups read only the lines, so they run on every core (a core whose own partitions are
    // done helps with the largest); the pairs are recorded after, in statement order, and explained
    // when the matches are built. A fingerprint is on one of the partition's lines at most: the
    // duplicate flags (`prepare::flag_side`) and the partitions leave out the same lines (manual
    // ones, and every line of a fingerprint but the first).
    let work_ref = &*work;
    let found: Vec<(usize, usize)> = (0..work.statements.len())
        .into_par_iter()
        .filter_map(|s| {
            let statement = work_ref.statement(s);
            if !statement.has_reference {
                return None;
            }
            Some((s, by_fingerprint.get(&statement.fingerprint, fingerprint_at)? as usize))
        })
        .collect();
    for (s, m) in found {
        if !work.move_used[m] {
            work.record(s, &[m], Review::Auto, Reason::Fingerprint);
        }
    }
}

/// The first reference both lines carry (by family, then canonical text).
pub(super) fn shared_reference(prepared: &Prepared<'_>, a: &Line, b: &Line) -> Option<(ReferenceKind, Text)> {
    shared_reference_at(prepared, a, b).map(|position| {
        let reference = prepared.arena.at(position);
        (reference.kind, Text::new(reference.canonical))
    })
}

/// [`shared_reference`] as where it starts in the prepared lines' arena.
fn shared_reference_at(prepared: &Prepared<'_>, a: &Line, b: &Line) -> Option<u64> {
    prepared
        .references_positioned(a)
        .filter(|(_, r)| r.kind != ReferenceKind::Clabe)
        .filter(|(_, r)| {
            prepared.references(b).any(|o| o.kind.family() == r.kind.family() && o.canonical == r.canonical)
        })
        .min_by_key(|&(_, r)| (r.kind, r.canonical))
        .map(|(position, _)| position)
}

/// True when both lines carry references of one family and share none of them: the references
/// contradict. References of different families (a clave on one side, a number on the other) do not.
pub(super) fn contradicts(prepared: &Prepared<'_>, a: &Line, b: &Line) -> bool {
    // Family tags are small numbers (`ReferenceFamily::tag`, 1 to 5): a set of them is a bit mask.
    let families = |line: &Line| prepared.reference_keys(line).fold(0u32, |set, (family, _)| set | 1 << family);
    let shared_families = families(a) & families(b);
    let mut rest = shared_families;
    while rest != 0 {
        let family = rest.trailing_zeros();
        rest &= rest - 1;
        let shares_one = prepared
            .reference_keys(a)
            .filter(|&(f, _)| u32::from(f) == family)
            .any(|key| prepared.reference_keys(b).any(|other| other == key));
        if !shares_one {
            return true;
        }
    }
    false
}

/// Tier 2: a shared reference, the exact amount, within the window. Ties on date distance are resolved
/// only when one pairing is best both ways; repeats until nothing changes, so chains resolve.
fn tier_reference_amount(work: &mut Work<'_, '_>) {
    let by_reference = work.open_moves_by_reference();
    let window = work.config.window_banking_days;
    let candidates_max = work.config.candidates_per_line_max;
    let candidates_of = |work: &Work<'_, '_>, s: usize| -> Candidates {
        let statement = work.statement(s);
        let mut found = Candidates::new();
        for key in work.prepared.reference_keys(statement) {
            for &m in by_reference.get(&key).map(SmallVec::as_slice).unwrap_or_default() {
                let line = work.line_move(m);
                if work.move_used[m] || line.amount_minor != statement.amount_minor {
                    continue;
                }
                let delta = statement.date_delta(line);
                if delta <= window {
                    found.push((delta, m));
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found.truncate(candidates_max);
        found
    };
    // Each pass matches at least one pair or stops: bounded by the number of statement lines. Only
    // lines that still have candidates are looked at again, so later passes are small.
    let mut pending: Vec<usize> = work.open_statements().collect();
    loop {
        // Candidates read the lines and what is used, and change nothing: on every core. What is
        // decided and recorded stays sequential, in the same order.
        let work_ref = &*work;
        let candidates: Vec<(usize, Candidates)> = pending
            .par_iter()
            .filter(|&&s| !work_ref.statement_used[s])
            .map(|&s| (s, candidates_of(work_ref, s)))
            .filter(|(_, c)| !c.is_empty())
            .collect();
        pending = candidates.iter().map(|(s, _)| *s).collect();
        let pairs = mutual_best(&candidates);
        if pairs.is_empty() {
            for (s, found) in candidates {
                mark_ambiguous(
                    work,
                    s,
                    &found,
                    "shares a reference and the amount with another line at the same date distance",
                );
            }
            return;
        }
        for (s, m) in pairs {
            work.record(s, &[m], Review::Auto, Reason::ReferenceAmount);
        }
    }
}

/// Pairs (statement, move) where each is the other's unique best (smallest date distance).
fn mutual_best(candidates: &[(usize, Candidates)]) -> Vec<(usize, usize)> {
    // For each move: the best delta any statement offers it, and how many statements offer that.
    let mut best_for_move: HashMap<usize, (i64, usize, usize)> = HashMap::default();
    for (s, found) in candidates {
        let best = found[0].0;
        for &(delta, m) in found.iter().take_while(|(d, _)| *d == best) {
            best_for_move
                .entry(m)
                .and_modify(|entry| {
                    if delta < entry.0 {
                        *entry = (delta, 1, *s);
                    } else if delta == entry.0 {
                        entry.1 += 1;
                    }
                })
                .or_insert((delta, 1, *s));
        }
    }
    let mut pairs = Vec::new();
    for (s, found) in candidates {
        let best = found[0].0;
        let unique = found.len() == 1 || found[1].0 > best;
        if !unique {
            continue;
        }
        let m = found[0].1;
        if best_for_move.get(&m).is_some_and(|&(delta, count, owner)| delta == best && count == 1 && owner == *s) {
            pairs.push((*s, m));
        }
    }
    pairs
}

fn mark_ambiguous(work: &mut Work<'_, '_>, s: usize, found: &[(i64, usize)], note: &str) {
    work.statement_ambiguous[s] = true;
    work.ambiguities.push(Ambiguity {
        statement: work.statements[s],
        candidates: found.iter().map(|&(delta, m)| (work.moves[m], delta)).collect(),
        note: note.to_owned(),
    });
}

/// Tier 3: the exact amount within the window, no contradicting reference, unique both ways. Among
/// several, a single candidate corroborated by counterparty name or CLABE (also unique both ways) is
/// taken; anything else is ambiguous.
fn tier_amount_date(work: &mut Work<'_, '_>) {
    let by_amount = ByDate::new(work, work.open_moves().map(|m| (work.line_move(m).amount_minor, m)));
    // Each pass matches at least one line or ends: bounded by the number of statement lines. A pass
    // only looks at lines that still had candidates, over the Odoo lines still open, so a line whose
    // rival was matched elsewhere is decided again instead of being called ambiguous.
    let mut pending: Vec<usize> = work.open_statements().collect();
    loop {
        let candidates = amount_candidates(work, &pending, &by_amount);
        pending = candidates.iter().map(|(s, _)| *s).collect();
        let decisions = decide_amount_matches(work, &candidates);
        if decisions.is_empty() {
            for (s, found) in &candidates {
                let note = "several Odoo lines have the same amount within the window and nothing singles one out";
                mark_ambiguous(work, *s, &found[..found.len().min(work.config.candidates_per_line_max)], note);
            }
            return;
        }
        for (s, m, rule, agreed) in decisions {
            let mut explanation = work.explanation(rule, s, &[m], None);
            explanation.corroboration = agreed;
            work.record(s, &[m], Review::Auto, Reason::Explained(explanation));
        }
        pending.retain(|&s| !work.statement_used[s]);
    }
}

/// Open Odoo lines with the statement line's exact amount, within the window, not contradicted.
fn amount_candidates(work: &Work<'_, '_>, pending: &[usize], by_amount: &ByDate<i64>) -> Vec<(usize, Candidates)> {
    let window = work.config.window_banking_days;
    pending
        .par_iter()
        .filter_map(|&s| {
            let statement = work.statement(s);
            let mut found: Candidates = by_amount
                .near(&statement.amount_minor, statement, window)
                .filter(|&m| !work.move_used[m])
                .map(|m| (statement.date_delta(work.line_move(m)), m))
                .filter(|&(delta, m)| delta <= window && !contradicts(work.prepared, statement, work.line_move(m)))
                .collect();
            if found.is_empty() {
                return None;
            }
            found.sort_unstable();
            found.truncate(work.config.candidates_per_line_max + 1);
            Some((s, found))
        })
        .collect()
}

/// The pairings of one pass: a candidate unique both ways, or the one corroborated candidate that no
/// other line's corroboration claims.
fn decide_amount_matches(
    work: &Work<'_, '_>,
    candidates: &[(usize, Candidates)],
) -> Vec<(usize, usize, MatchRule, Vec<Text>)> {
    let corroborations: Vec<Vec<Vec<Text>>> = candidates
        .par_iter()
        .map(|(s, found)| found.iter().map(|&(_, m)| corroboration(work, *s, m)).collect())
        .collect();
    let mut claimants: HashMap<usize, usize> = HashMap::default();
    let mut corroborated_claimants: HashMap<usize, usize> = HashMap::default();
    for ((_, found), corroboration) in candidates.iter().zip(&corroborations) {
        for (&(_, m), agreed) in found.iter().zip(corroboration) {
            *claimants.entry(m).or_default() += 1;
            if !agreed.is_empty() {
                *corroborated_claimants.entry(m).or_default() += 1;
            }
        }
    }
    let mut decisions = Vec::new();
    for ((s, found), mut corroboration) in candidates.iter().zip(corroborations) {
        if found.len() == 1 && claimants[&found[0].1] == 1 {
            decisions.push((*s, found[0].1, MatchRule::AmountDate, corroboration.swap_remove(0)));
            continue;
        }
        let agreeing: Vec<usize> = (0..found.len()).filter(|&i| !corroboration[i].is_empty()).collect();
        if let [only] = agreeing[..]
            && corroborated_claimants[&found[only].1] == 1
        {
            decisions.push((*s, found[only].1, MatchRule::AmountDateCorroborated, corroboration.swap_remove(only)));
        }
    }
    decisions
}

/// What else agrees between statement position `s` and move position `m`: counterparty name against
/// partner, counterparty CLABE against a CLABE in the Odoo text.
pub(super) fn corroboration(work: &Work<'_, '_>, s: usize, m: usize) -> Vec<Text> {
    let line = work.line_move(m);
    let mut agreed = Vec::new();
    let statement_tokens = work.prepared.name_tokens(super::Side::Statement, work.statements[s]);
    if !statement_tokens.is_empty() {
        let line_tokens = work.prepared.name_tokens(super::Side::Move, work.moves[m]);
        let shared = statement_tokens.iter().filter(|t| line_tokens.contains(t)).count();
        // Two shared words (a given and a family name, or a company's two distinctive words), or the
        // same single word: one common surname alone corroborates nothing.
        if shared >= 2 || (shared == 1 && statement_tokens.len() == 1 && line_tokens.len() == 1) {
            agreed.push("counterparty_name".into());
        }
    }
    if let Some(clabe) = work.prepared.counterparty_clabe(work.statements[s])
        && work.prepared.references(line).any(|r| r.kind == ReferenceKind::Clabe && r.canonical == clabe)
    {
        agreed.push("counterparty_clabe".into());
    }
    agreed
}
