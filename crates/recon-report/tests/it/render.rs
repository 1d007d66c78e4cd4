//! The rendered page: the fixture report against its expected HTML, and the properties a reviewer
//! would check by eye (escaping, the threshold line, markers below it, no external assets).

use recon_report::{ReportData, render_html};
use rust_decimal::Decimal;

use crate::fixture::{self, case_records, date, generated_at, kpi_records, threshold};

#[test]
fn fixture_report_matches_expected_html() {
    fixture::check_expected("fixture.expected.html", &render_html(&fixture::report()));
}

#[test]
fn text_from_data_is_escaped() {
    let html = render_html(&fixture::report());
    // A summary with markup, an ampersand and double quotes; another with an apostrophe.
    assert!(html.contains("from &quot;ACME &amp; HIJOS S.A. &lt;FACT-8812&gt;&quot; has no Odoo item"));
    assert!(html.contains("to O&#39;Brien Logística"));
    assert!(!html.contains("<FACT-8812>"));
    assert!(!html.contains("\"ACME"));

    let mut kpi = kpi_records();
    kpi[0].kpi.account = "<b>0121</b>&\"x\"".to_owned();
    let title = "Q1 <script>alert('x')</script> & \"co\"";
    let report =
        ReportData::from_records(&kpi, &[], threshold(), generated_at(), date("2025-01-16"), date("2025-01-29"), title)
            .unwrap();
    let html = render_html(&report);
    assert!(html.contains("<title>Q1 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</title>"));
    assert!(html.contains("&lt;b&gt;0121&lt;/b&gt;&amp;&quot;x&quot;"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>0121"));
}

#[test]
fn threshold_line_and_below_threshold_markers_appear() {
    let html = render_html(&fixture::report());
    // One dashed threshold line per account, at 95 %: y = 206 - 0.95 × 192 = 23.6.
    let threshold_line = "<line class=\"threshold\" x1=\"60\" y1=\"23.6\" x2=\"468\" y2=\"23.6\" stroke=\"#b3261e\" \
                          stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>";
    assert_eq!(html.matches(threshold_line).count(), 2, "one threshold line per account");
    // Below 95 %: MXN 2025-01-20 and 2025-01-23; USD 2025-01-17, 01-22, 01-24 and 01-29.
    assert_eq!(html.matches("<circle class=\"point below\"").count(), 6);
    assert_eq!(html.matches("<text class=\"value below\"").count(), 6);
    assert_eq!(html.matches("<td class=\"num rate below\">\u{25bc}").count(), 7, "six nights and the USD range");
    for marker in html.split("<circle class=\"point below\"").skip(1) {
        let cy: &str = marker.split("cy=\"").nth(1).unwrap().split('"').next().unwrap();
        let cy: Decimal = cy.parse().unwrap();
        assert!(cy > Decimal::new(236, 1), "a point below the threshold is drawn under its line: cy={cy}");
    }
    assert!(html.contains("<div class=\"badge alert\">\u{26a0} Below the 95\u{a0}% threshold</div>"));
    assert!(html.contains("Account <span class=\"mono\">012180009876543210</span> (USD): count rate 94.94\u{a0}%"));
    // The USD account has no KPI row on 2025-01-20 (a US bank holiday): a gap, not a zero.
    assert!(html.contains("<g class=\"gap\"><title>2025-01-20: no KPI row for this account</title>"));
}

#[test]
fn page_references_no_external_asset() {
    let html = render_html(&fixture::report());
    for needle in ["http://", "https://", "src=", "<link", "<script", "url(", "@import", "<iframe"] {
        assert!(!html.contains(needle), "the page must stand alone, found {needle:?}");
    }
}

#[test]
fn html_is_identical_whatever_the_input_order() {
    let (mut kpi, mut cases) = (kpi_records(), case_records());
    let expected = render_html(&fixture::report_from(&kpi, &cases));
    kpi.reverse();
    cases.reverse();
    cases.rotate_left(7);
    assert_eq!(render_html(&fixture::report_from(&kpi, &cases)), expected);
}

#[test]
fn no_alert_when_every_night_meets_the_threshold() {
    let mut kpi = kpi_records();
    for record in &mut kpi {
        record.kpi.matched_lines = record.kpi.statement_lines;
    }
    let html = render_html(&fixture::report_from(&kpi, &[]));
    assert!(html.contains("<div class=\"badge ok\">At or above 95\u{a0}% on every night</div>"));
    assert!(!html.contains("badge alert"));
    assert!(!html.contains("class=\"point below\""));
    assert!(html.contains("<p class=\"empty\">No open cases.</p>"));
}

#[test]
fn single_nights_below_with_every_account_above_show_a_warning() {
    let kpi: Vec<_> = kpi_records().into_iter().filter(|record| record.kpi.currency == "MXN").collect();
    let html = render_html(&fixture::report_from(&kpi, &[]));
    assert!(html.contains("<div class=\"badge warn\">2 of 10 nights below 95\u{a0}%</div>"));
    assert!(!html.contains("badge alert"));
}
