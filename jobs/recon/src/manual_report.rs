//! What people read about a manual run: the dry run on the terminal (also stored with a proposal for
//! its approver), and the Markdown report an applied run writes — scope, inputs and their blake3,
//! operators, decisions, cases touched, KPI before and after — ready to attach to a ticket.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use recon_core::matching::{KpiCell, KpiReport};
use recon_store::{CaseStatus, ItemSide, RunInput};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Settings;
use crate::manual_decisions::{Closure, Decision, DecisionKind, ManualScope};
use crate::manual_plan::{DecisionsRecord, Operators, Plan};
use crate::terminal::{TextTable, grouped, percent};

/// A money amount for people: `1,000.00 MXN`.
fn money(amount: recon_core::money::Money) -> String {
    format!("{} {}", grouped(&amount.to_decimal().to_string()), amount.currency)
}

/// `statement 884203` or `Odoo line BBVA/2026/00420 (id ...)`.
fn odoo_lines(ids: &[String], names: &[String]) -> String {
    let shown: Vec<String> = ids.iter().zip(names).map(|(id, name)| format!("{name} ({id})")).collect();
    shown.join(" + ")
}

/// One sentence per decision: what it does to which lines, with the amounts.
pub fn decision_sentence(decision: &Decision) -> String {
    match &decision.kind {
        DecisionKind::Match(m) => {
            let sums = match m.difference {
                None => format!("{} = {}", money(m.bank), money(m.odoo)),
                Some(difference) => format!(
                    "bank {} vs Odoo {}, difference {} named",
                    money(m.bank),
                    money(m.odoo),
                    grouped(&difference.to_string())
                ),
            };
            format!(
                "statement {} matched by hand with Odoo {}: {sums}",
                m.statement_ids.join(" + "),
                odoo_lines(&m.move_line_ids, &m.move_names)
            )
        }
        DecisionKind::Ignore(i) => match i.side {
            ItemSide::Statement => format!("statement {} ({}) ignored by hand", i.id, money(i.amount)),
            ItemSide::Move => format!(
                "Odoo line {} ({}) ignored by hand",
                odoo_lines(std::slice::from_ref(&i.id), &[i.move_name.clone().unwrap_or_default()]),
                money(i.amount)
            ),
        },
        DecisionKind::Reopen(r) => {
            let withdrawn = if r.withdrawn_match_ids.is_empty() {
                String::new()
            } else {
                format!("; withdraws ignore disposition {}", r.withdrawn_match_ids.join(", "))
            };
            format!("case {} ({}, {}) reopened{withdrawn}", r.case_id, r.kind, r.status)
        }
    }
}

fn action_name(decision: &Decision) -> &'static str {
    match decision.kind {
        DecisionKind::Match(_) => "match",
        DecisionKind::Ignore(_) => "ignore",
        DecisionKind::Reopen(_) => "reopen",
    }
}

/// One account's KPI (or all accounts') before and after the decisions.
#[derive(Clone, Debug, Serialize)]
pub struct KpiChange {
    /// CLABE, or `all accounts`.
    pub account: String,
    /// Configured name.
    pub name: String,
    /// Currency (`*` across currencies).
    pub currency: String,
    /// Statement lines.
    pub statement_lines: u64,
    /// Matched before.
    pub matched_before: u64,
    /// Count rate before.
    pub count_rate_before: Option<Decimal>,
    /// Matched after (manual included).
    pub matched_after: u64,
    /// Of which reconciled by hand (this run's decisions and earlier ones).
    pub manual_after: u64,
    /// Count rate after.
    pub count_rate_after: Option<Decimal>,
    /// Amount rate before (one currency only).
    pub amount_rate_before: Option<Decimal>,
    /// Amount rate after.
    pub amount_rate_after: Option<Decimal>,
}

impl KpiChange {
    fn new(account: &str, name: &str, currency: &str, before: &KpiCell, after: &KpiCell, amounts: bool) -> KpiChange {
        KpiChange {
            account: account.to_owned(),
            name: name.to_owned(),
            currency: currency.to_owned(),
            statement_lines: after.statement_lines,
            matched_before: before.matched_lines,
            count_rate_before: before.count_rate,
            matched_after: after.matched_lines,
            manual_after: after.manual_lines,
            count_rate_after: after.count_rate,
            amount_rate_before: if amounts { before.amount_rate } else { None },
            amount_rate_after: if amounts { after.amount_rate } else { None },
        }
    }
}

/// An exception as one line.
#[derive(Clone, Debug, Serialize)]
pub struct CaseLine {
    /// Case id.
    pub case_id: String,
    /// Kind.
    pub kind: String,
    /// Account.
    pub account: String,
    /// Business date.
    pub business_date: NaiveDate,
    /// Amount and currency.
    pub amount: String,
    /// One sentence.
    pub summary: String,
}

/// What a decision set changes, in people's terms.
#[derive(Clone, Debug, Serialize)]
pub struct Preview {
    /// Scope.
    pub scope: ManualScope,
    /// The decisions file.
    pub decisions_file: DecisionsRecord,
    /// BLAKE3 of the configuration.
    pub config_blake3: String,
    /// Inputs.
    pub inputs: Vec<RunInput>,
    /// The decisions.
    pub decisions: Vec<Decision>,
    /// One sentence per decision, in the same order.
    pub sentences: Vec<String>,
    /// Open cases the decisions close.
    pub closures: Vec<Closure>,
    /// Exceptions found after the decisions but not before (a candidate left over, ...).
    pub new_exceptions: Vec<CaseLine>,
    /// KPI per account of the scope, then all accounts.
    pub kpi: Vec<KpiChange>,
    /// The alert line.
    pub threshold: Decimal,
}

impl Preview {
    /// The preview of a plan.
    pub fn new(plan: &Plan, settings: &Settings, decisions_file: &DecisionsRecord) -> Preview {
        let before_ids: std::collections::HashSet<&str> =
            plan.before.exceptions.iter().map(|e| e.case_id.as_str()).collect();
        let new_exceptions = plan
            .after
            .exceptions
            .iter()
            .filter(|e| !before_ids.contains(e.case_id.as_str()))
            .map(|e| CaseLine {
                case_id: e.case_id.clone(),
                kind: e.kind.as_str().to_owned(),
                account: e.account.clone(),
                business_date: e.business_date,
                amount: money(e.amount),
                summary: e.summary.clone(),
            })
            .collect();
        Preview {
            scope: plan.scope.clone(),
            decisions_file: decisions_file.clone(),
            config_blake3: settings.blake3.clone(),
            inputs: plan.run_inputs.clone(),
            sentences: plan.validated.decisions.iter().map(decision_sentence).collect(),
            decisions: plan.validated.decisions.clone(),
            closures: plan.validated.closures.clone(),
            new_exceptions,
            kpi: kpi_changes(&plan.before.kpi, &plan.after.kpi, settings, &plan.scope),
            threshold: settings.match_config.kpi_threshold,
        }
    }
}

fn kpi_changes(before: &KpiReport, after: &KpiReport, settings: &Settings, scope: &ManualScope) -> Vec<KpiChange> {
    let empty = KpiCell::default();
    let mut changes: Vec<KpiChange> = settings
        .accounts
        .iter()
        .filter(|account| scope.accounts.contains(&account.clabe))
        .map(|account| {
            let cell = |report: &KpiReport| report.per_account.get(&account.clabe).cloned().unwrap_or_default();
            KpiChange::new(&account.clabe, &account.name, account.currency.code(), &cell(before), &cell(after), true)
        })
        .collect();
    let one_currency = after.overall_by_currency.len() == 1;
    let currency = if one_currency {
        after.overall_by_currency.keys().next().cloned().unwrap_or_default()
    } else {
        "*".to_owned()
    };
    let (before_all, after_all) = if one_currency {
        (
            before.overall_by_currency.values().next().unwrap_or(&empty),
            after.overall_by_currency.values().next().unwrap_or(&empty),
        )
    } else {
        (&before.overall, &after.overall)
    };
    changes.push(KpiChange::new("all accounts", "", &currency, before_all, after_all, one_currency));
    changes
}

fn rate(rate: Option<Decimal>) -> String {
    percent(rate)
}

/// The dry run as printed.
pub fn dry_run_text(preview: &Preview) -> String {
    let mut out = String::new();
    let file = &preview.decisions_file;
    let _ =
        writeln!(out, "recon manual: decisions {} (blake3 {})", file.file, &file.blake3[..16.min(file.blake3.len())]);
    let scope = &preview.scope;
    let _ = writeln!(
        out,
        "Scope: accounts {}; business dates {}; lines read for context {}",
        scope.accounts.join(", "),
        scope.range,
        scope.context
    );
    for input in &preview.inputs {
        let _ =
            writeln!(out, "  {:<6} {}  {} rows  blake3 {}", input.name, input.path, input.rows, &input.blake3[..16]);
    }
    let _ = writeln!(out, "\nDecisions ({}, all valid)", preview.decisions.len());
    for (decision, sentence) in preview.decisions.iter().zip(&preview.sentences) {
        let _ = writeln!(
            out,
            "  line {:<4} {:<6} {sentence}\n              reason: {}",
            decision.line,
            action_name(decision),
            decision.reason
        );
    }
    let _ = writeln!(out, "\nCases the decisions close");
    if preview.closures.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for closure in &preview.closures {
        let lines: Vec<String> = closure.lines.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "  {}  {}  open -> {}  (line {})\n      {}",
            closure.case_id,
            closure.kind,
            closure.to,
            lines.join(", "),
            closure.summary
        );
    }
    let reopens: Vec<&Decision> =
        preview.decisions.iter().filter(|d| matches!(d.kind, DecisionKind::Reopen(_))).collect();
    let _ = writeln!(out, "\nCases reopened");
    if reopens.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for decision in reopens {
        if let DecisionKind::Reopen(r) = &decision.kind {
            let _ = writeln!(out, "  {}  {}  {} -> open  (line {})", r.case_id, r.kind, r.status, decision.line);
        }
    }
    let _ = writeln!(out, "\nExceptions found after the decisions and not before (the run opens these cases)");
    if preview.new_exceptions.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for case in &preview.new_exceptions {
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}  {}\n      {}",
            case.case_id, case.kind, case.account, case.business_date, case.amount, case.summary
        );
    }
    let _ = writeln!(out, "\nKPI before -> after (alert below {})", rate(Some(preview.threshold)));
    out.push_str(&kpi_table(&preview.kpi).render(2));
    out
}

fn kpi_table(changes: &[KpiChange]) -> TextTable {
    let mut table = TextTable::new(&[
        "ACCOUNT",
        "NAME",
        "CUR",
        ">LINES",
        ">MATCHED BEFORE",
        ">RATE BEFORE",
        ">MATCHED AFTER",
        ">OF WHICH MANUAL",
        ">RATE AFTER",
        ">AMOUNT RATE BEFORE",
        ">AMOUNT RATE AFTER",
    ]);
    for change in changes {
        let amount = |value: Option<Decimal>| if value.is_some() { rate(value) } else { String::new() };
        table.row(vec![
            change.account.clone(),
            change.name.clone(),
            change.currency.clone(),
            change.statement_lines.to_string(),
            change.matched_before.to_string(),
            rate(change.count_rate_before),
            change.matched_after.to_string(),
            change.manual_after.to_string(),
            rate(change.count_rate_after),
            amount(change.amount_rate_before),
            amount(change.amount_rate_after),
        ]);
    }
    table
}

/// A Markdown table cell: no pipe, no line break.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// What the Markdown report names besides the preview.
pub struct ReportContext<'a> {
    /// The run.
    pub run_id: &'a str,
    /// When it was applied (every row it wrote carries this instant).
    pub applied_at: DateTime<Utc>,
    /// Who.
    pub operators: &'a Operators,
    /// True when the configuration required a second operator's approval.
    pub four_eyes: bool,
}

/// The Markdown report of an applied manual run.
pub fn markdown(preview: &Preview, context: &ReportContext<'_>, settings: &Settings) -> String {
    let mut out = String::new();
    let operators = context.operators;
    let _ = writeln!(out, "# Manual reconciliation run {}\n", context.run_id);
    let _ = writeln!(
        out,
        "Applied {} by {}. Proposal `{}` (the run's correlation id). Four-eyes approval: {}.\n",
        when(context.applied_at),
        cell(&operators.applied_by),
        operators.proposal_id,
        if context.four_eyes { "required" } else { "not required by the configuration" }
    );
    markdown_scope(&mut out, preview, settings);
    markdown_operators(&mut out, context);
    markdown_decisions(&mut out, preview);
    markdown_cases(&mut out, preview);
    markdown_kpi(&mut out, preview);
    out
}

fn markdown_scope(out: &mut String, preview: &Preview, settings: &Settings) {
    let scope = &preview.scope;
    let accounts: Vec<String> = settings
        .accounts
        .iter()
        .filter(|a| scope.accounts.contains(&a.clabe))
        .map(|a| format!("`{}` ({}, {})", a.clabe, cell(&a.name), a.currency))
        .collect();
    let _ = writeln!(out, "## Scope\n\n| | |\n|---|---|");
    let _ = writeln!(out, "| Accounts | {} |", accounts.join(", "));
    let _ = writeln!(out, "| Business dates | {} to {} |", scope.range.from, scope.range.to);
    let _ = writeln!(out, "| Lines read for context | {} to {} |\n", scope.context.from, scope.context.to);
    let _ = writeln!(out, "## Inputs\n\n| input | file | rows | blake3 |\n|---|---|---:|---|");
    for input in &preview.inputs {
        let _ =
            writeln!(out, "| {} | `{}` | {} | `{}` |", cell(&input.name), cell(&input.path), input.rows, input.blake3);
    }
    let file = &preview.decisions_file;
    let _ = writeln!(
        out,
        "| decisions | `{}` | {} decisions | `{}` |",
        cell(&file.file),
        preview.decisions.len(),
        file.blake3
    );
    let _ = writeln!(out, "| configuration | | | `{}` |\n", preview.config_blake3);
}

fn markdown_operators(out: &mut String, context: &ReportContext<'_>) {
    let operators = context.operators;
    let note = |note: &Option<String>| note.as_deref().map(cell).unwrap_or_default();
    let _ = writeln!(out, "## Operators\n\n| step | operator | at | note |\n|---|---|---|---|");
    let _ = writeln!(
        out,
        "| proposed | {} | {} | {} |",
        cell(&operators.proposed_by),
        when(operators.proposed_at),
        note(&operators.proposal_note)
    );
    match (&operators.approved_by, operators.approved_at) {
        (Some(by), Some(at)) => {
            let _ = writeln!(out, "| approved | {} | {} | {} |", cell(by), when(at), note(&operators.approval_note));
        }
        _ => {
            let _ = writeln!(out, "| approved | (not required) | | |");
        }
    }
    let _ = writeln!(out, "| applied | {} | {} | |\n", cell(&operators.applied_by), when(context.applied_at));
}

fn markdown_decisions(out: &mut String, preview: &Preview) {
    let _ = writeln!(
        out,
        "## Decisions\n\n| line | action | account | business date | what | reason |\n|---:|---|---|---|---|---|"
    );
    for (decision, sentence) in preview.decisions.iter().zip(&preview.sentences) {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            decision.line,
            action_name(decision),
            decision.account,
            decision.business_date,
            cell(sentence),
            cell(&decision.reason)
        );
    }
    out.push('\n');
}

fn markdown_cases(out: &mut String, preview: &Preview) {
    let _ = writeln!(
        out,
        "## Cases touched\n\n| case | kind | before | after | decision lines | summary |\n|---|---|---|---|---|---|"
    );
    for closure in &preview.closures {
        let lines: Vec<String> = closure.lines.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            closure.case_id,
            closure.kind,
            CaseStatus::Open,
            closure.to,
            lines.join(", "),
            cell(&closure.summary)
        );
    }
    for decision in &preview.decisions {
        if let DecisionKind::Reopen(r) = &decision.kind {
            let _ = writeln!(out, "| `{}` | {} | {} | open | {} | |", r.case_id, r.kind, r.status, decision.line);
        }
    }
    if preview.new_exceptions.is_empty() {
        let _ = writeln!(out, "\nNo exception appears that was not there before the decisions.\n");
        return;
    }
    let _ = writeln!(out, "\nExceptions found after the decisions and not before (cases this run opens):\n");
    let _ = writeln!(out, "| case | kind | account | business date | amount | summary |\n|---|---|---|---|---:|---|");
    for case in &preview.new_exceptions {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} | {} |",
            case.case_id,
            case.kind,
            case.account,
            case.business_date,
            case.amount,
            cell(&case.summary)
        );
    }
    out.push('\n');
}

fn markdown_kpi(out: &mut String, preview: &Preview) {
    let _ = writeln!(
        out,
        "## KPI before and after\n\nCount rate = matched statement lines / statement lines of the business dates; alert below {}.\n",
        rate(Some(preview.threshold))
    );
    let _ = writeln!(
        out,
        "| account | name | currency | lines | matched before | count rate before | matched after | of which by hand | count rate after | amount rate before | amount rate after |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for change in &preview.kpi {
        let amount = |value: Option<Decimal>| if value.is_some() { rate(value) } else { "—".to_owned() };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if change.account == "all accounts" {
                "**all accounts**".to_owned()
            } else {
                format!("`{}`", change.account)
            },
            cell(&change.name),
            change.currency,
            change.statement_lines,
            change.matched_before,
            rate(change.count_rate_before),
            change.matched_after,
            change.manual_after,
            rate(change.count_rate_after),
            amount(change.amount_rate_before),
            amount(change.amount_rate_after),
        );
    }
}
