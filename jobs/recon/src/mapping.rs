//! From the core's outcome to the store's rows: matches, cases and KPI rows.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, Result};
use recon_core::currency::Currency;
use recon_core::matching::{Exception, KpiCell, KpiReport, Match, MatchRule, Review, Side, Summary};
use recon_core::money::Money;
use recon_io::Provenance;
use recon_store::{
    CaseItemRef, CaseWrite, ItemRef, ItemSide, JsonText, KpiRow, MatchRecord, MatchReview, MatchWrite, RunKpi,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where the items of the run came from, by side and id: cases point the analyst at file and line.
#[derive(Debug, Default)]
pub struct Provenances {
    /// Statement lines by id.
    pub statements: HashMap<String, Provenance>,
    /// Odoo lines by id.
    pub moves: HashMap<String, Provenance>,
}

impl Provenances {
    /// Where the items of `exceptions` were read (the only lines whose provenance a run writes):
    /// `provenance` gives it for a side and the index of a line in the records the core was given
    /// (`ExceptionItem::record`; see [`crate::input::Loaded::provenance`]).
    pub fn of_exceptions<'e>(
        exceptions: impl IntoIterator<Item = &'e Exception>,
        provenance: impl Fn(Side, usize) -> Option<Provenance>,
    ) -> Provenances {
        let mut provenances = Provenances::default();
        for item in exceptions.into_iter().flat_map(|exception| &exception.items) {
            let Some(record) = item.record else { continue };
            let map = match item.side {
                Side::Statement => &mut provenances.statements,
                Side::Move => &mut provenances.moves,
            };
            let found = provenance(item.side, record);
            if let Some(provenance) = found {
                map.insert(item.id.clone(), provenance);
            }
        }
        provenances
    }

    fn of(&self, side: Side, id: &str) -> Option<&Provenance> {
        match side {
            Side::Statement => self.statements.get(id),
            Side::Move => self.moves.get(id),
        }
    }
}

fn item_side(side: Side) -> ItemSide {
    match side {
        Side::Statement => ItemSide::Statement,
        Side::Move => ItemSide::Move,
    }
}

/// What a match's explanation adds to the columns of its row, which already hold the rule, the
/// reference kind and value that agreed, the amount and the date delta: the Odoo side's sum when
/// it differs (fee-net settlements), what else agreed, and the fee. A night stores millions of
/// these; a tier 1 or 2 match's is `{"v":3}`, or `{"v":3,"corroboration":["within_window"]}` when
/// its dates differ within the window.
///
/// The sentence for the analyst is not stored: it follows from the row and this, and
/// [`match_summary`] writes it when a match is read (the export's `summary` column). `v` 2 held it
/// as well (about 110 bytes a match, a quarter of the row: the 10 M night's store wrote a gigabyte
/// of it); explanations written before `v` 2 have no `v` and hold every field of the core's
/// explanation. A kept match keeps the form it was first written in.
#[derive(Serialize)]
struct StoredExplanation<'a> {
    v: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    move_amount: Option<&'a Money>,
    #[serde(skip_serializing_if = "<[recon_core::matching::Text]>::is_empty")]
    corroboration: &'a [recon_core::matching::Text],
    #[serde(skip_serializing_if = "Option::is_none")]
    fee: Option<&'a str>,
}

impl<'a> StoredExplanation<'a> {
    fn of(found: &'a Match) -> Self {
        let explanation = &found.explanation;
        StoredExplanation {
            v: 3,
            move_amount: (explanation.move_amount != explanation.amount).then_some(&explanation.move_amount),
            corroboration: &explanation.corroboration,
            fee: explanation.fee.as_deref(),
        }
    }
}

/// Why a stored match matched, in the sentence the core writes for it ([`Match::summary`]): the one
/// its explanation holds (a manual match's, a `v` 2 or older rule's), else written from its row and
/// its `v` 3 explanation. `None` for a row neither gives a sentence for: a rule this build does not
/// know, or an explanation whose `move_amount` or `corroboration` is not of the form written here.
pub fn match_summary(found: &MatchRecord) -> Option<String> {
    let explanation = &found.explanation;
    if let Some(summary) = explanation.get("summary").and_then(Value::as_str) {
        return Some(summary.to_owned());
    }
    let rule = MatchRule::from_name(&found.rule)?;
    let text = |key: &str| explanation.get(key).and_then(Value::as_str);
    let move_amount = match explanation.get("move_amount") {
        Some(value) => Money::deserialize(value).ok()?.to_string(),
        None => found.amount.clone(),
    };
    let corroboration: Vec<&str> = match explanation.get("corroboration") {
        Some(Value::Array(agreed)) => agreed.iter().map(Value::as_str).collect::<Option<_>>()?,
        _ => Vec::new(),
    };
    let move_lines = found.items.iter().filter(|item| item.side == ItemSide::Move).count();
    let summary = Summary {
        rule,
        amount: &found.amount,
        move_amount: &move_amount,
        move_lines,
        reference: found.reference_kind.as_deref().zip(found.reference.as_deref()),
        date_delta_banking_days: found.date_delta_banking_days,
        corroboration: &corroboration,
        fee: text("fee"),
    };
    Some(summary.sentence())
}

/// A core match as the store writes it. Texts are copied as `str`s: `to_string` on a `CompactString`
/// goes through `Display`, and was 8 % of the samples of a 3 M run's matches upsert (perf).
pub fn match_write(found: &Match) -> Result<MatchWrite> {
    let explanation = &found.explanation;
    let mut items = vec![ItemRef { side: ItemSide::Statement, item_id: found.statement_id.as_str().to_owned() }];
    items
        .extend(found.move_line_ids.iter().map(|id| ItemRef { side: ItemSide::Move, item_id: id.as_str().to_owned() }));
    Ok(MatchWrite {
        match_id: found.match_id.as_str().to_owned(),
        rule: explanation.rule.as_str().to_owned(),
        review: match found.review {
            Review::Auto => MatchReview::Auto,
            Review::NeedsReview => MatchReview::NeedsReview,
        },
        account: found.account.as_str().to_owned(),
        business_date: found.business_date,
        amount: explanation.amount.to_string(),
        currency: explanation.amount.currency.code().to_owned(),
        reference_kind: explanation.reference_kind.map(|kind| kind.as_str().to_owned()),
        reference: explanation.reference.as_deref().map(str::to_owned),
        date_delta_banking_days: explanation.date_delta_banking_days,
        explanation: JsonText::new(&StoredExplanation::of(found))
            .with_context(|| format!("serializing the explanation of match {}", found.match_id))?,
        items,
    })
}

/// A core exception as the store writes it: the whole exception is the evidence; the external ids are
/// what an analyst searches for in NEON and Odoo.
pub fn case_write(exception: &Exception, provenances: &Provenances) -> Result<CaseWrite> {
    let evidence =
        JsonText::new(exception).with_context(|| format!("serializing the evidence of case {}", exception.case_id))?;
    let items = exception
        .items
        .iter()
        .map(|item| CaseItemRef {
            side: item_side(item.side),
            item_id: item.id.clone(),
            fingerprint: Some(item.fingerprint.to_string()),
        })
        .collect();
    Ok(CaseWrite {
        case_id: exception.case_id.clone(),
        kind: exception.kind.as_str().to_owned(),
        account: exception.account.clone(),
        business_date: exception.business_date,
        amount: Some(exception.amount.to_string()),
        currency: Some(exception.amount.currency.code().to_owned()),
        summary: exception.summary.clone(),
        evidence,
        external_ids: external_ids(exception, provenances).into(),
        items,
    })
}

/// NEON ids, Odoo move names and line ids, the references found, and where each item was read.
fn external_ids(exception: &Exception, provenances: &Provenances) -> serde_json::Value {
    let mut neon_ids = Vec::new();
    let mut odoo_line_ids = Vec::new();
    let mut odoo_move_names = BTreeSet::new();
    let mut references = BTreeSet::new();
    let mut sources = Vec::new();
    for item in &exception.items {
        match item.side {
            Side::Statement => neon_ids.push(item.id.clone()),
            Side::Move => odoo_line_ids.push(item.id.clone()),
        }
        if let Some(name) = item.move_name.as_ref().filter(|name| !name.is_empty()) {
            odoo_move_names.insert(name.clone());
        }
        for reference in &item.references {
            references.insert((reference.kind.as_str(), reference.canonical.clone()));
        }
        if let Some(provenance) = provenances.of(item.side, &item.id) {
            sources.push(json!({"side": item_side(item.side), "id": item.id, "file": provenance.file.display().to_string(), "line": provenance.line}));
        }
    }
    let references: Vec<serde_json::Value> =
        references.into_iter().map(|(kind, canonical)| json!({"kind": kind, "reference": canonical})).collect();
    json!({
        "neon_ids": neon_ids,
        "odoo_move_names": odoo_move_names,
        "odoo_line_ids": odoo_line_ids,
        "references": references,
        "sources": sources,
    })
}

/// Minor units as a decimal string of `currency` (`123450` MXN -> `1234.50`).
pub fn decimal_string(amount_minor: i128, currency: Currency) -> Result<String> {
    let value = Decimal::try_from_i128_with_scale(amount_minor, currency.minor_units())
        .with_context(|| format!("{amount_minor} minor units of {currency} do not fit a decimal"))?;
    Ok(value.to_string())
}

/// The store's per-account, per-day KPI rows of a report.
pub fn kpi_rows(report: &KpiReport) -> Result<Vec<KpiRow>> {
    report
        .per_day
        .iter()
        .map(|day| {
            Ok(KpiRow {
                account: day.account.clone(),
                business_date: day.business_date,
                statement_lines: day.cell.statement_lines,
                matched_lines: day.cell.matched_lines,
                statement_amount: decimal_string(day.cell.statement_amount_minor, day.currency)?,
                matched_amount: decimal_string(day.cell.matched_amount_minor, day.currency)?,
                currency: day.currency.code().to_owned(),
            })
        })
        .collect()
}

/// The headline KPI: the overall count rate, and the lowest per-currency amount rate (a sum across
/// currencies means nothing; with one currency it is simply that currency's rate). A range with no
/// statement line has no rate: it is stored as `0`, and the run exits as below the threshold.
pub fn run_kpi(report: &KpiReport, full_report: serde_json::Value) -> RunKpi {
    let overall: &KpiCell = &report.overall;
    let amount_rate = report.overall_by_currency.values().filter_map(|cell| cell.amount_rate).min();
    let text = |rate: Option<Decimal>| rate.unwrap_or(Decimal::ZERO).to_string();
    RunKpi {
        report: full_report,
        count_rate: text(overall.count_rate),
        amount_rate: text(amount_rate),
        threshold: report.threshold.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use recon_core::matching::{Explanation, Text};
    use recon_core::reference::ReferenceKind;
    use recon_store::MatchStatus;

    use super::*;

    /// One match of each rule, with what each sentence reads: a reference or none, corroboration,
    /// a fee and an Odoo sum that differs, a date delta.
    fn matches() -> Vec<Match> {
        let money = |minor| Money::from_minor(minor, Currency::MXN);
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date");
        let texts = |texts: &[&str]| texts.iter().map(|&t| Text::from(t)).collect::<Vec<_>>();
        // Rule, reference, date delta, corroboration, fee, Odoo lines.
        type Case<'a> = (MatchRule, Option<(ReferenceKind, &'a str)>, i64, &'a [&'a str], Option<&'a str>, usize);
        let rules: [Case; 9] = [
            (MatchRule::Fingerprint, Some((ReferenceKind::ClaveRastreo, "STP20261120123")), 0, &[], None, 1),
            (MatchRule::ReferenceAmount, Some((ReferenceKind::ReferenciaNumerica, "4711")), 0, &[], None, 1),
            (
                MatchRule::ReferenceAmount,
                Some((ReferenceKind::ClaveRastreo, "BIB2026112")),
                2,
                &["within_window"],
                None,
                1,
            ),
            (MatchRule::AmountDate, None, 0, &[], None, 1),
            (MatchRule::AmountDate, None, 1, &["within_window"], None, 1),
            (MatchRule::AmountDateCorroborated, None, 1, &["counterparty_name", "counterparty_clabe"], None, 1),
            (MatchRule::SettlementReference, Some((ReferenceKind::ConektaPayout, "598792")), 1, &[], None, 4),
            (MatchRule::SettlementSum, None, 0, &["search_bounded"], None, 3),
            (MatchRule::SettlementNetOfFees, None, 1, &[], Some("3.5 % + IVA: 36.54"), 2),
        ];
        rules
            .into_iter()
            .enumerate()
            .map(|(n, (rule, reference, delta, agreed, fee, moves))| {
                let amount = money(100_000 + 1_234 * i64::try_from(n).expect("a few"));
                let move_amount = if fee.is_some() { money(amount.amount_minor + 3_654) } else { amount };
                Match {
                    match_id: format!("M-{n:020}").into(),
                    statement_id: format!("{n}").into(),
                    move_line_ids: (0..moves).map(|m| Text::from(format!("odoo-{n}-{m}"))).collect(),
                    account: "646180111805034237".into(),
                    business_date: date,
                    review: if fee.is_some() { Review::NeedsReview } else { Review::Auto },
                    explanation: Explanation {
                        rule,
                        reference_kind: reference.map(|(kind, _)| kind),
                        reference: reference.map(|(_, canonical)| canonical.into()),
                        amount,
                        move_amount,
                        date_delta_banking_days: delta,
                        corroboration: texts(agreed),
                        fee: fee.map(str::to_owned),
                    },
                }
            })
            .collect()
    }

    /// The match as the store reads it back from the row `match_write` made of it.
    fn stored(found: &Match) -> MatchRecord {
        let row = match_write(found).expect("a row");
        MatchRecord {
            match_id: row.match_id,
            rule: row.rule,
            review: row.review,
            status: MatchStatus::Active,
            account: row.account,
            business_date: row.business_date,
            amount: row.amount,
            currency: row.currency,
            reference_kind: row.reference_kind,
            reference: row.reference,
            date_delta_banking_days: row.date_delta_banking_days,
            explanation: row.explanation.to_value().expect("JSON"),
            first_run_id: "R-1".into(),
            last_run_id: "R-1".into(),
            superseded_by_run_id: None,
            created_at: Utc::now(),
            items: row.items,
        }
    }

    #[test]
    fn a_stored_match_reads_as_the_sentence_the_core_wrote() {
        for found in matches() {
            let record = stored(&found);
            assert_eq!(record.explanation.get("v"), Some(&json!(3)), "{record:?}");
            assert!(record.explanation.get("summary").is_none(), "{record:?}");
            assert_eq!(match_summary(&record), Some(found.summary()), "{record:?}");
        }
    }

    #[test]
    fn a_same_day_tier_1_or_2_match_stores_only_its_version() {
        for found in &matches()[..2] {
            assert_eq!(found.explanation.date_delta_banking_days, 0);
            assert_eq!(match_write(found).expect("a row").explanation.as_str(), r#"{"v":3}"#);
        }
    }

    #[test]
    fn a_stored_sentence_is_read_as_it_is_and_an_unknown_rule_has_none() {
        let mut record = stored(&matches()[0]);
        record.explanation = json!({ "v": 2, "summary": "as written in 2026" });
        assert_eq!(match_summary(&record).as_deref(), Some("as written in 2026"));
        record.explanation = json!({ "v": 3 });
        record.rule = "a_rule_of_a_later_build".into();
        assert_eq!(match_summary(&record), None);
    }
}
