//! From text fields, as sources print them, to typed records — with the field, the value and the
//! reason for every refusal. The IO layer adds file and line.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::error::Error;
use crate::matching::{MoveLine, MoveState, MoveTexts, StatementLine, StatementTexts};
use crate::money::{AmountFormat, Money, parse_amount};
use crate::packed::MAX_RECORD_TEXT_BYTES;
use crate::time::{parse_timestamp, parse_timestamp_with_format};

/// A refused field: which one, its text, and the core's error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field {field} = {value:?}: {error}")]
pub struct FieldError {
    /// Logical field name (`amount`, `booked_at`, ...).
    pub field: &'static str,
    /// The text as given (for a line whose texts are too long altogether, the longest one's first 64
    /// characters, then `…`).
    pub value: String,
    /// Why it was refused.
    pub error: Error,
}

/// How one statement source writes its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatementFormat {
    /// How amounts are written.
    pub amount: AmountFormat,
    /// A chrono format for `booked_at`, when it is not one of the standard forms.
    pub booked_at_format: Option<String>,
    /// A chrono format for `value_date`, when it is not `YYYY-MM-DD`.
    pub value_date_format: Option<String>,
    /// Currency when the source has no currency column.
    pub default_currency: Option<Currency>,
}

impl Default for StatementFormat {
    fn default() -> Self {
        StatementFormat {
            amount: AmountFormat::BANK,
            booked_at_format: None,
            value_date_format: None,
            default_currency: None,
        }
    }
}

/// A statement line's text fields, named as in NEON's `bank_statement_lines`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatementFields<'a> {
    /// `id`.
    pub id: &'a str,
    /// `account`.
    pub account: &'a str,
    /// `booked_at`.
    pub booked_at: &'a str,
    /// `value_date`.
    pub value_date: &'a str,
    /// `amount`.
    pub amount: &'a str,
    /// `currency`.
    pub currency: &'a str,
    /// `reference`.
    pub reference: &'a str,
    /// `description`.
    pub description: &'a str,
    /// `counterparty_name`.
    pub counterparty_name: &'a str,
    /// `counterparty_account`.
    pub counterparty_account: &'a str,
}

fn refuse(field: &'static str, value: &str, error: Error) -> FieldError {
    FieldError { field, value: value.to_owned(), error }
}

fn required(field: &'static str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(refuse(field, value, Error::Empty { field: field.to_owned() }));
    }
    Ok(())
}

fn parse_date(field: &'static str, text: &str, format: Option<&str>) -> Result<NaiveDate, FieldError> {
    let parsed = match format {
        Some(format) => NaiveDate::parse_from_str(text.trim(), format).ok(),
        None => crate::time::parse_iso_date(text.trim()),
    };
    parsed.ok_or_else(|| {
        refuse(
            field,
            text,
            Error::InvalidTimestamp {
                value: text.to_owned(),
                reason: format!("expected a date {}", format.unwrap_or("YYYY-MM-DD")),
            },
        )
    })
}

/// Types a statement line. `booked_at` may be empty when the bank gives only `value_date`; one of the
/// two is required. An empty amount is refused (a statement line always moves money).
pub fn parse_statement(
    fields: &StatementFields<'_>,
    format: &StatementFormat,
    zone: Tz,
) -> Result<StatementLine, FieldError> {
    required("id", fields.id)?;
    required("account", fields.account)?;
    let currency = if fields.currency.trim().is_empty() {
        format
            .default_currency
            .ok_or_else(|| refuse("currency", fields.currency, Error::Empty { field: "currency".to_owned() }))?
    } else {
        Currency::from_code(fields.currency).map_err(|e| refuse("currency", fields.currency, e))?
    };
    let amount = parse_amount(fields.amount, currency, &format.amount)
        .map_err(|e| refuse("amount", fields.amount, e))?
        .ok_or_else(|| {
            refuse(
                "amount",
                fields.amount,
                Error::InvalidAmount { value: fields.amount.to_owned(), reason: "empty".to_owned() },
            )
        })?;
    let booked_at = if fields.booked_at.trim().is_empty() {
        None
    } else {
        let parsed = match &format.booked_at_format {
            Some(f) => parse_timestamp_with_format(fields.booked_at, f, zone),
            None => parse_timestamp(fields.booked_at),
        };
        Some(parsed.map_err(|e| refuse("booked_at", fields.booked_at, e))?)
    };
    let value_date = if fields.value_date.trim().is_empty() {
        None
    } else {
        Some(parse_date("value_date", fields.value_date, format.value_date_format.as_deref())?)
    };
    if booked_at.is_none() && value_date.is_none() {
        return Err(refuse(
            "value_date",
            fields.value_date,
            Error::InvalidTimestamp {
                value: String::new(),
                reason: "both booked_at and value_date are empty".to_owned(),
            },
        ));
    }
    let texts = StatementTexts {
        id: fields.id.trim(),
        account: fields.account.trim(),
        reference: fields.reference,
        description: fields.description,
        counterparty_name: fields.counterparty_name,
        counterparty_account: fields.counterparty_account.trim(),
    };
    texts_fit(
        &[
            ("id", texts.id),
            ("account", texts.account),
            ("reference", texts.reference),
            ("description", texts.description),
            ("counterparty_name", texts.counterparty_name),
            ("counterparty_account", texts.counterparty_account),
        ],
        MAX_RECORD_TEXT_BYTES,
    )?;
    Ok(StatementLine::new(texts, booked_at, value_date, amount))
}

/// Refuses a line whose texts together are longer than `limit` bytes (what a typed line holds:
/// [`MAX_RECORD_TEXT_BYTES`]), naming its longest field (the first of equally long ones), whose value
/// is cut to its first 64 characters in the error.
fn texts_fit(texts: &[(&'static str, &str)], limit: usize) -> Result<(), FieldError> {
    let bytes: usize = texts.iter().map(|(_, text)| text.len()).sum();
    if bytes <= limit {
        return Ok(());
    }
    let (field, value) = texts.iter().rev().copied().max_by_key(|(_, text)| text.len()).unwrap_or(("id", ""));
    let value = value.chars().take(64).collect::<String>() + "…";
    Err(FieldError { field, value, error: Error::TextsTooLong { bytes, limit } })
}

/// How the Odoo source writes its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MoveFormat {
    /// How amounts are written (Odoo: floats).
    pub amount: AmountFormat,
    /// The company currency of `debit` and `credit`.
    pub company_currency: Currency,
}

impl Default for MoveFormat {
    fn default() -> Self {
        MoveFormat { amount: AmountFormat::ODOO_FLOAT, company_currency: Currency::MXN }
    }
}

/// An Odoo journal item's text fields, named as in Odoo's import-compatible export.
#[derive(Clone, Copy, Debug, Default)]
pub struct MoveFields<'a> {
    /// `id`.
    pub id: &'a str,
    /// `move_name`.
    pub move_name: &'a str,
    /// `date`.
    pub date: &'a str,
    /// `journal_id`.
    pub journal_id: &'a str,
    /// `account_id`.
    pub account_id: &'a str,
    /// `partner_id`.
    pub partner_id: &'a str,
    /// `name` (label).
    pub name: &'a str,
    /// `ref`.
    pub reference: &'a str,
    /// `debit`.
    pub debit: &'a str,
    /// `credit`.
    pub credit: &'a str,
    /// `amount_currency`.
    pub amount_currency: &'a str,
    /// `currency_id` (display name: `USD`).
    pub currency_id: &'a str,
    /// `parent_state`.
    pub parent_state: &'a str,
}

/// Types an Odoo journal item: balance = debit - credit in the company currency; `amount_currency` in
/// `currency_id` when that is another currency.
pub fn parse_move(fields: &MoveFields<'_>, format: &MoveFormat) -> Result<MoveLine, FieldError> {
    required("id", fields.id)?;
    let company = format.company_currency;
    let amount = |field: &'static str, text: &str, currency: Currency| -> Result<i64, FieldError> {
        Ok(parse_amount(text, currency, &format.amount)
            .map_err(|e| refuse(field, text, e))?
            .map_or(0, |m| m.amount_minor))
    };
    let debit = amount("debit", fields.debit, company)?;
    let credit = amount("credit", fields.credit, company)?;
    let balance_minor = debit
        .checked_sub(credit)
        .ok_or_else(|| refuse("credit", fields.credit, Error::AmountOutOfRange { value: fields.credit.to_owned() }))?;
    let line_currency = if fields.currency_id.trim().is_empty() {
        company
    } else {
        Currency::from_code(fields.currency_id).map_err(|e| refuse("currency_id", fields.currency_id, e))?
    };
    let amount_currency = if line_currency == company || fields.amount_currency.trim().is_empty() {
        None
    } else {
        Some(Money::from_minor(amount("amount_currency", fields.amount_currency, line_currency)?, line_currency))
    };
    let state_text = fields.parent_state.trim();
    let is = |names: &[&str]| names.iter().any(|name| state_text.eq_ignore_ascii_case(name));
    let state = if is(&["posted"]) {
        MoveState::Posted
    } else if is(&["draft"]) {
        MoveState::Draft
    } else if is(&["cancel", "cancelled", "canceled"]) {
        MoveState::Cancelled
    } else {
        return Err(refuse(
            "parent_state",
            fields.parent_state,
            Error::NotOneOf { value: fields.parent_state.to_owned(), allowed: "posted, draft, cancel".to_owned() },
        ));
    };
    let date = parse_date("date", fields.date, None)?;
    let texts = MoveTexts {
        id: fields.id.trim(),
        move_name: fields.move_name,
        journal: fields.journal_id,
        account: fields.account_id,
        partner: fields.partner_id,
        label: fields.name,
        reference: fields.reference,
    };
    texts_fit(
        &[
            ("id", texts.id),
            ("move_name", texts.move_name),
            ("journal_id", texts.journal),
            ("account_id", texts.account),
            ("partner_id", texts.partner),
            ("name", texts.label),
            ("ref", texts.reference),
        ],
        MAX_RECORD_TEXT_BYTES,
    )?;
    Ok(MoveLine::new(texts, date, Money::from_minor(balance_minor, company), amount_currency, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_too_long_altogether_names_its_longest_field_cut_short() {
        let long = "ñ".repeat(100);
        let texts = [("id", "1001"), ("reference", long.as_str()), ("description", long.as_str())];
        let total = 4 + 2 * long.len();
        assert_eq!(texts_fit(&texts, total), Ok(()), "exactly at the limit fits");
        let refused = texts_fit(&texts, total - 1).expect_err("one byte over");
        assert_eq!(refused.field, "reference", "the first of the two longest");
        assert_eq!(refused.value, "ñ".repeat(64) + "…");
        assert_eq!(refused.error, Error::TextsTooLong { bytes: total, limit: total - 1 });
    }

    #[test]
    fn ids_accounts_and_clabes_are_trimmed_free_text_is_kept_as_given() {
        let fields = StatementFields {
            id: " 1001 ",
            account: " 012180001183597101 ",
            value_date: "2026-10-01",
            amount: "10.00",
            currency: "MXN",
            reference: " REF 1 ",
            description: " SPEI RECIBIDO ",
            counterparty_name: " ANA ",
            counterparty_account: " 002180941654794723 ",
            ..StatementFields::default()
        };
        let line = parse_statement(&fields, &StatementFormat::default(), chrono_tz::America::Mexico_City)
            .expect("a valid line");
        let texts = StatementTexts {
            id: "1001",
            account: "012180001183597101",
            reference: " REF 1 ",
            description: " SPEI RECIBIDO ",
            counterparty_name: " ANA ",
            counterparty_account: "002180941654794723",
        };
        assert_eq!(line.texts(), texts);
        let fields = MoveFields {
            id: " __export__.aml_1 ",
            move_name: " BNK1/2026/00001 ",
            date: "2026-10-01",
            journal_id: " BBVA ",
            account_id: " 102.01.02 Bancos BBVA ",
            partner_id: " Ana ",
            name: " Pago ",
            reference: " REF 1 ",
            debit: "10.00",
            parent_state: "posted",
            ..MoveFields::default()
        };
        let line = parse_move(&fields, &MoveFormat::default()).expect("a valid line");
        let texts = MoveTexts {
            id: "__export__.aml_1",
            move_name: " BNK1/2026/00001 ",
            journal: " BBVA ",
            account: " 102.01.02 Bancos BBVA ",
            partner: " Ana ",
            label: " Pago ",
            reference: " REF 1 ",
        };
        assert_eq!(line.texts(), texts);
    }
}
