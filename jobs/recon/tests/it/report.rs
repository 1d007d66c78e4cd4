//! `recon report --html`: the same rates as `recon kpi` and as the stored runs, and a page a person
//! can look at (rendered by headless Chromium; `RECON_UPDATE_EXPECT=1` keeps the picture in
//! `docs/report-demo.png`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::support::{FROM, TO, Workspace, demo, run};

const NBSP: char = '\u{a0}';
const CHROMIUM: &str = "/usr/bin/chromium";

fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

/// `0.7500` as the report writes it: `75.00 %` (rounded toward zero).
fn percent(rate: &str) -> String {
    let mut hundredths = (Decimal::from_str_exact(rate).unwrap() * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, RoundingStrategy::ToZero);
    hundredths.rescale(2);
    format!("{hundredths}{NBSP}%")
}

/// The count rate of each account (and `all`) summed from the stored KPI rows, as the KPI rounds it.
fn stored_rates(workspace: &Workspace) -> BTreeMap<String, String> {
    let store = workspace.store();
    let rows = tokio::runtime::Runtime::new().unwrap().block_on(async move {
        let store = recon_store::Store::open(&store).await.unwrap();
        let rows = store.kpi_rows(FROM.parse().unwrap(), TO.parse().unwrap(), None).await.unwrap();
        store.close().await;
        rows
    });
    let mut sums: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in &rows {
        for key in [row.kpi.account.clone(), "all".to_owned()] {
            let sum = sums.entry(key).or_default();
            sum.0 += row.kpi.matched_lines;
            sum.1 += row.kpi.statement_lines;
        }
    }
    sums.into_iter()
        .map(|(account, (matched, lines))| {
            let mut rate =
                (Decimal::from(matched) / Decimal::from(lines)).round_dp_with_strategy(4, RoundingStrategy::ToZero);
            rate.rescale(4);
            (account, rate.to_string())
        })
        .collect()
}

fn write_report(workspace: &Workspace, name: &str, extra: &[&str]) -> String {
    let html = workspace.path(name);
    let mut command = workspace.recon(&["report", "--from", FROM, "--to", TO]);
    command.arg("--html").arg(&html).args(extra);
    run(&mut command).expect_code(0);
    std::fs::read_to_string(html).unwrap()
}

#[test]
fn kpi_and_html_report_agree_with_the_stored_runs() {
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    // A manual run is the latest run of the range: both read its KPI rows.
    let decisions = workspace.path("decisions.csv");
    std::fs::write(
        &decisions,
        "action,statement_ids,move_line_ids,case_id,difference,reason\nignore,884110,,,,Returned\n",
    )
    .unwrap();
    let mut apply =
        workspace.recon(&["manual", "apply", "--from", FROM, "--to", TO, "--operator", "ana", "--decisions"]);
    apply.arg(&decisions).arg("--config").arg(demo("recon.toml"));
    apply.arg("--statements").arg(demo("neon_statement_lines.csv")).arg("--moves").arg(demo("odoo_move_lines.csv"));
    run(apply.arg("--report-dir").arg(workspace.path("reports"))).expect_code(0);

    let stored = stored_rates(&workspace);
    assert_eq!(stored["all"], "0.6956", "16 of 23 after ignoring one line");
    let kpi = run(&mut workspace.recon(&["kpi", "--from", FROM, "--to", TO, "--json"])).expect_code(3);
    let kpi: serde_json::Value = serde_json::from_str(&kpi.stdout).unwrap();
    let html = write_report(&workspace, "report.html", &[]);
    assert_eq!(kpi["overall"]["count_rate"], stored["all"].as_str());
    let tile = format!(
        "<div class=\"label\">Count rate, all accounts</div><div class=\"value\">{}</div>",
        percent(&stored["all"])
    );
    assert!(html.contains(&tile), "{tile:?} not in the report");
    let accounts = kpi["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3);
    for account in accounts {
        let clabe = account["account"].as_str().unwrap();
        let (count_rate, amount_rate) =
            (account["count_rate"].as_str().unwrap(), account["amount_rate"].as_str().unwrap());
        assert_eq!(count_rate, stored[clabe], "kpi and store disagree on {clabe}");
        let heading = format!(
            "Account <span class=\"mono\">{clabe}</span> · {} <span class=\"pill",
            account["currency"].as_str().unwrap()
        );
        let section = &html[html.find(&heading).unwrap_or_else(|| panic!("no section for {clabe}"))..];
        let pill = format!("{} over the range</span>", percent(count_rate));
        assert!(section[..400].contains(&pill), "{pill:?} not in {}", &section[..400]);
        let footer = &section[section.find("<tfoot>").unwrap()..section.find("</tfoot>").unwrap()];
        assert!(footer.contains(&format!("<td class=\"num\">{}</td></tr>", percent(amount_rate))), "{footer}");
    }

    // One account: the same as `recon kpi --account`.
    let bbva = "012180001198765436";
    let kpi =
        run(&mut workspace.recon(&["kpi", "--from", FROM, "--to", TO, "--account", bbva, "--json"])).expect_code(3);
    let kpi: serde_json::Value = serde_json::from_str(&kpi.stdout).unwrap();
    let html = write_report(&workspace, "bbva.html", &["--account", bbva]);
    assert_eq!(html.matches("<div class=\"account\">").count(), 1);
    let rate = kpi["overall"]["count_rate"].as_str().unwrap();
    assert!(html.contains(&format!("<div class=\"value\">{}</div>", percent(rate))), "BBVA rate {rate}");
    assert!(!html.contains("646180111805034237"), "open cases of other accounts are left out");
}

/// Width and height from a PNG's IHDR chunk, which always comes first.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let read = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (read(16), read(20))
}

#[test]
fn html_report_of_the_demo_store_renders_in_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: this test looks at the report in a real browser; run `apt-get install chromium`"
    );
    let workspace = Workspace::new();
    workspace.run_demo(&[]).expect_code(3);
    let html =
        write_report(&workspace, "demo.html", &["--title", "recon demo: KPI of the week 2026-10-12 to 2026-10-16"]);
    assert!(
        !html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    let png_path = workspace.path("demo.png");
    let output = Command::new(workspace_path("scripts/screenshot-report.sh"))
        .arg(workspace.path("demo.html"))
        .arg(&png_path)
        .output()
        .unwrap();
    assert!(output.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&output.stderr));
    let png = std::fs::read(&png_path).unwrap();
    assert_eq!(png_size(&png), (1280, 1800));
    // A blank page of that size compresses to a few kilobytes; text, tables and charts do not.
    assert!(png.len() > 60_000, "the screenshot looks empty: {} bytes", png.len());
    if std::env::var_os("RECON_UPDATE_EXPECT").is_some() {
        std::fs::write(workspace_path("docs/report-demo.png"), &png).unwrap();
    }
}
