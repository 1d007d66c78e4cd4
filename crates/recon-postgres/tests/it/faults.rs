//! Neon's faults: connections terminated mid-read, a server that is down, then back.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use recon_postgres::{Database, Error, NeonSource, for_each_statement_page, read_statements};
use recon_testpg::{ClusterOptions, PgServer};

use crate::neon::{expected_ids_march, neon_database};
use crate::{block_on, quick_retries};

fn march() -> NeonSource {
    let mut source =
        NeonSource::new(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
    source.batch_rows = 7;
    source
}

#[test]
fn a_read_survives_its_connection_being_terminated_between_pages() {
    const APPLICATION: &str = "recon-it-terminated";
    let server = PgServer::start_cluster(ClusterOptions::default());
    block_on(async {
        let url = neon_database(&server, "neon_terminate").await;
        let database =
            Database::from_url(&url).unwrap().with_application_name(APPLICATION).with_retry_policy(quick_retries(5));
        let terminated = AtomicU64::new(0);
        let mut pages = 0;
        let mut ids = Vec::new();
        let summary = for_each_statement_page(&database, &march(), async |page: Vec<_>| {
            pages += 1;
            ids.extend(page.iter().map(|line: &recon_postgres::RawStatementLine| line.provenance.line));
            // After pages 2 and 4 the server kills the connection (as Neon does when it suspends a
            // compute: 57P01); the next page is read again on a new connection.
            if pages == 2 || pages == 4 {
                terminated.fetch_add(server.terminate_backends(APPLICATION).await, Ordering::SeqCst);
            }
            Ok::<(), Error>(())
        })
        .await
        .unwrap();
        assert_eq!(terminated.load(Ordering::SeqCst), 2, "one connection killed each time");
        assert_eq!(ids, expected_ids_march(), "every row exactly once, in order");
        assert_eq!(summary.pages, 5);
        assert_eq!(summary.retries, 2, "one retry per killed connection");
        server.drop_databases().await;
    });
}

#[test]
fn a_read_against_a_stopped_server_gives_up_after_bounded_retries_then_works_after_restart() {
    let server = PgServer::start_cluster(ClusterOptions::default());
    block_on(async {
        let url = neon_database(&server, "neon_stopped").await;
        let database = Database::from_url(&url).unwrap().with_retry_policy(quick_retries(4));
        server.stop();
        let error = read_statements(&database, &march()).await.unwrap_err();
        let message = error.to_string();
        let Error::Database { attempts, transient, sqlstate, source, .. } = &error else { panic!("{message}") };
        assert_eq!((*attempts, *transient, sqlstate.as_deref()), (4, true, None), "{message}");
        assert!(
            matches!(source, sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
            "{message}"
        );
        assert!(
            message.starts_with(&format!("check table bank_statement_lines in {}", database.description())),
            "{message}"
        );
        assert!(message.contains("gave up after 4 attempts (transient error)"), "{message}");
        assert!(message.contains("Connection refused"), "{message}");

        server.start_again();
        let lines = read_statements(&database, &march()).await.unwrap();
        let ids: Vec<u64> = lines.iter().map(|line| line.provenance.line).collect();
        assert_eq!(ids, expected_ids_march());
        server.drop_databases().await;
    });
}

#[test]
fn errors_that_are_not_transient_are_not_retried() {
    let server = PgServer::start();
    block_on(async {
        let url = server.fresh_database("neon_not_transient").await;
        recon_testpg::run_sql_files(&url, &[&crate::testdata("neon/schema.sql")]).await;
        // A value_date that is not a date: the cast fails (SQLSTATE 22007) on every attempt alike.
        let database = Database::from_url(&url).unwrap().with_retry_policy(quick_retries(5));
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url.as_str()).await.unwrap();
        sqlx::query("ALTER TABLE bank_statement_lines ALTER COLUMN value_date TYPE text")
            .execute(&mut connection)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO bank_statement_lines (id, account, value_date, amount) VALUES (1, 'x', '31/03/2024', 1)",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        sqlx::Connection::close(connection).await.unwrap();
        let error = read_statements(&database, &march()).await.unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(&error, Error::Database { attempts: 1, transient: false, sqlstate: Some(code), .. } if code.starts_with("22")),
            "{message}"
        );
        assert!(message.contains("rows after id"), "{message}");
        server.drop_databases().await;
    });
}

#[test]
fn a_statement_that_hangs_is_abandoned_after_its_timeout() {
    let server = PgServer::start();
    block_on(async {
        let url = neon_database(&server, "neon_hang").await;
        let database = Database::from_url(&url)
            .unwrap()
            .with_retry_policy(quick_retries(2))
            .with_statement_timeout(std::time::Duration::from_millis(300));
        // Another session holds the table locked: every read of it waits until the lock goes.
        let mut locker = <sqlx::PgConnection as sqlx::Connection>::connect(url.as_str()).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE bank_statement_lines IN ACCESS EXCLUSIVE MODE")
            .execute(&mut locker)
            .await
            .unwrap();
        let error = read_statements(&database, &march()).await.unwrap_err();
        let message = error.to_string();
        let Error::Database { attempts: 2, transient: true, source: sqlx::Error::Io(io), .. } = &error else {
            panic!("{message}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut, "{message}");
        assert!(message.contains("no answer within 300 ms"), "{message}");

        sqlx::raw_sql("ROLLBACK").execute(&mut locker).await.unwrap();
        let ids: Vec<u64> =
            read_statements(&database, &march()).await.unwrap().iter().map(|l| l.provenance.line).collect();
        assert_eq!(ids, expected_ids_march());
        server.drop_databases().await;
    });
}
