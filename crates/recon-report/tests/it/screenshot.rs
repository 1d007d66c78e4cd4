//! The fixture report as a person sees it: rendered by headless Chromium through
//! `scripts/screenshot-report.sh`. With `RECON_UPDATE_EXPECT=1` the picture is also copied to
//! `docs/report-screenshot.png`.

use std::path::Path;
use std::process::Command;

use recon_report::render_html;

use crate::fixture::{self, updating, workspace_path};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Width and height from a PNG's IHDR chunk, which always comes first.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR", "a PNG starts with its IHDR chunk");
    let read = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (read(16), read(20))
}

#[test]
fn chromium_renders_the_fixture_report() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: this test looks at the report in a real browser; run `apt-get install chromium`"
    );
    let directory = tempfile::tempdir().unwrap();
    let html_path = directory.path().join("report.html");
    let png_path = directory.path().join("report.png");
    std::fs::write(&html_path, render_html(&fixture::report())).unwrap();
    let output =
        Command::new(workspace_path("scripts/screenshot-report.sh")).arg(&html_path).arg(&png_path).output().unwrap();
    assert!(output.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&output.stderr));
    let png = std::fs::read(&png_path).unwrap();
    assert_eq!(png_size(&png), (1280, 1800));
    // A blank page of that size compresses to a few kilobytes; text, tables and charts do not.
    assert!(png.len() > 60_000, "the screenshot looks empty: {} bytes", png.len());
    if updating() {
        std::fs::write(workspace_path("docs/report-screenshot.png"), &png).unwrap();
    }
}
