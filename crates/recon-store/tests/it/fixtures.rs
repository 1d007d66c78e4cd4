//! Small builders for runs, matches and cases.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use recon_store::{
    CaseItemRef, CaseWrite, ItemRef, ItemSide, KpiRow, MatchReview, MatchWrite, QuarantineRow, RunHeader, RunInput,
    RunKpi, RunMode, RunScope, RunWrite,
};
use serde_json::json;

/// The accounts every default run covers.
pub const ACCOUNTS: [&str; 2] = ["ACC-1", "ACC-2"];

/// A business date in January 2025.
pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, d).expect("valid January date")
}

/// An instant on 1 February 2025 at `hour`:00 UTC.
pub fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 2, 1, hour, 0, 0).single().expect("valid instant")
}

/// A run header covering [`ACCOUNTS`] for all of January, finished at `at(hour)`.
pub fn header(run_id: &str, hour: u32) -> RunHeader {
    RunHeader {
        run_id: run_id.to_owned(),
        mode: RunMode::Nightly,
        operator: "scheduler".to_owned(),
        correlation_id: format!("corr-{run_id}"),
        scope: RunScope {
            accounts: ACCOUNTS.iter().map(|a| (*a).to_owned()).collect(),
            date_from: day(1),
            date_to: day(31),
        },
        inputs: vec![RunInput {
            name: "neon_statements".to_owned(),
            path: "in/neon.csv".to_owned(),
            blake3: "ab".repeat(32),
            rows: 3,
        }],
        config_blake3: "cd".repeat(32),
        started_at: at(hour) - chrono::Duration::minutes(5),
        finished_at: at(hour),
        timings: json!({"load_ms": 12, "match_ms": 30}),
    }
}

/// An empty run.
pub fn run(run_id: &str, hour: u32) -> RunWrite {
    RunWrite {
        header: header(run_id, hour),
        counts: json!({"statement_lines": 3, "moves": 4}),
        kpi: RunKpi {
            report: json!({"accounts": 2}),
            count_rate: "0.6667".to_owned(),
            amount_rate: "0.5000".to_owned(),
            threshold: "0.9500".to_owned(),
        },
        kpi_rows: Vec::new(),
        matches: Vec::new(),
        cases: Vec::new(),
        quarantine: Vec::new(),
    }
}

/// A statement item.
pub fn stmt(id: &str) -> ItemRef {
    ItemRef { side: ItemSide::Statement, item_id: id.to_owned() }
}

/// A journal item.
pub fn mv(id: &str) -> ItemRef {
    ItemRef { side: ItemSide::Move, item_id: id.to_owned() }
}

/// An auto match of `items` on ACC-1.
pub fn matched(match_id: &str, date: NaiveDate, items: Vec<ItemRef>) -> MatchWrite {
    MatchWrite {
        match_id: match_id.to_owned(),
        rule: "exact_reference".to_owned(),
        review: MatchReview::Auto,
        account: "ACC-1".to_owned(),
        business_date: date,
        amount: "1234.50".to_owned(),
        currency: "MXN".to_owned(),
        reference_kind: Some("invoice".to_owned()),
        reference: Some(format!("INV/{match_id}")),
        date_delta_banking_days: 1,
        explanation: json!({"rule": "exact_reference", "score": "1.0"}).into(),
        items,
    }
}

/// An open case on ACC-1 about `items`.
pub fn case(case_id: &str, kind: &str, date: NaiveDate, items: Vec<ItemRef>) -> CaseWrite {
    CaseWrite {
        case_id: case_id.to_owned(),
        kind: kind.to_owned(),
        account: "ACC-1".to_owned(),
        business_date: date,
        amount: Some("99.90".to_owned()),
        currency: Some("MXN".to_owned()),
        summary: format!("{kind} {case_id}"),
        evidence: json!({"candidates": []}).into(),
        external_ids: json!({"neon_ids": items.iter().map(|i| i.item_id.clone()).collect::<Vec<_>>()}).into(),
        items: items
            .into_iter()
            .map(|item| CaseItemRef {
                side: item.side,
                fingerprint: Some(format!("fp-{}", item.item_id)),
                item_id: item.item_id,
            })
            .collect(),
    }
}

/// A KPI row.
pub fn kpi(account: &str, date: NaiveDate, matched_lines: u64) -> KpiRow {
    KpiRow {
        account: account.to_owned(),
        business_date: date,
        statement_lines: 3,
        matched_lines,
        statement_amount: "3000.00".to_owned(),
        matched_amount: "1234.50".to_owned(),
        currency: "MXN".to_owned(),
    }
}

/// The first night: a 1:1 match, an N:1 settlement, two cases, KPI and one quarantined row.
pub fn night_one(run_id: &str, hour: u32) -> RunWrite {
    let mut night = run(run_id, hour);
    night.kpi_rows = vec![kpi("ACC-1", day(10), 2), kpi("ACC-2", day(10), 0)];
    night.matches = vec![
        matched("M1", day(10), vec![stmt("S1"), mv("L1")]),
        matched("M2", day(10), vec![stmt("S2"), mv("L2"), mv("L3")]),
    ];
    night.cases = vec![
        case("C1", "unmatched_statement", day(10), vec![stmt("S3")]),
        case("C2", "unmatched_move", day(11), vec![mv("L9")]),
    ];
    night.quarantine = vec![QuarantineRow {
        source: "neon".to_owned(),
        file: "in/neon.csv".to_owned(),
        line: 7,
        column_name: Some("amount".to_owned()),
        value: Some("12,3x".to_owned()),
        reason: "not a decimal".to_owned(),
        raw: "7;ACC-1;12,3x".to_owned(),
    }];
    night
}
