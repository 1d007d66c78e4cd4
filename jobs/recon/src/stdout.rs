//! Standard output without panics. `print!` panics when stdout fails (a full disk, an I/O
//! error), and a panic after a store commit would turn a command that did its work into exit
//! 101. Every command writes its output through here instead.

use std::io::{ErrorKind, Write};

use anyhow::{Context, Result};

/// Writes `text` to standard output and flushes it. A reader that went away (`recon cases list |
/// head`: a broken pipe) is not an error, since it read all it wanted; any other failure is.
pub fn write(text: &str) -> Result<()> {
    match write_flushed(text) {
        Err(error) if error.kind() != ErrorKind::BrokenPipe => Err(error).context("writing to standard output"),
        _ => Ok(()),
    }
}

/// Writes what an operator must see before a command commits anything (a manual run's preview):
/// a reader that went away is an error too, so that `recon manual apply ... | head` stores nothing
/// the operator did not see.
pub fn write_before_commit(text: &str) -> Result<()> {
    write_flushed(text).context("writing the preview to standard output")
}

/// `text` on standard output, flushed.
fn write_flushed(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Writes what a command prints once its work is done and kept (a committed run or manual run, a
/// closed case, a written file, a KPI whose verdict is the exit code). Failing to print does not
/// undo the work or change the command's exit code, which cron and alerts read: the failure is
/// logged as an error saying what is `done` and where to read it (`where_to_read`), and the
/// command goes on.
pub fn write_done(text: &str, done: &str, where_to_read: &str) {
    if let Err(error) = write(text) {
        tracing::error!(
            error = format!("{error:#}"),
            "{done}, but the output could not be written to stdout; {where_to_read}"
        );
    }
}
