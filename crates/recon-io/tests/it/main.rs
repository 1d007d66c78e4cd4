//! Integration tests for recon-io. Data files live in `testdata/io/` at the
//! workspace root.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, DataType, ParquetReader, ParquetWriter, SerReader};
use recon_io::{
    Error, Format, Layout, RawMoveLine, RawStatementLine, Record, Table, blake3_file, for_each_statement, open_csv,
    read_moves, read_moves_csv, read_statements, read_statements_csv, read_statements_parquet, write_moves_parquet,
    write_statements_csv, write_statements_parquet, write_table, write_table_csv, write_table_parquet,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/io").join(name)
}

fn fields<T: Record>(record: &T) -> Vec<String> {
    (0..T::FIELDS.len()).map(|i| record.field(i).unwrap_or_default().to_owned()).collect()
}

/// Names of every entry in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------
// CSV samples
// ---------------------------------------------------------------------------

#[test]
fn neon_csv_quoting_newlines_nulls_and_accents() {
    let path = data("neon_statements.csv");
    let lines = read_statements_csv(&path, &Layout::neon_default()).unwrap();
    assert_eq!(lines.len(), 4);

    let first = &lines[0];
    assert_eq!(first.provenance.file.as_ref(), path.as_path());
    assert_eq!(first.provenance.line, 2);
    assert_eq!(first.id, "1001");
    assert_eq!(first.account, "STP-646180157000000001");
    assert_eq!(first.booked_at, "2024-03-01 09:15:00-06");
    assert_eq!(first.value_date, "2024-03-01");
    assert_eq!(first.amount, "1500.00");
    assert_eq!(first.currency, "MXN");
    assert_eq!(first.reference, "REF0598792");
    assert_eq!(first.description, "Liquidación Conekta 0598792");
    assert_eq!(first.counterparty_name, "Conekta, S.A.P.I. de C.V.");
    assert_eq!(first.counterparty_account, "646180157099999999");

    // A quoted newline: the record starts on line 3 and spans line 4.
    let second = &lines[1];
    assert_eq!(second.provenance.line, 3);
    assert_eq!(second.amount, "-250.50");
    assert_eq!(second.reference, "", "unquoted empty (NULL) reads as \"\"");
    assert_eq!(second.description, "Pago proveedor\nlínea 2 del concepto");
    assert_eq!(second.counterparty_name, "Papelería \"El Lápiz\"");
    assert_eq!(second.counterparty_account, "");

    let third = &lines[2];
    assert_eq!(third.provenance.line, 5);
    assert_eq!(third.booked_at, "");
    assert_eq!(third.reference, "", "quoted empty string reads as \"\"");
    assert_eq!(third.description, "");
    assert_eq!(third.counterparty_name, "");

    let fourth = &lines[3];
    assert_eq!(fourth.provenance.line, 6);
    assert_eq!(fourth.amount, "12345678901234.56", "amounts stay text");
    assert_eq!(fourth.description, "Abono, transferencia SPEI");
    assert_eq!(fourth.counterparty_name, "Ñandú Comercial");
    assert_eq!(fourth.provenance.to_string(), format!("{}:6", path.display()));
}

#[test]
fn odoo_csv_export() {
    let lines = read_moves_csv(data("odoo_move_lines.csv"), &Layout::odoo_default()).unwrap();
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first.provenance.line, 2);
    assert_eq!(first.id, "__export__.account_move_line_52542_2692c41e");
    assert_eq!(first.move_name, "BNK1/2024/00012");
    assert_eq!(first.date, "2024-03-01");
    assert_eq!(first.journal_id, "Banco STP");
    assert_eq!(first.account_id, "102.01.01 Bancos STP");
    assert_eq!(first.partner_id, "Conekta, S.A.P.I. de C.V.");
    assert_eq!(first.name, "Liquidación Conekta 0598792");
    assert_eq!(first.r#ref, "REF0598792");
    assert_eq!(first.debit, "1500.0");
    assert_eq!(first.credit, "0.0");
    assert_eq!(first.amount_currency, "1500.0");
    assert_eq!(first.currency_id, "MXN");
    assert_eq!(first.parent_state, "posted");
    assert_eq!(lines[2].partner_id, "");
    assert_eq!(lines[2].credit, "250.5");
    assert_eq!(lines[2].parent_state, "draft");
    // Dispatch by extension reads the same.
    assert_eq!(read_moves(data("odoo_move_lines.csv"), &Layout::odoo_default()).unwrap(), lines);
}

#[test]
fn bank_export_read_by_toml_layout_only() {
    let text = fs::read_to_string(data("bank_layout.toml")).unwrap();
    let layout: Layout = toml::from_str(&text).unwrap();
    assert_eq!(
        layout,
        Layout::default()
            .with_delimiter(';')
            .with_column("value_date", "Fecha")
            .with_column("amount", "Importe")
            .with_column("reference", "Referencia")
            .with_column("description", "Concepto")
    );
    layout.validate::<RawStatementLine>().unwrap();

    let lines = read_statements(data("bank_statement.csv"), &layout).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].value_date, "01/03/2024");
    assert_eq!(lines[0].amount, "1.500,00");
    assert_eq!(lines[0].reference, "0598792");
    assert_eq!(lines[0].description, "SPEI RECIBIDO CONEKTA");
    // Optional fields the layout leaves out read as "".
    assert_eq!(lines[0].id, "");
    assert_eq!(lines[0].account, "");
    assert_eq!(lines[0].currency, "");
    assert_eq!(lines[0].booked_at, "");
    assert_eq!(lines[1].provenance.line, 3);
    assert_eq!(lines[1].description, "COMISIÓN; IVA incluido");
    assert_eq!(lines[1].reference, "");
    assert_eq!(lines[1].amount, "-12,50");
}

#[test]
fn layout_toml_rejects_unknown_keys_and_layout_rejects_unknown_fields() {
    let typo = "delimiter = \";\"\ndelimeter = \",\"\n";
    let err = toml::from_str::<Layout>(typo).unwrap_err();
    assert!(err.to_string().contains("delimeter"), "{err}");

    let layout = Layout::default().with_column("amout", "Importe");
    let err = layout.validate::<RawStatementLine>().unwrap_err();
    assert!(matches!(err, Error::InvalidLayout { .. }), "{err:?}");
    assert!(err.to_string().contains("amout"), "{err}");

    // A move-line field is not a statement-line field.
    let err = Layout::odoo_default().validate::<RawStatementLine>().unwrap_err();
    assert!(err.to_string().contains("statement lines"), "{err}");

    let err = Layout::default().with_delimiter('§').validate::<RawStatementLine>().unwrap_err();
    assert!(err.to_string().contains("delimiter"), "{err}");

    let err = Layout::default().with_column("amount", " ").validate::<RawStatementLine>().unwrap_err();
    assert!(err.to_string().contains("empty column name"), "{err}");
}

#[test]
fn unmapped_required_fields_default_to_their_own_name() {
    // No columns mapped: value_date and amount (required) come from columns
    // of those names; every optional field is "".
    let lines = read_statements_csv(data("neon_statements.csv"), &Layout::default()).unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0].value_date, "2024-03-01");
    assert_eq!(lines[0].amount, "1500.00");
    assert_eq!(lines[0].id, "");
    assert_eq!(lines[0].description, "");

    // Two fields may read the same column.
    let layout = Layout::neon_default().with_column("booked_at", "value_date");
    let lines = read_statements_csv(data("neon_statements.csv"), &layout).unwrap();
    assert_eq!(lines[2].booked_at, "2024-03-02");
}

#[test]
fn lines_are_physical_with_crlf_blank_lines_and_lone_cr() {
    // The csv crate's own line numbers are wrong for CRLF and after blank
    // lines; the reader counts lines itself.
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u64]); 5] = [
        ("value_date,amount\n1,a\n2,b\n", &[2, 3]),
        ("value_date,amount\r\n1,a\r\n2,b\r\n", &[2, 3]),
        ("value_date,amount\r\n\r\n1,a\r\n\r\n\r\n2,b", &[3, 6]),
        ("value_date,amount\n1,\"x\r\ny\n\nz\"\n\n2,b\n", &[2, 7]),
        ("value_date,amount\r1,a\r2,\"b\r\"\r3,c\r", &[2, 3, 5]),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.csv"));
        fs::write(&path, text).unwrap();
        let lines: Vec<u64> =
            read_statements_csv(&path, &Layout::default()).unwrap().iter().map(|l| l.provenance.line).collect();
        assert_eq!(&lines, expected, "{text:?}");
    }

    // A ragged record after CRLF lines is reported on its own line too.
    let path = dir.path().join("ragged.csv");
    fs::write(&path, "value_date,amount\r\n1,a\r\n\r\n2,b,c\r\n").unwrap();
    let err = read_statements_csv(&path, &Layout::default()).unwrap_err();
    assert!(matches!(err, Error::RaggedRow { line: 4, .. }), "{err:?}");
}

#[test]
fn bom_crlf_and_padded_header_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.csv");
    fs::write(&path, "\u{FEFF}value_date , amount\r\n2024-03-01,1.00\r\n2024-03-02,\"2.00\"\r\n").unwrap();
    let lines = read_statements_csv(&path, &Layout::default()).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].value_date, "2024-03-01");
    assert_eq!(lines[1].amount, "2.00");
    assert_eq!(lines[1].provenance.line, 3);
}

// ---------------------------------------------------------------------------
// Parquet
// ---------------------------------------------------------------------------

#[test]
fn parquet_round_trip_of_raw_records() {
    let dir = tempfile::tempdir().unwrap();
    let statements = read_statements_csv(data("neon_statements.csv"), &Layout::neon_default()).unwrap();
    let moves = read_moves_csv(data("odoo_move_lines.csv"), &Layout::odoo_default()).unwrap();

    let pq = dir.path().join("statements.parquet");
    write_statements_parquet(&pq, &statements).unwrap();
    let back = read_statements_parquet(&pq, &Layout::neon_default()).unwrap();
    assert_eq!(back.len(), statements.len());
    for (row, (a, b)) in statements.iter().zip(&back).enumerate() {
        assert_eq!(fields(a), fields(b));
        assert_eq!(b.provenance.file.as_ref(), pq.as_path());
        assert_eq!(b.provenance.line, row as u64 + 1, "Parquet line = row + 1");
    }

    // `.pq` is Parquet too, and dispatch picks it by extension.
    let pq = dir.path().join("moves.PQ");
    assert_eq!(Format::from_path(&pq).unwrap(), Format::Parquet);
    write_moves_parquet(&pq, &moves).unwrap();
    let back = read_moves(&pq, &Layout::odoo_default()).unwrap();
    assert_eq!(back.iter().map(fields).collect::<Vec<_>>(), moves.iter().map(fields).collect::<Vec<_>>());
}

#[test]
fn csv_round_trip_of_raw_records() {
    let dir = tempfile::tempdir().unwrap();
    let statements = read_statements_csv(data("neon_statements.csv"), &Layout::neon_default()).unwrap();
    let out = dir.path().join("statements.csv");
    write_statements_csv(&out, &statements).unwrap();
    let back = read_statements_csv(&out, &Layout::neon_default()).unwrap();
    assert_eq!(back.iter().map(fields).collect::<Vec<_>>(), statements.iter().map(fields).collect::<Vec<_>>());
    assert_eq!(
        fs::read_to_string(&out).unwrap().lines().next().unwrap(),
        "id,account,booked_at,value_date,amount,currency,reference,description,counterparty_name,counterparty_account"
    );
}

#[test]
fn parquet_typed_columns_nulls_and_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.parquet");
    // 2024-03-01 is day 19783 since the epoch.
    let dates = Column::new("Fecha".into(), [19783i32, 19784, 19785, 19786, 19787]).cast(&DataType::Date).unwrap();
    let mut frame = DataFrame::new(
        5,
        vec![
            dates,
            Column::new("Importe".into(), [Some("1.00"), None, Some("-3.50"), Some("4"), Some("")]),
            Column::new("Folio".into(), [1i64, 2, 3, 4, 5]),
            Column::new("Extra".into(), [0.5f64, 1.5, 2.5, 3.5, 4.5]),
        ],
    )
    .unwrap();
    ParquetWriter::new(fs::File::create(&path).unwrap()).with_row_group_size(Some(2)).finish(&mut frame).unwrap();

    let layout = Layout::default()
        .with_column("value_date", "Fecha")
        .with_column("amount", "Importe")
        .with_column("id", "Folio")
        .with_column("reference", "Extra");
    let mut seen = Vec::new();
    for_each_statement(&path, &layout, |line| {
        seen.push(line);
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!(seen.len(), 5);
    // Floats become polars' text for them (money should not be stored as
    // floats, but if it is, the text is what the core parses).
    assert_eq!(seen.iter().map(|l| l.reference.as_str()).collect::<Vec<_>>(), ["0.5", "1.5", "2.5", "3.5", "4.5"]);
    let got: Vec<(u64, &str, &str, &str)> =
        seen.iter().map(|l| (l.provenance.line, l.id.as_str(), l.value_date.as_str(), l.amount.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (1, "1", "2024-03-01", "1.00"),
            (2, "2", "2024-03-02", ""),
            (3, "3", "2024-03-03", "-3.50"),
            (4, "4", "2024-03-04", "4"),
            (5, "5", "2024-03-05", ""),
        ]
    );

    // The callback's error stops the reading and comes back as is.
    let mut calls = 0;
    let result = for_each_statement(&path, &layout, |_| {
        calls += 1;
        if calls == 3 { Err(StopOrIo::Stop) } else { Ok(()) }
    });
    assert_eq!(result, Err(StopOrIo::Stop));
    assert_eq!(calls, 3);
}

/// A caller's own error type for `for_each_statement`.
#[derive(Debug, PartialEq)]
enum StopOrIo {
    Stop,
    Io(String),
}

impl From<Error> for StopOrIo {
    fn from(e: Error) -> Self {
        StopOrIo::Io(e.to_string())
    }
}

#[test]
fn parquet_missing_column_names_file_column_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moves.parquet");
    let moves = read_moves_csv(data("odoo_move_lines.csv"), &Layout::odoo_default()).unwrap();
    write_moves_parquet(&path, &moves).unwrap();
    let err = read_statements_parquet(&path, &Layout::default()).unwrap_err();
    match &err {
        Error::MissingColumn { path: p, field, column, header } => {
            assert_eq!(p, &path);
            assert_eq!(*field, "value_date");
            assert_eq!(column, "value_date");
            assert!(header.contains(&"move_name".to_owned()));
        }
        other => panic!("unexpected {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn missing_required_column_names_file_column_and_header() {
    let path = data("neon_missing_amount.csv");
    let err = read_statements_csv(&path, &Layout::neon_default()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(&err, Error::MissingColumn { field: "amount", column, .. } if column == "amount"), "{err:?}");
    assert!(message.contains("neon_missing_amount.csv"), "{message}");
    assert!(message.contains("\"amount\""), "{message}");
    assert!(message.contains("counterparty_account"), "header shown: {message}");

    // An empty file has an empty header.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    fs::write(&empty, "").unwrap();
    let err = read_statements_csv(&empty, &Layout::neon_default()).unwrap_err();
    assert!(matches!(&err, Error::MissingColumn { header, .. } if header.is_empty()), "{err:?}");
}

#[test]
fn duplicate_header_column_is_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.csv");
    fs::write(&path, "value_date,amount,amount\n2024-03-01,1,2\n").unwrap();
    let err = read_statements_csv(&path, &Layout::default()).unwrap_err();
    assert!(matches!(&err, Error::DuplicateColumn { field: "amount", .. }), "{err:?}");
}

#[test]
fn ragged_row_names_file_and_line_and_iteration_can_go_on() {
    let path = data("neon_ragged.csv");
    let err = read_statements_csv(&path, &Layout::neon_default()).unwrap_err();
    match &err {
        Error::RaggedRow { path: p, line, expected, found } => {
            assert_eq!(p, &path);
            // Record 1001 spans lines 2-3; the ragged record starts on line 4.
            assert_eq!(*line, 4);
            assert_eq!((*expected, *found), (10, 11));
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("neon_ragged.csv: line 4:"), "{message}");

    // Streaming lets a caller set the bad record aside and go on.
    let results: Vec<_> = open_csv::<RawStatementLine>(&path, &Layout::neon_default()).unwrap().collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().id, "1001");
    assert!(results[1].is_err());
    let last = results[2].as_ref().unwrap();
    assert_eq!((last.id.as_str(), last.provenance.line), ("1003", 5));
}

#[test]
fn non_utf8_byte_names_file_line_column_and_value() {
    let path = data("neon_non_utf8.csv");
    let err = read_statements_csv(&path, &Layout::neon_default()).unwrap_err();
    match &err {
        Error::InvalidUtf8 { path: p, line, column, value } => {
            assert_eq!(p, &path);
            assert_eq!(*line, 3);
            assert_eq!(column, "description");
            assert_eq!(value, "Liquidaci\u{FFFD}n Conekta");
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("neon_non_utf8.csv: line 3:"), "{message}");
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn unknown_extension_is_rejected() {
    let err = read_statements("statements.xlsx", &Layout::neon_default()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("statements.xlsx"));
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err = read_statements_csv("/nonexistent/x.csv", &Layout::neon_default()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/x.csv"));
}

// ---------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------

fn sample_table() -> Table {
    let mut table = Table::new(["statement_id", "move_id", "amount", "note"]);
    table.push_row(["1001", "__export__.account_move_line_52542_2692c41e", "1500.00", ""]);
    table.push_row(["1002", "", "-250.50", "línea 1, \"dos\"\nlínea 2"]);
    table
}

#[test]
fn table_csv_and_parquet_are_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table();

    let csv_path = dir.path().join("matches.csv");
    write_table(&csv_path, &table).unwrap();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), table.columns);
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(rows, table.rows);

    let pq_path = dir.path().join("matches.parquet");
    write_table(&pq_path, &table).unwrap();
    let frame = ParquetReader::new(fs::File::open(&pq_path).unwrap()).finish().unwrap();
    assert_eq!(frame.shape(), (2, 4));
    let note = frame.column("note").unwrap();
    assert_eq!(note.dtype(), &DataType::String);
    assert_eq!(note.str().unwrap().get(1), Some("línea 1, \"dos\"\nlínea 2"));

    // Nothing but the two outputs is left in the directory.
    assert_eq!(entries(dir.path()), vec!["matches.csv", "matches.parquet"]);
}

#[test]
fn atomic_write_leaves_nothing_when_the_rename_fails() {
    let dir = tempfile::tempdir().unwrap();
    // The target is an existing directory: the final rename must fail.
    let target = dir.path().join("out.csv");
    fs::create_dir(&target).unwrap();
    for result in [write_table_csv(&target, &sample_table()), write_table_parquet(&target, &sample_table())] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("out.csv"), "{err}");
    }
    assert!(target.is_dir(), "the directory is untouched");
    assert_eq!(entries(&target), Vec::<String>::new());
    assert_eq!(entries(dir.path()), vec!["out.csv"], "no temporary file left");
}

#[test]
fn atomic_write_of_a_ragged_table_leaves_no_file_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = sample_table();
    bad.push_row(["1003", "x"]);

    for name in ["new.csv", "new.parquet"] {
        let path = dir.path().join(name);
        let err = write_table(&path, &bad).unwrap_err();
        match &err {
            Error::RowWidth { row, expected, found, .. } => assert_eq!((*row, *expected, *found), (3, 4, 2)),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains(name), "{err}");
        assert!(!path.exists());
    }
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    // A failed rewrite keeps the previous file as it was.
    let path = dir.path().join("kept.csv");
    write_table_csv(&path, &sample_table()).unwrap();
    let before = fs::read(&path).unwrap();
    write_table_csv(&path, &bad).unwrap_err();
    assert_eq!(fs::read(&path).unwrap(), before);

    let mut dup = Table::new(["a", "a"]);
    dup.push_row(["1", "2"]);
    let err = write_table_csv(dir.path().join("dup.csv"), &dup).unwrap_err();
    assert!(matches!(err, Error::DuplicateTableColumn { .. }), "{err:?}");
    assert_eq!(entries(dir.path()), vec!["kept.csv"]);
}

// ---------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------

#[test]
fn blake3_fingerprint_streams_the_file() {
    let path = data("neon_statements.csv");
    let expected = blake3::hash(&fs::read(&path).unwrap()).to_hex().to_string();
    assert_eq!(blake3_file(&path).unwrap(), expected);

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::write(&empty, "").unwrap();
    assert_eq!(blake3_file(&empty).unwrap(), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assert!(matches!(blake3_file(dir.path().join("absent")), Err(Error::Io { .. })));
}

#[test]
fn records_know_their_fields() {
    assert_eq!(
        RawStatementLine::FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(","),
        "id,account,booked_at,value_date,amount,currency,reference,description,counterparty_name,counterparty_account"
    );
    assert_eq!(
        RawMoveLine::FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(","),
        "id,move_name,date,journal_id,account_id,partner_id,name,ref,debit,credit,amount_currency,currency_id,parent_state"
    );
}

/// Chunks read into the buffers of chunks handed back hold what reading record by record gives:
/// the same fields, lines and errors, with records of different lengths reusing one another's
/// buffers (a quoted line break, a ragged row, a long record after short ones).
#[test]
fn recycled_chunks_read_what_records_read() {
    for name in ["neon_statements.csv", "neon_ragged.csv", "neon_non_utf8.csv"] {
        let path = data(name);
        let layout = Layout::neon_default();
        let expected: Vec<Result<(u64, Vec<String>), String>> = open_csv::<RawStatementLine>(&path, &layout)
            .unwrap()
            .map(|record| record.map(|r| (r.provenance.line, fields(&r))).map_err(|e| e.to_string()))
            .collect();
        for rows in [1, 2] {
            let mut records = open_csv::<RawStatementLine>(&path, &layout).unwrap();
            let mut read = Vec::new();
            while let Some(chunk) = records.next_chunk(rows) {
                for index in 0..chunk.len() {
                    read.push(match chunk.get(index).unwrap() {
                        Ok(view) => Ok((
                            view.line(),
                            (0..RawStatementLine::FIELDS.len()).map(|i| view.field(i).unwrap().to_owned()).collect(),
                        )),
                        Err(error) => Err(error.to_string()),
                    });
                }
                records.recycle(chunk);
            }
            assert_eq!(read, expected, "{name} in chunks of {rows}");
        }
    }
}
