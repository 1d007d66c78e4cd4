//! Queries for the CLI.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::codec::{count_from_db, date, from_json, parse_date, parse_instant, parse_opt_instant};
use crate::db::{DbRow, Param, Sql};
use crate::error::StoreError;
use crate::model::{
    CaseDetail, CaseEvent, CaseEventKind, CaseFilter, CaseItemRef, CaseRecord, CaseStatus, ItemRef, ItemSide,
    KpiRecord, KpiRow, MatchFilter, MatchRecord, MatchReview, MatchStatus, QuarantineRow, RunFilter, RunHeader, RunKpi,
    RunMode, RunRecord, RunStatus,
};
use crate::store::Store;

impl Store {
    /// Runs matching `filter`, newest first (by start time).
    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM runs WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_bind(" AND status = ", status.as_str());
        }
        if let Some(mode) = filter.mode {
            sql.push_bind(" AND mode = ", mode.as_str());
        }
        sql.push(" ORDER BY started_at DESC, run_id DESC");
        if let Some(limit) = filter.limit {
            sql.push_bind(" LIMIT ", i64::from(limit));
        }
        let rows = self.fetch("runs", &format!("{filter:?}"), sql).await?;
        rows.iter().map(run_from_row).collect()
    }

    /// The succeeded run that finished last, if any.
    pub async fn last_successful_run(&self) -> Result<Option<RunRecord>, StoreError> {
        let sql =
            Sql::new("SELECT * FROM runs WHERE status = 'succeeded' ORDER BY finished_at DESC, run_id DESC LIMIT 1");
        let rows = self.fetch("last_successful_run", "", sql).await?;
        rows.first().map(run_from_row).transpose()
    }

    /// Per-account, per-day KPI rows with business dates in `[date_from, date_to]`,
    /// restricted to `accounts` when given. For each account and date the row of the
    /// succeeded run that finished last wins. Ordered by date, then account.
    pub async fn kpi_rows(
        &self,
        date_from: NaiveDate,
        date_to: NaiveDate,
        accounts: Option<&[String]>,
    ) -> Result<Vec<KpiRecord>, StoreError> {
        let mut sql =
            Sql::new("SELECT k.* FROM run_kpi k JOIN runs r ON r.run_id = k.run_id WHERE r.status = 'succeeded'");
        sql.push_bind(" AND k.business_date >= ", date(date_from)).push_bind(" AND k.business_date <= ", date(date_to));
        if let Some(accounts) = accounts {
            if accounts.is_empty() {
                return Ok(Vec::new());
            }
            sql.push(" AND k.account IN ").push_in_list(accounts.iter());
        }
        sql.push(
            " AND NOT EXISTS (SELECT 1 FROM run_kpi k2 JOIN runs r2 ON r2.run_id = k2.run_id \
               WHERE r2.status = 'succeeded' AND k2.account = k.account AND k2.business_date = k.business_date \
                 AND (r2.finished_at > r.finished_at OR (r2.finished_at = r.finished_at AND r2.run_id > r.run_id))) \
             ORDER BY k.business_date, k.account",
        );
        let rows = self.fetch("kpi_rows", &format!("{date_from}..={date_to}"), sql).await?;
        rows.iter().map(kpi_from_row).collect()
    }

    /// Cases matching `filter`, ordered by case id.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRecord>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM cases WHERE 1 = 1");
        if let Some(status) = filter.status {
            sql.push_bind(" AND status = ", status.as_str());
        }
        if let Some(kind) = &filter.kind {
            sql.push_bind(" AND kind = ", kind);
        }
        push_place_filter(&mut sql, "", &filter.account, filter.date_from, filter.date_to);
        sql.push(" ORDER BY case_id");
        let rows = self.fetch("cases", &format!("{filter:?}"), sql).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// One case with its items and audit trail, or `None` if no case has this id.
    pub async fn case(&self, case_id: &str) -> Result<Option<CaseDetail>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM cases WHERE ");
        sql.push_bind("case_id = ", case_id);
        let Some(row) = self.fetch("case", case_id, sql).await?.into_iter().next() else {
            return Ok(None);
        };
        let case = case_from_row(&row)?;
        let mut sql = Sql::new("SELECT * FROM case_items WHERE ");
        sql.push_bind("case_id = ", case_id).push(" ORDER BY side, item_id");
        let items = self.fetch("case: items", case_id, sql).await?;
        let mut sql = Sql::new("SELECT * FROM case_events WHERE ");
        sql.push_bind("case_id = ", case_id).push(" ORDER BY event_id");
        let events = self.fetch("case: events", case_id, sql).await?;
        Ok(Some(CaseDetail {
            case,
            items: items.iter().map(case_item_from_row).collect::<Result<_, _>>()?,
            events: events.iter().map(event_from_row).collect::<Result<_, _>>()?,
        }))
    }

    /// Number of open cases per kind.
    pub async fn open_case_counts_by_kind(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let sql = Sql::new("SELECT kind, COUNT(*) AS open_cases FROM cases WHERE status = 'open' GROUP BY kind");
        let rows = self.fetch("open_case_counts_by_kind", "", sql).await?;
        rows.iter()
            .map(|row| Ok((row.text("kind")?, count_from_db(row.int("open_cases")?, "cases", "count")?)))
            .collect()
    }

    /// Matches matching `filter`, with their items, ordered by match id.
    pub async fn matches(&self, filter: &MatchFilter) -> Result<Vec<MatchRecord>, StoreError> {
        let context = format!("{filter:?}");
        let mut sql = Sql::new("SELECT m.* FROM matches m WHERE 1 = 1");
        push_match_filter(&mut sql, filter);
        sql.push(" ORDER BY m.match_id");
        let rows = self.fetch("matches", &context, sql).await?;
        let mut sql = Sql::new(
            "SELECT mi.match_id, mi.side, mi.item_id FROM match_items mi \
             JOIN matches m ON m.match_id = mi.match_id WHERE 1 = 1",
        );
        push_match_filter(&mut sql, filter);
        sql.push(" ORDER BY mi.match_id, mi.side, mi.item_id");
        let mut items: HashMap<String, Vec<ItemRef>> = HashMap::new();
        for row in self.fetch("matches: items", &context, sql).await? {
            let item = ItemRef { side: ItemSide::from_db(&row.text("side")?)?, item_id: row.text("item_id")? };
            items.entry(row.text("match_id")?).or_default().push(item);
        }
        rows.iter().map(|row| match_from_row(row, &mut items)).collect()
    }

    /// The rows a run quarantined, in the order they were written.
    pub async fn quarantined_rows(&self, run_id: &str) -> Result<Vec<QuarantineRow>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM quarantine WHERE ");
        sql.push_bind("run_id = ", run_id).push(" ORDER BY quarantine_id");
        let rows = self.fetch("quarantined_rows", run_id, sql).await?;
        rows.iter().map(quarantine_from_row).collect()
    }

    /// Runs a query on a pooled connection.
    pub(crate) async fn fetch(
        &self,
        operation: &'static str,
        context: &str,
        sql: Sql<'_>,
    ) -> Result<Vec<DbRow>, StoreError> {
        let mut pooled = self.acquire(operation, context).await?;
        let rows = pooled.conn().fetch_all(&sql.text, sql.params).await.map_err(StoreError::db(operation, context))?;
        pooled.finish().await.map_err(StoreError::db(operation, context))?;
        Ok(rows)
    }
}

/// Appends account and business date conditions on columns prefixed by `prefix`.
fn push_place_filter<'a>(
    sql: &mut Sql<'a>,
    prefix: &str,
    account: &'a Option<String>,
    date_from: Option<NaiveDate>,
    date_to: Option<NaiveDate>,
) {
    if let Some(account) = account {
        sql.push_bind(&format!(" AND {prefix}account = "), account);
    }
    if let Some(from) = date_from {
        sql.push_bind(&format!(" AND {prefix}business_date >= "), date(from));
    }
    if let Some(to) = date_to {
        sql.push_bind(&format!(" AND {prefix}business_date <= "), date(to));
    }
}

fn push_match_filter<'a>(sql: &mut Sql<'a>, filter: &'a MatchFilter) {
    if let Some(status) = filter.status {
        sql.push_bind(" AND m.status = ", status.as_str());
    }
    if let Some(review) = filter.review {
        // A literal, not a parameter: the partial index `matches_manual` (migration 0004) serves
        // `review = 'manual'` only when the planner sees the constant. The text is one of the enum's
        // fixed values, never input.
        sql.push(" AND m.review = '").push(review.as_str()).push("'");
    }
    if let Some(run_id) = &filter.last_run_id {
        sql.push_bind(" AND m.last_run_id = ", Param::from(run_id));
    }
    push_place_filter(sql, "m.", &filter.account, filter.date_from, filter.date_to);
}

fn run_from_row(row: &DbRow) -> Result<RunRecord, StoreError> {
    let finished_at =
        row.opt_text("finished_at")?.ok_or_else(|| crate::codec::corrupt("runs", "finished_at", "NULL"))?;
    let header = RunHeader {
        run_id: row.text("run_id")?,
        mode: RunMode::from_db(&row.text("mode")?)?,
        operator: row.text("operator")?,
        correlation_id: row.text("correlation_id")?,
        scope: from_json(&row.text("scope_json")?, "runs", "scope_json")?,
        inputs: from_json(&row.text("inputs_json")?, "runs", "inputs_json")?,
        config_blake3: row.text("config_blake3")?,
        started_at: parse_instant(&row.text("started_at")?, "runs", "started_at")?,
        finished_at: parse_instant(&finished_at, "runs", "finished_at")?,
        timings: from_json(&row.text("timings_json")?, "runs", "timings_json")?,
    };
    Ok(RunRecord {
        header,
        status: RunStatus::from_db(&row.text("status")?)?,
        counts: row.opt_text("counts_json")?.map(|text| from_json(&text, "runs", "counts_json")).transpose()?,
        kpi: run_kpi_from_row(row)?,
        error: row.opt_text("error")?,
    })
}

fn run_kpi_from_row(row: &DbRow) -> Result<Option<RunKpi>, StoreError> {
    let Some(report) = row.opt_text("kpi_json")? else {
        return Ok(None);
    };
    let rate = |column: &'static str| -> Result<String, StoreError> {
        row.opt_text(column)?.ok_or_else(|| crate::codec::corrupt("runs", column, "NULL"))
    };
    Ok(Some(RunKpi {
        report: from_json(&report, "runs", "kpi_json")?,
        count_rate: rate("kpi_count_rate")?,
        amount_rate: rate("kpi_amount_rate")?,
        threshold: rate("kpi_threshold")?,
    }))
}

fn kpi_from_row(row: &DbRow) -> Result<KpiRecord, StoreError> {
    Ok(KpiRecord {
        run_id: row.text("run_id")?,
        kpi: KpiRow {
            account: row.text("account")?,
            business_date: parse_date(&row.text("business_date")?, "run_kpi", "business_date")?,
            statement_lines: count_from_db(row.int("statement_lines")?, "run_kpi", "statement_lines")?,
            matched_lines: count_from_db(row.int("matched_lines")?, "run_kpi", "matched_lines")?,
            statement_amount: row.text("statement_amount")?,
            matched_amount: row.text("matched_amount")?,
            currency: row.text("currency")?,
        },
    })
}

fn case_from_row(row: &DbRow) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        case_id: row.text("case_id")?,
        kind: row.text("kind")?,
        status: CaseStatus::from_db(&row.text("status")?)?,
        account: row.text("account")?,
        business_date: parse_date(&row.text("business_date")?, "cases", "business_date")?,
        amount: row.opt_text("amount")?,
        currency: row.opt_text("currency")?,
        summary: row.text("summary")?,
        evidence: from_json(&row.text("evidence_json")?, "cases", "evidence_json")?,
        external_ids: from_json(&row.text("external_ids_json")?, "cases", "external_ids_json")?,
        correlation_id: row.text("correlation_id")?,
        opened_at: parse_instant(&row.text("opened_at")?, "cases", "opened_at")?,
        first_run_id: row.text("first_run_id")?,
        last_run_id: row.text("last_run_id")?,
        resolved_at: parse_opt_instant(row.opt_text("resolved_at")?, "cases", "resolved_at")?,
        resolved_by_run_id: row.opt_text("resolved_by_run_id")?,
        resolved_by: row.opt_text("resolved_by")?,
        corrective_action: row.opt_text("corrective_action")?,
        prevention: row.opt_text("prevention")?,
    })
}

pub(crate) fn case_item_from_row(row: &DbRow) -> Result<CaseItemRef, StoreError> {
    Ok(CaseItemRef {
        side: ItemSide::from_db(&row.text("side")?)?,
        item_id: row.text("item_id")?,
        fingerprint: row.opt_text("fingerprint")?,
    })
}

fn event_from_row(row: &DbRow) -> Result<CaseEvent, StoreError> {
    Ok(CaseEvent {
        event_id: row.int("event_id")?,
        run_id: row.opt_text("run_id")?,
        at: parse_instant(&row.text("at")?, "case_events", "at")?,
        event: CaseEventKind::from_db(&row.text("event")?)?,
        operator: row.opt_text("operator")?,
        note: row.opt_text("note")?,
    })
}

fn match_from_row(row: &DbRow, items: &mut HashMap<String, Vec<ItemRef>>) -> Result<MatchRecord, StoreError> {
    let match_id = row.text("match_id")?;
    let mut own = items.remove(&match_id).unwrap_or_default();
    // A pair keeps its two items in its row (migration 0003): both ids or neither.
    match (row.opt_text("statement_id")?, row.opt_text("move_id")?) {
        (Some(statement_id), Some(move_id)) => {
            own.push(ItemRef { side: ItemSide::Statement, item_id: statement_id });
            own.push(ItemRef { side: ItemSide::Move, item_id: move_id });
            own.sort_by(|a, b| (a.side.as_str(), &a.item_id).cmp(&(b.side.as_str(), &b.item_id)));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(StoreError::Corrupt {
                table: "matches",
                column: "statement_id, move_id",
                value: format!("match {match_id} has only one of the two ids of a pair"),
            });
        }
    }
    Ok(MatchRecord {
        items: own,
        match_id,
        rule: row.text("rule")?,
        review: MatchReview::from_db(&row.text("review")?)?,
        status: MatchStatus::from_db(&row.text("status")?)?,
        account: row.text("account")?,
        business_date: parse_date(&row.text("business_date")?, "matches", "business_date")?,
        amount: row.text("amount")?,
        currency: row.text("currency")?,
        reference_kind: row.opt_text("reference_kind")?,
        reference: row.opt_text("reference")?,
        date_delta_banking_days: row.int("date_delta_banking_days")?,
        explanation: from_json(&row.text("explanation_json")?, "matches", "explanation_json")?,
        first_run_id: row.text("first_run_id")?,
        last_run_id: row.text("last_run_id")?,
        superseded_by_run_id: row.opt_text("superseded_by_run_id")?,
        created_at: parse_instant(&row.text("created_at")?, "matches", "created_at")?,
    })
}

fn quarantine_from_row(row: &DbRow) -> Result<QuarantineRow, StoreError> {
    Ok(QuarantineRow {
        source: row.text("source")?,
        file: row.text("file")?,
        line: count_from_db(row.int("line")?, "quarantine", "line")?,
        column_name: row.opt_text("column_name")?,
        value: row.opt_text("value")?,
        reason: row.text("reason")?,
        raw: row.text("raw")?,
    })
}
