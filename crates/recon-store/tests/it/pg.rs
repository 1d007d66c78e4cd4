//! The scenarios on PostgreSQL, plus what only PostgreSQL has: Neon's TLS URLs, the run
//! lock across lost connections, pooled connections that die while idle.
//!
//! The server comes from recon-testpg: `DATABASE_URL` when set, else a throwaway
//! cluster. Tests that disturb their server (terminate its backends, serve TLS) start a
//! cluster of their own.

use recon_store::{RunFilter, Store, StoreError};
use recon_testpg::{ClusterOptions, PgServer};

use crate::fixtures::{night_one, run};
use crate::scenarios::{self, all_scenarios};

/// Runs `future` on a fresh two-thread runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

macro_rules! pg_scenarios {
    ($($name:ident),* $(,)?) => {
        /// Every scenario, each in a fresh database of one server.
        #[test]
        fn postgres_runs_every_scenario() {
            let server = PgServer::start();
            block_on(async {
                $(
                    eprintln!("postgres scenario: {}", stringify!($name));
                    let url = server.fresh_database(stringify!($name)).await;
                    scenarios::$name(&url).await;
                )*
                server.drop_databases().await;
            });
        }
    };
}

all_scenarios!(pg_scenarios);

/// Writes and reads back one night through `url`.
async fn write_and_read_back(url: &str) {
    let store = Store::open(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    store.write_run(&night_one("R1", 2)).await.expect("write_run");
    assert_eq!(store.runs(&RunFilter::default()).await.expect("runs").len(), 1);
    store.close().await;
}

#[test]
fn neon_tls_urls_work_with_require_verify_full_and_channel_binding() {
    let server = PgServer::start_cluster(ClusterOptions { tls: true });
    let root = server.tls_root_cert().expect("a TLS cluster has a root certificate");
    block_on(async {
        let require = server.fresh_database("store_tls_require").await;
        write_and_read_back(&format!("{require}?sslmode=require&channel_binding=require")).await;
        let verify = server.fresh_database("store_tls_verify_full").await;
        write_and_read_back(&format!(
            "{verify}?sslmode=verify-full&sslrootcert={}&channel_binding=require",
            root.display()
        ))
        .await;
        // Without the test CA the server's certificate does not verify: refused, not retried.
        let unverified = format!("{verify}?sslmode=verify-full");
        match Store::open(&unverified).await {
            Err(error @ StoreError::Connect { .. }) => {
                let message = error.to_string();
                assert!(message.contains("certificate") || message.contains("Certificate"), "{message}");
            }
            other => panic!("an unverifiable certificate must be refused, got {other:?}"),
        }
        server.drop_databases().await;
    });
}

#[test]
fn the_run_lock_is_taken_again_after_its_connection_is_lost() {
    const SCOPE: &str = "nightly lock test";
    let server = PgServer::start_cluster(ClusterOptions::default());
    block_on(async {
        let url = server.fresh_database("store_lock_lost").await;
        let store = Store::open(&url).await.expect("store opens");
        let mut lock = store.try_lock(SCOPE).await.expect("lock");
        assert_eq!(server.terminate_backends(&format!("recon lock: {SCOPE}")).await, 1);
        lock.ensure_held().await.expect("nobody else took it: taken again");
        let second = store.try_lock("second").await.expect_err("held again");
        assert!(matches!(second, StoreError::Locked { .. }), "{second}");

        // Lost again, and this time another run takes it first: the holder is told.
        assert_eq!(server.terminate_backends(&format!("recon lock: {SCOPE}")).await, 1);
        let other = store.try_lock("other run").await.expect("free after the loss");
        match lock.ensure_held().await {
            Err(StoreError::Locked { holder, .. }) => assert!(holder.contains("recon lock: other run"), "{holder}"),
            other => panic!("the lock was taken by another run, got {other:?}"),
        }
        // Releasing a lock that is gone is not an error.
        lock.release().await.expect("release of a lost lock");
        other.release().await.expect("release");
        store.close().await;
        server.drop_databases().await;
    });
}

#[test]
fn pooled_connections_that_died_while_idle_are_replaced() {
    let server = PgServer::start_cluster(ClusterOptions::default());
    block_on(async {
        let url = server.fresh_database("store_idle_terminated").await;
        let store = Store::open(&url).await.expect("store opens");
        store.write_run(&run("R1", 1)).await.expect("first run");
        // As when Neon suspends an idle compute: every open connection is terminated (57P01).
        assert!(server.terminate_backends(recon_store::DEFAULT_APPLICATION_NAME).await >= 1);
        store.write_run(&night_one("R2", 2)).await.expect("the pool reconnects");
        assert_eq!(store.runs(&RunFilter::default()).await.expect("runs").len(), 2);
        store.close().await;
        server.drop_databases().await;
    });
}
