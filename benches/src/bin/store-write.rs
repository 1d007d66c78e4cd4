//! Times `Store::write_run` of a synthetic run shaped like a nightly run of a million
//! statement lines, into a fresh SQLite store, then the same matches again under a new run
//! id (the "same night again" case: every match kept). For BENCHMARKS.md.
//!
//! `cargo run --release -p recon-benches --bin store-write -- MATCHES PATH` (PATH must not exist)

#![forbid(unsafe_code)]

use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use recon_store::{
    CaseItemRef, CaseWrite, ItemRef, ItemSide, JsonText, KpiRow, MatchReview, MatchWrite, RunHeader, RunInput, RunKpi,
    RunMode, RunScope, RunWrite, Store,
};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Accounts of the synthetic run.
const ACCOUNTS: usize = 40;
/// Business days covered (January 2025).
const DAYS: u32 = 31;

/// A small deterministic generator (SplitMix64): the run is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, d).expect("a January date")
}

fn at(day_of_month: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 2, day_of_month, hour, 0, 0).single().expect("a valid instant")
}

fn account(index: u64) -> String {
    format!("0123456789{index:02}")
}

fn header(run_id: &str, finished: DateTime<Utc>) -> RunHeader {
    RunHeader {
        run_id: run_id.to_owned(),
        mode: RunMode::Nightly,
        operator: "scheduler".to_owned(),
        correlation_id: format!("corr-{run_id}"),
        scope: RunScope {
            accounts: (0..ACCOUNTS as u64).map(account).collect(),
            date_from: day(1),
            date_to: day(DAYS),
        },
        inputs: vec![RunInput {
            name: "neon_statements".to_owned(),
            path: "in/neon.csv".to_owned(),
            blake3: "ab".repeat(32),
            rows: 1_000_000,
        }],
        config_blake3: "cd".repeat(32),
        started_at: finished - chrono::Duration::minutes(5),
        finished_at: finished,
        timings: json!({"load_ms": 12_000, "match_ms": 30_000}),
    }
}

/// An amount in minor units as a decimal string.
fn decimal(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn matches(n: usize, rng: &mut Rng) -> Vec<MatchWrite> {
    let mut next_move = 10_000_u64;
    (0..n)
        .map(|i| {
            let match_id = format!("M-{:016x}{:04x}", rng.next(), rng.below(0x1_0000));
            let minor = 1_000 + rng.below(5_000_000);
            let amount = decimal(minor);
            // 91% one statement line + one journal item, the rest settlements of 2-6 journal items:
            // 2.27 items per match, as in the real run.
            let settlement = rng.below(100) >= 91;
            let moves = if settlement { 2 + rng.below(5) } else { 1 };
            let mut items = vec![ItemRef { side: ItemSide::Statement, item_id: format!("stl-{:08}", i) }];
            for _ in 0..moves {
                next_move += 1 + rng.below(3);
                items.push(ItemRef {
                    side: ItemSide::Move,
                    item_id: format!("__export__.account_move_line_{next_move}_{:08x}", rng.next() & 0xFFFF_FFFF),
                });
            }
            let reference = format!("{}", 100_000 + rng.below(900_000));
            let (rule, kind) = if settlement {
                ("settlement_reference", "settlement_batch")
            } else {
                ("reference_amount", "referencia_numerica")
            };
            // The job's stored form (`"v": 3`): the row's columns hold rule, reference, amount and
            // delta, and the sentence is written from them when read.
            let explanation = JsonText::from(json!({ "v": 3 }));
            MatchWrite {
                match_id,
                rule: rule.to_owned(),
                review: MatchReview::Auto,
                account: account(rng.below(ACCOUNTS as u64)),
                business_date: day(1 + u32::try_from(rng.below(u64::from(DAYS))).expect("below DAYS")),
                amount,
                currency: "MXN".to_owned(),
                reference_kind: Some(kind.to_owned()),
                reference: Some(reference),
                date_delta_banking_days: 0,
                explanation,
                items,
            }
        })
        .collect()
}

fn cases(n: usize, rng: &mut Rng) -> Vec<CaseWrite> {
    (0..n)
        .map(|i| {
            let item_id = format!("stl-9{:07}", i);
            let minor = 1_000 + rng.below(5_000_000);
            let case_id = format!("C-{:016x}{:04x}", rng.next(), rng.below(0x1_0000));
            CaseWrite {
                case_id: case_id.clone(),
                kind: "unmatched_statement".to_owned(),
                account: account(rng.below(ACCOUNTS as u64)),
                business_date: day(1 + u32::try_from(rng.below(u64::from(DAYS))).expect("below DAYS")),
                amount: Some(decimal(minor)),
                currency: Some("MXN".to_owned()),
                summary: format!("statement line {item_id} of {} MXN has no journal item", decimal(minor)),
                evidence: json!({
                    "case_id": case_id,
                    "kind": "unmatched_statement",
                    "amount": {"amount_minor": minor, "currency": "MXN"},
                    "items": [{"side": "statement", "id": item_id}],
                    "candidates": [],
                    "summary": "no journal item with this amount or reference within 3 banking days",
                })
                .into(),
                external_ids: json!({"neon_ids": [item_id], "odoo_move_names": [], "references": []}).into(),
                items: vec![CaseItemRef {
                    side: ItemSide::Statement,
                    item_id: item_id.clone(),
                    fingerprint: Some(format!("{:016x}", rng.next())),
                }],
            }
        })
        .collect()
}

fn kpi_rows() -> Vec<KpiRow> {
    (0..ACCOUNTS as u64)
        .flat_map(|a| {
            (1..=DAYS).map(move |d| KpiRow {
                account: account(a),
                business_date: day(d),
                statement_lines: 800,
                matched_lines: 780,
                statement_amount: "1234567.89".to_owned(),
                matched_amount: "1200000.00".to_owned(),
                currency: "MXN".to_owned(),
            })
        })
        .collect()
}

fn run(run_id: &str, finished: DateTime<Utc>, matches: Vec<MatchWrite>, cases: Vec<CaseWrite>) -> RunWrite {
    RunWrite {
        header: header(run_id, finished),
        counts: json!({"statement_lines": 1_000_000}),
        kpi: RunKpi {
            report: json!({"accounts": ACCOUNTS}),
            count_rate: "0.9731".to_owned(),
            amount_rate: "0.9650".to_owned(),
            threshold: "0.9500".to_owned(),
        },
        kpi_rows: kpi_rows(),
        matches,
        cases,
        quarantine: Vec::new(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().unwrap_or_else(|| "100000".to_owned()).replace('_', "").parse()?;
    let path = args.next().ok_or("usage: store-write MATCHES PATH")?;
    if std::path::Path::new(&path).exists() {
        return Err(format!("{path} exists; give a path for a fresh store").into());
    }
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let mut rng = Rng(1);
    let started = Instant::now();
    let matches = matches(n, &mut rng);
    let cases = cases(n * 36 / 1000, &mut rng);
    let items: usize = matches.iter().map(|m| m.items.len()).sum();
    let first = run("run-1", at(1, 2), matches, cases);
    println!("generated {n} matches ({items} items), {} cases in {:?}", first.cases.len(), started.elapsed());

    let store = Store::open(&path).await?;
    let started = Instant::now();
    let summary = store.write_run(&first).await?;
    println!("first write_run (empty store): {:.2} s  {summary:?}", started.elapsed().as_secs_f64());

    let second = run("run-2", at(2, 2), first.matches, first.cases);
    let started = Instant::now();
    let summary = store.write_run(&second).await?;
    println!("second write_run (same night again): {:.2} s  {summary:?}", started.elapsed().as_secs_f64());
    store.close().await;
    let size = std::fs::metadata(&path)?.len();
    println!("store file {} MiB", size / (1024 * 1024));
    Ok(())
}
