//! PostgreSQL sources for recon: NEON bank statement lines and Odoo journal items
//! read straight from their databases, as the same raw records
//! ([`RawStatementLine`], [`RawMoveLine`]) that `recon-io` reads from CSV exports.
//!
//! ```no_run
//! # async fn example() -> Result<(), recon_postgres::Error> {
//! use chrono::NaiveDate;
//! use recon_postgres::{Database, NeonSource, OdooSource, read_odoo_moves, read_statements};
//!
//! let march = (NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
//! let neon = Database::from_url("postgres://recon:secret@ep-x.us-east-2.aws.neon.tech/bank?sslmode=require")?;
//! let statement_lines = read_statements(&neon, &NeonSource::new(march.0, march.1)).await?;
//!
//! let odoo = Database::from_url("postgres://recon_ro@odoo-db/production?sslmode=verify-full")?;
//! let moves = read_odoo_moves(&odoo, &OdooSource {
//!     company_id: 1,
//!     journals: vec!["BNK1".into()],
//!     bank_account_codes: vec!["102.01.01".into()],
//!     date_from: march.0,
//!     date_to: march.1,
//!     language: "es_MX".into(),
//!     batch_rows: 10_000,
//! })
//! .await?;
//! println!("{} statement lines, {} posted journal items, {} draft left out",
//!     statement_lines.len(), moves.lines.len(), moves.draft_lines);
//! # Ok(())
//! # }
//! ```
//!
//! # How reads behave
//!
//! - **Bounded memory, no OFFSET.** Rows are read in pages by keyset
//!   (`WHERE id > $last ORDER BY id LIMIT $batch`), each page one short statement;
//!   the streaming variant ([`for_each_statement_page`]) holds one page at a time.
//! - **Text, never floats.** Every column is cast to text in SQL: `numeric`
//!   amounts keep their exact digits, dates read `YYYY-MM-DD`, NULL reads `""`.
//! - **Names from configuration are validated identifiers** ([`TableName`],
//!   [`Identifier`]), always quoted; values are bound parameters.
//! - **Safe on Neon's pooled endpoint.** No session state is set, and every
//!   statement uses the unnamed prepared statement (`.persistent(false)`) inside a
//!   short read transaction of its own: sqlx sends the Parse and the Bind/Execute of
//!   an unnamed statement in two round trips, and PgBouncer in transaction mode only
//!   keeps the same server connection for both within a transaction. See
//!   [`connect_options`] for the URL handling (`sslmode`, `channel_binding`).
//! - **Bounded memory for both sources**: [`for_each_statement_page`] and
//!   [`for_each_odoo_page`] hand over one page at a time.
//! - **Transient failures are retried** with exponential backoff and a bound
//!   ([`retry`]); a retried page resumes after the last id delivered, so every
//!   row is delivered exactly once.

#![forbid(unsafe_code)]

mod connect;
mod error;
mod ident;
mod keyset;
mod neon;
mod odoo;
pub mod retry;
mod similar;

pub use connect::{
    DEFAULT_APPLICATION_NAME, DEFAULT_CONNECT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Database, connect_options,
};
pub use error::{Error, Missing};
pub use ident::{Identifier, TableName};
pub use keyset::{DEFAULT_BATCH_ROWS, ReadSummary};
pub use neon::{
    DATE_MARGIN_DAYS, DEFAULT_TABLE, NeonSource, check_neon_table, for_each_statement_page, read_statements,
};
pub use odoo::{
    DEFAULT_LANGUAGE, OdooFlavour, OdooMoves, OdooReadSummary, OdooSource, check_odoo_config, detect_odoo_flavour,
    for_each_odoo_page, read_odoo_moves,
};
#[doc(no_inline)]
pub use recon_io::{RawMoveLine, RawStatementLine};
