//! The per-account chart: count rate per business date on a 0–100 % axis, the threshold as a
//! dashed line, nights below it in red with their value, nights without a KPI row greyed.
//!
//! Coordinates are computed with [`Decimal`] and written with at most one decimal: the project
//! keeps floats away from anything near money, and the chart needs no more precision than that.

use std::fmt::{self, Write as _};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::data::{AccountKpi, NightKpi, ReportData};
use crate::format::{self, coordinate, escape};

/// Size of the drawing, in SVG user units (pixels at 100 % zoom).
const WIDTH: i64 = 540;
const HEIGHT: i64 = 252;
/// The plot area inside the drawing; the margins hold the axis labels and the threshold label.
const PLOT_LEFT: i64 = 60;
const PLOT_RIGHT: i64 = 468;
const PLOT_TOP: i64 = 14;
const PLOT_BOTTOM: i64 = 206;
/// Space between the plot's edges and the first and last points.
const PLOT_INSET: i64 = 24;
/// At most this many date labels on the x axis; more dates show every n-th label.
const DATE_LABELS_MAX: usize = 12;
/// Points below the threshold carry their value while there are at most this many dates.
const VALUE_LABELS_MAX_DATES: usize = 20;

const COLOR_OK: &str = "#1f5fa8";
const COLOR_BELOW: &str = "#b3261e";
const COLOR_GRID: &str = "#e3e7eb";
const COLOR_MUTED: &str = "#5b6673";

/// Writes the SVG chart of one account. `chart_id` makes the element ids unique in the page.
pub(crate) fn write_account_chart(
    out: &mut String,
    report: &ReportData,
    account: &AccountKpi,
    chart_id: usize,
) -> fmt::Result {
    let dates = &report.business_dates;
    let threshold = format::threshold(report.threshold);
    write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" \
         aria-labelledby=\"chart-{chart_id}-title\" font-size=\"11.5\">\n\
         <title id=\"chart-{chart_id}-title\">Count rate per business date, account {}, threshold {threshold}</title>\n",
        escape(&account.account),
    )?;
    write_axes(out, dates)?;
    let nights: Vec<Option<&NightKpi>> = dates.iter().map(|date| night_on(account, *date)).collect();
    write_gaps(out, &nights, dates)?;
    write_threshold(out, report.threshold, &threshold)?;
    write_line(out, &nights)?;
    write_points(out, report, &nights)?;
    out.push_str("</svg>\n");
    Ok(())
}

/// The account's night on `date`, if it has one with statement lines.
fn night_on(account: &AccountKpi, date: NaiveDate) -> Option<&NightKpi> {
    let index = account.nights.binary_search_by(|night| night.business_date.cmp(&date)).ok()?;
    Some(&account.nights[index]).filter(|night| night.lines.count_rate().is_some())
}

fn x_of(index: usize, count: usize) -> Decimal {
    let left = Decimal::from(PLOT_LEFT + PLOT_INSET);
    let width = Decimal::from(PLOT_RIGHT - PLOT_LEFT - 2 * PLOT_INSET);
    if count <= 1 {
        return left + width / Decimal::TWO;
    }
    left + width * Decimal::from(index) / Decimal::from(count - 1)
}

/// Rates outside `[0, 1]` (bad data, reported elsewhere) are drawn at the nearest edge.
fn y_of(rate: Decimal) -> Decimal {
    let rate = rate.clamp(Decimal::ZERO, Decimal::ONE);
    Decimal::from(PLOT_BOTTOM) - rate * Decimal::from(PLOT_BOTTOM - PLOT_TOP)
}

/// Gridlines every 25 %, the y labels, the date labels and both axis titles.
fn write_axes(out: &mut String, dates: &[NaiveDate]) -> fmt::Result {
    for percent in [0_i64, 25, 50, 75, 100] {
        let y = coordinate(y_of(Decimal::new(percent, 2)));
        let color = if percent == 0 { COLOR_MUTED } else { COLOR_GRID };
        writeln!(
            out,
            "<line x1=\"{PLOT_LEFT}\" y1=\"{y}\" x2=\"{PLOT_RIGHT}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{y}\" dy=\"4\" text-anchor=\"end\" fill=\"{COLOR_MUTED}\">{percent}{}%</text>",
            PLOT_LEFT - 6,
            format::NBSP
        )?;
    }
    let stride = dates.len().div_ceil(DATE_LABELS_MAX).max(1);
    for (index, date) in dates.iter().enumerate().step_by(stride) {
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{COLOR_MUTED}\">{}</text>",
            coordinate(x_of(index, dates.len())),
            PLOT_BOTTOM + 16,
            date.format("%m-%d")
        )?;
    }
    let middle = (PLOT_LEFT + PLOT_RIGHT) / 2;
    writeln!(
        out,
        "<text x=\"{middle}\" y=\"{}\" text-anchor=\"middle\" fill=\"{COLOR_MUTED}\">Business date ({})</text>\n\
         <text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"{COLOR_MUTED}\">\
         Count rate</text>",
        HEIGHT - 8,
        years(dates),
        (PLOT_TOP + PLOT_BOTTOM) / 2,
    )
}

/// `2025`, `2024–2025`, or `no data`: the x labels show month and day only.
fn years(dates: &[NaiveDate]) -> String {
    match (dates.first(), dates.last()) {
        (Some(first), Some(last)) if first.year() == last.year() => format!("{}, month-day", first.year()),
        (Some(first), Some(last)) => format!("{}\u{2013}{}, month-day", first.year(), last.year()),
        _ => "no data".to_owned(),
    }
}

/// A grey band on each date where this account has no KPI row (or no statement lines).
fn write_gaps(out: &mut String, nights: &[Option<&NightKpi>], dates: &[NaiveDate]) -> fmt::Result {
    let band_width = Decimal::from(16);
    for (index, date) in dates.iter().enumerate() {
        if nights[index].is_some() {
            continue;
        }
        let x = x_of(index, dates.len());
        writeln!(
            out,
            "<g class=\"gap\"><title>{date}: no KPI row for this account</title>\
             <rect x=\"{}\" y=\"{PLOT_TOP}\" width=\"{}\" height=\"{}\" fill=\"#eef0f3\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{COLOR_MUTED}\">n/a</text></g>",
            coordinate(x - band_width / Decimal::TWO),
            coordinate(band_width),
            PLOT_BOTTOM - PLOT_TOP,
            coordinate(x),
            PLOT_BOTTOM - 6,
        )?;
    }
    Ok(())
}

/// The dashed threshold line, labelled in the right margin.
fn write_threshold(out: &mut String, threshold: Decimal, label: &str) -> fmt::Result {
    let y = coordinate(y_of(threshold));
    writeln!(
        out,
        "<line class=\"threshold\" x1=\"{PLOT_LEFT}\" y1=\"{y}\" x2=\"{PLOT_RIGHT}\" y2=\"{y}\" \
         stroke=\"{COLOR_BELOW}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{}\" y=\"{y}\" dy=\"4\" fill=\"{COLOR_BELOW}\" font-weight=\"600\">{label}</text>\
         <text x=\"{}\" y=\"{y}\" dy=\"17\" fill=\"{COLOR_BELOW}\">threshold</text>",
        PLOT_RIGHT + 6,
        PLOT_RIGHT + 6,
    )
}

/// The count-rate line, broken where a night is missing.
fn write_line(out: &mut String, nights: &[Option<&NightKpi>]) -> fmt::Result {
    let mut path = String::new();
    let mut drawing = false;
    for (index, night) in nights.iter().enumerate() {
        let Some(rate) = night.and_then(|night| night.lines.count_rate()) else {
            drawing = false;
            continue;
        };
        let command = if drawing { 'L' } else { 'M' };
        write!(path, "{command}{} {} ", coordinate(x_of(index, nights.len())), coordinate(y_of(rate)))?;
        drawing = true;
    }
    writeln!(
        out,
        "<path class=\"rate-line\" d=\"{}\" fill=\"none\" stroke=\"{COLOR_OK}\" stroke-width=\"2\" \
         stroke-linejoin=\"round\"/>",
        path.trim_end()
    )
}

/// One marker per night: blue on or above the threshold, larger and red below it, with its value.
fn write_points(out: &mut String, report: &ReportData, nights: &[Option<&NightKpi>]) -> fmt::Result {
    for (index, night) in nights.iter().enumerate() {
        let Some((night, rate)) = night.and_then(|night| Some((night, night.lines.count_rate()?))) else {
            continue;
        };
        let (x, y) = (x_of(index, nights.len()), y_of(rate));
        let below = report.is_below_threshold(Some(rate));
        let (class, radius, color) = if below { ("point below", "5", COLOR_BELOW) } else { ("point", "3.5", COLOR_OK) };
        write!(
            out,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{radius}\" fill=\"{color}\" stroke=\"#fff\" \
             stroke-width=\"1.5\"><title>{}: {} ({} of {} lines matched)</title></circle>",
            coordinate(x),
            coordinate(y),
            night.business_date,
            format::percent(rate),
            format::count(night.lines.matched_lines),
            format::count(night.lines.statement_lines),
        )?;
        if below && nights.len() <= VALUE_LABELS_MAX_DATES {
            // Under the point, unless that would run into the x axis.
            let label_y = if y + Decimal::from(22) < Decimal::from(PLOT_BOTTOM) {
                y + Decimal::from(18)
            } else {
                y - Decimal::from(9)
            };
            write!(
                out,
                "<text class=\"value below\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10.5\" \
                 font-weight=\"600\" fill=\"{COLOR_BELOW}\">{}</text>",
                coordinate(x),
                coordinate(label_y),
                format::percent(rate),
            )?;
        }
        out.push('\n');
    }
    Ok(())
}
