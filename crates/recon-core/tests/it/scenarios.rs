//! Matching scenarios as data: each file under `testdata/matching/` holds NEON rows, Odoo rows and the
//! expected matches and exceptions. `RECON_UPDATE_EXPECT=1` rewrites the expected section.
//!
//! File layout, sections introduced by `--- name`:
//! - `--- statements`: CSV with NEON's header;
//! - `--- moves`: CSV with Odoo's export header;
//! - `--- expected`: one line per match (`match RULE REVIEW STATEMENT <- MOVE [MOVE...]`) and per
//!   exception (`exception KIND ITEM [ITEM...]`), then the KPI line.
//!
//! Lines before the first section are a free-text description.

use recon_core::matching::{MatchConfig, Outcome, Review, reconcile};
use recon_core::records::{MoveFields, MoveFormat, StatementFields, StatementFormat, parse_move, parse_statement};
use recon_core::time::DEFAULT_ZONE;

use crate::data::testdata;

fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let marker = format!("--- {name}\n");
    let start = text.find(&marker).unwrap_or_else(|| panic!("no section {name}")) + marker.len();
    let end = text[start..].find("\n--- ").map_or(text.len(), |i| start + i + 1);
    &text[start..end]
}

fn records(text: &str) -> Vec<csv::StringRecord> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap()).collect()
}

fn render(outcome: &Outcome) -> String {
    let mut lines = Vec::new();
    for m in &outcome.matches {
        let review = if m.review == Review::Auto { "auto" } else { "needs_review" };
        lines.push(format!(
            "match {} {review} {} <- {}",
            m.explanation.rule.as_str(),
            m.statement_id,
            m.move_line_ids.join(" ")
        ));
        lines.push(format!("  why: {}", m.summary()));
    }
    for e in &outcome.exceptions {
        let items: Vec<&str> = e.items.iter().map(|i| i.id.as_str()).collect();
        lines.push(format!("exception {} {}", e.kind.as_str(), items.join(" ")));
        lines.push(format!("  why: {}", e.summary));
    }
    let overall = &outcome.kpi.overall;
    lines.push(format!(
        "kpi {} of {} statement lines, count rate {}, below threshold {}",
        overall.matched_lines,
        overall.statement_lines,
        overall.count_rate.map_or("-".to_owned(), |r| r.to_string()),
        outcome.kpi.below_threshold
    ));
    lines.join("\n") + "\n"
}

fn run_scenario(text: &str) -> String {
    let statements: Vec<_> = records(section(text, "statements"))
        .iter()
        .map(|r| {
            let fields = StatementFields {
                id: &r[0],
                account: &r[1],
                booked_at: &r[2],
                value_date: &r[3],
                amount: &r[4],
                currency: &r[5],
                reference: &r[6],
                description: &r[7],
                counterparty_name: &r[8],
                counterparty_account: &r[9],
            };
            parse_statement(&fields, &StatementFormat::default(), DEFAULT_ZONE).unwrap()
        })
        .collect();
    let moves: Vec<_> = records(section(text, "moves"))
        .iter()
        .map(|r| {
            let fields = MoveFields {
                id: &r[0],
                move_name: &r[1],
                date: &r[2],
                journal_id: &r[3],
                account_id: &r[4],
                partner_id: &r[5],
                name: &r[6],
                reference: &r[7],
                debit: &r[8],
                credit: &r[9],
                amount_currency: &r[10],
                currency_id: &r[11],
                parent_state: &r[12],
            };
            parse_move(&fields, &MoveFormat::default()).unwrap()
        })
        .collect();
    let mut config = MatchConfig::new(recon_gen::accounts());
    config.settlement.fee_schedules = vec![recon_gen::oxxo_fees()];
    render(&reconcile(&statements, &moves, &config))
}

#[test]
fn matching_scenarios() {
    let directory = testdata("matching");
    let mut entries: Vec<_> = std::fs::read_dir(&directory).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    let update = std::env::var_os("RECON_UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "txt")) {
        let text = std::fs::read_to_string(path).unwrap();
        let actual = run_scenario(&text);
        let marker = "--- expected\n";
        let expected = text.find(marker).map(|i| &text[i + marker.len()..]).unwrap_or("");
        if update {
            let head = text.find(marker).map_or(text.as_str(), |i| &text[..i]);
            std::fs::write(path, format!("{}{marker}{actual}", head.trim_end_matches('\n').to_owned() + "\n")).unwrap();
        } else if expected != actual {
            failures.push(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()));
        }
    }
    assert!(!entries.is_empty());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
