//! What people read on a terminal: aligned tables, money with thousands separators, rates as
//! percentages, a progress indicator only when stderr is a terminal, and URLs without passwords.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;

/// A text table: a header and rows, columns aligned; numeric columns right-aligned.
#[derive(Debug, Default)]
pub struct TextTable {
    header: Vec<String>,
    right_aligned: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl TextTable {
    /// A table with these columns; a column whose name starts with `>` is right-aligned (the `>` is
    /// not printed).
    pub fn new(columns: &[&str]) -> TextTable {
        TextTable {
            header: columns.iter().map(|c| c.trim_start_matches('>').to_owned()).collect(),
            right_aligned: columns.iter().map(|c| c.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells print empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table, each line indented by `indent` spaces.
    pub fn render(&self, indent: usize) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for cells in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (index, width) in widths.iter().enumerate() {
                let cell = cells.get(index).map(String::as_str).unwrap_or_default();
                let pad = width - cell.chars().count();
                if index > 0 {
                    line.push_str("  ");
                }
                if self.right_aligned[index] {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

/// `1234567.5` -> `1,234,567.5` (the decimals as given).
pub fn grouped(amount: &str) -> String {
    let (sign, unsigned) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut out = String::with_capacity(amount.len() + whole.len() / 3);
    out.push_str(sign);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A rate as a percentage with two decimals (`0.9731` -> `97.31 %`), or `n/a`.
pub fn percent(rate: Option<Decimal>) -> String {
    match rate {
        Some(rate) => format!("{:.2} %", rate * Decimal::ONE_HUNDRED),
        None => "n/a".to_owned(),
    }
}

/// A spinner counting rows on stderr, drawn only when stderr is a terminal (hidden otherwise, so logs
/// and pipes stay clean). Spinners live on one line each: the two inputs are read at once.
pub fn progress(message: &'static str) -> ProgressBar {
    static SPINNERS: OnceLock<MultiProgress> = OnceLock::new();
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinners = SPINNERS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let bar = spinners.add(ProgressBar::no_length());
    let style = ProgressStyle::with_template("{spinner} {msg}: {human_pos} rows ({per_sec})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(message);
    bar
}

/// The URL with any password replaced by `***`: `postgres://user:***@host/db`. A `password=` query
/// parameter is masked too. Paths and URLs without credentials are returned as they are.
pub fn redact_url(url: &str) -> String {
    recon_store::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_passwords_only() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(
            redact_url("postgres://u:p@ep-x.neon.tech/db?sslmode=require"),
            "postgres://u:***@ep-x.neon.tech/db?sslmode=require"
        );
        assert_eq!(redact_url("postgres://h/db?user=u&password=p"), "postgres://h/db?user=u&password=***");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("recon.sqlite"), "recon.sqlite");
    }

    #[test]
    fn grouped_inserts_thousands_separators() {
        assert_eq!(grouped("1234567.50"), "1,234,567.50");
        assert_eq!(grouped("-1000"), "-1,000");
        assert_eq!(grouped("999.99"), "999.99");
    }
}
