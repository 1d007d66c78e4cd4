//! Neon's connection strings: `sslmode=require` and `verify-full` over real TLS, with
//! `channel_binding=require` accepted.

use chrono::NaiveDate;
use recon_postgres::{Database, Error, NeonSource, connect_options, read_statements};
use recon_testpg::{ClusterOptions, PgServer};
use sqlx::{ConnectOptions, Connection};

use crate::block_on;
use crate::neon::neon_database;

#[test]
fn sslmode_require_and_verify_full_connect_over_tls() {
    let server = PgServer::start_cluster(ClusterOptions { tls: true });
    let root_cert = server.tls_root_cert().unwrap();
    block_on(async {
        let url = neon_database(&server, "neon_tls").await;
        let port = server.port();
        let database_name = "recon_it_neon_tls";
        let day = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let source = NeonSource::new(day, day);

        // As Neon's console writes it: encrypted, the certificate not checked.
        let require =
            format!("postgres://postgres@127.0.0.1:{port}/{database_name}?sslmode=require&channel_binding=require");
        let mut connection = connect_options(&require).unwrap().connect().await.unwrap();
        let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert!(ssl, "the connection is encrypted");
        connection.close().await.unwrap();
        assert_eq!(read_statements(&Database::from_url(&require).unwrap(), &source).await.unwrap().len(), 4);

        // Certificate and host name checked against the given root.
        let verify_full = format!(
            "postgres://postgres@localhost:{port}/{database_name}?channel_binding=require&sslmode=verify-full&sslrootcert={}",
            root_cert.display()
        );
        assert_eq!(read_statements(&Database::from_url(&verify_full).unwrap(), &source).await.unwrap().len(), 4);

        // Without the root the certificate is refused at once: not transient, not retried.
        let unverifiable = format!("postgres://postgres@localhost:{port}/{database_name}?sslmode=verify-full");
        let error = read_statements(&Database::from_url(&unverifiable).unwrap(), &source).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(&error, Error::Database { attempts: 1, transient: false, .. }), "{message}");
        assert!(message.contains("invalid peer certificate: UnknownIssuer"), "{message}");
        drop(url);
        server.drop_databases().await;
    });
}
