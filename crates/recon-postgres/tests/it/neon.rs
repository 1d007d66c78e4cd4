//! NEON statement lines: keyset reads by date range, layouts, identifier validation, table checks.

use chrono::NaiveDate;
use recon_io::Layout;
use recon_postgres::{Database, Error, NeonSource, check_neon_table, for_each_statement_page, read_statements};
use recon_testpg::{PgServer, run_sql_files};
use serde::Deserialize;

use crate::{block_on, testdata};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    table: Option<String>,
    date_from: NaiveDate,
    date_to: NaiveDate,
    batch_rows: u32,
    expected_ids: Vec<u64>,
    columns: Option<std::collections::BTreeMap<String, String>>,
}

impl Case {
    fn source(&self) -> NeonSource {
        let mut source = NeonSource::new(self.date_from, self.date_to);
        source.batch_rows = self.batch_rows;
        if let Some(table) = &self.table {
            source.table = table.clone();
        }
        if let Some(columns) = &self.columns {
            source.layout = Layout { columns: columns.clone(), ..Layout::default() };
        }
        source
    }
}

/// Loads the NEON fixture into a fresh database; returns its URL.
pub(crate) async fn neon_database(server: &PgServer, name: &str) -> String {
    let url = server.fresh_database(name).await;
    run_sql_files(&url, &[&testdata("neon/schema.sql"), &testdata("neon/data.sql")]).await;
    url
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(testdata("neon/cases.toml")).unwrap();
    toml::from_str::<Cases>(&text).unwrap().case
}

/// The ids of `source` read page by page, checking each page's size and the provenance.
pub(crate) fn expected_ids_march() -> Vec<u64> {
    cases().into_iter().find(|case| case.name == "march_in_pages_of_7").unwrap().expected_ids
}

#[test]
fn statements_are_read_by_date_range_with_keyset_paging() {
    let server = PgServer::start();
    block_on(async {
        let url = neon_database(&server, "neon_cases").await;
        let database = Database::from_url(&url).unwrap();
        for case in cases() {
            let source = case.source();
            let mut page_sizes = Vec::new();
            let mut lines = Vec::new();
            let summary = for_each_statement_page(&database, &source, async |page: Vec<_>| {
                page_sizes.push(page.len());
                lines.extend(page);
                Ok::<(), Error>(())
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let ids: Vec<u64> = lines.iter().map(|line| line.id.parse().unwrap()).collect();
            assert_eq!(ids, case.expected_ids, "{}", case.name);
            let batch = case.batch_rows as usize;
            let full_pages = case.expected_ids.len() / batch;
            let expected_sizes: Vec<usize> = std::iter::repeat_n(batch, full_pages)
                .chain((case.expected_ids.len() % batch != 0).then_some(case.expected_ids.len() % batch))
                .collect();
            assert_eq!(page_sizes, expected_sizes, "{}: page sizes", case.name);
            assert_eq!((summary.rows, summary.pages, summary.retries), (ids.len() as u64, page_sizes.len() as u64, 0));
            let table = source.table.clone();
            let file = format!("{}#{table}", database.description());
            for line in &lines {
                assert_eq!(line.provenance.file.to_str(), Some(file.as_str()), "{}", case.name);
                assert_eq!(line.provenance.line.to_string(), line.id, "{}: the line is the id", case.name);
            }
            // The collecting variant reads the same.
            let collected = read_statements(&database, &source).await.unwrap();
            assert_eq!(collected, lines, "{}", case.name);
        }
        server.drop_databases().await;
    });
}

#[test]
fn every_column_is_read_as_its_text() {
    let server = PgServer::start();
    block_on(async {
        let url = neon_database(&server, "neon_text").await;
        let database = Database::from_url(&url).unwrap();
        let date = |d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let lines = read_statements(&database, &NeonSource::new(date("2024-03-10"), date("2024-03-10"))).await.unwrap();
        let line = lines.iter().find(|line| line.id == "2004").unwrap();
        // timestamptz in UTC, numeric with its scale, NULL as "", commas/newlines/quotes kept.
        assert_eq!(line.booked_at, "2024-03-10 18:00:00+00");
        assert_eq!(line.value_date, "");
        assert_eq!(line.amount, "250.50");
        assert_eq!(line.currency, "MXN");
        assert_eq!(line.description, "Pago, con coma\ny salto de linea");
        assert_eq!(line.counterparty_name, "Cliente \"Comillas\"");
        assert_eq!(line.counterparty_account, "");
        // Booked at 19:15 in Mexico City (UTC-6) on the 10th: the 11th in UTC.
        let line = lines.iter().find(|line| line.id == "1045").unwrap();
        assert_eq!(
            (line.booked_at.as_str(), line.value_date.as_str(), line.amount.as_str(), line.reference.as_str()),
            ("2024-03-11 01:15:00+00", "2024-03-11", "-2070.65", "MBAN01002403110073291315")
        );
        // A layout that leaves an optional field out reads it as "".
        let mut source = NeonSource::new(date("2024-03-10"), date("2024-03-10"));
        source.layout = Layout::neon_default().without_column("description");
        let lines = read_statements(&database, &source).await.unwrap();
        assert!(lines.iter().all(|line| line.description.is_empty() && !line.amount.is_empty()));
        server.drop_databases().await;
    });
}

#[test]
fn table_and_column_names_must_be_plain_identifiers() {
    let server = PgServer::start();
    block_on(async {
        let url = neon_database(&server, "neon_identifiers").await;
        let database = Database::from_url(&url).unwrap();
        let date = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let mut source = NeonSource::new(date, date);
        source.table = "bank_statement_lines; DROP TABLE x".to_owned();
        let error = read_statements(&database, &source).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::InvalidIdentifier { .. }), "{message}");
        assert_eq!(
            message,
            "NEON table \"bank_statement_lines; DROP TABLE x\" is not a valid SQL identifier: \
             character ';' at byte 20 is not allowed; only ASCII letters, digits and `_` are"
        );
        let mut source = NeonSource::new(date, date);
        source.layout = Layout::neon_default().with_column("amount", "amount\"; --");
        let error = check_neon_table(&database, &source).await.unwrap_err();
        assert!(error.to_string().starts_with("column for field amount \"amount\\\"; --\" is not a valid"), "{error}");
        // Nothing reached the server: the table is still there (2024-02-29 to 2024-03-02, and 2001).
        assert_eq!(read_statements(&database, &NeonSource::new(date, date)).await.unwrap().len(), 4);
        server.drop_databases().await;
    });
}

#[test]
fn table_check_names_what_is_missing() {
    let server = PgServer::start();
    block_on(async {
        let url = neon_database(&server, "neon_check").await;
        let database = Database::from_url(&url).unwrap();
        let date = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let source =
            |table: &str, layout: Layout| NeonSource { table: table.to_owned(), layout, ..NeonSource::new(date, date) };

        check_neon_table(&database, &source("bank_statement_lines", Layout::neon_default())).await.unwrap();

        let error =
            check_neon_table(&database, &source("bank_statement_line", Layout::neon_default())).await.unwrap_err();
        assert!(
            matches!(&error, Error::TableNotFound { similar, .. } if similar == &["public.bank_statement_lines"]),
            "{error}"
        );
        assert!(error.to_string().contains("table bank_statement_line does not exist"), "{error}");

        let layout = Layout::neon_default().with_column("amount", "importe").with_column("reference", "referencia");
        let error = check_neon_table(&database, &source("bank_statement_lines", layout)).await.unwrap_err();
        let Error::TableColumns { problems, existing, .. } = &error else { panic!("{error}") };
        assert_eq!(
            problems,
            &[
                "column \"importe\" (for field amount) does not exist",
                "column \"referencia\" (for field reference) does not exist (similar: reference)",
            ]
        );
        assert_eq!(existing.len(), 10);

        let error = check_neon_table(&database, &source("lines_with_text_ids", Layout::default())).await.unwrap_err();
        assert!(
            error.to_string().contains("id column \"id\" is text; it must be smallint, integer or bigint"),
            "{error}"
        );
        let error = check_neon_table(&database, &source("lines_without_key", Layout::default())).await.unwrap_err();
        assert!(error.to_string().contains("has no primary key or unique index"), "{error}");

        // A read checks first, so it fails the same way.
        let error = read_statements(&database, &source("lines_without_key", Layout::default())).await.unwrap_err();
        assert!(matches!(error, Error::TableColumns { .. }), "{error}");
        server.drop_databases().await;
    });
}
