//! Turning what the tiers left into exceptions with reason codes, evidence and candidates.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rust_decimal::Decimal;

use super::prepare::{Line, Prepared, id_cmp};
use super::settlement::fee_minor;
use super::tiers::shared_reference;
use super::{Candidate, Difference, Exception, ExceptionItem, ExceptionKind, MatchConfig, Side, case_id};

/// A statement line with several equally good candidates.
#[derive(Debug)]
pub(super) struct Ambiguity {
    /// Global statement index.
    pub statement: usize,
    /// (global move index, banking-day delta).
    pub candidates: Vec<(usize, i64)>,
    pub note: String,
}

/// Lines no tier matched, by global index.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    pub statements: Vec<usize>,
    pub moves: Vec<usize>,
    pub ambiguities: Vec<Ambiguity>,
}

impl Leftovers {
    pub fn absorb(&mut self, other: Leftovers) {
        self.statements.extend(other.statements);
        self.moves.extend(other.moves);
        self.ambiguities.extend(other.ambiguities);
    }
}

/// Builds an exception and its stable case id.
pub(super) fn exception(
    kind: ExceptionKind,
    items: Vec<ExceptionItem>,
    candidates: Vec<Candidate>,
    difference: Difference,
    summary: String,
) -> Exception {
    let first = &items[0];
    Exception {
        case_id: case_id(kind, &items),
        kind,
        account: first.account.clone(),
        business_date: first.business_date,
        amount: first.amount,
        items,
        candidates,
        difference,
        summary,
    }
}

/// Classifies leftovers: paired exceptions (date out of window, amount mismatch, currency mismatch)
/// first, in statement id order, each Odoo line used at most once; then ambiguities; then whatever is
/// left as unmatched on its side.
pub(super) fn classify(prepared: &Prepared<'_>, mut leftovers: Leftovers, config: &MatchConfig) -> Vec<Exception> {
    let id_of = |side: Side, index: usize| prepared.id(side, index);
    leftovers.statements.sort_by(|&a, &b| id_cmp(id_of(Side::Statement, a), id_of(Side::Statement, b)));
    leftovers.moves.sort_by(|&a, &b| id_cmp(id_of(Side::Move, a), id_of(Side::Move, b)));
    leftovers
        .ambiguities
        .sort_by(|a, b| id_cmp(id_of(Side::Statement, a.statement), id_of(Side::Statement, b.statement)));

    let mut moves_by_reference: HashMap<(u8, &str), Vec<usize>> = HashMap::default();
    for &m in &leftovers.moves {
        for key in prepared.reference_keys(&prepared.moves[m]) {
            moves_by_reference.entry(key).or_default().push(m);
        }
    }
    let mut move_taken: HashSet<usize> = HashSet::default();
    let mut out = Vec::new();
    for &s in &leftovers.statements {
        let statement = &prepared.statements[s];
        let mut partners: Vec<usize> = prepared
            .reference_keys(statement)
            .flat_map(|key| moves_by_reference.get(&key).map(Vec::as_slice).unwrap_or_default().iter().copied())
            .filter(|m| !move_taken.contains(m))
            .collect();
        partners.sort_by(|&a, &b| {
            pair_rank(statement, &prepared.moves[a], config)
                .cmp(&pair_rank(statement, &prepared.moves[b], config))
                .then_with(|| id_cmp(id_of(Side::Move, a), id_of(Side::Move, b)))
        });
        partners.dedup();
        let group = settlement_group(prepared, s, &partners);
        match partners.first() {
            Some(_) if group.len() >= 2 => {
                move_taken.extend(group.iter().copied());
                out.push(settlement_mismatch(prepared, s, &group, config));
            }
            Some(&m) => {
                move_taken.insert(m);
                out.push(paired_exception(prepared, s, m, config));
            }
            None => out.push(single(
                prepared,
                Side::Statement,
                s,
                "no Odoo line has this reference or this amount within the window: orphan money",
            )),
        }
    }
    for ambiguity in &leftovers.ambiguities {
        out.push(ambiguous(prepared, ambiguity));
        move_taken.extend(ambiguity.candidates.iter().map(|(m, _)| *m));
    }
    for &m in &leftovers.moves {
        if !move_taken.contains(&m) {
            out.push(single(
                prepared,
                Side::Move,
                m,
                "no statement line has this reference or this amount within the window",
            ));
        }
    }
    out
}

/// The leftover Odoo lines of the statement's own partition that share its first shared reference,
/// when that reference looks like a settlement (several lines) and no single line has the amount.
fn settlement_group(prepared: &Prepared<'_>, s: usize, partners: &[usize]) -> Vec<usize> {
    let statement = &prepared.statements[s];
    let same_partition = |m: &usize| {
        let line = &prepared.moves[*m];
        line.account_index == statement.account_index && line.currency == statement.currency
    };
    let Some(&first) = partners.iter().find(|m| same_partition(m)) else { return Vec::new() };
    if prepared.moves[first].amount_minor == statement.amount_minor {
        return Vec::new();
    }
    let Some((kind, canonical)) = shared_reference(prepared, statement, &prepared.moves[first]) else {
        return Vec::new();
    };
    let key = (kind.family().tag(), canonical.as_str());
    partners
        .iter()
        .copied()
        .filter(|m| same_partition(m) && prepared.reference_keys(&prepared.moves[*m]).any(|k| k == key))
        .collect()
}

fn settlement_mismatch(prepared: &Prepared<'_>, s: usize, group: &[usize], config: &MatchConfig) -> Exception {
    let statement = &prepared.statements[s];
    let sum: i64 = group.iter().map(|&m| prepared.moves[m].amount_minor).sum();
    let shared = shared_reference(prepared, statement, &prepared.moves[group[0]])
        .map(|(kind, canonical)| format!("{} {canonical}", kind.as_str()))
        .unwrap_or_default();
    let mut items = vec![prepared.exception_item(Side::Statement, s)];
    items.extend(group.iter().map(|&m| prepared.exception_item(Side::Move, m)));
    let gap = statement.amount_minor - sum;
    let delta = group.iter().map(|&m| statement.date_delta(&prepared.moves[m])).max();
    let difference = Difference {
        amount_minor: Some(gap),
        ratio_100: is_ratio_100(statement.amount_minor, sum),
        fee_sized: statement.currency == config.company_currency && is_fee_sized(statement.amount_minor, sum, config),
        date_delta_banking_days: delta,
        across: None,
    };
    let mut summary = format!(
        "settlement reference {shared} is shared by {} Odoo lines summing {}, but the bank line is {} (difference {}), and no fee schedule explains it",
        group.len(),
        crate::money::Money::from_minor(sum, statement.currency),
        statement.money(),
        crate::money::Money::from_minor(gap, statement.currency)
    );
    if difference.fee_sized {
        summary.push_str("; the gap is the size of a processor fee");
    }
    exception(ExceptionKind::AmountMismatch, items, Vec::new(), difference, summary)
}

/// Ranks the leftover Odoo lines that share a reference with a statement line: same account and
/// currency before others, equal amounts before different, then nearest date.
fn pair_rank(statement: &Line, line: &Line, config: &MatchConfig) -> (bool, bool, i64) {
    let _ = config;
    let same_partition = statement.account_index == line.account_index && statement.currency == line.currency;
    let same_amount = statement.currency == line.currency && statement.amount_minor == line.amount_minor;
    let same_number = statement.amount_minor == line.amount_minor;
    (!same_partition, !(same_amount || same_number), statement.date_delta(line))
}

fn paired_exception(prepared: &Prepared<'_>, s: usize, m: usize, config: &MatchConfig) -> Exception {
    let statement = &prepared.statements[s];
    let line = &prepared.moves[m];
    let delta = statement.date_delta(line);
    let shared = shared_reference(prepared, statement, line)
        .map(|(kind, canonical)| format!("{} {canonical}", kind.as_str()))
        .unwrap_or_default();
    let items = vec![prepared.exception_item(Side::Statement, s), prepared.exception_item(Side::Move, m)];
    let mut difference = Difference { date_delta_banking_days: Some(delta), ..Difference::default() };
    let same_partition = statement.account_index == line.account_index && statement.currency == line.currency;
    // Amounts in different currencies are never subtracted: the reference agrees across currencies.
    if statement.currency != line.currency || (!same_partition && statement.amount_minor == line.amount_minor) {
        difference.across = Some(if statement.currency != line.currency {
            format!("{} vs {}", statement.currency, line.currency)
        } else {
            format!("account {} vs {}", prepared.account(statement), prepared.account(line))
        });
        let agree = if statement.amount_minor == line.amount_minor { " and amount agree" } else { " agrees" };
        let summary = format!(
            "reference {shared}{agree} across {}: bank {} {} vs Odoo {} {}",
            difference.across.as_deref().unwrap_or_default(),
            statement.money(),
            statement.currency,
            line.money(),
            line.currency
        );
        return exception(super::ExceptionKind::CurrencyMismatch, items, Vec::new(), difference, summary);
    }
    if statement.amount_minor == line.amount_minor {
        let summary = format!(
            "reference {shared} and amount {} agree, but the dates are {delta} banking days apart (window {})",
            statement.money(),
            config.window_banking_days
        );
        return exception(super::ExceptionKind::DateOutOfWindow, items, Vec::new(), difference, summary);
    }
    let gap = statement.amount_minor - line.amount_minor;
    difference.amount_minor = Some(gap);
    difference.ratio_100 = is_ratio_100(statement.amount_minor, line.amount_minor);
    difference.fee_sized = statement.currency == config.company_currency
        && is_fee_sized(statement.amount_minor, line.amount_minor, config);
    let mut summary = format!(
        "reference {shared} agrees, the amounts do not: bank {} vs Odoo {} (difference {})",
        statement.money(),
        line.money(),
        crate::money::Money::from_minor(gap, statement.currency)
    );
    if difference.ratio_100 {
        summary.push_str("; one is 100 times the other: cents booked as pesos");
    }
    if difference.fee_sized {
        summary.push_str("; the gap is the size of a processor fee");
    }
    exception(super::ExceptionKind::AmountMismatch, items, Vec::new(), difference, summary)
}

fn is_ratio_100(a: i64, b: i64) -> bool {
    a != 0 && b != 0 && (a.checked_mul(100) == Some(b) || b.checked_mul(100) == Some(a))
}

/// The gap is no larger than the largest configured fee on the larger amount (plus the tolerance).
fn is_fee_sized(a: i64, b: i64, config: &MatchConfig) -> bool {
    let gap = (a - b).abs();
    let larger = a.abs().max(b.abs());
    let largest_fee = config.settlement.fee_schedules.iter().map(|s| fee_minor(larger, s)).max().unwrap_or(0);
    gap > 0
        && gap <= largest_fee + config.settlement.fee_tolerance_minor
        && Decimal::from(gap) < Decimal::from(larger) / Decimal::TEN
}

fn single(prepared: &Prepared<'_>, side: Side, index: usize, reason: &str) -> Exception {
    let kind = match side {
        Side::Statement => ExceptionKind::UnmatchedStatement,
        Side::Move => ExceptionKind::UnmatchedMove,
    };
    let item = prepared.exception_item(side, index);
    let what = match (side, item.amount.amount_minor >= 0) {
        (Side::Statement, true) => "deposit",
        (Side::Statement, false) => "withdrawal",
        (Side::Move, true) => "Odoo debit",
        (Side::Move, false) => "Odoo credit",
    };
    let references: Vec<String> =
        item.references.iter().map(|r| format!("{} {}", r.kind.as_str(), r.canonical)).collect();
    let references = if references.is_empty() { "no reference".to_owned() } else { references.join(", ") };
    let summary =
        format!("{what} {} {} on {} ({references}): {reason}", item.amount, item.amount.currency, item.business_date);
    exception(kind, vec![item], Vec::new(), Difference::default(), summary)
}

fn ambiguous(prepared: &Prepared<'_>, ambiguity: &Ambiguity) -> Exception {
    let statement = &prepared.statements[ambiguity.statement];
    let mut items = vec![prepared.exception_item(Side::Statement, ambiguity.statement)];
    let mut candidates = Vec::new();
    for &(m, delta) in &ambiguity.candidates {
        let line = &prepared.moves[m];
        items.push(prepared.exception_item(Side::Move, m));
        candidates.push(Candidate {
            side: Side::Move,
            id: prepared.id(Side::Move, m).to_owned(),
            amount: line.money(),
            date_delta_banking_days: delta,
            note: ambiguity.note.clone(),
        });
    }
    let summary = format!(
        "{} equally good Odoo candidates for {} on {}: {}; a person must choose",
        candidates.len(),
        statement.money(),
        statement.business_date,
        ambiguity.note
    );
    exception(ExceptionKind::Ambiguous, items, candidates, Difference::default(), summary)
}
