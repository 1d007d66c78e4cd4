//! Writes a generated dataset as NEON and Odoo CSV files plus its ground truth as JSON.
//!
//! `cargo run --release -p recon-benches --bin recon-gen -- STATEMENTS OUT_DIR [SEED]`

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::Path;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: recon-gen STATEMENTS OUT_DIR [SEED]";
    let statements: usize = args.next().ok_or(usage)?.replace('_', "").parse()?;
    let out = args.next().ok_or(usage)?;
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let days = u32::try_from((statements / 30_000).clamp(30, 365))?;
    let spec = recon_gen::Spec { statements, seed, days, ..recon_gen::Spec::default() };
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;
    let mut statement_writer = csv::Writer::from_path(out.join("neon_statement_lines.csv"))?;
    statement_writer.write_record(recon_gen::StatementRow::COLUMNS)?;
    let mut move_writer = csv::Writer::from_path(out.join("odoo_move_lines.csv"))?;
    move_writer.write_record(recon_gen::MoveRow::COLUMNS)?;
    // Written a part at a time: ten million statement lines held at once are tens of gigabytes.
    let (mut statement_count, mut move_count) = (0, 0);
    let (_, _, truth) = recon_gen::generate_in_parts(&spec, 100_000, |statements, moves| {
        statement_count += statements.len();
        move_count += moves.len();
        statements.iter().try_for_each(|row| statement_writer.write_record(row.values()))?;
        moves.iter().try_for_each(|row| move_writer.write_record(row.values()))
    })?;
    statement_writer.flush()?;
    move_writer.flush()?;
    let mut truth_file = std::io::BufWriter::new(std::fs::File::create(out.join("truth.json"))?);
    serde_json::to_writer(&mut truth_file, &truth)?;
    truth_file.flush()?;
    eprintln!(
        "wrote {statement_count} statement lines, {move_count} Odoo lines, {} true pairs, {} defects to {}",
        truth.pairs.len(),
        truth.defects.len(),
        out.display()
    );
    Ok(())
}
