//! The decisions file of a manual controlled run, and its validation.
//!
//! An analyst writes one decision per CSV row (`action,statement_ids,move_line_ids,case_id,difference,
//! reason`; ids separated by `;`):
//!
//! - `match`: these statement lines are these Odoo lines (one statement line with one or more Odoo
//!   lines, or several statement lines with one Odoo line). The sums must agree, or the `difference`
//!   (bank minus Odoo, decimal text) must name exactly how far apart they are.
//! - `ignore`: one line (a statement id or an Odoo line id) needs no counterpart; it counts as
//!   reconciled and its case is closed as ignored.
//! - `reopen`: a resolved or ignored case (`case_id`) needs attention again.
//!
//! Every decision needs a `reason`. Validation is pure (the caller gathers the inputs and the store's
//! state): each id must exist in the inputs, be in the run's scope, be neither matched already nor used
//! by another decision. Every refusal names the file, line, column, value and why, and all refusals are
//! reported together: a decision set is applied whole or not at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use recon_core::currency::Currency;
use recon_core::matching::{AccountConfig, MoveLine, MoveState, StatementLine};
use recon_core::money::Money;
use recon_store::{CaseStatus, CaseWithItems, ItemSide};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Settings;
use crate::scope::{DateRange, statement_business_date};
use crate::terminal::grouped;

/// The columns of a decisions file, in the order the README shows them (any order is read).
pub const COLUMNS: [&str; 6] = ["action", "statement_ids", "move_line_ids", "case_id", "difference", "reason"];

/// Most decisions in one file: a manual run is a person's work, not a batch feed.
pub const DECISIONS_MAX: usize = 10_000;

/// Most ids on one side of one decision (the core's settlement bound is 12; a person may go further).
pub const IDS_PER_DECISION_MAX: usize = 64;

/// Most refusals listed in an error message; the rest are counted.
pub const REFUSALS_SHOWN_MAX: usize = 50;

/// What a decision does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Statement lines and Odoo lines are the same money.
    Match,
    /// One line needs no counterpart.
    Ignore,
    /// A closed case needs attention again.
    Reopen,
}

/// One row of the decisions file, as written (trimmed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecisionRow {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// `match`, `ignore` or `reopen`.
    pub action: String,
    /// Statement (NEON) ids, `;`-separated.
    pub statement_ids: String,
    /// Odoo line ids, `;`-separated.
    pub move_line_ids: String,
    /// A case id.
    pub case_id: String,
    /// Bank minus Odoo, decimal text, when the sums differ.
    pub difference: String,
    /// Why.
    pub reason: String,
}

/// A decision refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The decisions file.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<&'static str>,
    /// The value at fault, when one is.
    pub value: Option<String>,
    /// Why, and what to do.
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(column) = self.column {
            write!(f, ": column {column:?}")?;
        }
        if let Some(value) = &self.value {
            write!(f, ": value {value:?}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Reads the decisions file. A header that is not exactly [`COLUMNS`] (in any order), a row that
/// cannot be read, or more than [`DECISIONS_MAX`] rows are refusals.
pub fn parse(file: &str, text: &str) -> Result<Vec<DecisionRow>, Vec<Refusal>> {
    let refusal =
        |line: u64, reason: String| Refusal { file: file.to_owned(), line, column: None, value: None, reason };
    // Spreadsheet programs save UTF-8 with a byte-order mark; it is not part of the first column's name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(error) => return Err(vec![refusal(1, format!("cannot read the header: {error}"))]),
    };
    let position = |name: &str| header.iter().position(|column| column == name);
    let mut sorted_header = header.clone();
    sorted_header.sort();
    let mut expected: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    expected.sort();
    if sorted_header != expected {
        return Err(vec![refusal(1, format!("the header must be {} (found {})", COLUMNS.join(","), header.join(",")))]);
    }
    let mut rows = Vec::new();
    let mut refusals = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                refusals.push(refusal(line, format!("cannot read the row: {error}")));
                continue;
            }
        };
        if rows.len() == DECISIONS_MAX {
            refusals.push(refusal(
                record.position().map_or(0, csv::Position::line),
                format!("more than {DECISIONS_MAX} decisions; split the file"),
            ));
            break;
        }
        let field = |name: &str| position(name).and_then(|index| record.get(index)).unwrap_or_default().to_owned();
        rows.push(DecisionRow {
            line: record.position().map_or(0, csv::Position::line),
            action: field("action"),
            statement_ids: field("statement_ids"),
            move_line_ids: field("move_line_ids"),
            case_id: field("case_id"),
            difference: field("difference"),
            reason: field("reason"),
        });
    }
    if rows.is_empty() && refusals.is_empty() {
        refusals.push(refusal(1, "the file holds no decision".to_owned()));
    }
    if refusals.is_empty() { Ok(rows) } else { Err(refusals) }
}

/// The accounts and dates a manual run may touch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManualScope {
    /// Accounts (CLABEs), in configuration order.
    pub accounts: Vec<String>,
    /// Business dates owned: statement lines, ignored Odoo lines and reopened cases must be in it.
    pub range: DateRange,
    /// Dates read for context: matched Odoo lines must be in it.
    pub context: DateRange,
}

impl ManualScope {
    fn has_account(&self, account: &str) -> bool {
        self.accounts.iter().any(|a| a == account)
    }
}

/// Who already holds a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedBy {
    /// The match.
    pub match_id: String,
    /// Its rule (`fingerprint`, ..., `manual`, `manual_ignore`).
    pub rule: String,
    /// True when the match is in the store; false when this run's rules would make it.
    pub stored: bool,
}

/// Everything validation looks at. The caller reads the inputs and the store.
pub struct Context<'a> {
    /// The decisions file's name, for refusals.
    pub file: &'a str,
    /// The configuration (zone, accounts, company currency).
    pub settings: &'a Settings,
    /// The scope.
    pub scope: &'a ManualScope,
    /// Statement lines read, by id.
    pub statements: HashMap<&'a str, &'a StatementLine>,
    /// Odoo lines read, by id.
    pub moves: HashMap<&'a str, &'a MoveLine>,
    /// Lines in active stored matches, and lines this run's rules match.
    pub matched: HashMap<(ItemSide, String), MatchedBy>,
    /// Stored cases of the scope's dates, with their items.
    pub cases: &'a [CaseWithItems],
}

/// A validated `match`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchDecision {
    /// Statement ids.
    pub statement_ids: Vec<String>,
    /// Odoo line ids.
    pub move_line_ids: Vec<String>,
    /// Odoo move names of those lines, in the same order (what an analyst searches Odoo for).
    pub move_names: Vec<String>,
    /// Sum of the statement lines.
    pub bank: Money,
    /// Sum of the Odoo lines, in the account's currency.
    pub odoo: Money,
    /// The difference named (bank minus Odoo), when the sums differ.
    pub difference: Option<Decimal>,
    /// Latest Odoo date, for the date distance.
    pub latest_move_date: NaiveDate,
}

/// A validated `ignore`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IgnoreDecision {
    /// Statement line or Odoo line.
    pub side: ItemSide,
    /// Its id.
    pub id: String,
    /// The Odoo move name, for an Odoo line.
    pub move_name: Option<String>,
    /// Its amount (Odoo: in the account's currency when it has one, else the company currency).
    pub amount: Money,
}

/// A validated `reopen`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReopenDecision {
    /// The case.
    pub case_id: String,
    /// Its kind.
    pub kind: String,
    /// Resolved or ignored.
    pub status: CaseStatus,
    /// The ignore dispositions of its items, withdrawn by the reopen.
    pub withdrawn_match_ids: Vec<String>,
}

/// What a validated decision does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DecisionKind {
    /// A manual match.
    Match(MatchDecision),
    /// An ignore disposition.
    Ignore(IgnoreDecision),
    /// A case reopened.
    Reopen(ReopenDecision),
}

/// A validated decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Its line in the file.
    pub line: u64,
    /// The account (CLABE) of its lines or case.
    pub account: String,
    /// The business date: the (earliest) statement line's, the Odoo line's, or the case's.
    pub business_date: NaiveDate,
    /// What it does.
    #[serde(flatten)]
    pub kind: DecisionKind,
    /// The case a match or an ignore says it closes (checked), from the `case_id` column.
    pub named_case_id: Option<String>,
    /// Why.
    pub reason: String,
}

impl Decision {
    /// The lines the decision takes (none for a reopen).
    pub fn items(&self) -> Vec<(ItemSide, String)> {
        match &self.kind {
            DecisionKind::Match(m) => m
                .statement_ids
                .iter()
                .map(|id| (ItemSide::Statement, id.clone()))
                .chain(m.move_line_ids.iter().map(|id| (ItemSide::Move, id.clone())))
                .collect(),
            DecisionKind::Ignore(i) => vec![(i.side, i.id.clone())],
            DecisionKind::Reopen(_) => Vec::new(),
        }
    }
}

/// An open case the decisions close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Closure {
    /// The case.
    pub case_id: String,
    /// Its kind.
    pub kind: String,
    /// Its summary.
    pub summary: String,
    /// Resolved (a match took part) or ignored (only ignores did).
    pub to: CaseStatus,
    /// Lines of the decisions that close it.
    pub lines: Vec<u64>,
}

/// A validated decision set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Validated {
    /// The decisions, in file order.
    pub decisions: Vec<Decision>,
    /// The open cases they close, by case id.
    pub closures: Vec<Closure>,
}

/// Validates every row; all refusals at once.
pub fn validate(rows: &[DecisionRow], context: &Context<'_>) -> Result<Validated, Vec<Refusal>> {
    let mut state = State::default();
    let mut decisions = Vec::with_capacity(rows.len());
    let mut refusals = Vec::new();
    for row in rows {
        let mut check = Check { context, row, refusals: Vec::new() };
        if let Some(decision) = check.decision(&mut state) {
            decisions.push(decision);
        }
        refusals.append(&mut check.refusals);
    }
    let closures = closures(&decisions, context, &mut refusals);
    // By line, in file order; within a line, in the order the checks ran.
    refusals.sort_by_key(|refusal| refusal.line);
    if refusals.is_empty() { Ok(Validated { decisions, closures }) } else { Err(refusals) }
}

/// What earlier rows took.
#[derive(Default)]
struct State {
    lines_taken: HashMap<(ItemSide, String), u64>,
    cases_reopened: HashMap<String, u64>,
}

struct Check<'c, 'a> {
    context: &'c Context<'a>,
    row: &'c DecisionRow,
    refusals: Vec<Refusal>,
}

/// Amount text for people: `1,000.00`.
fn shown(amount: Decimal) -> String {
    grouped(&amount.to_string())
}

fn side_name(side: ItemSide) -> &'static str {
    match side {
        ItemSide::Statement => "statement line",
        ItemSide::Move => "Odoo line",
    }
}

impl<'a> Check<'_, 'a> {
    fn refuse(&mut self, column: Option<&'static str>, value: Option<&str>, reason: impl Into<String>) {
        self.refusals.push(Refusal {
            file: self.context.file.to_owned(),
            line: self.row.line,
            column,
            value: value.map(str::to_owned),
            reason: reason.into(),
        });
    }

    fn decision(&mut self, state: &mut State) -> Option<Decision> {
        let action = match self.row.action.to_lowercase().as_str() {
            "match" => Some(Action::Match),
            "ignore" => Some(Action::Ignore),
            "reopen" => Some(Action::Reopen),
            _ => None,
        };
        if action.is_none() {
            let value = self.row.action.clone();
            self.refuse(Some("action"), Some(&value), "unknown action; write match, ignore or reopen");
        }
        if self.row.reason.is_empty() {
            self.refuse(Some("reason"), Some(""), "a reason is required: it goes into the audit trail and the report");
        }
        let decision = match action? {
            Action::Match => self.match_decision(state),
            Action::Ignore => self.ignore_decision(state),
            Action::Reopen => self.reopen_decision(state),
        };
        if !self.refusals.is_empty() {
            return None;
        }
        decision
    }

    /// The `;`-separated ids of a column: no empty id, no repeat, at most [`IDS_PER_DECISION_MAX`].
    fn ids(&mut self, column: &'static str, text: &str) -> Vec<String> {
        let ids: Vec<String> = text.split(';').map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
        let unique: BTreeSet<&String> = ids.iter().collect();
        if unique.len() != ids.len() {
            self.refuse(Some(column), Some(text), "an id appears twice");
        }
        if ids.len() > IDS_PER_DECISION_MAX {
            self.refuse(Some(column), Some(text), format!("more than {IDS_PER_DECISION_MAX} ids in one decision"));
        }
        ids
    }

    fn must_be_empty(&mut self, column: &'static str, value: &str, action: &str) {
        if !value.is_empty() {
            self.refuse(Some(column), Some(value), format!("must be empty for {action}"));
        }
    }

    /// Refuses a line already matched, or taken by an earlier decision; records it as taken.
    fn take(&mut self, state: &mut State, column: &'static str, side: ItemSide, id: &str) {
        let key = (side, id.to_owned());
        if let Some(by) = self.context.matched.get(&key) {
            let reason = if by.stored {
                format!(
                    "{} {id} is already in active match {} (rule {}); a line is matched once",
                    side_name(side),
                    by.match_id,
                    by.rule
                )
            } else {
                format!(
                    "{} {id} is matched by this run's rules (match {}, rule {}); no manual decision is needed",
                    side_name(side),
                    by.match_id,
                    by.rule
                )
            };
            self.refuse(Some(column), Some(id), reason);
        }
        if let Some(line) = state.lines_taken.get(&key) {
            let reason = format!("{} {id} is already taken by the decision on line {line}", side_name(side));
            self.refuse(Some(column), Some(id), reason);
        }
        state.lines_taken.entry(key).or_insert(self.row.line);
    }

    /// A statement line of the scope: its account and business date.
    fn statement(&mut self, id: &str) -> Option<(&'a StatementLine, String, NaiveDate)> {
        let Some(line) = self.context.statements.get(id).copied() else {
            self.refuse(Some("statement_ids"), Some(id), "no statement line with this id in the statements input");
            return None;
        };
        let account = line.account().trim().to_owned();
        let date = statement_business_date(line, self.context.settings.zone).unwrap_or(NaiveDate::MIN);
        let scope = self.context.scope;
        if !scope.has_account(&account) {
            self.refuse(
                Some("statement_ids"),
                Some(id),
                format!("account {account} is not in the scope ({})", scope.accounts.join(", ")),
            );
            return None;
        }
        if !scope.range.contains(date) {
            self.refuse(
                Some("statement_ids"),
                Some(id),
                format!("business date {date} is outside the scope {}", scope.range),
            );
            return None;
        }
        Some((line, account, date))
    }

    /// An Odoo line on a bank account of the scope, posted, dated within `dates`: its account.
    fn bank_move(&mut self, id: &str, dates: DateRange) -> Option<(&'a MoveLine, &'a AccountConfig)> {
        let Some(line) = self.context.moves.get(id).copied() else {
            self.refuse(Some("move_line_ids"), Some(id), "no Odoo line with this id in the moves input");
            return None;
        };
        if line.state != MoveState::Posted {
            self.refuse(
                Some("move_line_ids"),
                Some(id),
                format!("move {} is {:?}, not posted", line.move_name(), line.state).to_lowercase(),
            );
            return None;
        }
        let Some(account) = bank_account_of(line, &self.context.settings.match_config.accounts) else {
            let reason = format!(
                "GL account {:?} is not the bank account of a configured account (a counterpart line?)",
                line.account()
            );
            self.refuse(Some("move_line_ids"), Some(id), reason);
            return None;
        };
        let scope = self.context.scope;
        if !scope.has_account(&account.clabe) {
            self.refuse(
                Some("move_line_ids"),
                Some(id),
                format!("account {} is not in the scope ({})", account.clabe, scope.accounts.join(", ")),
            );
            return None;
        }
        if !dates.contains(line.date) {
            self.refuse(Some("move_line_ids"), Some(id), format!("date {} is outside {dates}", line.date));
            return None;
        }
        Some((line, account))
    }

    fn match_decision(&mut self, state: &mut State) -> Option<Decision> {
        let row = self.row;
        let statement_ids = self.ids("statement_ids", &row.statement_ids);
        let move_line_ids = self.ids("move_line_ids", &row.move_line_ids);
        if statement_ids.is_empty() {
            self.refuse(Some("statement_ids"), Some(""), "a match needs at least one statement id");
        }
        if move_line_ids.is_empty() {
            self.refuse(Some("move_line_ids"), Some(""), "a match needs at least one Odoo line id");
        }
        if statement_ids.len() > 1 && move_line_ids.len() > 1 {
            self.refuse(
                Some("statement_ids"),
                Some(&row.statement_ids),
                "several statement lines with several Odoo lines: split it into decisions of one statement line, or of one Odoo line",
            );
        }
        let mut statements = Vec::new();
        for id in &statement_ids {
            self.take(state, "statement_ids", ItemSide::Statement, id);
            if let Some(found) = self.statement(id) {
                statements.push(found);
            }
        }
        let mut moves = Vec::new();
        for id in &move_line_ids {
            self.take(state, "move_line_ids", ItemSide::Move, id);
            if let Some(found) = self.bank_move(id, self.context.scope.context) {
                moves.push(found);
            }
        }
        if !self.refusals.is_empty() {
            return None;
        }
        let account = statements[0].1.clone();
        let business_date = statements.iter().map(|s| s.2).min().unwrap_or(NaiveDate::MIN);
        let kind = self.amounts(&account, &statements, &moves)?;
        Some(Decision {
            line: row.line,
            account,
            business_date,
            kind: DecisionKind::Match(kind),
            named_case_id: named(&row.case_id),
            reason: row.reason.clone(),
        })
    }

    /// The sums of both sides in the account's currency, and the difference check.
    fn amounts(
        &mut self,
        account: &str,
        statements: &[(&StatementLine, String, NaiveDate)],
        moves: &[(&MoveLine, &AccountConfig)],
    ) -> Option<MatchDecision> {
        let Some(currency) = self.context.settings.accounts.iter().find(|a| a.clabe == account).map(|a| a.currency)
        else {
            self.refuse(Some("statement_ids"), None, format!("account {account} is not in the configuration"));
            return None;
        };
        let mut bank = 0_i64;
        for (line, line_account, _) in statements {
            if *line_account != account {
                self.refuse(
                    Some("statement_ids"),
                    Some(line.id()),
                    format!("account {line_account} differs from {account}: one decision, one account"),
                );
            } else if line.amount.currency != currency {
                self.refuse(
                    Some("statement_ids"),
                    Some(line.id()),
                    format!("currency {} differs from the account's {currency}", line.amount.currency),
                );
            }
            let Some(sum) = bank.checked_add(line.amount.amount_minor) else {
                self.refuse(Some("statement_ids"), Some(line.id()), "the bank amounts overflow when added".to_owned());
                return None;
            };
            bank = sum;
        }
        let mut odoo = 0_i64;
        for (line, move_account) in moves {
            if move_account.clabe != account {
                self.refuse(
                    Some("move_line_ids"),
                    Some(line.id()),
                    format!("account {} differs from {account}: one decision, one account", move_account.clabe),
                );
                continue;
            }
            match move_amount(line, currency, self.context.settings.match_config.company_currency) {
                Some(amount) => {
                    let Some(sum) = odoo.checked_add(amount.amount_minor) else {
                        self.refuse(
                            Some("move_line_ids"),
                            Some(line.id()),
                            "the Odoo amounts overflow when added".to_owned(),
                        );
                        return None;
                    };
                    odoo = sum;
                }
                None => self.refuse(
                    Some("move_line_ids"),
                    Some(line.id()),
                    format!("the Odoo line has no amount in {currency} (amount_currency)"),
                ),
            }
        }
        if !self.refusals.is_empty() {
            return None;
        }
        let (bank, odoo) = (Money::from_minor(bank, currency), Money::from_minor(odoo, currency));
        let difference = self.difference(bank, odoo)?;
        let latest_move_date = moves.iter().map(|(line, _)| line.date).max().unwrap_or(NaiveDate::MIN);
        Some(MatchDecision {
            statement_ids: statements.iter().map(|s| s.0.id().to_string()).collect(),
            move_line_ids: moves.iter().map(|m| m.0.id().to_string()).collect(),
            move_names: moves.iter().map(|m| m.0.move_name().to_string()).collect(),
            bank,
            odoo,
            difference,
            latest_move_date,
        })
    }

    /// `None` (refused) unless the sums agree with an empty `difference`, or differ by exactly the
    /// named difference; `Some(None)` when they agree.
    fn difference(&mut self, bank: Money, odoo: Money) -> Option<Option<Decimal>> {
        let text = self.row.difference.clone();
        let actual = bank.to_decimal() - odoo.to_decimal();
        let (bank_text, odoo_text) = (shown(bank.to_decimal()), shown(odoo.to_decimal()));
        if bank.amount_minor != 0 && odoo.amount_minor != 0 && (bank.amount_minor > 0) != (odoo.amount_minor > 0) {
            self.refuse(None, None, format!("the bank side is {bank_text} but the Odoo side is {odoo_text}: a deposit is never matched with a payment"));
            return None;
        }
        if text.is_empty() {
            if actual.is_zero() {
                return Some(None);
            }
            self.refuse(
                Some("difference"),
                Some(""),
                format!(
                    "amounts do not add up: bank {bank_text} vs Odoo {odoo_text} (difference {}); name the difference in the `difference` column",
                    shown(actual)
                ),
            );
            return None;
        }
        let Ok(named) = Decimal::from_str_exact(&text) else {
            self.refuse(
                Some("difference"),
                Some(&text),
                "not a decimal number such as 34.80 or -34.80 (bank minus Odoo)",
            );
            return None;
        };
        if actual.is_zero() && named.is_zero() {
            return Some(None);
        }
        if actual.is_zero() {
            self.refuse(
                Some("difference"),
                Some(&text),
                format!("the amounts add up (bank {bank_text} = Odoo {odoo_text}); leave `difference` empty"),
            );
            return None;
        }
        if named != actual {
            self.refuse(
                Some("difference"),
                Some(&text),
                format!("the difference named is not the difference: bank {bank_text} vs Odoo {odoo_text} differ by {} (bank minus Odoo)", shown(actual)),
            );
            return None;
        }
        Some(Some(named))
    }

    fn ignore_decision(&mut self, state: &mut State) -> Option<Decision> {
        let row = self.row;
        self.must_be_empty("difference", &row.difference, "ignore");
        let statement_ids = self.ids("statement_ids", &row.statement_ids);
        let move_line_ids = self.ids("move_line_ids", &row.move_line_ids);
        let (side, id) = match (statement_ids.as_slice(), move_line_ids.as_slice()) {
            ([id], []) => (ItemSide::Statement, id.clone()),
            ([], [id]) => (ItemSide::Move, id.clone()),
            _ => {
                self.refuse(
                    Some("statement_ids"),
                    Some(&format!("{}|{}", row.statement_ids, row.move_line_ids)),
                    "ignore takes exactly one line: one statement id, or one Odoo line id",
                );
                return None;
            }
        };
        let column = if side == ItemSide::Statement { "statement_ids" } else { "move_line_ids" };
        self.take(state, column, side, &id);
        let (account, business_date, amount, move_name) = match side {
            ItemSide::Statement => {
                let (line, account, date) = self.statement(&id)?;
                (account, date, line.amount, None)
            }
            ItemSide::Move => {
                let range = self.context.scope.range;
                let (line, account) = self.bank_move(&id, range)?;
                let company = self.context.settings.match_config.company_currency;
                let amount = move_amount(line, account.currency, company).unwrap_or(line.balance);
                (account.clabe.clone(), line.date, amount, Some(line.move_name().to_string()))
            }
        };
        if !self.refusals.is_empty() {
            return None;
        }
        let kind = DecisionKind::Ignore(IgnoreDecision { side, id, move_name, amount });
        Some(Decision {
            line: row.line,
            account,
            business_date,
            kind,
            named_case_id: named(&row.case_id),
            reason: row.reason.clone(),
        })
    }

    fn reopen_decision(&mut self, state: &mut State) -> Option<Decision> {
        let row = self.row;
        for (column, value) in [
            ("statement_ids", &row.statement_ids),
            ("move_line_ids", &row.move_line_ids),
            ("difference", &row.difference),
        ] {
            self.must_be_empty(column, value, "reopen (the case names its lines)");
        }
        let case_id = row.case_id.as_str();
        if case_id.is_empty() {
            self.refuse(Some("case_id"), Some(""), "reopen needs the case id (C-...)");
            return None;
        }
        let scope = self.context.scope;
        let Some(found) = self.context.cases.iter().find(|c| c.case.case_id == case_id) else {
            self.refuse(
                Some("case_id"),
                Some(case_id),
                format!("no case with this id among the cases of the scope's dates ({})", scope.context),
            );
            return None;
        };
        let case = &found.case;
        if !scope.has_account(&case.account) || !scope.range.contains(case.business_date) {
            let reason = format!("the case ({} on {}) is outside the scope", case.account, case.business_date);
            self.refuse(Some("case_id"), Some(case_id), reason);
            return None;
        }
        if case.status == CaseStatus::Open {
            self.refuse(Some("case_id"), Some(case_id), "the case is open already");
        }
        if let Some(line) = state.cases_reopened.insert(case_id.to_owned(), row.line) {
            self.refuse(
                Some("case_id"),
                Some(case_id),
                format!("the case is already reopened by the decision on line {line}"),
            );
        }
        let withdrawn_match_ids = self.withdrawn(found, state);
        if !self.refusals.is_empty() {
            return None;
        }
        let kind = DecisionKind::Reopen(ReopenDecision {
            case_id: case_id.to_owned(),
            kind: case.kind.clone(),
            status: case.status,
            withdrawn_match_ids,
        });
        Some(Decision {
            line: row.line,
            account: case.account.clone(),
            business_date: case.business_date,
            kind,
            named_case_id: None,
            reason: row.reason.clone(),
        })
    }

    /// The ignore dispositions a reopen withdraws. A case whose item is matched (not just ignored)
    /// cannot be reopened: the next run would resolve it again at once.
    fn withdrawn(&mut self, found: &CaseWithItems, state: &mut State) -> Vec<String> {
        let case_id = found.case.case_id.as_str();
        let mut withdrawn = BTreeSet::new();
        for item in &found.items {
            let key = (item.side, item.item_id.clone());
            if let Some(line) = state.lines_taken.get(&key) {
                let reason =
                    format!("its {} {} is taken by the decision on line {line}", side_name(item.side), item.item_id);
                self.refuse(Some("case_id"), Some(case_id), reason);
            }
            match self.context.matched.get(&key) {
                Some(by) if by.stored && by.rule == crate::manual_plan::RULE_IGNORE => {
                    withdrawn.insert(by.match_id.clone());
                }
                Some(by) => {
                    let reason = format!(
                        "its {} {} is in match {} (rule {}): the next run would resolve the case again",
                        side_name(item.side),
                        item.item_id,
                        by.match_id,
                        by.rule
                    );
                    self.refuse(Some("case_id"), Some(case_id), reason);
                }
                None => {}
            }
            state.lines_taken.entry(key).or_insert(self.row.line);
        }
        withdrawn.into_iter().collect()
    }
}

fn named(case_id: &str) -> Option<String> {
    (!case_id.is_empty()).then(|| case_id.to_owned())
}

/// The configured account whose bank GL account the Odoo line is on (the core's rule: the account
/// display name is the code, or starts with the code and a space).
pub fn bank_account_of<'a>(line: &MoveLine, accounts: &'a [AccountConfig]) -> Option<&'a AccountConfig> {
    let name = line.account().trim();
    accounts.iter().find(|account| {
        let code = account.gl_account_code.trim();
        name == code || name.strip_prefix(code).is_some_and(|rest| rest.starts_with(' '))
    })
}

/// An Odoo line's amount in `currency`: the balance when it is the company currency, else
/// `amount_currency` when it is in that currency.
pub fn move_amount(line: &MoveLine, currency: Currency, company_currency: Currency) -> Option<Money> {
    if currency == company_currency {
        return Some(line.balance);
    }
    line.amount_currency.filter(|amount| amount.currency == currency)
}

/// The open cases the decisions close, and the `case_id` cross-checks of matches and ignores.
fn closures(decisions: &[Decision], context: &Context<'_>, refusals: &mut Vec<Refusal>) -> Vec<Closure> {
    let mut line_of_item: HashMap<(ItemSide, String), &Decision> = HashMap::new();
    for decision in decisions {
        for item in decision.items() {
            line_of_item.insert(item, decision);
        }
    }
    let mut closures: BTreeMap<String, Closure> = BTreeMap::new();
    for found in context.cases.iter().filter(|c| c.case.status == CaseStatus::Open) {
        let touching: BTreeMap<u64, &Decision> = found
            .items
            .iter()
            .filter_map(|item| line_of_item.get(&(item.side, item.item_id.clone())).map(|d| (d.line, *d)))
            .collect();
        if touching.is_empty() {
            continue;
        }
        let only_ignores = touching.values().all(|d| matches!(d.kind, DecisionKind::Ignore(_)));
        closures.insert(
            found.case.case_id.clone(),
            Closure {
                case_id: found.case.case_id.clone(),
                kind: found.case.kind.clone(),
                summary: found.case.summary.clone(),
                to: if only_ignores { CaseStatus::Ignored } else { CaseStatus::Resolved },
                lines: touching.keys().copied().collect(),
            },
        );
    }
    cross_check_case_ids(decisions, context, &closures, refusals);
    closures.into_values().collect()
}

/// A `case_id` given on a match or an ignore must be a case it closes.
fn cross_check_case_ids(
    decisions: &[Decision],
    context: &Context<'_>,
    closures: &BTreeMap<String, Closure>,
    refusals: &mut Vec<Refusal>,
) {
    for decision in decisions {
        let Some(case_id) = &decision.named_case_id else { continue };
        if closures.get(case_id).is_some_and(|closure| closure.lines.contains(&decision.line)) {
            continue;
        }
        refusals.push(Refusal {
            file: context.file.to_owned(),
            line: decision.line,
            column: Some("case_id"),
            value: Some(case_id.clone()),
            reason: "not an open case of this decision's lines; leave it empty, or name the case the decision closes"
                .to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_in_any_order_with_a_byte_order_mark_is_read() {
        let text =
            "\u{feff}reason,action,statement_ids,move_line_ids,case_id,difference\nphone call, match ,884203,L1;L2,,\n";
        let rows = parse("d.csv", text).expect("readable");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].line, rows[0].action.as_str(), rows[0].move_line_ids.as_str()), (2, "match", "L1;L2"));
        assert_eq!(rows[0].reason, "phone call");
    }

    #[test]
    fn wrong_header_ragged_rows_and_empty_files_are_refused() {
        let refused = parse("d.csv", "action,ids,reason\nmatch,1,x\n").expect_err("bad header");
        assert!(
            refused[0].to_string().starts_with("d.csv:1: the header must be action,statement_ids"),
            "{}",
            refused[0]
        );
        let header = COLUMNS.join(",");
        let refused = parse("d.csv", &format!("{header}\nmatch,1\n")).expect_err("ragged");
        assert_eq!(refused[0].line, 2);
        let refused = parse("d.csv", &format!("{header}\n")).expect_err("empty");
        assert!(refused[0].reason.contains("no decision"));
    }
}
