//! Reaching a database: URL parsing that suits Neon, and one connection per read.

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres};

use crate::Error;
use crate::retry::RetryPolicy;

/// The `application_name` of connections made from a URL, unless the URL names
/// one; it shows in `pg_stat_activity`.
pub const DEFAULT_APPLICATION_NAME: &str = "recon";

/// How long one connection attempt may take before it counts as a (transient)
/// failure. A Neon compute waking from suspension usually answers within a few
/// seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one statement may run before it counts as a (transient) failure and
/// its connection is dropped: a connection that went silent (a suspended compute,
/// a half-open TCP connection) must not stall a batch job. A page of 10 000 rows
/// takes well under a second.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// Connection options for `url`, made safe for Neon:
///
/// - `channel_binding=…` is removed before parsing (with a debug log): sqlx
///   authenticates with SCRAM-SHA-256 without channel binding and would only warn
///   about the parameter. The connection is still protected by TLS when the URL
///   says `sslmode=require` (encrypted) or `sslmode=verify-full` (encrypted, and
///   the server's certificate and host name are checked against the web PKI roots
///   plus any `sslrootcert`).
/// - `extra_float_digits` is not sent at startup: Neon's pooled endpoint
///   (PgBouncer) may refuse unknown startup parameters, and recon never reads
///   floating-point columns (every value is read as text).
/// - `application_name` defaults to [`DEFAULT_APPLICATION_NAME`].
///
/// The statement cache is left as sqlx sets it: this crate marks every query
/// `.persistent(false)`, so it only ever uses the unnamed prepared statement,
/// which does not outlive its transaction — safe on PgBouncer in transaction mode.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, Error> {
    let cleaned = strip_query_parameter(url, "channel_binding");
    if cleaned.len() != url.len() {
        tracing::debug!(url = %redact(url), "ignoring channel_binding: sqlx does not support SCRAM channel binding");
    }
    let options = PgConnectOptions::from_str(&cleaned)
        .map_err(|source| Error::InvalidUrl { url: redact(url), source })?
        .extra_float_digits(None);
    let has_application_name = options.get_application_name().is_some();
    Ok(if has_application_name { options } else { options.application_name(DEFAULT_APPLICATION_NAME) })
}

/// A PostgreSQL database to read from, with the policy for transient failures.
///
/// Made from a URL (or options), each read opens one dedicated connection, keeps
/// it for all its pages and closes it at the end; made from a pool, each read
/// holds one pooled connection for its duration. Either way, a connection that
/// fails with a transient error is dropped and a new one is made on the next
/// attempt.
#[derive(Debug, Clone)]
pub struct Database {
    target: Target,
    description: String,
    retry: RetryPolicy,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

#[derive(Debug, Clone)]
enum Target {
    Options(Box<PgConnectOptions>),
    Pool(PgPool),
}

impl Database {
    /// The database at `url` (see [`connect_options`]); nothing is connected yet.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        connect_options(url).map(Self::from_options)
    }

    /// The database reached with `options` (used as given).
    pub fn from_options(options: PgConnectOptions) -> Self {
        let description = describe(&options);
        Self {
            target: Target::Options(Box::new(options)),
            description,
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// The database of an existing pool. The pool's own acquire timeout bounds
    /// each connection attempt; a timeout counts as transient.
    pub fn from_pool(pool: PgPool) -> Self {
        let description = describe(&pool.connect_options());
        Self {
            target: Target::Pool(pool),
            description,
            retry: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// This database with another retry policy (default: [`RetryPolicy::default`]).
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// This database with another bound on one connection attempt (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]); not used for a pool.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// This database with another bound on one statement (default
    /// [`DEFAULT_STATEMENT_TIMEOUT`]). The bound is kept by the client, not set on
    /// the server (`SET statement_timeout` would be session state, which Neon's
    /// pooled endpoint does not keep).
    #[must_use]
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// The bound on one statement.
    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    /// This database with connections named `application_name` (shown in
    /// `pg_stat_activity`); no effect on a pool, whose options are its own.
    #[must_use]
    pub fn with_application_name(mut self, application_name: &str) -> Self {
        if let Target::Options(options) = &mut self.target {
            **options = options.as_ref().clone().application_name(application_name);
        }
        self
    }

    /// The redacted description used in messages and provenance:
    /// `postgres://host/database` (with `:port` when it is not 5432); never the user
    /// or password.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The retry policy for transient failures.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// A session that connects on first use.
    pub(crate) fn session(&self) -> Session<'_> {
        Session { database: self, held: None, retries: 0 }
    }
}

impl From<PgPool> for Database {
    fn from(pool: PgPool) -> Self {
        Self::from_pool(pool)
    }
}

/// One connection, opened on first use, re-opened after a transient failure.
pub(crate) struct Session<'a> {
    database: &'a Database,
    held: Option<Held>,
    retries: u64,
}

enum Held {
    Owned(PgConnection),
    Pooled(PoolConnection<Postgres>),
}

impl Session<'_> {
    /// The database this session reads.
    pub(crate) fn database(&self) -> &Database {
        self.database
    }

    /// Attempts beyond the first made by this session's statements so far. A
    /// statement that failed after retries does not count: its error says how many
    /// attempts it made.
    pub(crate) fn retries(&self) -> u64 {
        self.retries
    }

    /// Records `retries` more attempts beyond the first.
    pub(crate) fn add_retries(&mut self, retries: u32) {
        self.retries += u64::from(retries);
    }

    /// The session's connection, connecting first if there is none.
    pub(crate) async fn connection(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        let held = match self.held.take() {
            Some(held) => held,
            None => self.connect().await?,
        };
        Ok(match self.held.insert(held) {
            Held::Owned(connection) => connection,
            Held::Pooled(connection) => connection,
        })
    }

    async fn connect(&self) -> Result<Held, sqlx::Error> {
        match &self.database.target {
            Target::Options(options) => {
                let timeout = self.database.connect_timeout;
                match tokio::time::timeout(timeout, options.connect()).await {
                    Ok(connection) => connection.map(Held::Owned),
                    Err(_elapsed) => Err(timed_out("no connection", timeout)),
                }
            }
            Target::Pool(pool) => pool.acquire().await.map(Held::Pooled),
        }
    }

    /// Drops the connection after a transient failure, so the next attempt makes a
    /// new one; a pooled connection is closed rather than returned to the pool.
    pub(crate) fn discard(&mut self) {
        match self.held.take() {
            Some(Held::Pooled(mut connection)) => connection.close_on_drop(),
            Some(Held::Owned(connection)) => drop(connection),
            None => {}
        }
    }

    /// Closes (or returns to its pool) the connection, if any.
    pub(crate) async fn close(mut self) {
        match self.held.take() {
            Some(Held::Owned(connection)) => {
                if let Err(error) = connection.close().await {
                    tracing::debug!(%error, database = self.database.description, "closing the connection failed");
                }
            }
            Some(Held::Pooled(connection)) => drop(connection),
            None => {}
        }
    }
}

/// The error of an operation that took longer than `timeout`: an I/O time-out,
/// which [`crate::retry::is_transient`] retries.
pub(crate) fn timed_out(what: &str, timeout: Duration) -> sqlx::Error {
    let message = format!("{what} within {} ms", timeout.as_millis());
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, message))
}

/// `postgres://host[:port]/database`, or `postgres://[socket]/database`.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => format!("[{}]", socket.display()),
        None if options.get_port() == 5432 => options.get_host().to_owned(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!("postgres://{host}/{}", options.get_database().unwrap_or_default())
}

/// `url` without the query parameter `key` (every occurrence).
fn strip_query_parameter(url: &str, key: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> =
        query.split('&').filter(|pair| pair.split_once('=').map_or(*pair, |(name, _)| name) != key).collect();
    if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) }
}

/// A connection URL with its password hidden (one implementation for the whole project: the store's).
pub(crate) fn redact(url: &str) -> String {
    recon_store::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgSslMode;

    const NEON: &str = "postgresql://alex:AbC123dEf@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/dbname\
                        ?sslmode=require&channel_binding=require";

    #[test]
    fn a_neon_url_with_channel_binding_parses() {
        let options = connect_options(NEON).unwrap();
        assert!(matches!(options.get_ssl_mode(), PgSslMode::Require));
        assert_eq!(options.get_host(), "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech");
        assert_eq!(options.get_database(), Some("dbname"));
        assert_eq!(options.get_application_name(), Some(DEFAULT_APPLICATION_NAME));
        let database = Database::from_options(options);
        assert_eq!(database.description(), "postgres://ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/dbname");
    }

    #[test]
    fn verify_full_and_application_name_are_kept() {
        let url =
            "postgres://u@db.example.com:6543/app?channel_binding=require&sslmode=verify-full&application_name=etl";
        let options = connect_options(url).unwrap();
        assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyFull));
        assert_eq!(options.get_application_name(), Some("etl"));
        assert_eq!(describe(&options), "postgres://db.example.com:6543/app");
    }

    #[test]
    fn channel_binding_is_stripped_wherever_it_is() {
        assert_eq!(
            strip_query_parameter("postgres://h/d?channel_binding=require", "channel_binding"),
            "postgres://h/d"
        );
        assert_eq!(
            strip_query_parameter("postgres://h/d?a=1&channel_binding=prefer&b=2", "channel_binding"),
            "postgres://h/d?a=1&b=2"
        );
        assert_eq!(strip_query_parameter("postgres://h/d", "channel_binding"), "postgres://h/d");
    }

    #[test]
    fn bad_urls_are_refused_without_the_password() {
        let error = connect_options("postgres://u:secret@h/d?sslmode=sometimes").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::InvalidUrl { .. }), "{message}");
        assert!(!message.contains("secret") && message.contains("u:***@h"), "{message}");
    }
}
