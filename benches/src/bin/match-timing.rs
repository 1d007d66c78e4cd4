//! Times each stage of the core on generated data, for the profile in BENCHMARKS.md.
//!
//! `cargo run --release -p recon-benches --bin match-timing -- STATEMENTS [RUNS]`
//!
//! With RUNS > 1 the reconcile stage is repeated (each run printed), so a profiler started with a
//! delay (`perf record -D`) sees only reconciling. Each run prints a digest of its outcome;
//! `MATCH_TIMING_NO_DIGEST=1` leaves the digest out (it prints `-`), for profiles.

#![forbid(unsafe_code)]

use std::time::Instant;

use recon_core::matching::reconcile;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let statements: usize = std::env::args().nth(1).unwrap_or_else(|| "100000".to_owned()).replace('_', "").parse()?;
    let runs: usize = std::env::args().nth(2).unwrap_or_else(|| "1".to_owned()).parse()?;
    let started = Instant::now();
    let data = recon_gen::generate(&recon_gen::Spec { statements, seed: 1, ..recon_gen::Spec::default() });
    let generated = started.elapsed();
    let started = Instant::now();
    let (statement_lines, move_lines) = data.typed();
    let parsed = started.elapsed();
    let config = data.match_config();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let outcome = reconcile(&statement_lines, &move_lines, &config);
        let matched = started.elapsed();
        let rate = statement_lines.len() as u128 * 1_000_000 / matched.as_micros().max(1);
        // A digest of the whole outcome, so a change meant to be only faster can show it changed
        // nothing; `MATCH_TIMING_NO_DIGEST` (any value) leaves it out, so a profile sees only the
        // reconcile, and prints `-` instead.
        let digest = match std::env::var_os("MATCH_TIMING_NO_DIGEST") {
            Some(_) => "-".to_owned(),
            None => {
                let mut hasher = std::hash::DefaultHasher::new();
                std::hash::Hash::hash(&serde_json::to_string(&outcome)?, &mut hasher);
                format!("{:016x}", std::hash::Hasher::finish(&hasher))
            }
        };
        println!(
            "statements {} odoo_lines {} generate {generated:?} parse {parsed:?} reconcile {matched:?} ({rate} statement lines/s) matches {} exceptions {} outcome {digest}",
            statement_lines.len(),
            move_lines.len(),
            outcome.matches.len(),
            outcome.exceptions.len(),
        );
    }
    Ok(())
}
