//! A deterministic generator of realistic NEON bank statement lines and Odoo journal items, with the
//! ground truth: which lines should match, and which defects were injected with which reason code.
//!
//! What it makes: SPEI deposits and payments with bank-specific claves de rastreo and referencias
//! numéricas, OXXO deposits, Conekta payouts settling several OXXO charges net of fees (with or without
//! a booked fee line), a USD account booked in Odoo with `amount_currency`, cash deposits with no
//! reference, draft and counterpart lines. Noise: lowercase and padded references, zero-padded or bare
//! numbers, grouped OXXO references, Odoo float noise, Odoo dates written as the UTC date or the SPEI
//! operation date. Defects: every exception kind of `recon_core::matching::ExceptionKind`.
//!
//! ```
//! let data = recon_gen::generate(&recon_gen::Spec { statements: 200, ..recon_gen::Spec::default() });
//! assert!(data.statements.len() >= 200);
//! ```

#![forbid(unsafe_code)]

mod text;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recon_core::calendar::BankingCalendar;
use recon_core::currency::Currency;
use recon_core::matching::{
    AccountConfig, ExceptionKind, FeeSchedule, MatchConfig, MoveLine, SettlementConfig, StatementLine,
};
use recon_core::records::{MoveFields, MoveFormat, StatementFields, StatementFormat, parse_move, parse_statement};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use text::{clave_rastreo, float_text, oxxo_reference, person_name, valid_clabe, vendor_name};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Seed: the same spec gives byte-identical data.
    pub seed: u64,
    /// Statement lines to generate (defects may add a few more).
    pub statements: usize,
    /// First business day.
    pub start: NaiveDate,
    /// Days the lines spread over.
    pub days: u32,
    /// Defects injected per thousand statement lines, spread over every exception kind.
    pub defects_per_thousand: u32,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            seed: 7,
            statements: 1_000,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("a valid date"),
            days: 30,
            defects_per_thousand: 30,
        }
    }
}

/// A NEON statement line as `COPY ... WITH CSV HEADER` prints it: every field as text.
///
/// Deliberately not `recon_io::RawStatementLine`: recon-io brings polars, and recon-core's tests use this
/// generator, so depending on recon-io here would put polars into the core's test build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    /// `id`.
    pub id: String,
    /// `account`.
    pub account: String,
    /// `booked_at`.
    pub booked_at: String,
    /// `value_date`.
    pub value_date: String,
    /// `amount`.
    pub amount: String,
    /// `currency`.
    pub currency: String,
    /// `reference`.
    pub reference: String,
    /// `description`.
    pub description: String,
    /// `counterparty_name`.
    pub counterparty_name: String,
    /// `counterparty_account`.
    pub counterparty_account: String,
}

impl StatementRow {
    /// Column names in NEON's order.
    pub const COLUMNS: [&'static str; 10] = [
        "id",
        "account",
        "booked_at",
        "value_date",
        "amount",
        "currency",
        "reference",
        "description",
        "counterparty_name",
        "counterparty_account",
    ];

    /// The fields for `recon_core::records::parse_statement`.
    pub fn fields(&self) -> StatementFields<'_> {
        StatementFields {
            id: &self.id,
            account: &self.account,
            booked_at: &self.booked_at,
            value_date: &self.value_date,
            amount: &self.amount,
            currency: &self.currency,
            reference: &self.reference,
            description: &self.description,
            counterparty_name: &self.counterparty_name,
            counterparty_account: &self.counterparty_account,
        }
    }

    /// Values in column order.
    pub fn values(&self) -> [&str; 10] {
        [
            &self.id,
            &self.account,
            &self.booked_at,
            &self.value_date,
            &self.amount,
            &self.currency,
            &self.reference,
            &self.description,
            &self.counterparty_name,
            &self.counterparty_account,
        ]
    }
}

/// An Odoo journal item as the import-compatible CSV export prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRow {
    /// `id`.
    pub id: String,
    /// `move_name`.
    pub move_name: String,
    /// `date`.
    pub date: String,
    /// `journal_id`.
    pub journal_id: String,
    /// `account_id`.
    pub account_id: String,
    /// `partner_id`.
    pub partner_id: String,
    /// `name`.
    pub name: String,
    /// `ref`.
    pub reference: String,
    /// `debit`.
    pub debit: String,
    /// `credit`.
    pub credit: String,
    /// `amount_currency`.
    pub amount_currency: String,
    /// `currency_id`.
    pub currency_id: String,
    /// `parent_state`.
    pub parent_state: String,
}

impl MoveRow {
    /// Column names in Odoo's export order.
    pub const COLUMNS: [&'static str; 13] = [
        "id",
        "move_name",
        "date",
        "journal_id",
        "account_id",
        "partner_id",
        "name",
        "ref",
        "debit",
        "credit",
        "amount_currency",
        "currency_id",
        "parent_state",
    ];

    /// The fields for `recon_core::records::parse_move`.
    pub fn fields(&self) -> MoveFields<'_> {
        MoveFields {
            id: &self.id,
            move_name: &self.move_name,
            date: &self.date,
            journal_id: &self.journal_id,
            account_id: &self.account_id,
            partner_id: &self.partner_id,
            name: &self.name,
            reference: &self.reference,
            debit: &self.debit,
            credit: &self.credit,
            amount_currency: &self.amount_currency,
            currency_id: &self.currency_id,
            parent_state: &self.parent_state,
        }
    }

    /// Values in column order.
    pub fn values(&self) -> [&str; 13] {
        [
            &self.id,
            &self.move_name,
            &self.date,
            &self.journal_id,
            &self.account_id,
            &self.partner_id,
            &self.name,
            &self.reference,
            &self.debit,
            &self.credit,
            &self.amount_currency,
            &self.currency_id,
            &self.parent_state,
        ]
    }
}

/// A pair that should match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthPair {
    /// The statement line.
    pub statement_id: String,
    /// The Odoo lines, sorted.
    pub move_line_ids: Vec<String>,
    /// True when the right answer is a match that needs review (fee-net settlement).
    pub needs_review: bool,
}

/// An injected defect and the exception it must raise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defect {
    /// The expected reason code.
    pub kind: ExceptionKind,
    /// Statement lines involved.
    pub statement_ids: Vec<String>,
    /// Odoo lines involved.
    pub move_line_ids: Vec<String>,
}

/// The ground truth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    /// Pairs that should match.
    pub pairs: Vec<TruthPair>,
    /// Defects that should raise exceptions.
    pub defects: Vec<Defect>,
}

/// Generated data.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The accounts the data uses, for `MatchConfig`.
    pub accounts: Vec<AccountConfig>,
    /// The fee schedule Conekta payouts are net of.
    pub settlement: SettlementConfig,
    /// NEON rows.
    pub statements: Vec<StatementRow>,
    /// Odoo rows, both lines of every move.
    pub moves: Vec<MoveRow>,
    /// What should happen.
    pub truth: Truth,
}

impl Dataset {
    /// The rows typed with the core's parsers (NEON's and Odoo's default formats). The generator writes
    /// only valid rows, so a refusal here is a generator bug.
    pub fn typed(&self) -> (Vec<StatementLine>, Vec<MoveLine>) {
        let zone = recon_core::time::DEFAULT_ZONE;
        let statements = self
            .statements
            .iter()
            .map(|row| {
                parse_statement(&row.fields(), &StatementFormat::default(), zone).expect("generated rows are valid")
            })
            .collect();
        let moves = self
            .moves
            .iter()
            .map(|row| parse_move(&row.fields(), &MoveFormat::default()).expect("generated rows are valid"))
            .collect();
        (statements, moves)
    }

    /// The matching configuration the data was generated for.
    pub fn match_config(&self) -> MatchConfig {
        let mut config = MatchConfig::new(self.accounts.clone());
        config.settlement = self.settlement.clone();
        config
    }
}

/// The three accounts: STP (MXN), BBVA (MXN), BBVA (USD).
pub fn accounts() -> Vec<AccountConfig> {
    vec![
        AccountConfig {
            clabe: "646180111805034237".to_owned(),
            journal: "STP".to_owned(),
            gl_account_code: "102.01.01".to_owned(),
            currency: Currency::MXN,
        },
        AccountConfig {
            clabe: valid_clabe("01218000118359710"),
            journal: "BBVA".to_owned(),
            gl_account_code: "102.01.02".to_owned(),
            currency: Currency::MXN,
        },
        AccountConfig {
            clabe: valid_clabe("01218000445566770"),
            journal: "BBVA USD".to_owned(),
            gl_account_code: "102.02.01".to_owned(),
            currency: Currency::USD,
        },
    ]
}

const GL_NAMES: [&str; 3] = ["102.01.01 Bancos STP", "102.01.02 Bancos BBVA", "102.02.01 Bancos BBVA USD"];
const RECEIVABLE: &str = "105.01.01 Clientes nacionales";
const PAYABLE: &str = "201.01.01 Proveedores nacionales";

/// Generates a dataset. Deterministic in `spec`.
pub fn generate(spec: &Spec) -> Dataset {
    let (mut statements, mut moves) = (Vec::new(), Vec::new());
    let parts = generate_in_parts(spec, usize::MAX, |part_statements, part_moves| {
        // One part holds everything: take its vectors rather than copy them.
        if statements.is_empty() && moves.is_empty() {
            (statements, moves) = (part_statements, part_moves);
        } else {
            statements.extend(part_statements);
            moves.extend(part_moves);
        }
        Ok::<(), std::convert::Infallible>(())
    });
    let Ok((accounts, settlement, truth)) = parts;
    Dataset { accounts, settlement, statements, moves, truth }
}

/// [`generate`], handing the rows to `emit` in parts of about `statements_per_part` statement lines
/// (their Odoo rows with them) so that a caller writing files holds one part, not the whole data.
/// The concatenated parts are exactly [`generate`]'s rows; the truth is returned whole at the end.
/// The first error `emit` returns stops the generation and is returned.
pub fn generate_in_parts<E>(
    spec: &Spec,
    statements_per_part: usize,
    mut emit: impl FnMut(Vec<StatementRow>, Vec<MoveRow>) -> Result<(), E>,
) -> Result<(Vec<AccountConfig>, SettlementConfig, Truth), E> {
    let mut generator = Generator::new(spec);
    for index in 0..spec.statements {
        let day_offset = u32::try_from(index as u64 * u64::from(spec.days.max(1)) / spec.statements.max(1) as u64)
            .expect("day offsets are below spec.days");
        let day = spec.start + Duration::days(i64::from(day_offset));
        let roll = generator.rng.random_range(0..1000u32);
        if roll < spec.defects_per_thousand {
            generator.defect(day);
        } else {
            generator.normal(day);
        }
        // Each step writes whole bookings (a step reads back only rows it pushed itself), so a part
        // ends between any two steps.
        if generator.statements.len() >= statements_per_part {
            emit(std::mem::take(&mut generator.statements), std::mem::take(&mut generator.moves))?;
        }
    }
    emit(generator.statements, generator.moves)?;
    let settlement = SettlementConfig { fee_schedules: vec![oxxo_fees()], ..SettlementConfig::default() };
    Ok((generator.accounts, settlement, generator.truth))
}

/// Conekta's OXXO fee: 3.5 % plus 16 % VAT on the fee.
pub fn oxxo_fees() -> FeeSchedule {
    FeeSchedule { name: "oxxo".to_owned(), percent: Decimal::new(35, 3), fixed_minor: 0, vat: Decimal::new(16, 2) }
}

/// One side of a booking: what the Odoo bank line says.
struct Booking {
    account: usize,
    amount_minor: i64,
    date: NaiveDate,
    reference: String,
    label: String,
    partner: String,
    usd_minor: Option<i64>,
}

struct Generator {
    rng: ChaCha8Rng,
    calendar: BankingCalendar,
    accounts: Vec<AccountConfig>,
    statements: Vec<StatementRow>,
    moves: Vec<MoveRow>,
    truth: Truth,
    next_statement: u64,
    next_move: u64,
    next_line: u64,
}

/// Mexico City is UTC-6 all year since 2022-10-30.
const UTC_OFFSET_HOURS: i64 = 6;

impl Generator {
    fn new(spec: &Spec) -> Generator {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            calendar: BankingCalendar::mexico_default(),
            accounts: accounts(),
            statements: Vec::new(),
            moves: Vec::new(),
            truth: Truth::default(),
            next_statement: 1000,
            next_move: 1,
            next_line: 52_000,
        }
    }

    fn amount(&mut self) -> i64 {
        let pesos = match self.rng.random_range(0..10u32) {
            0..=5 => self.rng.random_range(50..5_000i64),
            6..=8 => self.rng.random_range(5_000..60_000i64),
            _ => self.rng.random_range(60_000..900_000i64),
        };
        pesos * 100 + self.rng.random_range(0..100i64)
    }

    /// A local time on `day`; about one in six after the 18:00 SPEI cut-off.
    fn local_time(&mut self, day: NaiveDate) -> NaiveDateTime {
        let hour = if self.rng.random_range(0..6u32) == 0 {
            self.rng.random_range(18..24u32)
        } else {
            self.rng.random_range(7..18u32)
        };
        let time = NaiveTime::from_hms_milli_opt(
            hour,
            self.rng.random_range(0..60),
            self.rng.random_range(0..60),
            self.rng.random_range(0..1000),
        )
        .expect("generated times are valid");
        day.and_time(time)
    }

    /// The Odoo date of a line booked at `local`: usually the local date, sometimes the UTC date (a
    /// datetime truncated by an integration), sometimes the SPEI operation date.
    fn odoo_date(&mut self, local: NaiveDateTime) -> NaiveDate {
        let utc = local + Duration::hours(UTC_OFFSET_HOURS);
        match self.rng.random_range(0..10u32) {
            0..=5 => local.date(),
            6..=7 => utc.date(),
            _ => {
                let date = local.date();
                if local.time() >= NaiveTime::from_hms_opt(18, 0, 0).expect("valid") {
                    self.calendar.next_banking_day_after(date)
                } else {
                    self.calendar.banking_day_on_or_after(date)
                }
            }
        }
    }

    fn statement_id(&mut self) -> String {
        self.next_statement += 1;
        self.next_statement.to_string()
    }

    fn line_id(&mut self) -> String {
        self.next_line += 1;
        let salt: u32 = self.rng.random();
        format!("__export__.account_move_line_{}_{salt:08x}", self.next_line)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_statement(
        &mut self,
        account: usize,
        local: Option<NaiveDateTime>,
        amount_minor: i64,
        reference: String,
        description: String,
        name: String,
        counterparty: String,
    ) -> String {
        let id = self.statement_id();
        let currency = self.accounts[account].currency;
        let (booked_at, value_date) = match local {
            Some(local) => {
                let utc = local + Duration::hours(UTC_OFFSET_HOURS);
                let text = if self.rng.random_range(0..3u32) == 0 {
                    utc.format("%Y-%m-%d %H:%M:%S+00").to_string()
                } else {
                    utc.format("%Y-%m-%d %H:%M:%S%.3f+00").to_string()
                };
                (text, local.date().to_string())
            }
            None => (String::new(), String::new()),
        };
        self.statements.push(StatementRow {
            id: id.clone(),
            account: self.accounts[account].clabe.clone(),
            booked_at,
            value_date,
            amount: recon_core::money::Money::from_minor(amount_minor, currency).to_string(),
            currency: currency.code().to_owned(),
            reference,
            description,
            counterparty_name: name,
            counterparty_account: counterparty,
        });
        id
    }

    /// Books a two-line move (bank line plus counterpart); returns the bank line's id.
    fn push_move(&mut self, booking: &Booking, state: &str) -> String {
        self.next_move += 1;
        let journal = self.accounts[booking.account].journal.clone();
        let move_name = format!("{}/{}/{:05}", journal.replace(' ', ""), booking.date.format("%Y"), self.next_move);
        let (debit, credit) =
            if booking.amount_minor >= 0 { (booking.amount_minor, 0) } else { (0, -booking.amount_minor) };
        let counterpart = if booking.amount_minor >= 0 { RECEIVABLE } else { PAYABLE };
        let (amount_currency, currency_id) = match booking.usd_minor {
            Some(usd) => (float_text(&mut self.rng, usd, 2), "USD".to_owned()),
            None => (float_text(&mut self.rng, booking.amount_minor, 2), "MXN".to_owned()),
        };
        let bank_id = self.line_id();
        let bank = MoveRow {
            id: bank_id.clone(),
            move_name: move_name.clone(),
            date: booking.date.to_string(),
            journal_id: journal.clone(),
            account_id: GL_NAMES[booking.account].to_owned(),
            partner_id: booking.partner.clone(),
            name: booking.label.clone(),
            reference: booking.reference.clone(),
            debit: float_text(&mut self.rng, debit, 2),
            credit: float_text(&mut self.rng, credit, 2),
            amount_currency: amount_currency.clone(),
            currency_id: currency_id.clone(),
            parent_state: state.to_owned(),
        };
        let other_id = self.line_id();
        let negated = match amount_currency.strip_prefix('-') {
            Some(positive) => positive.to_owned(),
            None => format!("-{amount_currency}"),
        };
        let other = MoveRow {
            id: other_id,
            account_id: if booking.amount_minor >= 0 { counterpart.to_owned() } else { PAYABLE.to_owned() },
            debit: bank.credit.clone(),
            credit: bank.debit.clone(),
            amount_currency: negated,
            ..bank.clone()
        };
        self.moves.push(bank);
        self.moves.push(other);
        bank_id
    }

    fn pair(&mut self, statement_id: String, mut move_line_ids: Vec<String>, needs_review: bool) {
        move_line_ids.sort();
        self.truth.pairs.push(TruthPair { statement_id, move_line_ids, needs_review });
    }

    fn normal(&mut self, day: NaiveDate) {
        match self.rng.random_range(0..100u32) {
            0..=47 => self.spei(day, true),
            48..=69 => self.spei(day, false),
            70..=77 => self.oxxo(day),
            78..=83 => self.conekta_payout(day),
            84..=91 => self.usd(day),
            92..=94 => self.batch(day),
            _ => self.cash(day),
        }
        if self.rng.random_range(0..50u32) == 0 {
            self.draft(day);
        }
    }

    /// A SPEI transfer in or out, matched by clave de rastreo, referencia numérica or fingerprint.
    fn spei(&mut self, day: NaiveDate, incoming: bool) {
        let (statement_id, booking) = self.spei_parts(day, incoming);
        let line = self.push_move(&booking, "posted");
        self.pair(statement_id, vec![line], false);
    }

    fn spei_parts(&mut self, day: NaiveDate, incoming: bool) -> (String, Booking) {
        let account = self.rng.random_range(0..2usize);
        let local = self.local_time(day);
        let amount = if incoming { self.amount() } else { -self.amount() };
        let clave = clave_rastreo(&mut self.rng, local);
        let number = self.rng.random_range(1..10_000_000u32);
        let name = if incoming { person_name(&mut self.rng) } else { vendor_name(&mut self.rng) };
        let counterparty = valid_clabe(&format!(
            "{:03}180{:011}",
            [2, 12, 14, 72, 127, 646][self.rng.random_range(0..6)],
            self.rng.random_range(0..100_000_000_000u64)
        ));
        let description = if incoming {
            format!("SPEI RECIBIDO REF {:07} {}", number, name.to_uppercase())
        } else {
            format!("SPEI ENVIADO {} REF {:07}", name.to_uppercase(), number)
        };
        let bank_reference = match self.rng.random_range(0..20u32) {
            0 => format!(" {} ", clave.to_lowercase()),
            _ => clave.clone(),
        };
        let statement_id = self.push_statement(
            account,
            Some(local),
            amount,
            bank_reference,
            truncate_words(&description, 60),
            name.to_uppercase(),
            counterparty,
        );
        let reference = match self.rng.random_range(0..10u32) {
            0..=5 => clave.clone(),
            6..=7 => format!("{number}"),
            _ => format!("{number:07}"),
        };
        let date = self.odoo_date(local);
        let label = if incoming { format!("Pago de {name}") } else { format!("Pago a {name}") };
        (
            statement_id,
            Booking { account, amount_minor: amount, date, reference, label, partner: name, usd_minor: None },
        )
    }

    /// A direct OXXO deposit: reference grouped differently on each side.
    fn oxxo(&mut self, day: NaiveDate) {
        let local = self.local_time(day);
        let amount = self.rng.random_range(100..10_000i64) * 100;
        let digits = oxxo_reference(&mut self.rng);
        let grouped = format!("{}-{}-{}-{}", &digits[..4], &digits[4..8], &digits[8..12], &digits[12..]);
        let spaced = format!("{} {} {} {}", &digits[..4], &digits[4..8], &digits[8..12], &digits[12..]);
        let statement_id = self.push_statement(
            0,
            Some(local),
            amount,
            String::new(),
            format!("DEPOSITO OXXO {spaced}"),
            String::new(),
            String::new(),
        );
        let date = self.odoo_date(local);
        let name = person_name(&mut self.rng);
        let line = self.push_move(
            &Booking {
                account: 0,
                amount_minor: amount,
                date,
                reference: format!("OXXO {grouped}"),
                label: "Pago OXXO".to_owned(),
                partner: name,
                usd_minor: None,
            },
            "posted",
        );
        self.pair(statement_id, vec![line], false);
    }

    /// A Conekta payout: 2 to 6 OXXO charges booked gross in Odoo, paid out net of fees. Half the time
    /// Odoo also books the fee line, which makes the sum exact.
    fn conekta_payout(&mut self, day: NaiveDate) {
        let payout = self.rng.random_range(100_000..9_999_999u32);
        let charges: Vec<i64> = (0..self.rng.random_range(2..7))
            .map(|_| self.rng.random_range(100..5_000i64) * 100 + self.rng.random_range(0..100i64))
            .collect();
        let schedule = oxxo_fees();
        let fees: i64 = charges.iter().map(|&c| recon_core::matching::fee_minor(c, &schedule)).sum();
        let net = charges.iter().sum::<i64>() - fees;
        let local = self.local_time(day);
        let description = match self.rng.random_range(0..3u32) {
            0 => format!("Conekta {payout:07}"),
            1 => format!("{payout:07} Conekta"),
            _ => format!("Liquidación Conekta {payout}"),
        };
        let statement_id = self.push_statement(
            0,
            Some(local),
            net,
            String::new(),
            description,
            "CONEKTA SAPI DE CV".to_owned(),
            String::new(),
        );
        let charge_day = self.calendar.banking_day_on_or_after(day);
        let mut lines = Vec::new();
        for charge in charges {
            let reference = oxxo_reference(&mut self.rng);
            let partner = person_name(&mut self.rng);
            lines.push(self.push_move(
                &Booking {
                    account: 0,
                    amount_minor: charge,
                    date: charge_day,
                    reference,
                    label: format!("Conekta {payout:07} cobro OXXO"),
                    partner,
                    usd_minor: None,
                },
                "posted",
            ));
        }
        let booked_fee = self.rng.random_range(0..2u32) == 0;
        if booked_fee {
            lines.push(self.push_move(
                &Booking {
                    account: 0,
                    amount_minor: -fees,
                    date: charge_day,
                    reference: String::new(),
                    label: format!("Comisión Conekta {payout:07}"),
                    partner: "Conekta".to_owned(),
                    usd_minor: None,
                },
                "posted",
            ));
        }
        self.pair(statement_id, lines, !booked_fee);
    }

    /// A USD wire on the USD account: Odoo books MXN at a rate and the USD in amount_currency.
    fn usd(&mut self, day: NaiveDate) {
        let local = self.local_time(day);
        let usd = if self.rng.random_range(0..3u32) == 0 { -self.amount() / 10 } else { self.amount() / 10 };
        let usd = if usd == 0 { 1_00 } else { usd };
        let rate_hundredths = self.rng.random_range(1_680..1_760i64);
        let mxn = usd * rate_hundredths / 100;
        let clave = clave_rastreo(&mut self.rng, local);
        let name = vendor_name(&mut self.rng);
        let statement_id = self.push_statement(
            2,
            Some(local),
            usd,
            clave.clone(),
            format!("SPID {}", name.to_uppercase()),
            name.to_uppercase(),
            String::new(),
        );
        let date = self.odoo_date(local);
        let line = self.push_move(
            &Booking {
                account: 2,
                amount_minor: mxn,
                date,
                reference: clave,
                label: "Transferencia USD".to_owned(),
                partner: name,
                usd_minor: Some(usd),
            },
            "posted",
        );
        self.pair(statement_id, vec![line], false);
    }

    /// A cash deposit: no reference on either side, matched on amount and date alone.
    fn cash(&mut self, day: NaiveDate) {
        let account = self.rng.random_range(0..2usize);
        let amount = self.amount();
        let branch = self.rng.random_range(100..9999u32);
        let value_only = self.rng.random_range(0..3u32) == 0;
        let local = self.local_time(day);
        let statement_id = self.push_statement(
            account,
            if value_only { None } else { Some(local) },
            amount,
            String::new(),
            format!("DEPOSITO EN EFECTIVO SUC {branch}"),
            String::new(),
            String::new(),
        );
        if value_only {
            let row = self.statements.last_mut().expect("just pushed");
            row.value_date = day.to_string();
        }
        let partner = person_name(&mut self.rng);
        let date = if value_only { day } else { self.odoo_date(local) };
        let line = self.push_move(
            &Booking {
                account,
                amount_minor: amount,
                date,
                reference: String::new(),
                label: "Depósito en efectivo".to_owned(),
                partner,
                usd_minor: None,
            },
            "posted",
        );
        self.pair(statement_id, vec![line], false);
    }

    /// One customer paying several invoices with one transfer and no usable reference: Odoo books one
    /// payment line per invoice, and the deposit matches their exact sum.
    fn batch(&mut self, day: NaiveDate) {
        let account = self.rng.random_range(0..2usize);
        let local = self.local_time(day);
        let parts: Vec<i64> = (0..self.rng.random_range(2..5)).map(|_| self.amount()).collect();
        let total: i64 = parts.iter().sum();
        let partner = vendor_name(&mut self.rng);
        let statement_id = self.push_statement(
            account,
            Some(local),
            total,
            String::new(),
            format!("DEPOSITO {}", partner.to_uppercase()),
            partner.to_uppercase(),
            String::new(),
        );
        let date = self.odoo_date(local);
        let mut lines = Vec::new();
        for (index, part) in parts.into_iter().enumerate() {
            let label = format!("Pago factura {} de {}", index + 1, partner);
            lines.push(self.push_move(
                &Booking {
                    account,
                    amount_minor: part,
                    date,
                    reference: String::new(),
                    label,
                    partner: partner.clone(),
                    usd_minor: None,
                },
                "posted",
            ));
        }
        self.pair(statement_id, lines, false);
    }

    /// A draft move on a bank account: counted and ignored.
    fn draft(&mut self, day: NaiveDate) {
        let amount = self.amount();
        let partner = person_name(&mut self.rng);
        let number = self.rng.random_range(1..9_999_999u32);
        self.push_move(
            &Booking {
                account: 0,
                amount_minor: amount,
                date: day,
                reference: format!("{number}"),
                label: "Borrador".to_owned(),
                partner,
                usd_minor: None,
            },
            "draft",
        );
    }

    fn defect(&mut self, day: NaiveDate) {
        let kind = match self.rng.random_range(0..8u32) {
            0 => ExceptionKind::UnmatchedStatement,
            1 => ExceptionKind::UnmatchedMove,
            2 | 3 => ExceptionKind::Duplicate,
            4 => ExceptionKind::AmountMismatch,
            5 => ExceptionKind::CurrencyMismatch,
            6 => ExceptionKind::DateOutOfWindow,
            _ => ExceptionKind::Ambiguous,
        };
        let (statement_ids, move_line_ids) = match kind {
            ExceptionKind::UnmatchedStatement => {
                let (statement_id, _) = self.spei_parts(day, true);
                (vec![statement_id], vec![])
            }
            ExceptionKind::UnmatchedMove => {
                let (statement_id, booking) = self.spei_parts(day, true);
                let removed = self.statements.pop().expect("spei_parts pushes a statement line");
                debug_assert_eq!(removed.id, statement_id);
                (vec![], vec![self.push_move(&booking, "posted")])
            }
            ExceptionKind::Duplicate => self.duplicate(day),
            ExceptionKind::AmountMismatch => {
                let (statement_id, mut booking) = self.spei_parts(day, true);
                booking.amount_minor = if self.rng.random_range(0..2u32) == 0 {
                    booking.amount_minor * 100
                } else {
                    booking.amount_minor - recon_core::matching::fee_minor(booking.amount_minor, &oxxo_fees())
                };
                (vec![statement_id], vec![self.push_move(&booking, "posted")])
            }
            ExceptionKind::CurrencyMismatch => {
                let (statement_id, mut booking) = self.spei_parts(day, true);
                booking.usd_minor = Some(booking.amount_minor);
                booking.amount_minor *= 17;
                booking.account = 2;
                (vec![statement_id], vec![self.push_move(&booking, "posted")])
            }
            ExceptionKind::DateOutOfWindow => {
                let (statement_id, mut booking) = self.spei_parts(day, true);
                let mut date = booking.date;
                for _ in 0..10 {
                    date = self.calendar.next_banking_day_after(date);
                }
                booking.date = date;
                (vec![statement_id], vec![self.push_move(&booking, "posted")])
            }
            _ => self.ambiguous(day),
        };
        self.truth.defects.push(Defect { kind, statement_ids, move_line_ids });
    }

    /// A statement line imported twice, or an Odoo payment booked twice (a replayed webhook). The first
    /// of each still matches its counterpart.
    fn duplicate(&mut self, day: NaiveDate) -> (Vec<String>, Vec<String>) {
        let (statement_id, booking) = self.spei_parts(day, true);
        let line = self.push_move(&booking, "posted");
        self.pair(statement_id.clone(), vec![line.clone()], false);
        if self.rng.random_range(0..2u32) == 0 {
            let mut copy = self.statements.last().expect("spei_parts pushes a statement line").clone();
            copy.id = self.statement_id();
            let copy_id = copy.id.clone();
            self.statements.push(copy);
            (vec![statement_id, copy_id], vec![])
        } else {
            let replay = self.push_move(&booking, "posted");
            (vec![], vec![line, replay])
        }
    }

    /// A cash deposit with no reference against two Odoo lines of the same amount and date: a guess
    /// would be wrong half the time, so it must be an exception.
    fn ambiguous(&mut self, day: NaiveDate) -> (Vec<String>, Vec<String>) {
        let account = self.rng.random_range(0..2usize);
        let amount = self.amount();
        let local = self.local_time(day);
        let statement_id = self.push_statement(
            account,
            Some(local),
            amount,
            String::new(),
            "DEPOSITO EN EFECTIVO".to_owned(),
            String::new(),
            String::new(),
        );
        let date = local.date();
        let mut lines = Vec::new();
        for _ in 0..2 {
            let partner = person_name(&mut self.rng);
            lines.push(self.push_move(
                &Booking {
                    account,
                    amount_minor: amount,
                    date,
                    reference: String::new(),
                    label: "Depósito".to_owned(),
                    partner,
                    usd_minor: None,
                },
                "posted",
            ));
        }
        (vec![statement_id], lines)
    }
}

fn truncate_words(text: &str, length_max: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.len() + word.len() + 1 > length_max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_concatenate_to_the_whole_dataset() {
        let spec = Spec { statements: 3_000, seed: 5, ..Spec::default() };
        let whole = generate(&spec);
        let (mut statements, mut moves, mut parts) = (Vec::new(), Vec::new(), 0);
        let (accounts, settlement, truth) = generate_in_parts(&spec, 250, |part_statements, part_moves| {
            parts += 1;
            statements.extend(part_statements);
            moves.extend(part_moves);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
        assert!(parts > 10, "{parts} parts");
        assert_eq!(statements, whole.statements);
        assert_eq!(moves, whole.moves);
        assert_eq!(truth, whole.truth);
        assert_eq!(accounts, whole.accounts);
        assert_eq!(settlement, whole.settlement);
    }
}
