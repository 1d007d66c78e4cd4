//! The one error type of this crate.

use std::fmt;

/// Everything that can go wrong while reading a PostgreSQL source.
///
/// Variants about a database name it by its redacted description
/// (`postgres://host/db`, never the user or password); variants about a
/// statement say what was being done, how many attempts were made and, when the
/// server answered with one, the SQLSTATE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection URL could not be understood.
    #[error("invalid PostgreSQL URL {url}: {source}")]
    InvalidUrl {
        /// The URL with any password replaced by `***`.
        url: String,
        /// The driver's complaint.
        #[source]
        source: sqlx::Error,
    },

    /// A table or column name from the configuration is not a plain identifier
    /// (`^[A-Za-z_][A-Za-z0-9_]{0,62}$`, a table optionally qualified by a schema
    /// as `schema.table`). Names are never spliced into SQL unchecked.
    #[error("{what} {value:?} is not a valid SQL identifier: {reason}")]
    InvalidIdentifier {
        /// What the name was for, e.g. `NEON table` or `column for field amount`.
        what: String,
        /// The name as configured.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Some other configuration value is unusable (an empty date range, a batch
    /// size out of bounds, no bank account codes, a bad column layout).
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// The setting, e.g. `batch_rows`.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A statement (or the connection for it) failed: at once when the error is
    /// not transient, or after the retry policy's last attempt when it is (see
    /// [`crate::retry::is_transient`]).
    #[error("{operation}: {}: {source}", Outcome { attempts: *attempts, sqlstate: sqlstate.as_deref(), transient: *transient })]
    Database {
        /// What was being done, naming the database and table, e.g.
        /// `read "bank_statement_lines" from postgres://host/db, rows after id 41`.
        operation: String,
        /// How many attempts were made (1 when the error was not transient).
        attempts: u32,
        /// The server's SQLSTATE (e.g. `57P01`), when the server answered.
        sqlstate: Option<String>,
        /// Whether the error was transient (retried until the attempts ran out).
        transient: bool,
        /// The driver's error of the last attempt.
        #[source]
        source: sqlx::Error,
    },

    /// The configured NEON table is not visible to the connection's role.
    #[error(
        "{database}: table {table} does not exist (or is not visible on the search path){}",
        similar_suffix(similar)
    )]
    TableNotFound {
        /// The database's description.
        database: String,
        /// The table as configured.
        table: String,
        /// Existing tables with similar names (at most 5).
        similar: Vec<String>,
    },

    /// Columns the configuration maps are not in the NEON table, or the key column
    /// has the wrong type.
    #[error("{database}: table {table}: {}; the table has columns {existing:?}", problems.join("; "))]
    TableColumns {
        /// The database's description.
        database: String,
        /// The table as configured.
        table: String,
        /// One sentence per problem, naming the field and the column.
        problems: Vec<String>,
        /// The table's columns, in table order.
        existing: Vec<String>,
    },

    /// The database does not look like an Odoo database recon can read: a table
    /// or column it needs is missing.
    #[error("{database}: not a supported Odoo schema: {reason}")]
    OdooSchema {
        /// The database's description.
        database: String,
        /// What is missing.
        reason: String,
    },

    /// Mapped journals or bank GL accounts do not exist in the Odoo company.
    #[error("{database}: Odoo company {company_id}: {}", odoo_config_message(missing_journals, missing_accounts))]
    OdooConfig {
        /// The database's description.
        database: String,
        /// The `res_company` id the mapping was checked against.
        company_id: i64,
        /// Mapped journals (by code or name) that do not exist.
        missing_journals: Vec<Missing>,
        /// Mapped bank GL account codes that do not exist.
        missing_accounts: Vec<Missing>,
    },

    /// A row holds a value recon cannot use, e.g. a negative id (ids become
    /// provenance line numbers).
    #[error("{source_name}: column {column}: value {value:?}: {reason}")]
    InvalidValue {
        /// The database and table: `postgres://host/db#table`.
        source_name: String,
        /// The column.
        column: String,
        /// The offending value.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// A configured name that was not found, and the existing names that look like it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The name as configured.
    pub wanted: String,
    /// Existing names that look like it (at most 5, most similar first), e.g.
    /// `BNK1 Bancos STP` for a journal (code and name), `102.01.01 Bancos STP` for an
    /// account (code and name).
    pub similar: Vec<String>,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}{}", self.wanted, similar_suffix(&self.similar))
    }
}

struct Outcome<'a> {
    attempts: u32,
    sqlstate: Option<&'a str>,
    transient: bool,
}

impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        if self.transient {
            write!(f, "gave up after {} attempt{plural} (transient error)", self.attempts)?;
        } else {
            write!(f, "failed after {} attempt{plural} (not retried: not transient)", self.attempts)?;
        }
        match self.sqlstate {
            Some(code) => write!(f, ", SQLSTATE {code}"),
            None => Ok(()),
        }
    }
}

fn similar_suffix(similar: &[String]) -> String {
    if similar.is_empty() { String::new() } else { format!(" (similar: {})", similar.join(", ")) }
}

fn odoo_config_message(journals: &[Missing], accounts: &[Missing]) -> String {
    let list = |items: &[Missing]| items.iter().map(Missing::to_string).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !journals.is_empty() {
        parts.push(format!("missing journals: {}", list(journals)));
    }
    if !accounts.is_empty() {
        parts.push(format!("missing bank GL accounts: {}", list(accounts)));
    }
    parts.join("; ")
}
