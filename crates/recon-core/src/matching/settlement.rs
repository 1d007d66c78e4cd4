//! Tier 4: N:1 settlements — one bank line against several Odoo lines (Conekta/OXXO payouts, batch
//! deposits).
//!
//! Two searches, both bounded:
//! - **Shared settlement reference**: the Odoo lines (any sign, so booked fee lines count) that share a
//!   reference with the bank line, within the window, at most `lines_max` of them. Their exact sum is an
//!   automatic match; a sum that, net of a configured fee schedule, is within `fee_tolerance_minor` of
//!   the deposit is a match that needs review.
//! - **Exact sum without a reference**: at most `candidates_max` open Odoo lines of the same sign and the
//!   same partner — a partner whose name agrees with the bank line's counterparty — smaller than the bank
//!   line, nearest dates first; a depth-first subset search of at most
//!   `lines_max` lines and `steps_max` visited subsets. Taken only when exactly one subset sums to the
//!   amount; two or more make it ambiguous.

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::prepare::name_tokens;
use super::tiers::{ByDate, ByReference, Reason, Work, contradicts};
use super::{FeeSchedule, MatchRule, Review, Text};
use crate::reference::ReferenceKind;

/// Runs tier 4 over the open statement lines of a partition; returns how many searches hit the step bound.
pub(super) fn tier_settlement(work: &mut Work<'_, '_>) -> u64 {
    let by_reference = work.open_moves_by_reference();
    // Partner words, worked out once per distinct partner text rather than once per line: a partition
    // has hundreds of thousands of open Odoo lines and a few thousand partners.
    let mut by_partner_text: HashMap<&str, Vec<usize>> = HashMap::default();
    for m in work.open_moves() {
        by_partner_text.entry(work.prepared.name(super::Side::Move, work.moves[m])).or_default().push(m);
    }
    let partners: Vec<(Vec<String>, Vec<usize>)> = by_partner_text
        .into_iter()
        .map(|(text, lines)| (name_tokens(text), lines))
        .filter(|(tokens, _)| !tokens.is_empty())
        .collect();
    let by_partner = ByDate::new(
        work,
        partners.iter().flat_map(|(tokens, lines)| lines.iter().map(move |&m| (tokens.as_slice(), m))),
    );
    // What each open line could be matched with is worked out first, a block of lines at a time on
    // every core (`prospects_per_block`), whether those Odoo lines end up used or not; then the
    // block's lines are decided one after another, in id order, leaving out the lines taken by the
    // decisions before.
    let open: Vec<usize> = work.open_statements().collect();
    let mut truncated = 0;
    for block in open.chunks(work.config.settlement.prospects_per_block.max(1)) {
        let work_ref = &*work;
        let prospects: Vec<Prospects> =
            block.par_iter().map(|&s| Prospects::of(work_ref, s, &by_reference, &by_partner)).collect();
        for (&s, prospects) in block.iter().zip(prospects) {
            if by_shared_reference(work, s, &prospects.by_reference) {
                continue;
            }
            let candidates = match prospects.sum_candidates {
                Some(candidates) => candidates,
                None => sum_candidates(work, s, &by_partner),
            };
            match by_exact_sum(work, s, candidates) {
                SumOutcome::Matched | SumOutcome::None => {}
                SumOutcome::Truncated => truncated += 1,
            }
        }
    }
    truncated
}

/// The Odoo lines an open statement line could settle with, used or not yet.
struct Prospects {
    /// Per reference of the line (CLABEs aside), in order: the lines sharing it within the window.
    by_reference: Vec<Vec<usize>>,
    /// The candidates for an exact sum (see [`sum_candidates`]), worked out ahead only for a line that
    /// shares no reference with two Odoo lines: the others mostly settle by reference (a payout of
    /// a processor whose lines are on every day), and their sums are looked for only if they do not.
    sum_candidates: Option<Vec<(i64, usize)>>,
}

impl Prospects {
    fn of(work: &Work<'_, '_>, s: usize, by_reference: &ByReference<'_>, by_partner: &ByDate<&[String]>) -> Prospects {
        let statement = work.statement(s);
        let window = work.config.window_banking_days;
        let by_reference: Vec<Vec<usize>> = work
            .prepared
            .references(statement)
            .filter(|r| r.kind != ReferenceKind::Clabe)
            .map(|reference| {
                let key = (reference.kind.family().tag(), reference.canonical);
                let lines = by_reference.get(&key).map(SmallVec::as_slice).unwrap_or_default();
                lines.iter().copied().filter(|&m| statement.date_delta(work.line_move(m)) <= window).collect()
            })
            .collect();
        let settles_by_reference = by_reference.iter().any(|lines| lines.len() >= 2);
        let sum_candidates = (!settles_by_reference).then(|| sum_candidates(work, s, by_partner));
        Prospects { by_reference, sum_candidates }
    }
}

/// (banking days apart, line) of the Odoo lines, used or not, that could add up to statement position
/// `s`: lines of the one partner whose name is the counterparty's (same words once accents and legal
/// forms are folded), so a batch is one payer's lines, never strangers' amounts that happen to add
/// up; of the same sign, smaller than the line, within the window, not contradicted.
fn sum_candidates(work: &Work<'_, '_>, s: usize, by_partner: &ByDate<&[String]>) -> Vec<(i64, usize)> {
    let statement = work.statement(s);
    let (target, window) = (statement.amount_minor, work.config.window_banking_days);
    let mut candidates = Vec::new();
    let statement_tokens = work.prepared.name_tokens(super::Side::Statement, work.statements[s]);
    if statement_tokens.is_empty() {
        return candidates;
    }
    for m in by_partner.near(statement_tokens.as_slice(), statement, window) {
        let line = work.line_move(m);
        let same_sign = (line.amount_minor > 0) == (target > 0);
        if !same_sign || line.amount_minor.abs() >= target.abs() {
            continue;
        }
        let delta = statement.date_delta(line);
        if delta <= window && !contradicts(work.prepared, statement, line) {
            candidates.push((delta, m));
        }
    }
    candidates
}

/// A group of lines sharing one of the line's references (the largest, the first among equals)
/// whose sum, gross or net of a fee schedule, is the line's amount.
fn by_shared_reference(work: &mut Work<'_, '_>, s: usize, by_reference: &[Vec<usize>]) -> bool {
    let statement = work.statement(s);
    let mut group: Vec<usize> = Vec::new();
    let mut shared: Option<(ReferenceKind, Text)> = None;
    let references = work.prepared.references(statement).filter(|r| r.kind != ReferenceKind::Clabe);
    for (reference, lines) in references.zip(by_reference) {
        let members: Vec<usize> = lines.iter().copied().filter(|&m| !work.move_used[m]).collect();
        if members.len() >= 2 && members.len() > group.len() {
            group = members;
            shared = Some((reference.kind, reference.canonical.into()));
        }
    }
    if group.len() < 2 || group.len() > work.config.settlement.lines_max {
        return false;
    }
    let sum: i64 = group.iter().map(|&m| work.line_move(m).amount_minor).sum();
    if sum == statement.amount_minor {
        let explanation = work.explanation(MatchRule::SettlementReference, s, &group, shared);
        work.record(s, &group, Review::Auto, Reason::Explained(explanation));
        return true;
    }
    let amounts: Vec<i64> = group.iter().map(|&m| work.line_move(m).amount_minor).collect();
    // Fee schedules and the tolerance are in company-currency minor units: never applied to another currency.
    let schedules: &[FeeSchedule] =
        if statement.currency == work.config.company_currency { &work.config.settlement.fee_schedules } else { &[] };
    for schedule in schedules {
        let fee: i64 = amounts.iter().map(|&a| fee_minor(a, schedule)).sum();
        let net = sum - fee;
        if (net - statement.amount_minor).abs() <= work.config.settlement.fee_tolerance_minor {
            let mut explanation = work.explanation(MatchRule::SettlementNetOfFees, s, &group, shared);
            let fee_money = crate::money::Money::from_minor(fee, statement.currency);
            explanation.fee = Some(format!(
                "{} fees {fee_money} ({} % + {} fixed, {} % VAT)",
                schedule.name,
                (schedule.percent * Decimal::ONE_HUNDRED).normalize(),
                crate::money::Money::from_minor(schedule.fixed_minor, statement.currency),
                (schedule.vat * Decimal::ONE_HUNDRED).normalize()
            ));
            work.record(s, &group, Review::NeedsReview, Reason::Explained(explanation));
            return true;
        }
    }
    false
}

/// The fee a schedule charges on one gross amount, VAT included, rounded half away from zero to the
/// minor unit per charge (as processors bill per charge). Signed like the amount.
pub fn fee_minor(amount_minor: i64, schedule: &FeeSchedule) -> i64 {
    let gross = Decimal::from(amount_minor.abs());
    let fee = (gross * schedule.percent + Decimal::from(schedule.fixed_minor)) * (Decimal::ONE + schedule.vat);
    let fee = fee.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero).to_i64().unwrap_or(i64::MAX);
    if amount_minor < 0 { -fee } else { fee }
}

enum SumOutcome {
    Matched,
    None,
    Truncated,
}

/// The one subset of `candidates` (from [`sum_candidates`]) still open that sums exactly to the line.
fn by_exact_sum(work: &mut Work<'_, '_>, s: usize, mut candidates: Vec<(i64, usize)>) -> SumOutcome {
    let statement = work.statement(s);
    let target = statement.amount_minor;
    candidates.retain(|&(_, m)| !work.move_used[m]);
    if candidates.len() < 2 {
        return SumOutcome::None;
    }
    let bounds = &work.config.settlement;
    candidates.sort_unstable();
    let cut = candidates.len() > bounds.candidates_max;
    candidates.truncate(bounds.candidates_max);
    let mut items: Vec<(i64, usize)> =
        candidates.iter().map(|&(_, m)| (work.line_move(m).amount_minor.abs(), m)).collect();
    items.sort_unstable_by(|a, b| b.cmp(a));
    let mut search =
        SubsetSearch { items: &items, lines_max: bounds.lines_max, steps_left: bounds.steps_max, found: Vec::new() };
    search.run(target.abs());
    let truncated = search.steps_left == 0;
    let solutions = search.found;
    match solutions.as_slice() {
        [only] => {
            let mut group = only.clone();
            group.sort_unstable();
            let mut explanation = work.explanation(MatchRule::SettlementSum, s, &group, None);
            // The only subset is certain only when the search saw every candidate and every subset.
            let review = if truncated || cut {
                explanation.corroboration.push("search_bounded".into());
                Review::NeedsReview
            } else {
                Review::Auto
            };
            work.record(s, &group, review, Reason::Explained(explanation));
            SumOutcome::Matched
        }
        [] if truncated => SumOutcome::Truncated,
        [] => SumOutcome::None,
        several => {
            let mut found: Vec<(i64, usize)> =
                several.iter().flatten().map(|&m| (statement.date_delta(work.line_move(m)), m)).collect();
            found.sort_unstable();
            found.dedup();
            found.truncate(work.config.candidates_per_line_max);
            work.statement_ambiguous[s] = true;
            work.ambiguities.push(super::exceptions::Ambiguity {
                statement: work.statements[s],
                candidates: found.iter().map(|&(delta, m)| (work.moves[m], delta)).collect(),
                note: "several sets of Odoo lines sum exactly to the amount".to_owned(),
            });
            if truncated { SumOutcome::Truncated } else { SumOutcome::None }
        }
    }
}

/// Depth-first subset-sum over amounts sorted descending, pruned by the remaining suffix sum; stops at
/// two solutions (one is a match, two are ambiguous) or when `steps_left` runs out.
struct SubsetSearch<'i> {
    items: &'i [(i64, usize)],
    lines_max: usize,
    steps_left: u64,
    found: Vec<Vec<usize>>,
}

impl SubsetSearch<'_> {
    fn run(&mut self, target: i64) {
        let mut suffix = vec![0i64; self.items.len() + 1];
        for i in (0..self.items.len()).rev() {
            suffix[i] = suffix[i + 1] + self.items[i].0;
        }
        let mut chosen = Vec::with_capacity(self.lines_max);
        self.visit(0, target, &suffix, &mut chosen);
    }

    fn visit(&mut self, start: usize, remaining: i64, suffix: &[i64], chosen: &mut Vec<usize>) {
        if remaining == 0 && chosen.len() >= 2 {
            self.found.push(chosen.iter().map(|&i| self.items[i].1).collect());
            return;
        }
        if self.found.len() >= 2 || chosen.len() == self.lines_max || suffix[start] < remaining {
            return;
        }
        for i in start..self.items.len() {
            if self.steps_left == 0 || self.found.len() >= 2 {
                return;
            }
            self.steps_left -= 1;
            let amount = self.items[i].0;
            if amount > remaining {
                continue;
            }
            chosen.push(i);
            self.visit(i + 1, remaining - amount, suffix, chosen);
            chosen.pop();
        }
    }
}
