//! Criterion benchmark of the matching core: statement lines per second, against about twice as many
//! Odoo bank lines (plus their counterpart lines), on generated data.

#![forbid(unsafe_code)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recon_core::matching::reconcile;
use recon_gen::{Spec, generate};

/// The allocator of the `recon` job, so the figure is the job's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("reconcile");
    group.sample_size(10);
    for statements in [100_000usize, 1_000_000] {
        let data = generate(&Spec { statements, seed: 1, days: 30, ..Spec::default() });
        let (statement_lines, move_lines) = data.typed();
        let config = data.match_config();
        group.throughput(Throughput::Elements(statement_lines.len() as u64));
        group.bench_function(format!("{statements}_statements_{}_odoo_lines", move_lines.len()), |b| {
            b.iter(|| reconcile(&statement_lines, &move_lines, &config))
        });
    }
    group.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);
