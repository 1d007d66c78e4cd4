//! What a decision set changes, computed before anything is written: the reconciliation of the scope
//! before the decisions (the store's manual matches left out of the tiers, as the nightly run does)
//! and after them (the decisions' lines left out too), the decisions validated against both inputs
//! and the store, and then everything the manual run writes: the run, its manual matches, the case
//! transitions and the ignore dispositions a reopen withdraws.
//!
//! The after-reconciliation is what the nightly run will compute from then on, so the manual run
//! writes it whole: its matches, its cases and the KPI of its scope, which `recon kpi` and the HTML
//! report then show.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use recon_core::matching::{
    Counts, Exception, KpiReport, ManualAssignments, Match, MoveLine, Outcome, Side, StatementLine,
    reconcile_with_manual,
};
use recon_store::{
    CaseFilter, CaseStatus, CaseTransition, CaseWithItems, ItemRef, ItemSide, MatchFilter, MatchRecord, MatchReview,
    MatchStatus, MatchWrite, RunHeader, RunInput, RunMode, RunScope, RunWrite, Store,
};
use serde::Serialize;
use serde_json::json;

use crate::config::Settings;
use crate::exit::bad_input;
use crate::input::{self, BadRow, Loaded};
use crate::manual_decisions::{
    self, Closure, Context, Decision, DecisionKind, DecisionRow, ManualScope, MatchedBy, Refusal, Validated,
};
use crate::mapping::{self, Provenances};
use crate::scope::{self, DateRange, SideCounts};
use crate::sources::{read_move_file, read_statement_file};

/// Rule of a manual match.
pub const RULE_MATCH: &str = "manual";
/// Rule of an ignore disposition (a manual match of one line).
pub const RULE_IGNORE: &str = "manual_ignore";

/// The two inputs, typed, with their record (path, blake3, rows).
pub struct Inputs {
    statements: Loaded<StatementLine>,
    moves: Loaded<MoveLine>,
    /// As the run records them.
    pub run_inputs: Vec<RunInput>,
}

/// Reads both inputs. A manual run reads clean inputs: any bad row refuses it (exit 2).
pub fn read_inputs(settings: &Settings, statements_path: &Path, moves_path: &Path) -> Result<Inputs> {
    let (statements, statements_input) =
        read_statement_file(settings, statements_path, &input::keep_all, &AtomicBool::new(false))?;
    let (moves, moves_input) = read_move_file(settings, moves_path, &input::keep_all, &AtomicBool::new(false))?;
    let bad_rows: Vec<&BadRow> = statements.bad_rows.iter().chain(&moves.bad_rows).collect();
    if !bad_rows.is_empty() {
        let mut message = format!("{} bad input row(s); a manual run reads clean inputs:", bad_rows.len());
        for row in bad_rows.iter().take(input::BAD_ROWS_SHOWN_MAX) {
            message.push_str(&format!("\n  {row}"));
        }
        return Err(bad_input(message));
    }
    Ok(Inputs { statements, moves, run_inputs: vec![statements_input, moves_input] })
}

/// What the store holds that the decisions depend on.
pub struct StoreState {
    /// Active matches (every review level).
    pub matches: Vec<MatchRecord>,
    /// Cases of the scope's context dates, with their items.
    pub cases: Vec<CaseWithItems>,
}

impl StoreState {
    /// Reads it. Every active match is read (manual ones of any date are out of the tiers, as in the
    /// nightly run); cases only of the context's dates.
    pub async fn read(store: &Store, scope: &ManualScope) -> Result<StoreState> {
        let active = MatchFilter { status: Some(MatchStatus::Active), ..MatchFilter::default() };
        let matches = store.matches(&active).await.context("reading active matches")?;
        let filter = CaseFilter {
            date_from: Some(scope.context.from),
            date_to: Some(scope.context.to),
            ..CaseFilter::default()
        };
        let cases = store.cases_with_items(&filter).await.context("reading cases")?;
        Ok(StoreState { matches, cases })
    }

    /// The lines of active manual matches, except those of `withdrawn` matches.
    fn manual_assignments(&self, withdrawn: &HashSet<&str>) -> ManualAssignments {
        let mut assignments = ManualAssignments::default();
        let manual = self.matches.iter().filter(|m| m.review == MatchReview::Manual);
        for item in manual.filter(|m| !withdrawn.contains(m.match_id.as_str())).flat_map(|m| &m.items) {
            add_item(&mut assignments, item.side, &item.item_id);
        }
        assignments
    }
}

fn add_item(assignments: &mut ManualAssignments, side: ItemSide, id: &str) {
    match side {
        ItemSide::Statement => assignments.statement_ids.insert(id.to_owned()),
        ItemSide::Move => assignments.move_line_ids.insert(id.to_owned()),
    };
}

/// What a reconciliation gives for the scope: its accounts and range.
#[derive(Debug, Clone)]
pub struct Owned {
    /// Matches of the scope.
    pub matches: Vec<Match>,
    /// Exceptions of the scope.
    pub exceptions: Vec<Exception>,
    /// KPI of the scope.
    pub kpi: KpiReport,
}

impl Owned {
    fn select(outcome: Outcome, scope: &ManualScope) -> Owned {
        let owns = |account: &str, date| scope.range.contains(date) && scope.accounts.iter().any(|a| a == account);
        let mut kpi = outcome.kpi;
        kpi.per_day.retain(|day| scope.accounts.contains(&day.account));
        Owned {
            matches: outcome.matches.into_iter().filter(|m| owns(&m.account, m.business_date)).collect(),
            exceptions: outcome
                .exceptions
                .into_iter()
                .filter(|e| e.items.iter().any(|item| owns(&item.account, item.business_date)))
                .collect(),
            kpi: scope::kpi_in_range(&kpi, scope.range),
        }
    }
}

/// A validated decision set and what it changes.
pub struct Plan {
    /// The scope.
    pub scope: ManualScope,
    /// The decisions and the cases they close.
    pub validated: Validated,
    /// The scope without the decisions.
    pub before: Owned,
    /// The scope with them.
    pub after: Owned,
    /// The core's counts after the decisions.
    pub after_counts: Counts,
    /// Lines per side by date.
    pub sides: [SideCounts; 2],
    /// Where each line was read.
    pub provenances: Provenances,
    /// The inputs' record.
    pub run_inputs: Vec<RunInput>,
}

/// Reconciles the scope before and after the decisions, validating them in between. `Err` holds
/// every refusal.
pub fn plan(
    settings: &Settings,
    scope: &ManualScope,
    file: &str,
    rows: &[DecisionRow],
    inputs: Inputs,
    state: &StoreState,
) -> Result<Plan, Vec<Refusal>> {
    let Inputs { statements, moves, run_inputs } = inputs;
    let (statements_in_context, statement_indexes, statement_counts) =
        scope::filter_statements(&statements.lines, settings.zone, scope.range, scope.context);
    let (moves_in_context, move_indexes, move_counts) = scope::filter_moves(&moves.lines, scope.range, scope.context);
    let config = &settings.match_config;
    let no_withdrawal = HashSet::new();
    let existing = state.manual_assignments(&no_withdrawal);
    let before = reconcile_with_manual(&statements_in_context, &moves_in_context, config, &existing);
    let context = Context {
        file,
        settings,
        scope,
        statements: statements.lines.iter().map(|line| (line.id().trim(), line)).collect(),
        moves: moves.lines.iter().map(|line| (line.id().trim(), line)).collect(),
        matched: matched_lines(&state.matches, &before.matches),
        cases: &state.cases,
    };
    let validated = manual_decisions::validate(rows, &context)?;
    let withdrawn_ids = withdrawn_match_ids(&validated);
    let withdrawn: HashSet<&str> = withdrawn_ids.iter().map(String::as_str).collect();
    let mut assignments = state.manual_assignments(&withdrawn);
    for (side, id) in validated.decisions.iter().flat_map(Decision::items) {
        add_item(&mut assignments, side, &id);
    }
    let after = reconcile_with_manual(&statements_in_context, &moves_in_context, config, &assignments);
    let after_counts = after.counts.clone();
    let (before, after) = (Owned::select(before, scope), Owned::select(after, scope));
    // The core indexed the lines in context; the inputs hold every line read.
    let provenances =
        Provenances::of_exceptions(before.exceptions.iter().chain(&after.exceptions), |side, record| match side {
            Side::Statement => statements.provenance(statement_indexes[record]),
            Side::Move => moves.provenance(move_indexes[record]),
        });
    Ok(Plan {
        scope: scope.clone(),
        before,
        after,
        validated,
        after_counts,
        sides: [statement_counts, move_counts],
        provenances,
        run_inputs,
    })
}

/// Lines held by active stored matches, and lines this run's rules match (a stored match wins).
fn matched_lines(stored: &[MatchRecord], rules: &[Match]) -> HashMap<(ItemSide, String), MatchedBy> {
    let mut matched = HashMap::new();
    for found in rules {
        let by = MatchedBy {
            match_id: found.match_id.to_string(),
            rule: found.explanation.rule.as_str().to_owned(),
            stored: false,
        };
        matched.insert((ItemSide::Statement, found.statement_id.to_string()), by.clone());
        for id in &found.move_line_ids {
            matched.insert((ItemSide::Move, id.to_string()), by.clone());
        }
    }
    for found in stored {
        let by = MatchedBy { match_id: found.match_id.clone(), rule: found.rule.clone(), stored: true };
        for item in &found.items {
            matched.insert((item.side, item.item_id.clone()), by.clone());
        }
    }
    matched
}

/// The ignore dispositions the reopen decisions withdraw.
pub fn withdrawn_match_ids(validated: &Validated) -> Vec<String> {
    let mut ids: Vec<String> = validated
        .decisions
        .iter()
        .filter_map(|d| match &d.kind {
            DecisionKind::Reopen(reopen) => Some(reopen.withdrawn_match_ids.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The refusals as one bad-input error (exit 2): every refusal up to a bound, then a count.
pub fn refused(refusals: &[Refusal], what: &str) -> anyhow::Error {
    let mut message = format!("{} decision(s) refused; nothing was {what}:", refusals.len());
    for refusal in refusals.iter().take(manual_decisions::REFUSALS_SHOWN_MAX) {
        message.push_str(&format!("\n  {refusal}"));
    }
    if refusals.len() > manual_decisions::REFUSALS_SHOWN_MAX {
        message.push_str(&format!("\n  ... and {} more", refusals.len() - manual_decisions::REFUSALS_SHOWN_MAX));
    }
    bad_input(message)
}

/// Who decided, who approved, who applied: recorded on every match, case event and the report.
#[derive(Clone, Debug, Serialize)]
pub struct Operators {
    /// The proposal.
    pub proposal_id: String,
    /// Who proposed the decisions.
    pub proposed_by: String,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// The proposer's note.
    pub proposal_note: Option<String>,
    /// Who approved them (four-eyes), if anyone.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// The approver's note.
    pub approval_note: Option<String>,
    /// Who applied them.
    pub applied_by: String,
}

impl Operators {
    /// `ana` or `ana (approved by luis)`: the decision's author as cases record it.
    pub fn decided_by(&self) -> String {
        match &self.approved_by {
            Some(approver) => format!("{} (approved by {approver})", self.proposed_by),
            None => self.proposed_by.clone(),
        }
    }
}

/// The manual run's identity.
#[derive(Clone, Debug)]
pub struct RunIdentity {
    /// Run id.
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it was computed: every row it writes carries this instant.
    pub finished_at: DateTime<Utc>,
}

/// The decisions file's record, for explanations.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionsRecord {
    /// Name as given.
    pub file: String,
    /// BLAKE3 of its bytes.
    pub blake3: String,
}

/// Everything the manual run writes besides the proposal and report.
pub struct Writes {
    /// The run.
    pub run: RunWrite,
    /// Cases moved.
    pub transitions: Vec<CaseTransition>,
    /// Ignore dispositions withdrawn.
    pub withdrawn_match_ids: Vec<String>,
}

/// Builds the run (header, counts, KPI, the after-reconciliation's matches and cases, the manual
/// matches) and the case transitions.
pub fn writes(
    plan: &Plan,
    settings: &Settings,
    identity: &RunIdentity,
    operators: &Operators,
    decisions: &DecisionsRecord,
) -> Result<Writes> {
    let after = &plan.after;
    let mut matches: Vec<MatchWrite> = after.matches.iter().map(mapping::match_write).collect::<Result<_>>()?;
    for decision in plan.validated.decisions.iter().filter(|d| !matches!(d.kind, DecisionKind::Reopen(_))) {
        matches.push(manual_match(decision, settings, identity, operators, decisions)?);
    }
    let cases =
        after.exceptions.iter().map(|e| mapping::case_write(e, &plan.provenances)).collect::<Result<Vec<_>>>()?;
    let kpi_json = serde_json::to_value(&after.kpi).context("serializing the KPI")?;
    let header = RunHeader {
        run_id: identity.run_id.clone(),
        mode: RunMode::Manual,
        operator: operators.applied_by.clone(),
        correlation_id: operators.proposal_id.clone(),
        scope: RunScope {
            accounts: plan.scope.accounts.clone(),
            date_from: plan.scope.range.from,
            date_to: plan.scope.range.to,
        },
        inputs: plan.run_inputs.clone(),
        config_blake3: settings.blake3.clone(),
        started_at: identity.started_at,
        finished_at: identity.finished_at,
        timings: json!({}),
    };
    let run = RunWrite {
        counts: counts(plan)?,
        kpi: mapping::run_kpi(&after.kpi, kpi_json),
        kpi_rows: mapping::kpi_rows(&after.kpi)?,
        matches,
        cases,
        quarantine: Vec::new(),
        header,
    };
    Ok(Writes {
        run,
        transitions: transitions(plan, operators, identity),
        withdrawn_match_ids: withdrawn_match_ids(&plan.validated),
    })
}

/// The run's counts: lines by date, matches by rule, exceptions by kind, the decisions.
fn counts(plan: &Plan) -> Result<serde_json::Value> {
    let mut matches_by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for found in &plan.after.matches {
        *matches_by_rule.entry(found.explanation.rule.as_str().to_owned()).or_default() += 1;
    }
    let mut exceptions_by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for exception in &plan.after.exceptions {
        *exceptions_by_kind.entry(exception.kind.as_str()).or_default() += 1;
    }
    let mut decisions: BTreeMap<&str, u64> = BTreeMap::new();
    for decision in &plan.validated.decisions {
        let action = match decision.kind {
            DecisionKind::Match(_) => RULE_MATCH,
            DecisionKind::Ignore(_) => RULE_IGNORE,
            DecisionKind::Reopen(_) => "reopen",
        };
        *decisions.entry(action).or_default() += 1;
    }
    Ok(json!({
        "lines": {"statements": plan.sides[0], "moves": plan.sides[1]},
        "matches_by_rule": matches_by_rule,
        "exceptions_by_kind": exceptions_by_kind,
        "decisions": decisions,
        "cases_closed": plan.validated.closures.len(),
        "reconciled": serde_json::to_value(&plan.after_counts).context("serializing counts")?,
    }))
}

/// The id of a manual match: unique per run and decision line, never a core match's id (a superseded
/// core match with the same lines must not be revived as a manual one).
fn manual_match_id(run_id: &str, line: u64) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"recon.manual.v1\0");
    hasher.update(run_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(line.to_string().as_bytes());
    format!("MM-{}", &hasher.finalize().to_hex()[..20])
}

fn manual_match(
    decision: &Decision,
    settings: &Settings,
    identity: &RunIdentity,
    operators: &Operators,
    decisions: &DecisionsRecord,
) -> Result<MatchWrite> {
    let match_id = manual_match_id(&identity.run_id, decision.line);
    let (rule, amount, items, date_delta, summary) = match &decision.kind {
        DecisionKind::Match(m) => {
            let mut items: Vec<ItemRef> =
                m.statement_ids.iter().map(|id| ItemRef { side: ItemSide::Statement, item_id: id.clone() }).collect();
            items.extend(m.move_line_ids.iter().map(|id| ItemRef { side: ItemSide::Move, item_id: id.clone() }));
            let delta = settings.match_config.calendar.banking_days_between(decision.business_date, m.latest_move_date);
            (RULE_MATCH, m.bank, items, delta, crate::manual_report::decision_sentence(decision))
        }
        DecisionKind::Ignore(i) => {
            let items = vec![ItemRef { side: i.side, item_id: i.id.clone() }];
            (RULE_IGNORE, i.amount, items, 0, crate::manual_report::decision_sentence(decision))
        }
        DecisionKind::Reopen(_) => anyhow::bail!("a reopen makes no match"),
    };
    let explanation = json!({
        "rule": rule,
        "summary": summary,
        "decision": decision,
        "decisions_file": decisions.file,
        "decisions_blake3": decisions.blake3,
        "operators": operators,
        "run_id": identity.run_id,
    });
    Ok(MatchWrite {
        match_id,
        rule: rule.to_owned(),
        review: MatchReview::Manual,
        account: decision.account.clone(),
        business_date: decision.business_date,
        amount: amount.to_string(),
        currency: amount.currency.code().to_owned(),
        reference_kind: None,
        reference: None,
        date_delta_banking_days: date_delta,
        explanation: explanation.into(),
        items,
    })
}

/// Closures and reopens as store transitions, each naming its decisions, reason and proposal.
fn transitions(plan: &Plan, operators: &Operators, identity: &RunIdentity) -> Vec<CaseTransition> {
    let by_line: HashMap<u64, &Decision> = plan.validated.decisions.iter().map(|d| (d.line, d)).collect();
    let mut transitions: Vec<CaseTransition> = plan
        .validated
        .closures
        .iter()
        .map(|closure| closure_transition(closure, &by_line, operators, identity))
        .collect();
    for decision in &plan.validated.decisions {
        let DecisionKind::Reopen(reopen) = &decision.kind else { continue };
        transitions.push(CaseTransition {
            case_id: reopen.case_id.clone(),
            to: CaseStatus::Open,
            operator: operators.decided_by(),
            corrective_action: None,
            note: format!(
                "reopened by hand (decision line {}, proposal {}, run {}): {}",
                decision.line, operators.proposal_id, identity.run_id, decision.reason
            ),
        });
    }
    transitions
}

fn closure_transition(
    closure: &Closure,
    by_line: &HashMap<u64, &Decision>,
    operators: &Operators,
    identity: &RunIdentity,
) -> CaseTransition {
    let parts: Vec<String> = closure
        .lines
        .iter()
        .filter_map(|line| by_line.get(line))
        .map(|decision| {
            format!(
                "{} ({}, line {}): {}",
                crate::manual_report::decision_sentence(decision),
                manual_match_id(&identity.run_id, decision.line),
                decision.line,
                decision.reason
            )
        })
        .collect();
    let action = parts.join("; ");
    CaseTransition {
        case_id: closure.case_id.clone(),
        to: closure.to,
        operator: operators.decided_by(),
        note: format!("manual run {} (proposal {}): {action}", identity.run_id, operators.proposal_id),
        corrective_action: Some(action),
    }
}

/// The scope of a manual run: the configured accounts named by `--account` (all when none), the
/// dates, and the context the configuration reads around them.
pub fn manual_scope(settings: &Settings, range: DateRange, accounts: &[String]) -> Result<ManualScope> {
    if range.from > range.to {
        return Err(bad_input(format!("--from {} is after --to {}", range.from, range.to)));
    }
    if (range.to - range.from).num_days() > 366 {
        return Err(bad_input(format!("the range {range} is longer than 366 days; split it")));
    }
    let configured: Vec<String> = settings.accounts.iter().map(|a| a.clabe.clone()).collect();
    for account in accounts {
        if !configured.contains(account) {
            return Err(bad_input(format!(
                "--account {account} is not a configured account ({})",
                configured.join(", ")
            )));
        }
    }
    let accounts = configured.into_iter().filter(|a| accounts.is_empty() || accounts.contains(a)).collect();
    let context = scope::context_range(range, settings.context_banking_days, &settings.match_config.calendar);
    Ok(ManualScope { accounts, range, context })
}
