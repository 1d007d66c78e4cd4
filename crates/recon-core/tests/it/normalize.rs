//! Normalization features checked against data files.

use chrono::NaiveDate;
use recon_core::Error;
use recon_core::calendar::BankingCalendar;
use recon_core::clabe::{Clabe, check_digit};
use recon_core::currency::Currency;
use recon_core::fingerprint::{Fingerprint, FingerprintInput, fingerprint};
use recon_core::money::{AmountFormat, DecimalSeparator, parse_amount};
use recon_core::reference::{TextSource, extract_references, primary_reference};
use recon_core::time::{Timestamp, business_date, operation_date, parse_timestamp, parse_zone};

use crate::data::{case_lines, check_cases};

#[test]
fn references() {
    check_cases("core/references.tsv", |inputs| {
        let source = match inputs[1] {
            "field" => TextSource::ReferenceField,
            "text" => TextSource::FreeText,
            other => panic!("unknown source {other}"),
        };
        let found = extract_references(inputs[0], source);
        if found.is_empty() {
            return "-".to_owned();
        }
        let names: Vec<String> = found
            .iter()
            .map(|r| {
                format!(
                    "{}:{}:{}",
                    r.kind.as_str(),
                    r.canonical,
                    serde_json::to_value(r.rule).unwrap().as_str().unwrap()
                )
            })
            .collect();
        names.join(" | ")
    });
}

pub fn amount_format(name: &str) -> AmountFormat {
    match name {
        "bank" => AmountFormat::BANK,
        "odoo" => AmountFormat::ODOO_FLOAT,
        "minor" => AmountFormat::MINOR_UNITS,
        "comma" => AmountFormat { decimal_separator: DecimalSeparator::Comma, ..AmountFormat::BANK },
        other => panic!("unknown amount format {other}"),
    }
}

#[test]
fn money() {
    check_cases("core/money.tsv", |inputs| {
        let currency = match Currency::from_code(inputs[1]) {
            Ok(currency) => currency,
            Err(_) => return "error:currency".to_owned(),
        };
        match parse_amount(inputs[0], currency, &amount_format(inputs[2])) {
            Ok(Some(money)) => money.amount_minor.to_string(),
            Ok(None) => "none".to_owned(),
            Err(Error::InvalidAmount { .. }) => "error:invalid".to_owned(),
            Err(Error::SubMinorUnitAmount { .. }) => "error:sub_minor".to_owned(),
            Err(Error::AmountOutOfRange { .. }) => "error:range".to_owned(),
            Err(other) => format!("error:{other}"),
        }
    });
}

#[test]
fn time() {
    let calendar = BankingCalendar::mexico_default();
    check_cases("core/time.tsv", |inputs| {
        let zone = parse_zone(inputs[2]).unwrap();
        let parsed = parse_timestamp(inputs[1]);
        match (inputs[0], parsed) {
            ("parse", Ok(Timestamp::Instant(instant))) => instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ("parse", Ok(Timestamp::Date(date))) => date.to_string(),
            ("parse", Err(_)) => "error".to_owned(),
            ("business_date", Ok(timestamp)) => business_date(&timestamp, zone).to_string(),
            ("operation_date", Ok(Timestamp::Instant(instant))) => operation_date(instant, zone, &calendar).to_string(),
            (check, result) => panic!("unexpected {check} {result:?}"),
        }
    });
}

#[test]
fn calendar() {
    let calendar = BankingCalendar::mexico_default();
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    check_cases("core/calendar.tsv", |inputs| match inputs[0] {
        "banking" => calendar.is_banking_day(date(inputs[1])).to_string(),
        "between" => calendar.banking_days_between(date(inputs[1]), date(inputs[2])).to_string(),
        other => panic!("unknown check {other}"),
    });
}

#[test]
fn clabe_valid() {
    let lines = case_lines("clabe/valid.txt");
    assert!(lines.len() >= 4);
    for line in lines {
        let clabe = Clabe::parse(line.trim()).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(clabe.to_string(), line.trim());
    }
}

#[test]
fn clabe_invalid() {
    for line in case_lines("clabe/invalid.txt") {
        let (value, expected) = line.split_once('\t').unwrap();
        let actual = match Clabe::parse(value) {
            Ok(_) => "valid",
            Err(Error::ClabeLength { .. }) => "length",
            Err(Error::ClabeNotDigits { .. }) => "not_digits",
            Err(Error::ClabeCheckDigit { .. }) => "check_digit",
            Err(Error::ClabeUnknownBank { .. }) => "unknown_bank",
            Err(other) => panic!("{value}: unexpected {other}"),
        };
        assert_eq!(actual, expected.trim(), "{value}");
    }
}

#[test]
fn clabe_check_digits() {
    for line in case_lines("clabe/check_digits.txt") {
        let (first_17, expected) = line.split_once('\t').unwrap();
        let digits: Vec<u8> = first_17.bytes().map(|b| b - b'0').collect();
        let digits: [u8; 17] = digits.try_into().unwrap();
        assert_eq!(check_digit(&digits).to_string(), expected.trim(), "{first_17}");
    }
}

/// Builds a fingerprint from `amount ; currency ; format ; reference text ; timestamp ; account`.
pub fn fingerprint_of_line(line: &str) -> Fingerprint {
    let fields: Vec<&str> = line.split(';').collect();
    assert_eq!(fields.len(), 6, "{line}");
    let currency = Currency::from_code(fields[1]).unwrap();
    let money = parse_amount(fields[0], currency, &amount_format(fields[2])).unwrap().unwrap();
    let references = extract_references(fields[3], TextSource::ReferenceField);
    let mut all = references;
    all.extend(extract_references(fields[3], TextSource::FreeText));
    let timestamp = parse_timestamp(fields[4]).unwrap();
    let zone = parse_zone("America/Mexico_City").unwrap();
    fingerprint(&FingerprintInput {
        money,
        reference: primary_reference(&all),
        business_date: business_date(&timestamp, zone),
        account: fields[5],
    })
}

#[test]
fn fingerprint_identity() {
    check_cases("core/fingerprint.tsv", |inputs| {
        let (a, b) = (fingerprint_of_line(inputs[0]), fingerprint_of_line(inputs[1]));
        if a == b { "same".to_owned() } else { "differ".to_owned() }
    });
}

#[test]
fn fingerprint_encoding_is_pinned() {
    // A persisted identity: if this changes, bump FINGERPRINT_VERSION and write a migration note.
    let fingerprint = fingerprint_of_line("1,234.50;MXN;bank;MBAN01002308280073291391;2024-02-29;646180111805034237");
    assert_eq!(fingerprint.to_string(), include_str!("../../../../testdata/core/fingerprint_v1.txt").trim());
}
