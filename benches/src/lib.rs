//! Shared pieces of recon's benchmarks: turning generated rows into typed records.

use recon_core::matching::{MatchConfig, MoveLine, StatementLine};
use recon_core::records::{MoveFormat, StatementFormat, parse_move, parse_statement};
use recon_core::time::DEFAULT_ZONE;
use recon_gen::Dataset;

/// Types generated rows with the core's parsers (the generator only writes valid rows).
pub fn typed(data: &Dataset) -> (Vec<StatementLine>, Vec<MoveLine>) {
    let statements = data
        .statements
        .iter()
        .map(|row| {
            parse_statement(&row.fields(), &StatementFormat::default(), DEFAULT_ZONE).expect("generated rows are valid")
        })
        .collect();
    let moves = data
        .moves
        .iter()
        .map(|row| parse_move(&row.fields(), &MoveFormat::default()).expect("generated rows are valid"))
        .collect();
    (statements, moves)
}

/// The matching configuration for generated data.
pub fn config(data: &Dataset) -> MatchConfig {
    let mut config = MatchConfig::new(data.accounts.clone());
    config.settlement = data.settlement.clone();
    config
}
