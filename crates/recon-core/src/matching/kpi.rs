//! The reconciliation KPI: matched statement lines over statement lines in scope, by count and by
//! absolute amount; per account, per business day and overall.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use super::prepare::Prepared;
use super::{MatchConfig, Review};
use crate::currency::Currency;

/// Counts and amounts behind one KPI figure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiCell {
    /// Statement lines in scope.
    pub statement_lines: u64,
    /// Of which matched (automatically or pending review).
    pub matched_lines: u64,
    /// Of which matched but needing review.
    pub needs_review_lines: u64,
    /// Of which reconciled by hand in a manual controlled run.
    pub manual_lines: u64,
    /// Sum of absolute amounts in scope, minor units.
    pub statement_amount_minor: i128,
    /// Sum of absolute amounts matched, minor units.
    pub matched_amount_minor: i128,
    /// Matched over in scope, by count, rounded down to 4 decimals; `None` with nothing in scope.
    pub count_rate: Option<Decimal>,
    /// Matched over in scope, by absolute amount, rounded down to 4 decimals.
    pub amount_rate: Option<Decimal>,
}

impl KpiCell {
    fn add(&mut self, amount_minor: i64, status: LineStatus) {
        let (matched, needs_review) = (status != LineStatus::Open, status == LineStatus::NeedsReview);
        if status == LineStatus::Manual {
            self.manual_lines += 1;
        }
        self.statement_lines += 1;
        self.statement_amount_minor += i128::from(amount_minor.unsigned_abs());
        if matched {
            self.matched_lines += 1;
            self.matched_amount_minor += i128::from(amount_minor.unsigned_abs());
        }
        if needs_review {
            self.needs_review_lines += 1;
        }
    }

    /// Recomputes the rates from the counts and amounts.
    pub fn finish(&mut self) {
        let whole = |value: i128| Decimal::from_i128_with_scale(value, 0);
        self.count_rate = rate(Decimal::from(self.matched_lines), Decimal::from(self.statement_lines));
        self.amount_rate = rate(whole(self.matched_amount_minor), whole(self.statement_amount_minor));
    }

    /// Adds another cell's counts and amounts; call [`KpiCell::finish`] afterwards for the rates.
    pub fn absorb(&mut self, other: &KpiCell) {
        self.statement_lines += other.statement_lines;
        self.matched_lines += other.matched_lines;
        self.needs_review_lines += other.needs_review_lines;
        self.manual_lines += other.manual_lines;
        self.statement_amount_minor += other.statement_amount_minor;
        self.matched_amount_minor += other.matched_amount_minor;
    }
}

/// How a statement line ended up, for the KPI.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LineStatus {
    Open,
    Matched,
    NeedsReview,
    Manual,
}

/// `part / whole` rounded down to exactly 4 decimals (`1.0000`), so 0.94996 never reads as 0.9500 on the
/// alert line; `None` when `whole` is zero.
pub fn rate(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    let mut value = part.checked_div(whole)?.round_dp_with_strategy(4, RoundingStrategy::ToZero);
    value.rescale(4);
    Some(value)
}

/// One account's KPI on one business day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiDay {
    /// The account (CLABE).
    pub account: String,
    /// The business day.
    pub business_date: NaiveDate,
    /// The account's currency.
    pub currency: Currency,
    /// Figures.
    pub cell: KpiCell,
}

/// The KPI report of a reconciliation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The alert line.
    pub threshold: Decimal,
    /// All accounts together (amounts summed across currencies only within `overall_by_currency`).
    pub overall: KpiCell,
    /// Overall per currency, for amount rates that mean something.
    pub overall_by_currency: BTreeMap<String, KpiCell>,
    /// Per account.
    pub per_account: BTreeMap<String, KpiCell>,
    /// Per account and business day, sorted by account then day.
    pub per_day: Vec<KpiDay>,
    /// True when the overall count rate or any account's count rate is below the threshold.
    pub below_threshold: bool,
}

/// `matched[i]` is how statement line `i` of `prepared` was matched, if it was.
pub(super) fn compute(prepared: &Prepared<'_>, matched: &[Option<Review>], config: &MatchConfig) -> KpiReport {
    // A million lines into a few hundred cells: a hash map, its cells then put in key order.
    let mut by_day: HashMap<(usize, NaiveDate), (Currency, KpiCell)> = HashMap::default();
    for (line, matched) in prepared.statements.iter().zip(matched) {
        let status = match (line.manual, matched) {
            (true, _) => LineStatus::Manual,
            (false, Some(Review::NeedsReview)) => LineStatus::NeedsReview,
            (false, Some(Review::Auto)) => LineStatus::Matched,
            (false, None) => LineStatus::Open,
        };
        by_day
            .entry((line.account(), line.business_date))
            .or_insert_with(|| (line.currency, KpiCell::default()))
            .1
            .add(line.amount_minor, status);
    }
    let mut by_day: Vec<((usize, NaiveDate), (Currency, KpiCell))> = by_day.into_iter().collect();
    by_day.sort_unstable_by_key(|(key, _)| *key);
    let per_day: Vec<KpiDay> = by_day
        .into_iter()
        .map(|((account, business_date), (currency, cell))| KpiDay {
            account: prepared.accounts[account].clone(),
            business_date,
            currency,
            cell,
        })
        .collect();
    KpiReport::from_days(per_day, config.kpi_threshold)
}

impl KpiReport {
    /// Builds a report from per-account, per-day cells: overall, per-currency and per-account cells are
    /// their sums, every rate is recomputed, and the threshold check applies to the overall and
    /// per-account count rates.
    pub fn from_days(mut per_day: Vec<KpiDay>, threshold: Decimal) -> KpiReport {
        let mut overall = KpiCell::default();
        let mut overall_by_currency: BTreeMap<String, KpiCell> = BTreeMap::new();
        let mut per_account: BTreeMap<String, KpiCell> = BTreeMap::new();
        for day in &mut per_day {
            day.cell.finish();
            overall.absorb(&day.cell);
            overall_by_currency.entry(day.currency.code().to_owned()).or_default().absorb(&day.cell);
            per_account.entry(day.account.clone()).or_default().absorb(&day.cell);
        }
        per_day.sort_by(|a, b| (&a.account, a.business_date).cmp(&(&b.account, b.business_date)));
        overall.finish();
        overall_by_currency.values_mut().for_each(KpiCell::finish);
        per_account.values_mut().for_each(KpiCell::finish);
        let below = |cell: &KpiCell| cell.count_rate.is_some_and(|r| r < threshold);
        let below_threshold = below(&overall) || per_account.values().any(below);
        KpiReport { threshold, overall, overall_by_currency, per_account, per_day, below_threshold }
    }

    /// The same report over the days `keep` selects (a run's own range, without its context margin).
    pub fn restricted_to(&self, keep: impl Fn(NaiveDate) -> bool) -> KpiReport {
        let per_day = self.per_day.iter().filter(|day| keep(day.business_date)).cloned().collect();
        KpiReport::from_days(per_day, self.threshold)
    }
}
