//! Bounded retries with exponential backoff for transient PostgreSQL errors.
//!
//! Neon computes suspend when idle: the first connection after that can take
//! seconds or be refused, and open connections are closed with `57P01
//! terminating connection due to administrator command`. Such errors are worth
//! retrying; a syntax error or a missing column is not. [`with_retry`] runs an
//! operation until it succeeds, fails with an error that is not transient, or has
//! used [`RetryPolicy::attempts_max`] attempts.
//!
//! The operation is retried whole, so it must be safe to run again: a read, or a
//! whole transaction whose writes are idempotent (a transaction cut by a lost
//! connection is rolled back by the server). The closure should drop a
//! connection that failed with a transient error and open a new one on the next
//! attempt.
//!
//! ```no_run
//! # async fn example(pool: sqlx::PgPool) -> Result<(), recon_postgres::Error> {
//! use recon_postgres::retry::{RetryPolicy, with_retry};
//! let policy = RetryPolicy::default();
//! let count: i64 = with_retry(&policy, "count runs", async || {
//!     sqlx::query_scalar("SELECT count(*) FROM runs").persistent(false).fetch_one(&pool).await
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use crate::Error;

/// How often and how patiently to retry a transient failure.
///
/// The delay before attempt `n` (n ≥ 2) is `delay_initial * 2^(n-2)`, capped at
/// `delay_max`. With the default (5 attempts, 200 ms doubling, capped at 3 s) the
/// waits are 200, 400, 800 and 1600 ms: 3 s in all, on top of the attempts
/// themselves (each connection attempt is bounded by the connect timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most attempts, the first included; at least 1 (0 counts as 1).
    pub attempts_max: u32,
    /// The wait before the second attempt.
    pub delay_initial: Duration,
    /// The longest wait between two attempts.
    pub delay_max: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts; waits of 200 ms, doubling, capped at 3 s.
    fn default() -> Self {
        Self { attempts_max: 5, delay_initial: Duration::from_millis(200), delay_max: Duration::from_secs(3) }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub const NONE: RetryPolicy =
        RetryPolicy { attempts_max: 1, delay_initial: Duration::ZERO, delay_max: Duration::ZERO };

    /// The wait before attempt `attempt` (1-based; the first attempt does not wait).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        // 2^20 * delay_initial is far past any sensible cap; stop doubling there.
        let doublings = (attempt - 2).min(20);
        self.delay_initial.saturating_mul(1 << doublings).min(self.delay_max)
    }
}

/// Whether retrying the whole operation after `error` may succeed: the
/// connection was lost or could not be made, or the server asked to try again.
///
/// Transient:
/// - SQLSTATE class `08` (connection exception);
/// - `57P01` admin shutdown (Neon suspending a compute, `pg_terminate_backend`),
///   `57P02` crash shutdown, `57P03` cannot connect now (starting up or shutting
///   down);
/// - `40001` serialization failure and `40P01` deadlock, which call for re-running
///   the whole transaction;
/// - I/O errors (connection refused, reset, aborted, timed out, unexpected end of
///   stream) and pool timeouts (a cold start that outlasted the pool's acquire
///   timeout).
///
/// Everything else is not: syntax errors, missing tables, bad credentials, and I/O
/// errors of kind `InvalidData`, `InvalidInput`, `PermissionDenied` or
/// `Unsupported` (a TLS certificate that does not verify, a bad host name).
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database_error) => database_error.code().is_some_and(|code| is_transient_sqlstate(&code)),
        sqlx::Error::Io(io_error) => is_transient_io(io_error.kind()),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// Whether an I/O error may go away by itself. A TLS handshake that fails on the
/// certificate surfaces as `InvalidData`, bad connection settings as
/// `InvalidInput`: those stay the same on every attempt.
fn is_transient_io(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind;
    !matches!(
        kind,
        ErrorKind::InvalidData | ErrorKind::InvalidInput | ErrorKind::PermissionDenied | ErrorKind::Unsupported
    )
}

/// Whether a SQLSTATE is one [`is_transient`] retries.
pub fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

/// The SQLSTATE of `error`, when the server answered with one.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(database_error) => database_error.code().map(|code| code.into_owned()),
        _ => None,
    }
}

/// Runs `operation` until it succeeds, fails with an error that is not transient
/// ([`is_transient`]), or has been attempted `policy.attempts_max` times; waits
/// [`RetryPolicy::delay_before`] between attempts. Each retry is logged at warn
/// level. `operation_name` names the operation in the logs and in the error
/// ([`Error::Database`], which also carries the attempt count and SQLSTATE).
pub async fn with_retry<T, F>(policy: &RetryPolicy, operation_name: &str, operation: F) -> Result<T, Error>
where
    F: AsyncFnMut() -> Result<T, sqlx::Error>,
{
    with_retry_counted(policy, operation_name, operation).await.map(|(value, _attempts)| value)
}

/// [`with_retry`], also returning how many attempts the success took.
pub(crate) async fn with_retry_counted<T, F>(
    policy: &RetryPolicy,
    operation_name: &str,
    mut operation: F,
) -> Result<(T, u32), Error>
where
    F: AsyncFnMut() -> Result<T, sqlx::Error>,
{
    with_retry_if(policy, operation_name, is_transient, async |_attempt| operation().await).await.map_err(|gave_up| {
        Error::Database {
            operation: operation_name.to_owned(),
            attempts: gave_up.attempts,
            sqlstate: sqlstate(&gave_up.error),
            transient: gave_up.transient,
            source: gave_up.error,
        }
    })
}

/// The last error of an operation that [`with_retry_if`] gave up on.
#[derive(Debug)]
#[non_exhaustive]
pub struct GaveUp<E> {
    /// The error of the last attempt.
    pub error: E,
    /// How many attempts were made (1 when the error was not transient).
    pub attempts: u32,
    /// Whether the last error was transient (so the attempts ran out).
    pub transient: bool,
}

/// [`with_retry`] for operations with errors of any type: `transient` says which errors
/// are worth another attempt (for an error wrapping a driver error, usually
/// [`is_transient`] of that driver error). The operation gets the attempt number
/// (1-based), so that it can tell a first attempt from a retry: a retried write may find
/// that an earlier attempt committed after all (its acknowledgement was lost).
///
/// Returns the value and the attempts it took, or the last error with its attempts.
/// Each retry is logged at warn level with `operation_name`.
pub async fn with_retry_if<T, E, F>(
    policy: &RetryPolicy,
    operation_name: &str,
    transient: impl Fn(&E) -> bool,
    mut operation: F,
) -> Result<(T, u32), GaveUp<E>>
where
    E: std::fmt::Display,
    F: AsyncFnMut(u32) -> Result<T, E>,
{
    let attempts_max = policy.attempts_max.max(1);
    let mut attempt = 1;
    // Bounded: `attempt` grows by one per failed try and the loop ends at `attempts_max`.
    loop {
        let error = match operation(attempt).await {
            Ok(value) => return Ok((value, attempt)),
            Err(error) => error,
        };
        let is_transient = transient(&error);
        if !is_transient || attempt >= attempts_max {
            return Err(GaveUp { error, attempts: attempt, transient: is_transient });
        }
        attempt += 1;
        let delay = policy.delay_before(attempt);
        tracing::warn!(
            operation = operation_name,
            attempt,
            attempts_max,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            %error,
            "transient PostgreSQL error; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let delays: Vec<u128> = (1..=7).map(|attempt| policy.delay_before(attempt).as_millis()).collect();
        assert_eq!(delays, [0, 200, 400, 800, 1600, 3000, 3000]);
        assert_eq!(policy.delay_before(u32::MAX), Duration::from_secs(3));
    }

    #[test]
    fn connection_errors_are_transient_and_others_are_not() {
        let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_transient(&refused));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::Protocol("bad".into())));
        let bad_certificate = sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, "UnknownIssuer"));
        assert!(!is_transient(&bad_certificate));
        for code in ["08006", "08001", "57P01", "57P03", "40001"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["42P01", "42703", "28P01", "22007", "57014"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn gives_up_after_the_bounded_attempts() {
        let policy = RetryPolicy {
            attempts_max: 3,
            delay_initial: Duration::from_millis(1),
            delay_max: Duration::from_millis(2),
        };
        let mut calls = 0;
        let result: Result<(), Error> = with_retry(&policy, "always refused", async || {
            calls += 1;
            Err(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)))
        })
        .await;
        assert_eq!(calls, 3);
        let error = result.unwrap_err();
        assert!(matches!(error, Error::Database { attempts: 3, transient: true, .. }), "{error}");
        assert!(error.to_string().starts_with("always refused: gave up after 3 attempts"), "{error}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn errors_that_are_not_transient_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), Error> = with_retry(&RetryPolicy::default(), "find", async || {
            calls += 1;
            Err(sqlx::Error::RowNotFound)
        })
        .await;
        assert_eq!(calls, 1);
        assert!(matches!(result, Err(Error::Database { attempts: 1, transient: false, .. })));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn any_error_type_is_retried_by_its_own_rule_with_the_attempt_number() {
        let policy = RetryPolicy {
            attempts_max: 4,
            delay_initial: Duration::from_millis(1),
            delay_max: Duration::from_millis(1),
        };
        let mut seen = Vec::new();
        let gave_up = with_retry_if(
            &policy,
            "write",
            |error: &String| error.starts_with("lost"),
            async |attempt| {
                seen.push(attempt);
                if attempt < 3 { Err::<(), _>("lost connection".to_owned()) } else { Err("constraint".to_owned()) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!((gave_up.error.as_str(), gave_up.attempts, gave_up.transient), ("constraint", 3, false));
        let (value, attempts) = with_retry_if(
            &policy,
            "read",
            |_: &String| true,
            async |attempt| if attempt == 2 { Ok(attempt) } else { Err("x".to_owned()) },
        )
        .await
        .unwrap();
        assert_eq!((value, attempts), (2, 2));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_success_after_transient_failures_is_returned() {
        let policy = RetryPolicy {
            attempts_max: 5,
            delay_initial: Duration::from_millis(1),
            delay_max: Duration::from_millis(1),
        };
        let mut calls = 0;
        let (value, attempts) = with_retry_counted(&policy, "flaky", async || {
            calls += 1;
            if calls < 3 { Err(sqlx::Error::PoolTimedOut) } else { Ok(calls) }
        })
        .await
        .unwrap();
        assert_eq!((value, attempts), (3, 3));
    }
}
