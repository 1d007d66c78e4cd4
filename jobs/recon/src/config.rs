//! The job's TOML configuration: read with `deny_unknown_fields`, then validated as a whole before any
//! work starts, so a bad key fails the run at once with the key's dotted path and the reason.
//!
//! Decimals (threshold, percentages, amounts) are written as strings (`"0.95"`, `"3.5"`): a TOML float
//! is refused, because money and rates are never read through an `f64`.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use anyhow::Result;
use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;
use recon_core::calendar::BankingCalendar;
use recon_core::clabe::Clabe;
use recon_core::currency::Currency;
use recon_core::matching::{AccountConfig, FeeSchedule, MatchConfig, SettlementConfig};
use recon_core::money::{AmountFormat, DecimalSeparator, parse_amount};
use recon_core::records::{MoveFormat, StatementFormat};
use recon_core::time::parse_zone;
use recon_io::{Layout, RawMoveLine, RawStatementLine};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::exit::bad_input;

/// A decimal written in the config as a string or an integer, never as a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecimalText(pub Decimal);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

struct DecimalVisitor;

impl serde::de::Visitor<'_> for DecimalVisitor {
    type Value = DecimalText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal written as a string, such as \"0.95\" (floats are refused: no f64 near money)")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<DecimalText, E> {
        Decimal::from_str_exact(text.trim())
            .map(DecimalText)
            .map_err(|_| E::custom(format!("{text:?} is not a decimal number such as \"0.95\"")))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<DecimalText, E> {
        Ok(DecimalText(Decimal::from(value)))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<DecimalText, E> {
        Ok(DecimalText(Decimal::from(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<DecimalText, E> {
        Err(E::custom(format!("{value} is a TOML float; write decimals as strings, e.g. \"{value}\"")))
    }
}

/// The file as written. See `testdata/demo/recon.toml` and the README's config reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    zone: String,
    company_currency: String,
    kpi_threshold: DecimalText,
    #[serde(default = "default_lookback_days")]
    lookback_days: u32,
    #[serde(default)]
    matching: MatchingSection,
    accounts: Vec<AccountSection>,
    #[serde(default)]
    settlement: SettlementSection,
    #[serde(default)]
    holidays: HolidaysSection,
    #[serde(default)]
    sources: SourcesSection,
    #[serde(default)]
    manual: ManualSection,
}

/// `[manual]`: how manual controlled runs are governed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ManualSection {
    four_eyes: bool,
}

fn default_lookback_days() -> u32 {
    7
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MatchingSection {
    window_banking_days: i64,
    context_banking_days: Option<i64>,
    candidates_per_line_max: usize,
}

impl Default for MatchingSection {
    fn default() -> Self {
        MatchingSection { window_banking_days: 3, context_banking_days: None, candidates_per_line_max: 64 }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSection {
    name: String,
    clabe: String,
    journal: String,
    gl_account_code: String,
    currency: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SettlementSection {
    candidates_max: usize,
    lines_max: usize,
    steps_max: u64,
    fee_tolerance: DecimalText,
    fee_schedules: Vec<FeeSection>,
}

impl Default for SettlementSection {
    fn default() -> Self {
        let core = SettlementConfig::default();
        SettlementSection {
            candidates_max: core.candidates_max,
            lines_max: core.lines_max,
            steps_max: core.steps_max,
            fee_tolerance: DecimalText(Decimal::ONE),
            fee_schedules: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeSection {
    name: String,
    percent: DecimalText,
    #[serde(default = "zero")]
    fixed: DecimalText,
    #[serde(default = "zero")]
    vat_percent: DecimalText,
}

fn zero() -> DecimalText {
    DecimalText(Decimal::ZERO)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HolidaysSection {
    extra: Vec<toml::Value>,
    removed: Vec<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SourcesSection {
    statements: StatementSource,
    moves: MoveSource,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StatementSource {
    name: String,
    layout: Layout,
    decimal_separator: DecimalSeparator,
    minor_units: bool,
    booked_at_format: Option<String>,
    value_date_format: Option<String>,
    default_currency: Option<String>,
    /// The NEON table, when `--statements` is a `postgres://` URL.
    table: String,
    /// Rows per page read from the NEON table.
    batch_rows: u32,
}

impl Default for StatementSource {
    fn default() -> Self {
        StatementSource {
            name: "neon".to_owned(),
            layout: Layout::neon_default(),
            decimal_separator: DecimalSeparator::Point,
            minor_units: false,
            booked_at_format: None,
            value_date_format: None,
            default_currency: None,
            table: recon_postgres::DEFAULT_TABLE.to_owned(),
            batch_rows: recon_postgres::DEFAULT_BATCH_ROWS,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MoveSource {
    name: String,
    layout: Layout,
    decimal_separator: DecimalSeparator,
    minor_units: bool,
    float_source: bool,
    /// The Odoo company (`res_company.id`), when `--moves` is a `postgres://` URL.
    company_id: i64,
    /// The language of Odoo's translated names (journals, accounts).
    language: String,
    /// Rows per page read from Odoo's tables.
    batch_rows: u32,
}

impl Default for MoveSource {
    fn default() -> Self {
        MoveSource {
            name: "odoo".to_owned(),
            layout: Layout::odoo_default(),
            decimal_separator: DecimalSeparator::Point,
            minor_units: false,
            float_source: true,
            company_id: 1,
            language: recon_postgres::DEFAULT_LANGUAGE.to_owned(),
            batch_rows: recon_postgres::DEFAULT_BATCH_ROWS,
        }
    }
}

/// One configured bank account, as the job reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInfo {
    /// A short name for people (`STP concentradora`).
    pub name: String,
    /// The CLABE.
    pub clabe: String,
    /// The account's currency.
    pub currency: Currency,
}

/// How one statement source is read.
#[derive(Clone, Debug)]
pub struct StatementSourceSettings {
    /// Source name for quarantine rows and run inputs (`neon`).
    pub name: String,
    /// Column mapping.
    pub layout: Layout,
    /// Value formats.
    pub format: StatementFormat,
    /// The NEON table read when the input is a database (`table` or `schema.table`, validated).
    pub table: String,
    /// Rows per page read from the database.
    pub batch_rows: u32,
}

/// How the Odoo source is read.
#[derive(Clone, Debug)]
pub struct MoveSourceSettings {
    /// Source name for quarantine rows and run inputs (`odoo`).
    pub name: String,
    /// Column mapping.
    pub layout: Layout,
    /// Value formats.
    pub format: MoveFormat,
    /// The Odoo company read when the input is a database.
    pub company_id: i64,
    /// The language of Odoo's translated names.
    pub language: String,
    /// Rows per page read from the database.
    pub batch_rows: u32,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// BLAKE3 of the file's bytes: the run records which configuration it used.
    pub blake3: String,
    /// Business time zone.
    pub zone: Tz,
    /// Days a run covers when `--from/--to` are not given (ending yesterday).
    pub lookback_days: u32,
    /// Banking days of context read on each side of the run's range (see `scope`).
    pub context_banking_days: i64,
    /// Accounts, in configuration order.
    pub accounts: Vec<AccountInfo>,
    /// Everything the core needs.
    pub match_config: MatchConfig,
    /// Statement source.
    pub statements: StatementSourceSettings,
    /// Odoo source.
    pub moves: MoveSourceSettings,
    /// Manual controlled runs: true when a decision set must be approved by a second operator.
    pub four_eyes: bool,
}

/// Reads and validates the configuration file; every failure is a bad-input error naming the key.
pub fn load(path: &Path) -> Result<Settings> {
    let bytes =
        std::fs::read(path).map_err(|error| bad_input(format!("config {}: cannot read: {error}", path.display())))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| bad_input(format!("config {}: not UTF-8: {error}", path.display())))?;
    let file = parse(text).map_err(|problem| bad_input(format!("config {}: {problem}", path.display())))?;
    let settings = validate(file, blake3::hash(&bytes).to_hex().to_string())
        .map_err(|problem| bad_input(format!("config {}: {problem}", path.display())))?;
    Ok(settings)
}

/// Deserializes the file, naming the dotted key of a value that does not fit (`accounts[1].currency`);
/// the TOML error's own text adds the line, the column and the offending snippet.
fn parse(text: &str) -> Result<ConfigFile, Problem> {
    let deserializer = toml::Deserializer::parse(text).map_err(|error| problem("(file)", error))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let key = error.path().to_string();
        problem(if key == "." { "(top level)".to_owned() } else { key }, error.into_inner())
    })
}

/// A configuration problem: the dotted key and what is wrong with it.
#[derive(Debug)]
pub struct Problem {
    key: String,
    reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.reason)
    }
}

fn problem(key: impl Into<String>, reason: impl fmt::Display) -> Problem {
    Problem { key: key.into(), reason: reason.to_string() }
}

fn validate(file: ConfigFile, blake3: String) -> Result<Settings, Problem> {
    let zone = parse_zone(&file.zone).map_err(|e| problem("zone", e))?;
    let company_currency = Currency::from_code(&file.company_currency).map_err(|e| problem("company_currency", e))?;
    let threshold = file.kpi_threshold.0;
    if threshold <= Decimal::ZERO || threshold > Decimal::ONE {
        return Err(problem("kpi_threshold", format!("{threshold} is not in (0, 1]; write 95 % as \"0.95\"")));
    }
    if !(1..=366).contains(&file.lookback_days) {
        return Err(problem("lookback_days", format!("{} is not in 1..=366", file.lookback_days)));
    }
    let (window, context) = validate_matching(&file.matching)?;
    let (accounts, account_configs) = validate_accounts(&file.accounts)?;
    let settlement = validate_settlement(&file.settlement, company_currency)?;
    let calendar = validate_holidays(&file.holidays)?;
    let statements = validate_statement_source(file.sources.statements)?;
    let moves = validate_move_source(file.sources.moves, company_currency)?;
    let match_config = MatchConfig {
        zone,
        calendar,
        company_currency,
        accounts: account_configs,
        window_banking_days: window,
        candidates_per_line_max: file.matching.candidates_per_line_max,
        settlement,
        kpi_threshold: threshold,
    };
    Ok(Settings {
        blake3,
        zone,
        lookback_days: file.lookback_days,
        context_banking_days: context,
        accounts,
        match_config,
        statements,
        moves,
        four_eyes: file.manual.four_eyes,
    })
}

fn validate_matching(matching: &MatchingSection) -> Result<(i64, i64), Problem> {
    let window = matching.window_banking_days;
    if !(0..=30).contains(&window) {
        return Err(problem("matching.window_banking_days", format!("{window} is not in 0..=30")));
    }
    let context = matching.context_banking_days.unwrap_or(2 * window + 1);
    if context < window + 1 || context > 90 {
        return Err(problem(
            "matching.context_banking_days",
            format!("{context} must be at least window_banking_days + 1 = {} and at most 90", window + 1),
        ));
    }
    if !(2..=1024).contains(&matching.candidates_per_line_max) {
        return Err(problem(
            "matching.candidates_per_line_max",
            format!("{} is not in 2..=1024", matching.candidates_per_line_max),
        ));
    }
    Ok((window, context))
}

fn validate_accounts(sections: &[AccountSection]) -> Result<(Vec<AccountInfo>, Vec<AccountConfig>), Problem> {
    if sections.is_empty() {
        return Err(problem("accounts", "at least one [[accounts]] entry is required"));
    }
    let mut seen: [HashSet<String>; 3] = Default::default();
    let mut infos = Vec::with_capacity(sections.len());
    let mut configs = Vec::with_capacity(sections.len());
    for (index, section) in sections.iter().enumerate() {
        let key = |field: &str| format!("accounts[{index}].{field}");
        let clabe = Clabe::parse(&section.clabe).map_err(|e| problem(key("clabe"), e))?.to_string();
        let currency = Currency::from_code(&section.currency).map_err(|e| problem(key("currency"), e))?;
        for (field, value) in [("name", &section.name), ("journal", &section.journal)] {
            if value.trim().is_empty() {
                return Err(problem(key(field), "is empty"));
            }
        }
        let code = section.gl_account_code.trim();
        if code.is_empty() || code.contains(char::is_whitespace) {
            return Err(problem(key("gl_account_code"), format!("{code:?} must be one code such as \"102.01.01\"")));
        }
        for (set, (field, value)) in
            seen.iter_mut().zip([("name", section.name.trim()), ("clabe", clabe.as_str()), ("gl_account_code", code)])
        {
            if !set.insert(value.to_owned()) {
                return Err(problem(key(field), format!("{value:?} appears in two accounts")));
            }
        }
        infos.push(AccountInfo { name: section.name.trim().to_owned(), clabe: clabe.clone(), currency });
        configs.push(AccountConfig {
            clabe,
            journal: section.journal.trim().to_owned(),
            gl_account_code: code.to_owned(),
            currency,
        });
    }
    Ok((infos, configs))
}

fn validate_settlement(section: &SettlementSection, currency: Currency) -> Result<SettlementConfig, Problem> {
    if !(2..=64).contains(&section.candidates_max) {
        return Err(problem("settlement.candidates_max", format!("{} is not in 2..=64", section.candidates_max)));
    }
    if section.lines_max < 2 || section.lines_max > section.candidates_max {
        return Err(problem(
            "settlement.lines_max",
            format!("{} is not in 2..=candidates_max ({})", section.lines_max, section.candidates_max),
        ));
    }
    if !(1..=10_000_000).contains(&section.steps_max) {
        return Err(problem("settlement.steps_max", format!("{} is not in 1..=10000000", section.steps_max)));
    }
    let fee_tolerance_minor = minor_units(section.fee_tolerance.0, currency, "settlement.fee_tolerance")?;
    let mut names = HashSet::new();
    let mut fee_schedules = Vec::with_capacity(section.fee_schedules.len());
    for (index, fee) in section.fee_schedules.iter().enumerate() {
        let key = |field: &str| format!("settlement.fee_schedules[{index}].{field}");
        let name = fee.name.trim();
        if name.is_empty() {
            return Err(problem(key("name"), "is empty"));
        }
        if !names.insert(name.to_owned()) {
            return Err(problem(key("name"), format!("{name:?} appears twice")));
        }
        let percent = percent_fraction(fee.percent.0, &key("percent"))?;
        let vat = percent_fraction(fee.vat_percent.0, &key("vat_percent"))?;
        let fixed_minor = minor_units(fee.fixed.0, currency, &key("fixed"))?;
        fee_schedules.push(FeeSchedule { name: name.to_owned(), percent, fixed_minor, vat });
    }
    Ok(SettlementConfig {
        candidates_max: section.candidates_max,
        lines_max: section.lines_max,
        steps_max: section.steps_max,
        fee_schedules,
        fee_tolerance_minor,
        // Not a rule of the search, only how much of it is held at once: not configurable.
        prospects_per_block: SettlementConfig::default().prospects_per_block,
    })
}

/// A percentage in `[0, 100]` as a fraction (`3.5` -> `0.035`).
fn percent_fraction(percent: Decimal, key: &str) -> Result<Decimal, Problem> {
    if percent < Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
        return Err(problem(key, format!("{percent} is not a percentage in [0, 100]")));
    }
    Ok(percent / Decimal::ONE_HUNDRED)
}

/// A non-negative amount in major units of `currency`, as exact minor units.
fn minor_units(amount: Decimal, currency: Currency, key: &str) -> Result<i64, Problem> {
    if amount < Decimal::ZERO {
        return Err(problem(key, format!("{amount} is negative")));
    }
    let money = parse_amount(&amount.to_string(), currency, &AmountFormat::BANK)
        .map_err(|e| problem(key, e))?
        .ok_or_else(|| problem(key, "is empty"))?;
    Ok(money.amount_minor)
}

fn validate_holidays(section: &HolidaysSection) -> Result<BankingCalendar, Problem> {
    let extra = holiday_dates(&section.extra, "holidays.extra")?;
    let removed = holiday_dates(&section.removed, "holidays.removed")?;
    let base = BankingCalendar::mexico_default();
    for (index, date) in extra.iter().enumerate() {
        if removed.contains(date) {
            return Err(problem(format!("holidays.extra[{index}]"), format!("{date} is also in holidays.removed")));
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            return Err(problem(format!("holidays.extra[{index}]"), format!("{date} is a weekend day already")));
        }
    }
    for (index, date) in removed.iter().enumerate() {
        if !base.holidays().contains(date) {
            return Err(problem(
                format!("holidays.removed[{index}]"),
                format!("{date} is not a holiday of the default Mexican banking calendar"),
            ));
        }
    }
    Ok(base.adjusted(&extra, &removed))
}

fn holiday_dates(values: &[toml::Value], key: &str) -> Result<Vec<NaiveDate>, Problem> {
    let mut dates: Vec<NaiveDate> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let text = match value {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            other => return Err(problem(format!("{key}[{index}]"), format!("{other} is not a date YYYY-MM-DD"))),
        };
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| problem(format!("{key}[{index}]"), format!("{text:?} is not a date YYYY-MM-DD")))?;
        if dates.contains(&date) {
            return Err(problem(format!("{key}[{index}]"), format!("{date} appears twice")));
        }
        dates.push(date);
    }
    Ok(dates)
}

fn validate_statement_source(source: StatementSource) -> Result<StatementSourceSettings, Problem> {
    source_name(&source.name, "sources.statements.name")?;
    source.layout.validate::<RawStatementLine>().map_err(|e| problem("sources.statements.layout", e))?;
    let default_currency = source
        .default_currency
        .as_deref()
        .map(Currency::from_code)
        .transpose()
        .map_err(|e| problem("sources.statements.default_currency", e))?;
    let amount = AmountFormat {
        decimal_separator: source.decimal_separator,
        minor_units: source.minor_units,
        float_source: false,
    };
    recon_postgres::TableName::parse("NEON table", &source.table)
        .map_err(|e| problem("sources.statements.table", e))?;
    batch_rows(source.batch_rows, "sources.statements.batch_rows")?;
    Ok(StatementSourceSettings {
        name: source.name,
        layout: source.layout,
        format: StatementFormat {
            amount,
            booked_at_format: source.booked_at_format,
            value_date_format: source.value_date_format,
            default_currency,
        },
        table: source.table,
        batch_rows: source.batch_rows,
    })
}

/// Rows per page of a database read: 1..=100,000 (a page is held in memory whole).
fn batch_rows(rows: u32, key: &str) -> Result<(), Problem> {
    if (1..=100_000).contains(&rows) { Ok(()) } else { Err(problem(key, format!("{rows} is not in 1..=100000"))) }
}

fn validate_move_source(source: MoveSource, company_currency: Currency) -> Result<MoveSourceSettings, Problem> {
    source_name(&source.name, "sources.moves.name")?;
    source.layout.validate::<RawMoveLine>().map_err(|e| problem("sources.moves.layout", e))?;
    let amount = AmountFormat {
        decimal_separator: source.decimal_separator,
        minor_units: source.minor_units,
        float_source: source.float_source,
    };
    if source.company_id < 1 {
        return Err(problem(
            "sources.moves.company_id",
            format!("{} is not a res_company id (ids start at 1)", source.company_id),
        ));
    }
    if source.language.trim().is_empty() {
        return Err(problem("sources.moves.language", "is empty; use e.g. \"en_US\" or \"es_MX\""));
    }
    batch_rows(source.batch_rows, "sources.moves.batch_rows")?;
    Ok(MoveSourceSettings {
        name: source.name,
        layout: source.layout,
        format: MoveFormat { amount, company_currency },
        company_id: source.company_id,
        language: source.language.trim().to_owned(),
        batch_rows: source.batch_rows,
    })
}

fn source_name(name: &str, key: &str) -> Result<(), Problem> {
    if name.trim().is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(problem(key, format!("{name:?} must be a short word such as \"neon\"")));
    }
    Ok(())
}
