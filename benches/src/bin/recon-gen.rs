//! Writes a generated dataset as NEON and Odoo CSV files plus its ground truth as JSON.
//!
//! `cargo run --release -p recon-benches --bin recon-gen -- STATEMENTS OUT_DIR [SEED]`

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
    let data = recon_gen::generate(&recon_gen::Spec { statements, seed, days, ..recon_gen::Spec::default() });
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;
    let mut writer = csv::Writer::from_path(out.join("neon_statement_lines.csv"))?;
    writer.write_record(recon_gen::StatementRow::COLUMNS)?;
    for row in &data.statements {
        writer.write_record(row.values())?;
    }
    writer.flush()?;
    let mut writer = csv::Writer::from_path(out.join("odoo_move_lines.csv"))?;
    writer.write_record(recon_gen::MoveRow::COLUMNS)?;
    for row in &data.moves {
        writer.write_record(row.values())?;
    }
    writer.flush()?;
    let mut truth = std::fs::File::create(out.join("truth.json"))?;
    serde_json::to_writer(&mut truth, &data.truth)?;
    truth.flush()?;
    eprintln!(
        "wrote {} statement lines, {} Odoo lines, {} true pairs, {} defects to {}",
        data.statements.len(),
        data.moves.len(),
        data.truth.pairs.len(),
        data.truth.defects.len(),
        out.display()
    );
    Ok(())
}
