//! Matching on generated data with ground truth: precision, recall, injected defects, determinism.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use recon_core::matching::{
    ExceptionKind, ManualAssignments, MatchConfig, MatchRule, MoveLine, MoveTexts, Outcome, Review, StatementLine,
    StatementTexts, reconcile, reconcile_unbuilt, reconcile_with_manual,
};
use recon_gen::{Dataset, Spec, generate};

pub fn typed(data: &Dataset) -> (Vec<StatementLine>, Vec<MoveLine>) {
    data.typed()
}

pub fn config(data: &Dataset) -> MatchConfig {
    data.match_config()
}

fn generated(statements: usize, seed: u64) -> (Dataset, Outcome) {
    let data = generate(&Spec { statements, seed, ..Spec::default() });
    let (statements, moves) = typed(&data);
    let outcome = reconcile(&statements, &moves, &config(&data));
    (data, outcome)
}

#[test]
fn precision_and_recall_on_generated_data() {
    let (data, outcome) = generated(3_000, 11);
    let truth: HashMap<&str, (&Vec<String>, bool)> =
        data.truth.pairs.iter().map(|p| (p.statement_id.as_str(), (&p.move_line_ids, p.needs_review))).collect();
    let automatic: Vec<_> = outcome.matches.iter().filter(|m| m.review == Review::Auto).collect();
    let correct = automatic
        .iter()
        .filter(|m| truth.get(m.statement_id.as_str()).is_some_and(|(ids, _)| **ids == m.move_line_ids))
        .count();
    let wrong: Vec<_> = automatic
        .iter()
        .filter(|m| truth.get(m.statement_id.as_str()).is_none_or(|(ids, _)| **ids != m.move_line_ids))
        .take(5)
        .collect();
    // Precision >= 99.9 %, in integers: correct / automatic >= 999 / 1000.
    assert!(correct * 1000 >= automatic.len() * 999, "precision {correct} of {}; wrong: {wrong:#?}", automatic.len());

    let found: HashMap<&str, &Vec<recon_core::matching::Text>> =
        outcome.matches.iter().map(|m| (m.statement_id.as_str(), &m.move_line_ids)).collect();
    let recalled = data
        .truth
        .pairs
        .iter()
        .filter(|p| found.get(p.statement_id.as_str()).is_some_and(|ids| **ids == p.move_line_ids))
        .count();
    let missed: Vec<_> =
        data.truth.pairs.iter().filter(|p| !found.contains_key(p.statement_id.as_str())).take(5).collect();
    // Recall >= 99 %: recalled / true pairs >= 99 / 100.
    assert!(
        recalled * 100 >= data.truth.pairs.len() * 99,
        "recall {recalled} of {}; missed: {missed:#?}",
        data.truth.pairs.len()
    );

    let review_expected = data.truth.pairs.iter().filter(|p| p.needs_review).count();
    let review_found = outcome.matches.iter().filter(|m| m.review == Review::NeedsReview).count();
    assert!(
        review_expected > 0 && review_found >= review_expected * 99 / 100,
        "needs review: {review_found} of {review_expected}"
    );
}

#[test]
fn every_injected_defect_raises_its_reason_code() {
    let (data, outcome) = generated(3_000, 12);
    let mut by_item: HashMap<(&str, ExceptionKind), usize> = HashMap::new();
    for exception in &outcome.exceptions {
        for item in &exception.items {
            *by_item.entry((item.id.as_str(), exception.kind)).or_default() += 1;
        }
    }
    let mut kinds_seen = HashSet::new();
    let mut missing = Vec::new();
    for defect in &data.truth.defects {
        kinds_seen.insert(defect.kind);
        let ids = defect.statement_ids.iter().chain(&defect.move_line_ids);
        let raised = ids.clone().all(|id| by_item.contains_key(&(id.as_str(), defect.kind)));
        if !raised {
            missing.push(defect);
        }
    }
    for kind in [
        ExceptionKind::UnmatchedStatement,
        ExceptionKind::UnmatchedMove,
        ExceptionKind::Duplicate,
        ExceptionKind::AmountMismatch,
        ExceptionKind::CurrencyMismatch,
        ExceptionKind::DateOutOfWindow,
        ExceptionKind::Ambiguous,
    ] {
        assert!(kinds_seen.contains(&kind), "the generator injected no {kind:?}");
    }
    assert!(
        missing.is_empty(),
        "{} of {} defects not raised with their code, e.g. {:#?}",
        missing.len(),
        data.truth.defects.len(),
        &missing[..missing.len().min(5)]
    );
}

fn canonical_json(outcome: &Outcome) -> String {
    serde_json::to_string(outcome).unwrap()
}

#[test]
fn settlement_prospects_per_block_changes_nothing() {
    // Tier 4 works out prospects a block of lines at a time and decides each block in order; the
    // blocks bound memory only. 1,500 lines fit in one default block, so smaller blocks are tried.
    let data = generate(&Spec { statements: 1_500, seed: 13, ..Spec::default() });
    let (statements, moves) = typed(&data);
    let config = config(&data);
    let whole = reconcile(&statements, &moves, &config);
    assert!(whole.matches.iter().any(|m| m.move_line_ids.len() > 1), "the data has settlements");
    for block in [1, 7, 100] {
        let mut blocked = config.clone();
        blocked.settlement.prospects_per_block = block;
        assert_eq!(
            canonical_json(&reconcile(&statements, &moves, &blocked)),
            canonical_json(&whole),
            "prospects_per_block {block}"
        );
    }
}

/// Building the matches from records handed over (each id moved out of its record, the rest freed)
/// gives what building them from borrowed records (each id copied) gives, settlements and the
/// manual run's left-out lines included.
#[test]
fn matches_built_from_owned_records_are_those_built_from_borrowed_ones() {
    let data = generate(&Spec { statements: 1_500, seed: 17, ..Spec::default() });
    let (statements, moves) = typed(&data);
    let config = config(&data);
    let manual = ManualAssignments {
        statement_ids: statements.iter().step_by(97).map(|line| line.id().to_owned()).collect(),
        move_line_ids: moves.iter().step_by(89).map(|line| line.id().to_owned()).collect(),
    };
    let borrowed = reconcile_unbuilt(&statements, &moves, &config, &manual).build(&statements, &moves);
    let unbuilt = reconcile_unbuilt(&statements, &moves, &config, &manual);
    let owned = unbuilt.build_from_owned(statements, moves);
    assert!(owned.matches.iter().any(|m| m.move_line_ids.len() >= 2), "the data has settlements");
    assert_eq!(canonical_json(&owned), canonical_json(&borrowed));
}

#[test]
fn identical_output_for_any_thread_count_and_input_order() {
    let data = generate(&Spec { statements: 1_500, seed: 13, ..Spec::default() });
    let (statements, moves) = typed(&data);
    let config = config(&data);
    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| reconcile(&statements, &moves, &config));
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(|| reconcile(&statements, &moves, &config));
    assert_eq!(canonical_json(&single), canonical_json(&many));
    let (mut shuffled_statements, mut shuffled_moves) = (statements.clone(), moves.clone());
    // A fixed permutation: reverse, then interleave halves.
    shuffled_statements.reverse();
    shuffled_moves.reverse();
    let half = shuffled_moves.len() / 2;
    shuffled_moves.rotate_left(half);
    let third = shuffled_statements.len() / 3;
    shuffled_statements.rotate_left(third);
    let shuffled = reconcile(&shuffled_statements, &shuffled_moves, &config);
    assert_eq!(canonical_json(&single), canonical_json(&shuffled));
}

#[test]
fn every_match_explains_itself() {
    let (data, outcome) = generated(2_000, 14);
    let (_, moves) = typed(&data);
    let moves: HashMap<&str, &MoveLine> = moves.iter().map(|m| (m.id(), m)).collect();
    for m in &outcome.matches {
        assert!(!m.summary().is_empty(), "{m:?}");
        assert!(m.explanation.date_delta_banking_days <= 3, "{m:?}");
        // Tiers 1 and 2 match one Odoo line for the exact amount, in the bank line's currency: on the
        // dollar account that is Odoo's `amount_currency`, not the company-currency balance.
        if matches!(m.explanation.rule, MatchRule::Fingerprint | MatchRule::ReferenceAmount) {
            let odoo = moves[m.move_line_ids[0].as_str()];
            let in_bank_currency = odoo.amount_currency.filter(|money| money.currency != odoo.balance.currency);
            assert_eq!(m.explanation.move_amount, in_bank_currency.unwrap_or(odoo.balance), "{m:?}");
            assert_eq!(m.explanation.move_amount, m.explanation.amount, "{m:?}");
        }
    }
    assert!(
        outcome
            .matches
            .iter()
            .any(|m| m.explanation.rule == MatchRule::ReferenceAmount && m.explanation.amount.currency.code() == "USD"),
        "a tier 2 match on the dollar account"
    );
    let rules: HashSet<_> = outcome.matches.iter().map(|m| m.explanation.rule).collect();
    for rule in [
        MatchRule::Fingerprint,
        MatchRule::ReferenceAmount,
        MatchRule::AmountDate,
        MatchRule::SettlementReference,
        MatchRule::SettlementNetOfFees,
        MatchRule::SettlementSum,
    ] {
        assert!(rules.contains(&rule), "no {rule:?} among {rules:?}");
    }
}

#[test]
fn manual_assignments_are_left_alone_and_count_as_reconciled() {
    let data = generate(&Spec { statements: 600, seed: 15, ..Spec::default() });
    let (statements, moves) = typed(&data);
    let config = config(&data);
    let before = reconcile(&statements, &moves, &config);
    let orphan =
        before.exceptions.iter().find(|e| e.kind == ExceptionKind::UnmatchedStatement).expect("an orphan line");
    let orphan_id = orphan.items[0].id.clone();
    let orphan_move =
        before.exceptions.iter().find(|e| e.kind == ExceptionKind::UnmatchedMove).expect("an orphan move");
    let orphan_move_id = orphan_move.items[0].id.clone();
    let mut manual = ManualAssignments::default();
    manual.statement_ids.insert(orphan_id.clone());
    manual.move_line_ids.insert(orphan_move_id.clone());
    let after = reconcile_with_manual(&statements, &moves, &config, &manual);
    assert!(after.exceptions.iter().all(|e| e.items.iter().all(|i| i.id != orphan_id && i.id != orphan_move_id)));
    assert!(after.matches.iter().all(|m| m.statement_id != orphan_id));
    assert_eq!(after.kpi.overall.manual_lines, 1);
    assert_eq!(after.kpi.overall.matched_lines, before.kpi.overall.matched_lines + 1);
}

/// The first and last dates chrono can hold, and a statement line with no date at all (it sorts as
/// the first date), take part like any other: their banking-day ordinals fit the prepared line. A
/// pair on the first date matches; the same reference and amount on the first and the last date
/// are as far apart as dates go, and are reported as out of the window, never matched.
#[test]
fn extreme_dates_reconcile_and_never_match_across_the_range() {
    use recon_core::money::Money;
    use recon_core::time::Timestamp;
    let data = generate(&Spec { statements: 40, seed: 16, ..Spec::default() });
    let (mut statements, mut moves) = typed(&data);
    let config = config(&data);
    // Templates: a peso deposit and the Odoo line it matched by fingerprint (same account, journal).
    let base = reconcile(&statements, &moves, &config);
    let pair = base
        .matches
        .iter()
        .find(|m| {
            m.explanation.rule == MatchRule::Fingerprint
                && m.explanation.amount.amount_minor > 0
                && m.explanation.amount.currency.code() == "MXN"
        })
        .expect("a peso deposit matched by fingerprint");
    let statement_template = statements.iter().find(|s| s.id() == pair.statement_id).expect("its statement").clone();
    let move_template = moves.iter().find(|m| m.id() == pair.move_line_ids[0]).expect("its Odoo line").clone();
    let statement = |id: &str, booked_at: Option<Timestamp>, reference: &str, amount_minor: i64| {
        let texts = StatementTexts { id, reference, description: "SPEI RECIBIDO", ..statement_template.texts() };
        let value_date = booked_at.map(|_| statement_template.value_date).unwrap_or_default();
        StatementLine::new(texts, booked_at, value_date, Money { amount_minor, ..statement_template.amount })
    };
    let odoo = |id: &str, date: NaiveDate, reference: &str, amount_minor: i64| {
        let texts = MoveTexts { id, label: "Pago", reference, ..move_template.texts() };
        let amount_currency = move_template.amount_currency.map(|money| Money { amount_minor, ..money });
        let balance = Money { amount_minor, ..move_template.balance };
        MoveLine::new(texts, date, balance, amount_currency, move_template.state)
    };
    let (first, last) = (Some(Timestamp::Date(NaiveDate::MIN)), Some(Timestamp::Date(NaiveDate::MAX)));
    statements.extend([
        statement("extreme-first", first, "MBAN01002610150073299901", 987_654_301),
        statement("extreme-far", first, "MBAN01002610150073299902", 987_654_302),
        statement("extreme-undated", None, "", 987_654_303),
        statement("extreme-last", last, "", 987_654_304),
    ]);
    moves.extend([
        odoo("extreme-move-first", NaiveDate::MIN, "MBAN01002610150073299901", 987_654_301),
        odoo("extreme-move-far", NaiveDate::MAX, "MBAN01002610150073299902", 987_654_302),
    ]);
    let outcome = reconcile(&statements, &moves, &config);
    let matched = |id: &str| outcome.matches.iter().find(|m| m.statement_id.as_str() == id);
    let on_first = matched("extreme-first").expect("the pair on the first date matches");
    assert_eq!(on_first.move_line_ids.iter().map(|id| id.as_str()).collect::<Vec<_>>(), ["extreme-move-first"]);
    assert_eq!(on_first.explanation.rule, MatchRule::Fingerprint, "{on_first:?}");
    let raised = |kind: ExceptionKind, id: &str| {
        outcome.exceptions.iter().any(|e| e.kind == kind && e.items.iter().any(|item| item.id.as_str() == id))
    };
    assert!(matched("extreme-far").is_none(), "matched across the whole date range");
    assert!(outcome.matches.iter().all(|m| m.move_line_ids.iter().all(|id| id.as_str() != "extreme-move-far")));
    for id in ["extreme-far", "extreme-move-far"] {
        assert!(raised(ExceptionKind::DateOutOfWindow, id), "{id} is not out of the window");
    }
    for id in ["extreme-undated", "extreme-last"] {
        assert!(matched(id).is_none(), "{id} matched");
        assert!(raised(ExceptionKind::UnmatchedStatement, id), "{id} is not an unmatched statement line");
    }
}

/// Tier 2 explains a match across dates as carried by the window; a fingerprint match claims nothing
/// more. The generated data books most Odoo lines within the day, so some fingerprint matches' Odoo
/// lines are moved a day later (to a weekday) to make tier 2 matches across dates.
#[test]
fn a_reference_match_across_dates_says_the_window_carried_it() {
    use chrono::{Datelike, Weekday};
    let data = generate(&Spec { statements: 400, seed: 17, ..Spec::default() });
    let (statements, mut moves) = typed(&data);
    let config = config(&data);
    let before = reconcile(&statements, &moves, &config);
    let shifted: HashSet<&str> = before
        .matches
        .iter()
        .filter(|m| m.explanation.rule == MatchRule::Fingerprint && m.move_line_ids.len() == 1)
        .map(|m| m.move_line_ids[0].as_str())
        .take(20)
        .collect();
    for line in moves.iter_mut().filter(|m| shifted.contains(m.id())) {
        let next = line.date.succ_opt().expect("a date before the last");
        if !matches!(next.weekday(), Weekday::Sat | Weekday::Sun) {
            line.date = next;
        }
    }
    let after = reconcile(&statements, &moves, &config);
    let across = after
        .matches
        .iter()
        .filter(|m| m.explanation.rule == MatchRule::ReferenceAmount && m.explanation.date_delta_banking_days > 0)
        .count();
    assert!(across > 0, "no tier 2 match across dates");
    for m in &after.matches {
        let within_window = m.explanation.corroboration.iter().any(|c| c.as_str() == "within_window");
        match m.explanation.rule {
            MatchRule::ReferenceAmount => {
                assert_eq!(within_window, m.explanation.date_delta_banking_days > 0, "{m:?}")
            }
            MatchRule::Fingerprint => assert!(m.explanation.corroboration.is_empty(), "{m:?}"),
            _ => assert!(!within_window, "{m:?}"),
        }
    }
}

/// `MatchRule::ALL` holds every rule once, and each is found again by its name: the match below
/// has no wildcard, so a new rule does not compile until it is placed here (and in `ALL`).
#[test]
fn every_match_rule_is_listed_and_found_by_its_name() {
    use recon_core::matching::MatchRule;
    let position = |rule: MatchRule| match rule {
        MatchRule::Fingerprint => 0,
        MatchRule::ReferenceAmount => 1,
        MatchRule::AmountDate => 2,
        MatchRule::AmountDateCorroborated => 3,
        MatchRule::SettlementReference => 4,
        MatchRule::SettlementSum => 5,
        MatchRule::SettlementNetOfFees => 6,
    };
    for (index, rule) in MatchRule::ALL.into_iter().enumerate() {
        assert_eq!(position(rule), index, "{rule:?}");
        assert_eq!(MatchRule::from_name(rule.as_str()), Some(rule));
    }
    assert_eq!(MatchRule::from_name("manual"), None);
}
