//! Matching NEON statement lines against Odoo move lines: four tiers, most certain first, each a
//! one-to-one assignment that never uses a line twice, then exceptions for what is left, then the KPI.
//!
//! 1. **Fingerprint**: same (amount, canonical reference, business date, account).
//! 2. **Reference and amount**: a shared canonical reference, the exact amount, dates within a window
//!    of banking days.
//! 3. **Amount and date**: the exact amount within the window when nothing contradicts and the
//!    candidate is unique in both directions (corroborated by counterparty name or CLABE when that
//!    singles one out). Otherwise: an `ambiguous` exception, never a guess.
//! 4. **Settlement (N:1)**: one deposit against several Odoo lines, by shared settlement reference,
//!    exact sum, or sum net of a fee schedule. Bounded search; "needs review" unless exact.
//!
//! Work is partitioned by (account, currency) and run in parallel with rayon; every ordering decision
//! breaks ties on stable ids, so the output is identical for any thread count and any input order.

mod arena;
mod exceptions;
mod kpi;
mod prepare;
mod settlement;
mod tiers;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::BankingCalendar;
use crate::currency::Currency;
use crate::fingerprint::Fingerprint;
use crate::money::Money;
use crate::packed::PackedTexts;
use crate::reference::{Reference, ReferenceKind};
use crate::time::Timestamp;

pub use kpi::{KpiCell, KpiDay, KpiReport, rate};
pub use settlement::fee_minor;

pub use crate::Text;

/// One bank account under reconciliation, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountConfig {
    /// The account's CLABE: the key statement lines carry in `account`.
    pub clabe: String,
    /// The Odoo journal (display name or code) that books this account.
    pub journal: String,
    /// The bank GL account code in Odoo's chart (`102.01.01`). An Odoo line is on this account when its
    /// account display name is the code or starts with the code and a space.
    pub gl_account_code: String,
    /// The account's currency.
    pub currency: Currency,
}

/// A fee schedule of a payment processor: `fee = percent × gross + fixed`, plus VAT on the fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Name for explanations (`oxxo`, `spei`).
    pub name: String,
    /// Percentage of the gross amount, as a fraction (`0.035` for 3.5 %).
    pub percent: Decimal,
    /// Fixed fee per charge, in minor units of the account currency.
    pub fixed_minor: i64,
    /// VAT on the fee, as a fraction (`0.16`).
    pub vat: Decimal,
}

/// Bounds and tolerances of the N:1 settlement search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementConfig {
    /// Most candidate Odoo lines considered for one deposit (nearest dates first, then ids).
    pub candidates_max: usize,
    /// Most Odoo lines in one settlement.
    pub lines_max: usize,
    /// Most search steps (subsets visited) per deposit; the search stops there and says so.
    pub steps_max: u64,
    /// Fee schedules tried for "net of fees" settlements.
    pub fee_schedules: Vec<FeeSchedule>,
    /// How far a net-of-fees sum may be from the deposit, in minor units.
    pub fee_tolerance_minor: i64,
    /// Open statement lines whose prospects (the Odoo lines each could settle with) are worked out
    /// at once, in parallel, before they are decided in order. Bounds memory, not results: any size
    /// gives the same matches. A line's prospects are tens of lines (72 on average at 1 M), so the
    /// default holds ten to twenty megabytes of them whatever the partition's size.
    #[serde(default = "default_prospects_per_block")]
    pub prospects_per_block: usize,
}

fn default_prospects_per_block() -> usize {
    16_384
}

impl Default for SettlementConfig {
    fn default() -> Self {
        SettlementConfig {
            candidates_max: 16,
            lines_max: 12,
            steps_max: 50_000,
            fee_schedules: vec![FeeSchedule {
                name: "oxxo".to_owned(),
                percent: Decimal::new(35, 3),
                fixed_minor: 0,
                vat: Decimal::new(16, 2),
            }],
            fee_tolerance_minor: 100,
            prospects_per_block: default_prospects_per_block(),
        }
    }
}

/// Everything matching needs to know besides the records.
#[derive(Clone, Debug)]
pub struct MatchConfig {
    /// Business time zone.
    pub zone: Tz,
    /// Banking days for windows and SPEI operation dates.
    pub calendar: BankingCalendar,
    /// The company currency of Odoo's debit/credit columns.
    pub company_currency: Currency,
    /// Bank accounts under reconciliation.
    pub accounts: Vec<AccountConfig>,
    /// Largest date difference, in banking days, for tiers 2 to 4.
    pub window_banking_days: i64,
    /// Most candidates kept per statement line in tiers 2 and 3 (more are ambiguous by definition).
    pub candidates_per_line_max: usize,
    /// N:1 settlement search.
    pub settlement: SettlementConfig,
    /// KPI alert line (the runbook's 95 %).
    pub kpi_threshold: Decimal,
}

impl MatchConfig {
    /// Defaults for `accounts`: Mexico City, the Mexican banking calendar, MXN company currency, a
    /// 3-banking-day window, the default settlement search and a 0.95 KPI threshold.
    pub fn new(accounts: Vec<AccountConfig>) -> MatchConfig {
        MatchConfig {
            zone: crate::time::DEFAULT_ZONE,
            calendar: BankingCalendar::mexico_default(),
            company_currency: Currency::MXN,
            accounts,
            window_banking_days: 3,
            candidates_per_line_max: 64,
            settlement: SettlementConfig::default(),
            kpi_threshold: Decimal::new(95, 2),
        }
    }

    /// The index in `accounts` of the configured account whose bank GL account is `odoo_account`
    /// (Odoo's display name `102.01.01 Bancos STP` or the bare code `102.01.01`); `None` for any
    /// other account: a counterpart line (receivable, payable), which never matches a bank line.
    pub fn bank_account_index(&self, odoo_account: &str) -> Option<usize> {
        let account = odoo_account.trim();
        self.accounts.iter().position(|a| {
            let code = a.gl_account_code.trim();
            account == code || account.strip_prefix(code).is_some_and(|rest| rest.starts_with(' '))
        })
    }
}

/// A bank statement line as NEON holds it, typed. Its own texts are held in one heap block and its
/// account and counterparty name interned ([`StatementLine::texts`] and one method each); a night
/// holds millions of these.
#[derive(Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// id, reference, description, counterparty account; account and counterparty name shared.
    texts: PackedTexts<3, 2>,
    /// When the bank booked it, if the bank says.
    pub booked_at: Option<Timestamp>,
    /// The value date, when the bank gives only a date.
    pub value_date: Option<NaiveDate>,
    /// Signed amount: deposits positive, withdrawals negative.
    pub amount: Money,
}

/// A statement line's texts, as [`StatementLine::new`] takes them and [`StatementLine::texts`] gives
/// them back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatementTexts<'a> {
    /// NEON id.
    pub id: &'a str,
    /// The account's CLABE.
    pub account: &'a str,
    /// The bank's reference field.
    pub reference: &'a str,
    /// The bank's description (concepto).
    pub description: &'a str,
    /// Counterparty name.
    pub counterparty_name: &'a str,
    /// Counterparty account (a CLABE for SPEI).
    pub counterparty_account: &'a str,
}

impl StatementLine {
    /// A statement line of these texts and values.
    ///
    /// # Panics
    /// If the texts total more than 4 GiB ([`records::parse_statement`](crate::records::parse_statement)
    /// refuses such a line with its field instead).
    pub fn new(
        texts: StatementTexts<'_>,
        booked_at: Option<Timestamp>,
        value_date: Option<NaiveDate>,
        amount: Money,
    ) -> StatementLine {
        let StatementTexts { id, account, reference, description, counterparty_name, counterparty_account } = texts;
        let texts = PackedTexts::new(id, [reference, description, counterparty_account], [account, counterparty_name]);
        StatementLine { texts, booked_at, value_date, amount }
    }

    /// Every text at once.
    pub fn texts(&self) -> StatementTexts<'_> {
        StatementTexts {
            id: self.id(),
            account: self.account(),
            reference: self.reference(),
            description: self.description(),
            counterparty_name: self.counterparty_name(),
            counterparty_account: self.counterparty_account(),
        }
    }

    /// NEON id.
    pub fn id(&self) -> &str {
        self.texts.get(0)
    }

    /// The account's CLABE.
    pub fn account(&self) -> &str {
        self.texts.shared(0)
    }

    /// The bank's reference field.
    pub fn reference(&self) -> &str {
        self.texts.get(1)
    }

    /// The bank's description (concepto).
    pub fn description(&self) -> &str {
        self.texts.get(2)
    }

    /// Counterparty name.
    pub fn counterparty_name(&self) -> &str {
        self.texts.shared(1)
    }

    /// Counterparty account (a CLABE for SPEI).
    pub fn counterparty_account(&self) -> &str {
        self.texts.get(3)
    }
}

impl std::fmt::Debug for StatementLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let StatementTexts { id, account, reference, description, counterparty_name, counterparty_account } =
            self.texts();
        f.debug_struct("StatementLine")
            .field("id", &id)
            .field("account", &account)
            .field("booked_at", &self.booked_at)
            .field("value_date", &self.value_date)
            .field("amount", &self.amount)
            .field("reference", &reference)
            .field("description", &description)
            .field("counterparty_name", &counterparty_name)
            .field("counterparty_account", &counterparty_account)
            .finish()
    }
}

/// Odoo's `parent_state` of a journal item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveState {
    /// Posted: takes part.
    Posted,
    /// Draft: counted and ignored.
    Draft,
    /// Cancelled: counted and ignored.
    Cancelled,
}

/// An Odoo journal item (`account.move.line`), typed. Its own texts are held in one heap block and
/// its journal, account and partner interned ([`MoveLine::texts`] and one method each); a night
/// holds millions of these.
#[derive(Clone, PartialEq, Eq)]
pub struct MoveLine {
    /// id, move name, label, reference; journal, account and partner shared.
    texts: PackedTexts<3, 3>,
    /// Accounting date (a plain date: never shifted).
    pub date: NaiveDate,
    /// Debit minus credit, in the company currency.
    pub balance: Money,
    /// Amount in the line's own currency, when it is not the company currency.
    pub amount_currency: Option<Money>,
    /// Parent move state.
    pub state: MoveState,
}

/// An Odoo journal item's texts, as [`MoveLine::new`] takes them and [`MoveLine::texts`] gives them
/// back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MoveTexts<'a> {
    /// External or database id.
    pub id: &'a str,
    /// The journal entry's name (`BNK1/2024/00012`).
    pub move_name: &'a str,
    /// Journal display name.
    pub journal: &'a str,
    /// GL account display name (`102.01.01 Bancos STP`).
    pub account: &'a str,
    /// Partner display name.
    pub partner: &'a str,
    /// Label (`name`).
    pub label: &'a str,
    /// Reference (`ref`).
    pub reference: &'a str,
}

impl MoveLine {
    /// A journal item of these texts and values.
    ///
    /// # Panics
    /// If the texts total more than 4 GiB ([`records::parse_move`](crate::records::parse_move)
    /// refuses such a line with its field instead).
    pub fn new(
        texts: MoveTexts<'_>,
        date: NaiveDate,
        balance: Money,
        amount_currency: Option<Money>,
        state: MoveState,
    ) -> MoveLine {
        let MoveTexts { id, move_name, journal, account, partner, label, reference } = texts;
        let texts = PackedTexts::new(id, [move_name, label, reference], [journal, account, partner]);
        MoveLine { texts, date, balance, amount_currency, state }
    }

    /// Every text at once.
    pub fn texts(&self) -> MoveTexts<'_> {
        MoveTexts {
            id: self.id(),
            move_name: self.move_name(),
            journal: self.journal(),
            account: self.account(),
            partner: self.partner(),
            label: self.label(),
            reference: self.reference(),
        }
    }

    /// External or database id.
    pub fn id(&self) -> &str {
        self.texts.get(0)
    }

    /// The journal entry's name (`BNK1/2024/00012`).
    pub fn move_name(&self) -> &str {
        self.texts.get(1)
    }

    /// Journal display name.
    pub fn journal(&self) -> &str {
        self.texts.shared(0)
    }

    /// GL account display name (`102.01.01 Bancos STP`).
    pub fn account(&self) -> &str {
        self.texts.shared(1)
    }

    /// Partner display name.
    pub fn partner(&self) -> &str {
        self.texts.shared(2)
    }

    /// Label (`name`).
    pub fn label(&self) -> &str {
        self.texts.get(2)
    }

    /// Reference (`ref`).
    pub fn reference(&self) -> &str {
        self.texts.get(3)
    }
}

impl std::fmt::Debug for MoveLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let MoveTexts { id, move_name, journal, account, partner, label, reference } = self.texts();
        f.debug_struct("MoveLine")
            .field("id", &id)
            .field("move_name", &move_name)
            .field("date", &self.date)
            .field("journal", &journal)
            .field("account", &account)
            .field("partner", &partner)
            .field("label", &label)
            .field("reference", &reference)
            .field("balance", &self.balance)
            .field("amount_currency", &self.amount_currency)
            .field("state", &self.state)
            .finish()
    }
}

// What each typed line costs besides its texts' one heap block (was 184 and 216 bytes with a `Text`
// per text, plus a heap block for each text longer than 24 bytes).
const _: () = assert!(size_of::<StatementLine>() <= 80);
const _: () = assert!(size_of::<MoveLine>() <= 88);

/// Which side of the reconciliation an item is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A NEON bank statement line.
    Statement,
    /// An Odoo journal item.
    Move,
}

/// The rule that made a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// Tier 1: same fingerprint.
    Fingerprint,
    /// Tier 2: shared reference, exact amount, within the window.
    ReferenceAmount,
    /// Tier 3: exact amount within the window, unique both ways.
    AmountDate,
    /// Tier 3, singled out by counterparty name or CLABE among several amount candidates.
    AmountDateCorroborated,
    /// Tier 4: several Odoo lines sharing the deposit's settlement reference.
    SettlementReference,
    /// Tier 4: several Odoo lines summing exactly to the deposit.
    SettlementSum,
    /// Tier 4: several Odoo lines whose sum net of a fee schedule is within tolerance of the deposit.
    SettlementNetOfFees,
}

impl MatchRule {
    /// The snake_case name used in stores and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::Fingerprint => "fingerprint",
            MatchRule::ReferenceAmount => "reference_amount",
            MatchRule::AmountDate => "amount_date",
            MatchRule::AmountDateCorroborated => "amount_date_corroborated",
            MatchRule::SettlementReference => "settlement_reference",
            MatchRule::SettlementSum => "settlement_sum",
            MatchRule::SettlementNetOfFees => "settlement_net_of_fees",
        }
    }

    /// The rule of a name [`MatchRule::as_str`] gives, if it is one.
    pub fn from_name(name: &str) -> Option<MatchRule> {
        MatchRule::ALL.into_iter().find(|rule| rule.as_str() == name)
    }

    /// Every rule, most certain first (a test checks it holds every variant).
    pub const ALL: [MatchRule; 7] = [
        MatchRule::Fingerprint,
        MatchRule::ReferenceAmount,
        MatchRule::AmountDate,
        MatchRule::AmountDateCorroborated,
        MatchRule::SettlementReference,
        MatchRule::SettlementSum,
        MatchRule::SettlementNetOfFees,
    ];
}

/// Whether a match stands on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Certain by its rule.
    Auto,
    /// Plausible (a fee-net settlement): a person confirms it.
    NeedsReview,
}

/// Why a match was made: every match answers "why did it match?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The rule.
    pub rule: MatchRule,
    /// The reference kind that agreed, if a reference did.
    pub reference_kind: Option<ReferenceKind>,
    /// The canonical reference that agreed.
    pub reference: Option<Text>,
    /// The statement amount.
    pub amount: Money,
    /// Sum of the Odoo side (differs from `amount` only for fee-net settlements).
    pub move_amount: Money,
    /// Banking days between the statement's date and the Odoo date (the largest, for N:1).
    pub date_delta_banking_days: i64,
    /// What else agreed: `counterparty_name`, `counterparty_clabe`, `operation_date`.
    pub corroboration: Vec<Text>,
    /// For fee-net settlements: the schedule and the fee computed.
    pub fee: Option<String>,
}

/// A match: one statement line and one or more Odoo lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// Stable id: blake3 of the item ids, so the same pairing has the same id in every run.
    pub match_id: Text,
    /// The statement line id.
    pub statement_id: Text,
    /// The Odoo line ids, sorted.
    pub move_line_ids: Vec<Text>,
    /// The account (CLABE).
    pub account: Text,
    /// The statement's business date.
    pub business_date: NaiveDate,
    /// Auto or needs review.
    pub review: Review,
    /// Why.
    pub explanation: Explanation,
}

impl Match {
    /// Why it matched, in one sentence for a finance analyst (see [`Summary`]). Not part of the
    /// serialized `Explanation`, nor of what the job stores: a store renders it from the match's
    /// row when it is read.
    pub fn summary(&self) -> String {
        let explanation = &self.explanation;
        let corroboration: Vec<&str> = explanation.corroboration.iter().map(Text::as_str).collect();
        Summary {
            rule: explanation.rule,
            amount: &explanation.amount.to_string(),
            move_amount: &explanation.move_amount.to_string(),
            move_lines: self.move_line_ids.len(),
            reference: explanation.reference_kind.zip(explanation.reference.as_deref()).map(|(k, r)| (k.as_str(), r)),
            date_delta_banking_days: explanation.date_delta_banking_days,
            corroboration: &corroboration,
            fee: explanation.fee.as_deref(),
        }
        .sentence()
    }
}

/// What a match's one-sentence explanation is written from: the parts of its [`Explanation`] as
/// a match holds them, or as a store's row and stored explanation hold them. One wording for both,
/// so a sentence rendered from a stored row is the one the match would have written.
#[derive(Clone, Copy, Debug)]
pub struct Summary<'a> {
    /// The rule.
    pub rule: MatchRule,
    /// The statement line's amount, as text (`1234.50`).
    pub amount: &'a str,
    /// The Odoo side's amount (the sum for N:1), as text.
    pub move_amount: &'a str,
    /// How many Odoo lines the match has.
    pub move_lines: usize,
    /// The reference that agreed: its kind's name and its canonical form.
    pub reference: Option<(&'a str, &'a str)>,
    /// Banking days between the statement's date and the Odoo date.
    pub date_delta_banking_days: i64,
    /// What else agreed.
    pub corroboration: &'a [&'a str],
    /// For fee-net settlements: the schedule and the fee computed.
    pub fee: Option<&'a str>,
}

impl Summary<'_> {
    /// The sentence.
    pub fn sentence(&self) -> String {
        let Summary { rule, amount, move_amount, move_lines, reference, date_delta_banking_days: days, .. } = *self;
        let reference = match reference {
            Some((kind, reference)) => format!(" {kind} {reference}"),
            None => String::new(),
        };
        let dates = if days == 0 { "same banking day".to_owned() } else { format!("{days} banking day(s) apart") };
        let agreed = if self.corroboration.is_empty() {
            String::new()
        } else {
            format!("; also agrees: {}", self.corroboration.join(", "))
        };
        match rule {
            MatchRule::Fingerprint => format!("same amount {amount}, reference{reference}, business date and account"),
            MatchRule::ReferenceAmount => format!("shared reference{reference}, exact amount {amount}, {dates}"),
            MatchRule::AmountDate => {
                format!(
                    "exact amount {amount}, {dates}, the only candidate both ways, no contradicting reference{agreed}"
                )
            }
            MatchRule::AmountDateCorroborated => format!(
                "exact amount {amount}, {dates}, no contradicting reference; among several candidates the only one that{}",
                agreed.replacen("; also agrees:", " agrees on", 1)
            ),
            MatchRule::SettlementReference | MatchRule::SettlementSum | MatchRule::SettlementNetOfFees => {
                let fee = self.fee.map(|f| format!(", net of {f}")).unwrap_or_default();
                let by =
                    if reference.is_empty() { " of one partner".to_owned() } else { format!(" sharing{reference}") };
                format!("deposit {amount} settles {move_lines} Odoo lines{by} summing {move_amount}{fee}, {dates}")
            }
        }
    }
}

/// The runbook's exception reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// A statement line nothing in Odoo accounts for: orphan money.
    UnmatchedStatement,
    /// An Odoo line no statement line accounts for.
    UnmatchedMove,
    /// The same fingerprint twice on one side; the lowest id takes part, the others are flagged.
    Duplicate,
    /// The reference agrees, the amount does not.
    AmountMismatch,
    /// Reference and amount agree across currencies or accounts.
    CurrencyMismatch,
    /// Reference and amount agree, the dates are too far apart.
    DateOutOfWindow,
    /// Several equally good candidates: never a guess.
    Ambiguous,
}

impl ExceptionKind {
    /// The snake_case reason code.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::UnmatchedStatement => "unmatched_statement",
            ExceptionKind::UnmatchedMove => "unmatched_move",
            ExceptionKind::Duplicate => "duplicate",
            ExceptionKind::AmountMismatch => "amount_mismatch",
            ExceptionKind::CurrencyMismatch => "currency_mismatch",
            ExceptionKind::DateOutOfWindow => "date_out_of_window",
            ExceptionKind::Ambiguous => "ambiguous",
        }
    }
}

/// One item of an exception, with raw and normalized values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionItem {
    /// Statement or Odoo line.
    pub side: Side,
    /// Its id.
    pub id: String,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Normalized signed amount.
    pub amount: Money,
    /// Business date (Odoo: the accounting date).
    pub business_date: NaiveDate,
    /// The account (CLABE) it was mapped to.
    pub account: String,
    /// References found, canonical, with kinds and rules.
    pub references: Vec<Reference>,
    /// Raw reference text (`reference` or `ref`).
    pub raw_reference: String,
    /// Raw description or label.
    pub raw_text: String,
    /// Odoo move name, for Odoo lines.
    pub move_name: Option<String>,
    /// Index of the line in the records the reconcile was given, so the caller finds its own copy
    /// (where it read it) without looking the id up. Not serialized: it means something only beside
    /// those records, so an item read back has none.
    #[serde(skip)]
    pub record: Option<usize>,
}

/// A candidate that was considered and why it was not taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Side of the candidate.
    pub side: Side,
    /// Its id.
    pub id: String,
    /// Its amount.
    pub amount: Money,
    /// Banking days from the item.
    pub date_delta_banking_days: i64,
    /// Why it was not taken.
    pub note: String,
}

/// The difference found between the sides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Statement minus Odoo, in minor units, when amounts differ.
    pub amount_minor: Option<i64>,
    /// One side is 100 times the other: cents booked as pesos (or the reverse).
    pub ratio_100: bool,
    /// The gap is no larger than a configured processor fee on the amount.
    pub fee_sized: bool,
    /// Banking days between the dates.
    pub date_delta_banking_days: Option<i64>,
    /// Currencies or accounts that differ, as `MXN vs USD` or `account A vs B`.
    pub across: Option<String>,
}

/// An exception: the raw material of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// Stable case id: blake3 of the kind and the items' (side, id, fingerprint).
    pub case_id: String,
    /// Reason code.
    pub kind: ExceptionKind,
    /// The account (CLABE) of the first item.
    pub account: String,
    /// Business date of the first item.
    pub business_date: NaiveDate,
    /// Amount of the first item.
    pub amount: Money,
    /// The items, statement lines first, then by id.
    pub items: Vec<ExceptionItem>,
    /// Candidates considered (bounded by `candidates_per_line_max`).
    pub candidates: Vec<Candidate>,
    /// The difference found.
    pub difference: Difference,
    /// One sentence for a finance analyst.
    pub summary: String,
}

/// Counts for the run report: what took part and what was set aside.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Statement lines given.
    pub statements_total: u64,
    /// Statement lines of accounts that are not configured (ignored).
    pub statements_unmapped: u64,
    /// Odoo lines given.
    pub moves_total: u64,
    /// Odoo lines on a configured bank GL account of a posted move.
    pub moves_in_scope: u64,
    /// Odoo lines of draft moves on a bank account (ignored).
    pub moves_draft: u64,
    /// Odoo lines of cancelled moves on a bank account (ignored).
    pub moves_cancelled: u64,
    /// Odoo lines not on a configured bank account: counterparts (ignored).
    pub moves_not_bank_account: u64,
    /// Matches per rule.
    pub matches_by_rule: Vec<(MatchRule, u64)>,
    /// Exceptions per kind.
    pub exceptions_by_kind: Vec<(ExceptionKind, u64)>,
    /// Settlement searches that hit `steps_max`.
    pub settlement_searches_truncated: u64,
}

/// Everything a reconciliation produces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Matches, sorted by statement id.
    pub matches: Vec<Match>,
    /// Exceptions, sorted by kind then case id.
    pub exceptions: Vec<Exception>,
    /// The KPI.
    pub kpi: KpiReport,
    /// Counts.
    pub counts: Counts,
}

/// Reconciles statement lines against Odoo lines. Pure and deterministic: the same records in any
/// order, on any number of threads, give the same [`Outcome`].
///
/// # Panics
///
/// When either side holds 2^32 records or more: the reconcile indexes records with 32-bit numbers
/// (a night is ten million lines; a larger scope is split by account and date range, see
/// ARCHITECTURE.md "Scaling out").
pub fn reconcile(statements: &[StatementLine], moves: &[MoveLine], config: &MatchConfig) -> Outcome {
    reconcile_with_manual(statements, moves, config, &ManualAssignments::default())
}

/// Lines a person already reconciled by hand (manual controlled runs). They take no part in the tiers,
/// are never flagged, and count as reconciled in the KPI: the nightly run never undoes a manual match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualAssignments {
    /// Statement line ids matched or dispositioned by hand.
    pub statement_ids: std::collections::BTreeSet<String>,
    /// Odoo line ids matched or dispositioned by hand.
    pub move_line_ids: std::collections::BTreeSet<String>,
}

/// [`reconcile`], leaving out the lines in `manual` and counting them as reconciled.
///
/// # Panics
///
/// As [`reconcile`], when either side holds 2^32 records or more.
pub fn reconcile_with_manual(
    statements: &[StatementLine],
    moves: &[MoveLine],
    config: &MatchConfig,
    manual: &ManualAssignments,
) -> Outcome {
    reconcile_unbuilt(statements, moves, config, manual).build(statements, moves)
}

/// A reconciliation whose matches are not built yet: the exceptions and the KPI are final, and
/// each match knows its records. Made by [`reconcile_unbuilt`]; [`Unbuilt::build`] (records
/// borrowed, ids copied) or [`Unbuilt::build_from_owned`] (records consumed) gives the [`Outcome`].
///
/// The two steps let a caller use the exceptions (find where their lines were read) and free what
/// else it holds before the matches are built. At the top of a night (10 M statement lines) the
/// records are about 5 GB and the matches about 3.7 GB; built while the records were still held,
/// the matches made the run's peak (13.1 GB, with a `Text` per record field) or came within 0.6 GB
/// of it (with packed texts); their ids alone, copied beside the records, made it (11.5 GB).
pub struct Unbuilt {
    /// Exceptions, sorted by kind then case id (as in [`Outcome`]).
    exceptions: Vec<Exception>,
    /// The KPI.
    kpi: KpiReport,
    /// Each partition's settled matches, in the order the tiers settled them.
    per_partition: Vec<Vec<tiers::Settled>>,
    /// (statement index, partition, position) of every settled match, in statement id order.
    order: Vec<(u32, u32, u32)>,
    /// `Prepared::accounts`.
    accounts: Vec<String>,
    /// `Prepared::arena`: the references of tier 1 and 2 matches (`tiers::Settled`).
    arena: arena::ReferenceArena,
    base_counts: Counts,
    truncated: u64,
}

impl Unbuilt {
    /// The exceptions, final (sorted by kind then case id, as in [`Outcome`]).
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// The KPI, final.
    pub fn kpi(&self) -> &KpiReport {
        &self.kpi
    }

    /// Builds the matches from the records [`reconcile_unbuilt`] was given (on every core, each
    /// straight into its place, with its ids copied from the records) and counts them.
    ///
    /// # Panics
    ///
    /// When the records are not those [`reconcile_unbuilt`] was given (fewer of them).
    pub fn build(self, statements: &[StatementLine], moves: &[MoveLine]) -> Outcome {
        let ids = self
            .order
            .par_iter()
            .map(|&(_, partition, position)| {
                self.per_partition[partition as usize][position as usize].ids(statements, moves)
            })
            .collect();
        self.build_with(ids)
    }

    /// [`Unbuilt::build`], consuming the records: each record's id is copied as the record is freed
    /// (only when a match takes it), so the records' texts (about 4 GB at 10 M) and the matches' ids
    /// (about 1.4 GB) are never all held at once; the records' fixed parts (80 or 88 bytes each) go
    /// once every record is passed. The same [`Outcome`] as [`Unbuilt::build`].
    ///
    /// # Panics
    ///
    /// When the records are not those [`reconcile_unbuilt`] was given (fewer of them).
    pub fn build_from_owned(self, statements: Vec<StatementLine>, moves: Vec<MoveLine>) -> Outcome {
        let settled =
            |&(_, partition, position): &(u32, u32, u32)| &self.per_partition[partition as usize][position as usize];
        let (mut statement_taken, mut move_taken) = (vec![false; statements.len()], vec![false; moves.len()]);
        for settled in self.per_partition.iter().flatten() {
            let statement = std::mem::replace(&mut statement_taken[settled.statement_record()], true);
            assert!(!statement, "a statement line is in one match at most");
            for m in settled.move_records() {
                assert!(!std::mem::replace(&mut move_taken[m], true), "an Odoo line is in one match at most");
            }
        }
        // Each record becomes its id (and a statement line's amount) when a match takes it, or
        // nothing, on every core; the record's texts are freed as it goes.
        let (mut statement_ids, mut move_ids) = rayon::join(
            || -> Vec<Option<(Text, Money)>> {
                statements
                    .into_par_iter()
                    .zip(statement_taken)
                    .map(|(record, taken)| taken.then(|| (Text::new(record.id()), record.amount)))
                    .collect()
            },
            || -> Vec<Option<Text>> {
                moves
                    .into_par_iter()
                    .zip(move_taken)
                    .map(|(record, taken)| taken.then(|| Text::new(record.id())))
                    .collect()
            },
        );
        // A record is taken by one match at most, so its id is moved out, not copied: the two sides
        // in match order, one on each core.
        let taken = "every record a match takes holds its id";
        let (statement_side, move_side): (Vec<(Text, Money)>, Vec<Vec<Text>>) = rayon::join(
            || {
                let ids = &mut statement_ids;
                self.order.iter().map(|key| ids[settled(key).statement_record()].take().expect(taken)).collect()
            },
            || {
                let ids = &mut move_ids;
                self.order
                    .iter()
                    .map(|key| settled(key).move_records().map(|m| ids[m].take().expect(taken)).collect())
                    .collect()
            },
        );
        drop((statement_ids, move_ids));
        let ids = statement_side
            .into_par_iter()
            .zip(move_side)
            .map(|((statement_id, amount), move_line_ids)| tiers::MatchIds::new(statement_id, move_line_ids, amount))
            .collect();
        self.build_with(ids)
    }

    /// Builds the matches from each one's ids and amount, in `order`'s order.
    fn build_with(self, ids: Vec<tiers::MatchIds>) -> Outcome {
        let Unbuilt { exceptions, kpi, per_partition, order, accounts, arena, base_counts, truncated } = self;
        let matches: Vec<Match> = order
            .into_par_iter()
            .zip(ids)
            .map(|((_, partition, position), ids)| {
                per_partition[partition as usize][position as usize].to_match(ids, &accounts, &arena)
            })
            .collect();
        drop(arena);
        per_partition.into_par_iter().flatten().for_each(drop);
        let counts = prepare::counts(base_counts, &matches, &exceptions, truncated);
        Outcome { matches, exceptions, kpi, counts }
    }
}

/// [`reconcile_with_manual`] up to, not including, building the matches: the result borrows nothing,
/// so the caller can hand `statements` and `moves` over to [`Unbuilt::build_from_owned`], which
/// frees them while it takes the matches' ids.
///
/// # Panics
///
/// As [`reconcile`], when either side holds 2^32 records or more.
pub fn reconcile_unbuilt(
    statements: &[StatementLine],
    moves: &[MoveLine],
    config: &MatchConfig,
    manual: &ManualAssignments,
) -> Unbuilt {
    assert!(
        u32::try_from(statements.len()).is_ok() && u32::try_from(moves.len()).is_ok(),
        "a reconcile takes fewer than 2^32 records a side ({} statement lines, {} Odoo lines): split the scope",
        statements.len(),
        moves.len(),
    );
    let prepared = prepare::prepare(statements, moves, config, manual);
    let partitions = prepared.partitions();
    // Each partition's matches are settled as soon as its tiers are done (on all cores: the largest
    // partition is most of a night), so what the tiers recorded is freed partition by partition
    // and never held beside the `Settled`s.
    let results: Vec<(Vec<tiers::Settled>, exceptions::Leftovers, u64)> = partitions
        .par_iter()
        .map(|partition| {
            let result = tiers::match_partition(&prepared, partition, config);
            let settled = result.matches.into_par_iter().map(|found| found.settle(&prepared)).collect();
            (settled, result.leftovers, result.settlement_searches_truncated)
        })
        .collect();
    // The partitions' line lists (8 bytes a line) are not needed past the tiers: freed before the
    // exceptions are classified, which is the reconcile's peak (the records, the prepared lines, the
    // `Settled`s and the exceptions held at once).
    drop(partitions);
    let mut leftovers = exceptions::Leftovers::default();
    let mut truncated = 0;
    let mut per_partition: Vec<Vec<tiers::Settled>> = Vec::with_capacity(results.len());
    for (settled, partition_leftovers, partition_truncated) in results {
        per_partition.push(settled);
        leftovers.absorb(partition_leftovers);
        truncated += partition_truncated;
    }
    // The KPI reads each line's status by index instead of hashing ids.
    let mut matched = vec![None; prepared.statements.len()];
    for settled in per_partition.iter().flatten() {
        matched[settled.line() as usize] = Some(settled.review());
    }
    // Exceptions are classified on one core (each pairing depends on the ones before) and the KPI
    // computed on the other.
    let (exceptions, kpi) = rayon::join(
        || {
            let mut exceptions = exceptions::classify(&prepared, leftovers, config);
            exceptions.extend(prepared.duplicate_exceptions());
            exceptions.sort_by(|a, b| (a.kind, &a.case_id).cmp(&(b.kind, &b.case_id)));
            exceptions
        },
        || kpi::compute(&prepared, &matched, config),
    );
    drop(matched);
    // The prepared lines (two blocks, with nothing inside them to free) go before the matches are
    // built; their references stay for the tier 1 and 2 matches' explanations.
    let prepare::Prepared { accounts, arena, counts: base_counts, .. } = prepared;
    // Matches in statement index order, which is id order: the sort is of small keys (statement
    // index, partition, position; statement indexes are unique; 12 bytes a match, made once the
    // lines are gone), and each match is built from its `Settled`.
    let mut order: Vec<(u32, u32, u32)> = Vec::with_capacity(per_partition.iter().map(Vec::len).sum());
    for (partition, settled) in per_partition.iter().enumerate() {
        let partition = u32::try_from(partition).expect("fewer than 2^32 partitions");
        for (position, settled) in settled.iter().enumerate() {
            let position = u32::try_from(position).expect("fewer than 2^32 matches");
            order.push((settled.line(), partition, position));
        }
    }
    order.par_sort_unstable();
    Unbuilt { exceptions, kpi, per_partition, order, accounts, arena, base_counts, truncated }
}

/// The stable id of a match: blake3 over its sorted item ids.
pub fn match_id(statement_id: &str, move_line_ids: &[Text]) -> Text {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"recon.match.v1\0");
    hasher.update(statement_id.as_bytes());
    for id in move_line_ids {
        hasher.update(b"\0");
        hasher.update(id.as_bytes());
    }
    compact_str::format_compact!("M-{}", &hasher.finalize().to_hex()[..20])
}

/// The stable id of a case: blake3 over its kind and items' (side, id, fingerprint), sorted. The same
/// exception seen in two runs has the same case id, so running a night twice never duplicates a case.
pub fn case_id(kind: ExceptionKind, items: &[ExceptionItem]) -> String {
    let mut keys: Vec<String> =
        items.iter().map(|item| format!("{:?}\0{}\0{}", item.side, item.id, item.fingerprint)).collect();
    keys.sort();
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"recon.case.v1\0");
    hasher.update(kind.as_str().as_bytes());
    for key in keys {
        hasher.update(b"\0\0");
        hasher.update(key.as_bytes());
    }
    format!("C-{}", &hasher.finalize().to_hex()[..20])
}
