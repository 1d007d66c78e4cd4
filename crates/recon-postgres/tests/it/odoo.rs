//! Odoo journal items read straight from Odoo 17 and Odoo 18 tables.

use chrono::NaiveDate;
use recon_postgres::{
    Database, Error, Missing, OdooFlavour, OdooSource, check_odoo_config, detect_odoo_flavour, read_odoo_moves,
};
use recon_testpg::{PgServer, run_sql_files};
use serde::Deserialize;

use crate::{block_on, testdata, update_expect};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    expected: String,
    #[serde(flatten)]
    source: OdooSourceToml,
    draft_lines: u64,
    cancelled_lines: u64,
}

/// The case's source: an [`OdooSource`] in TOML, as a user would write it.
#[derive(Deserialize)]
struct OdooSourceToml {
    company_id: i64,
    #[serde(default)]
    journals: Vec<String>,
    bank_account_codes: Vec<String>,
    date_from: NaiveDate,
    date_to: NaiveDate,
    language: Option<String>,
    batch_rows: Option<u32>,
}

impl OdooSourceToml {
    fn source(&self) -> OdooSource {
        let mut text = format!(
            "company_id = {}\njournals = {:?}\nbank_account_codes = {:?}\ndate_from = \"{}\"\ndate_to = \"{}\"\n",
            self.company_id, self.journals, self.bank_account_codes, self.date_from, self.date_to
        );
        if let Some(language) = &self.language {
            text.push_str(&format!("language = {language:?}\n"));
        }
        if let Some(batch_rows) = self.batch_rows {
            text.push_str(&format!("batch_rows = {batch_rows}\n"));
        }
        toml::from_str(&text).unwrap()
    }
}

const VERSIONS: [(&str, OdooFlavour); 2] = [("17", OdooFlavour::StoredCode), ("18", OdooFlavour::CodeStore)];

/// Loads the Odoo fixture of `version` into a fresh database; returns its URL.
async fn odoo_database(server: &PgServer, version: &str, purpose: &str) -> String {
    let url = server.fresh_database(&format!("odoo{version}_{purpose}")).await;
    let files = [
        testdata(&format!("odoo/{version}/schema.sql")),
        testdata("odoo/base.sql"),
        testdata(&format!("odoo/{version}/accounts.sql")),
        testdata("odoo/moves.sql"),
    ];
    run_sql_files(&url, &files.iter().map(|path| path.as_path()).collect::<Vec<_>>()).await;
    url
}

/// The lines as recon-io's Odoo CSV writer writes them.
fn as_csv(lines: &[recon_postgres::RawMoveLine]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moves.csv");
    recon_io::write_moves_csv(&path, lines).unwrap();
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn odoo_17_and_18_tables_read_as_the_csv_export() {
    let text = std::fs::read_to_string(testdata("odoo/cases.toml")).unwrap();
    let cases = toml::from_str::<Cases>(&text).unwrap().case;
    let server = PgServer::start();
    block_on(async {
        for (version, flavour) in VERSIONS {
            let url = odoo_database(&server, version, "read").await;
            let database = Database::from_url(&url).unwrap();
            assert_eq!(detect_odoo_flavour(&database).await.unwrap(), flavour);
            for case in &cases {
                let context = format!("Odoo {version}, case {}", case.name);
                let moves = read_odoo_moves(&database, &case.source.source())
                    .await
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(moves.flavour, flavour, "{context}");
                assert_eq!(
                    (moves.draft_lines, moves.cancelled_lines),
                    (case.draft_lines, case.cancelled_lines),
                    "{context}"
                );
                assert_eq!(moves.summary.rows, moves.lines.len() as u64, "{context}");
                let file = format!("{}#account_move_line", database.description());
                for line in &moves.lines {
                    assert_eq!(line.provenance.file.to_str(), Some(file.as_str()), "{context}");
                    assert_eq!(line.provenance.line.to_string(), line.id, "{context}: the line is the db id");
                }
                let actual = as_csv(&moves.lines);
                let expected_path = testdata(&format!("odoo/expected/{}", case.expected));
                if update_expect() {
                    std::fs::write(&expected_path, &actual).unwrap();
                }
                let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
                    panic!("{context}: {}: {e} (UPDATE_EXPECT=1 writes it)", expected_path.display())
                });
                assert_eq!(actual, expected, "{context}: output differs from {}", expected_path.display());
            }
        }
        server.drop_databases().await;
    });
}

#[test]
fn config_check_names_missing_journals_and_gl_accounts() {
    let server = PgServer::start();
    block_on(async {
        for (version, _) in VERSIONS {
            let url = odoo_database(&server, version, "check").await;
            let database = Database::from_url(&url).unwrap();
            let march = |journals: &[&str], codes: &[&str]| OdooSource {
                company_id: 1,
                journals: journals.iter().map(|s| (*s).to_owned()).collect(),
                bank_account_codes: codes.iter().map(|s| (*s).to_owned()).collect(),
                date_from: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
                date_to: NaiveDate::from_ymd_opt(2024, 3, 31).unwrap(),
                language: "en_US".to_owned(),
                batch_rows: 100,
            };
            check_odoo_config(&database, &march(&["BNK1", "BBVA USD"], &["102.01.01", "102.01.02"])).await.unwrap();

            let source = march(&["BNK1", "BNK9", "Banco STP"], &["102.01.01", "102.01.99", "121000"]);
            let error = check_odoo_config(&database, &source).await.unwrap_err();
            let message = error.to_string();
            let Error::OdooConfig { company_id, missing_journals, missing_accounts, .. } = &error else {
                panic!("Odoo {version}: {message}")
            };
            assert_eq!(*company_id, 1);
            let wanted = |missing: &[Missing]| missing.iter().map(|m| m.wanted.clone()).collect::<Vec<_>>();
            assert_eq!(wanted(missing_journals), ["BNK9", "Banco STP"], "Odoo {version}");
            // 121000 exists, but in company 2 only.
            assert_eq!(wanted(missing_accounts), ["102.01.99", "121000"], "Odoo {version}");
            assert_eq!(
                missing_journals[0].similar,
                ["BNK1 STP Bank", "BNK2 BBVA USD", "BNK3 Santander"],
                "Odoo {version}"
            );
            assert_eq!(missing_journals[1].similar, ["BNK1 STP Bank"], "Odoo {version}");
            // Fewest edits first: 102.01.09 is one digit away, the others two.
            assert_eq!(
                missing_accounts[0].similar,
                ["102.01.09 Santander", "102.01.01 STP Bank", "102.01.02 BBVA USD"]
            );
            assert_eq!(
                message,
                format!(
                    "{}: Odoo company 1: missing journals: \"BNK9\" (similar: BNK1 STP Bank, BNK2 BBVA USD, BNK3 Santander), \
                     \"Banco STP\" (similar: BNK1 STP Bank); missing bank GL accounts: \"102.01.99\" (similar: \
                     102.01.09 Santander, 102.01.01 STP Bank, 102.01.02 BBVA USD), \"121000\"",
                    database.description()
                )
            );
            // A read checks first, so it fails the same way.
            let error = read_odoo_moves(&database, &source).await.unwrap_err();
            assert!(matches!(error, Error::OdooConfig { .. }), "{error}");
        }
        server.drop_databases().await;
    });
}

#[test]
fn a_database_without_odoo_tables_is_refused() {
    let server = PgServer::start();
    block_on(async {
        let url = server.fresh_database("odoo_none").await;
        let database = Database::from_url(&url).unwrap();
        let error = detect_odoo_flavour(&database).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::OdooSchema { .. }), "{message}");
        assert!(message.contains("missing columns: account_move_line.id, account_move_line.move_id"), "{message}");
        assert!(
            message.contains("account_account.code (Odoo 17 and earlier) or account_account.code_store"),
            "{message}"
        );
        server.drop_databases().await;
    });
}
