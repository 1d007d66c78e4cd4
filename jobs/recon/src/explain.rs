//! `recon explain`: what the core reads in a reference, an amount or a timestamp, as JSON — the on-call
//! engineer's first tool when a line did not match. With an amount, a reference and a timestamp it also
//! prints the fingerprint (version 1, see recon-core's `fingerprint` module).
//!
//! Each part that cannot be read gets an `error` instead of a value; the command then exits 2.

use anyhow::{Context, Result};
use chrono_tz::Tz;
use recon_core::calendar::BankingCalendar;
use recon_core::clabe::Clabe;
use recon_core::currency::Currency;
use recon_core::fingerprint::{FINGERPRINT_VERSION, FingerprintInput, fingerprint};
use recon_core::money::{AmountFormat, Money, parse_amount};
use recon_core::reference::{Reference, TextSource, extract_references, primary_reference};
use recon_core::time::{DEFAULT_ZONE, Timestamp, business_date, operation_date, parse_timestamp};
use serde_json::{Value, json};

use crate::cli::{AmountFormatArg, ExplainArgs};
use crate::config;
use crate::exit::Exit;
use crate::stdout;

/// The zone, calendar and default currency explain reads with.
struct Reading {
    zone: Tz,
    calendar: BankingCalendar,
    currency: Currency,
}

/// Runs `recon explain`.
pub fn explain(args: &ExplainArgs) -> Result<Exit> {
    let context = match &args.config {
        Some(path) => {
            let settings = config::load(path)?;
            Reading {
                zone: settings.zone,
                calendar: settings.match_config.calendar,
                currency: settings.match_config.company_currency,
            }
        }
        None => Reading { zone: DEFAULT_ZONE, calendar: BankingCalendar::mexico_default(), currency: Currency::MXN },
    };
    let (output, failed) = explanation(args, &context);
    stdout::write(&(serde_json::to_string_pretty(&output).context("serializing the explanation")? + "\n"))?;
    Ok(if failed { Exit::BadInput } else { Exit::Done })
}

fn explanation(args: &ExplainArgs, context: &Reading) -> (Value, bool) {
    let mut output = json!({ "zone": context.zone.name() });
    let mut failed = false;
    let mut record = |key: &str, part: Result<Value, String>| match part {
        Ok(value) => output[key] = value,
        Err(error) => {
            failed = true;
            output[key] = json!({ "error": error });
        }
    };
    let references = args.reference.as_deref().map(|text| extract_references(text, TextSource::ReferenceField));
    if let (Some(text), Some(found)) = (&args.reference, &references) {
        record("reference", Ok(reference_part(text, found)));
    }
    let money = args.amount.as_deref().map(|text| amount(text, args, context));
    if let (Some(text), Some(money)) = (&args.amount, &money) {
        record("amount", money.clone().map(|m| amount_part(text, args.format, m)));
    }
    let timestamp = args.timestamp.as_deref().map(|text| parse_timestamp(text).map_err(|e| e.to_string()));
    if let (Some(text), Some(parsed)) = (&args.timestamp, &timestamp) {
        record("timestamp", parsed.clone().map(|t| timestamp_part(text, t, context)));
    }
    let clabe = args.account.as_deref().map(|text| Clabe::parse(text).map_err(|e| e.to_string()));
    if let Some(parsed) = &clabe {
        record("account", parsed.clone().map(|c| json!({ "clabe": c.to_string(), "bank": c.bank().name })));
    }
    if let (Some(references), Some(Ok(money)), Some(Ok(timestamp))) = (&references, &money, &timestamp) {
        let account = match &clabe {
            Some(Ok(clabe)) => Some(clabe.to_string()),
            _ => None,
        };
        record("fingerprint", Ok(fingerprint_part(references, *money, timestamp, account.as_deref(), context)));
    }
    (output, failed)
}

fn references_json(references: &[Reference]) -> Value {
    Value::Array(
        references
            .iter()
            .map(|r| json!({ "kind": r.kind.as_str(), "canonical": r.canonical, "rule": r.rule, "family": r.kind.family() }))
            .collect(),
    )
}

fn reference_part(text: &str, as_field: &[Reference]) -> Value {
    let as_text = extract_references(text, TextSource::FreeText);
    json!({
        "text": text,
        "as_reference_field": references_json(as_field),
        "as_free_text": references_json(&as_text),
        "primary": primary_reference(as_field).map(|r| json!({ "kind": r.kind.as_str(), "canonical": r.canonical })),
    })
}

fn amount(text: &str, args: &ExplainArgs, context: &Reading) -> Result<Money, String> {
    let currency = match &args.currency {
        Some(code) => Currency::from_code(code).map_err(|e| e.to_string())?,
        None => context.currency,
    };
    let format = match args.format {
        AmountFormatArg::Bank => AmountFormat::BANK,
        AmountFormatArg::Odoo => AmountFormat::ODOO_FLOAT,
        AmountFormatArg::Minor => AmountFormat::MINOR_UNITS,
    };
    parse_amount(text, currency, &format).map_err(|e| e.to_string())?.ok_or_else(|| format!("amount {text:?} is empty"))
}

fn amount_part(text: &str, format: AmountFormatArg, money: Money) -> Value {
    let format = match format {
        AmountFormatArg::Bank => "bank",
        AmountFormatArg::Odoo => "odoo",
        AmountFormatArg::Minor => "minor",
    };
    json!({
        "text": text,
        "format": format,
        "currency": money.currency.code(),
        "amount_minor": money.amount_minor,
        "canonical": money.to_string(),
    })
}

fn timestamp_part(text: &str, timestamp: Timestamp, context: &Reading) -> Value {
    let business = business_date(&timestamp, context.zone);
    match timestamp {
        Timestamp::Instant(instant) => json!({
            "text": text,
            "kind": "instant",
            "instant_utc": instant.to_rfc3339(),
            "local_time": instant.with_timezone(&context.zone).to_rfc3339(),
            "business_date": business.to_string(),
            "operation_date": operation_date(instant, context.zone, &context.calendar).to_string(),
        }),
        Timestamp::Date(date) => json!({
            "text": text,
            "kind": "date",
            "business_date": business.to_string(),
            "operation_date": date.to_string(),
            "note": "a plain date is never shifted by the zone",
        }),
    }
}

fn fingerprint_part(
    references: &[Reference],
    money: Money,
    timestamp: &Timestamp,
    account: Option<&str>,
    context: &Reading,
) -> Value {
    let primary = primary_reference(references);
    let business = business_date(timestamp, context.zone);
    let value = fingerprint(&FingerprintInput {
        money,
        reference: primary,
        business_date: business,
        account: account.unwrap_or_default(),
    });
    json!({
        "version": FINGERPRINT_VERSION,
        "hex": value.to_string(),
        "short": value.short(),
        "inputs": {
            "amount_minor": money.amount_minor,
            "currency": money.currency.code(),
            "reference": primary.map(|r| json!({ "kind": r.kind.as_str(), "canonical": r.canonical })),
            "business_date": business.to_string(),
            "account": account,
        },
        "note": account.is_none().then_some("no --account given: fingerprint of an empty account, which matches no configured account"),
    })
}
