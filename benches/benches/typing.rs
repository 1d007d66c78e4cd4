//! Criterion benchmark of typing: generated NEON and Odoo rows as the text a CSV reader hands over (one
//! buffer a record, as `csv` holds them), typed by the core's parsers (amounts, currencies, dates and
//! instants, ids and texts). Rows per second on one thread; the job types a chunk's rows on every core.

#![forbid(unsafe_code)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use csv::StringRecord;
use recon_core::records::{MoveFields, MoveFormat, StatementFields, StatementFormat, parse_move, parse_statement};
use recon_core::time::DEFAULT_ZONE;
use recon_gen::{Spec, generate};

/// The allocator of the `recon` job, so the figure is the job's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn statement_fields(record: &StringRecord) -> StatementFields<'_> {
    let field = |index| record.get(index).unwrap_or_default();
    StatementFields {
        id: field(0),
        account: field(1),
        booked_at: field(2),
        value_date: field(3),
        amount: field(4),
        currency: field(5),
        reference: field(6),
        description: field(7),
        counterparty_name: field(8),
        counterparty_account: field(9),
    }
}

fn move_fields(record: &StringRecord) -> MoveFields<'_> {
    let field = |index| record.get(index).unwrap_or_default();
    MoveFields {
        id: field(0),
        move_name: field(1),
        date: field(2),
        journal_id: field(3),
        account_id: field(4),
        partner_id: field(5),
        name: field(6),
        reference: field(7),
        debit: field(8),
        credit: field(9),
        amount_currency: field(10),
        currency_id: field(11),
        parent_state: field(12),
    }
}

fn typing(c: &mut Criterion) {
    let data = generate(&Spec { statements: 100_000, seed: 1, days: 30, ..Spec::default() });
    let statements: Vec<StringRecord> =
        data.statements.iter().map(|row| StringRecord::from(&row.values()[..])).collect();
    let moves: Vec<StringRecord> = data.moves.iter().map(|row| StringRecord::from(&row.values()[..])).collect();
    drop(data);
    // Every generated row types, so the passes below time the typing, not its error path.
    let format = StatementFormat::default();
    assert!(statements.iter().all(|record| parse_statement(&statement_fields(record), &format, DEFAULT_ZONE).is_ok()));
    assert!(moves.iter().all(|record| parse_move(&move_fields(record), &MoveFormat::default()).is_ok()));
    let mut group = c.benchmark_group("typing");
    group.sample_size(20);
    group.throughput(Throughput::Elements(statements.len() as u64));
    group.bench_function(format!("{}_statement_rows", statements.len()), |b| {
        b.iter(|| {
            let typed = |record| black_box(parse_statement(&statement_fields(record), &format, DEFAULT_ZONE));
            statements.iter().filter(|record| typed(record).is_ok()).count()
        })
    });
    let format = MoveFormat::default();
    group.throughput(Throughput::Elements(moves.len() as u64));
    group.bench_function(format!("{}_odoo_rows", moves.len()), |b| {
        b.iter(|| moves.iter().filter(|record| black_box(parse_move(&move_fields(record), &format)).is_ok()).count())
    });
    group.finish();
}

criterion_group!(benches, typing);
criterion_main!(benches);
