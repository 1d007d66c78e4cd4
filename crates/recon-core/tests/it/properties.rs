//! Property tests: no input panics, money round-trips, fingerprints ignore formatting noise.

use proptest::prelude::*;
use recon_core::clabe::Clabe;
use recon_core::currency::Currency;
use recon_core::money::{AmountFormat, Money, parse_amount};
use recon_core::reference::{TextSource, extract_references};
use recon_core::time::parse_timestamp;

use crate::normalize::fingerprint_of_line;

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let _ = extract_references(&text, TextSource::FreeText);
        let _ = extract_references(&text, TextSource::ReferenceField);
        let _ = parse_amount(&text, Currency::MXN, &AmountFormat::BANK);
        let _ = parse_amount(&text, Currency::MXN, &AmountFormat::ODOO_FLOAT);
        let _ = parse_amount(&text, Currency::MXN, &AmountFormat::MINOR_UNITS);
        let _ = parse_timestamp(&text);
        let _ = Clabe::parse(&text);
    }

    /// The tokenizer reads bytes and decodes only non-ASCII characters: any white space `char`
    /// considers white space separates tokens exactly as a plain space does.
    #[test]
    fn any_white_space_splits_like_a_space(
        words in proptest::collection::vec("[A-Za-z0-9/:.,-]{1,24}|REF|RASTREO|OXXO|Conekta", 1..40),
        separators in proptest::collection::vec(prop::sample::select(vec![
            "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{85}", "\u{a0}", "\u{1680}", "\u{2003}", "\u{2028}", "\u{202f}", "\u{3000}", "  ",
        ]), 40),
    ) {
        let spaced = words.join(" ");
        let mut mixed = String::new();
        for (index, word) in words.iter().enumerate() {
            if index > 0 {
                mixed.push_str(separators[index % separators.len()]);
            }
            mixed.push_str(word);
        }
        for source in [TextSource::FreeText, TextSource::ReferenceField] {
            prop_assert_eq!(extract_references(&mixed, source), extract_references(&spaced, source));
        }
    }

    #[test]
    fn number_like_text_never_panics(text in "[-+($'0-9,. eE)]{0,40}") {
        let _ = parse_amount(&text, Currency::MXN, &AmountFormat::BANK);
        let _ = parse_amount(&text, Currency::MXN, &AmountFormat::ODOO_FLOAT);
        let _ = extract_references(&text, TextSource::ReferenceField);
    }

    #[test]
    fn money_round_trips_through_canonical_text(amount_minor in -10_000_000_000_000_i64..10_000_000_000_000) {
        let money = Money::from_minor(amount_minor, Currency::MXN);
        let parsed = parse_amount(&money.to_string(), Currency::MXN, &AmountFormat::BANK).unwrap().unwrap();
        prop_assert_eq!(parsed, money);
    }

    #[test]
    fn grouped_and_decorated_amounts_parse_the_same(amount_minor in 0_i64..1_000_000_000_000, negative: bool, style in 0usize..4) {
        let money = Money::from_minor(if negative { -amount_minor } else { amount_minor }, Currency::MXN);
        let plain = money.abs().to_string();
        let (integer, fraction) = plain.split_once('.').unwrap();
        let grouped = group_thousands(integer);
        let text = match (negative, style) {
            (false, 0) => format!("${grouped}.{fraction}"),
            (false, 1) => format!("'{grouped}.{fraction}"),
            (false, _) => format!("+{integer}.{fraction}0"),
            (true, 0) => format!("({grouped}.{fraction})"),
            (true, 1) => format!("-${grouped}.{fraction}"),
            (true, _) => format!("-{integer}.{fraction}00"),
        };
        prop_assert_eq!(parse_amount(&text, Currency::MXN, &AmountFormat::BANK).unwrap().unwrap(), money);
    }

    #[test]
    fn fingerprint_ignores_formatting_noise(
        amount_minor in 1_i64..100_000_000,
        reference in "[A-Z]{4}[0-9]{10,20}",
        minutes in 0i64..(60 * 24 * 365 * 3),
        spaces in 0usize..3,
        lowercase: bool,
    ) {
        let money = Money::from_minor(amount_minor, Currency::MXN);
        let instant = chrono::DateTime::from_timestamp(1_672_531_200 + minutes * 60, 0).unwrap();
        let local = instant.with_timezone(&chrono::FixedOffset::west_opt(6 * 3600).unwrap());
        let account = "646180111805034237";
        let canonical = format!("{money};MXN;bank;{reference};{};{account}", instant.to_rfc3339());
        let noisy_reference = if lowercase { reference.to_lowercase() } else { reference.clone() };
        let pad = " ".repeat(spaces);
        let plain = money.to_string();
        let (integer, fraction) = plain.split_once('.').unwrap();
        let noisy = format!(
            "${}.{fraction}0;MXN;bank;{pad}{noisy_reference}{pad};{};{account}",
            group_thousands(integer),
            local.format("%Y-%m-%d %H:%M:%S%:z"),
        );
        prop_assert_eq!(fingerprint_of_line(&canonical), fingerprint_of_line(&noisy));
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (index, character) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(character);
    }
    out
}
