//! A person closing a case.

use crate::codec::instant;
use crate::db::{Conn, Param};
use crate::error::StoreError;
use crate::model::{CaseClosure, CaseEventKind, CaseResolution, CaseStatus};
use crate::store::Store;
use crate::write::insert_events;

const OP: &str = "resolve_case";

impl Store {
    /// Closes an open case as resolved or ignored, recording the operator, the corrective
    /// action and the prevention, with a `resolved` or `ignored` event. Fails with
    /// [`StoreError::CaseNotFound`] or [`StoreError::CaseNotOpen`].
    pub async fn resolve_case(&self, resolution: &CaseResolution) -> Result<(), StoreError> {
        let case_id = resolution.case_id.as_str();
        if resolution.operator.trim().is_empty() {
            return Err(StoreError::invalid(OP, format!("case {case_id}"), "operator is empty"));
        }
        let mut tx = self.begin(OP, case_id).await?;
        let mut conn = tx.conn();
        ensure_open(&mut conn, case_id).await?;
        let (new_status, event) = match resolution.closure {
            CaseClosure::Resolved => (CaseStatus::Resolved, CaseEventKind::Resolved),
            CaseClosure::Ignored => (CaseStatus::Ignored, CaseEventKind::Ignored),
        };
        close_case(&mut conn, resolution, new_status, event).await?;
        tx.commit().await.map_err(StoreError::db("resolve_case: commit", case_id))?;
        tracing::info!(case_id, operator = %resolution.operator, status = %new_status, "case closed by operator");
        Ok(())
    }
}

/// Fails unless the case exists and is open.
async fn ensure_open(conn: &mut Conn<'_>, case_id: &str) -> Result<(), StoreError> {
    let rows = conn
        .fetch_all("SELECT status FROM cases WHERE case_id = $1", vec![case_id.into()])
        .await
        .map_err(StoreError::db(OP, case_id))?;
    let status = match rows.first() {
        None => return Err(StoreError::CaseNotFound { case_id: case_id.to_owned() }),
        Some(row) => row.text("status")?,
    };
    if status == CaseStatus::Open.as_str() {
        Ok(())
    } else {
        Err(StoreError::CaseNotOpen { case_id: case_id.to_owned(), status })
    }
}

/// Sets the closing fields and records the operator's event.
async fn close_case(
    conn: &mut Conn<'_>,
    resolution: &CaseResolution,
    new_status: CaseStatus,
    event: CaseEventKind,
) -> Result<(), StoreError> {
    let case_id = resolution.case_id.as_str();
    let at = instant(resolution.at);
    conn.execute(
        "UPDATE cases SET status = $1, resolved_at = $2, resolved_by = $3, corrective_action = $4, \
         prevention = $5, resolved_by_run_id = NULL WHERE case_id = $6 AND status = 'open'",
        vec![
            new_status.as_str().into(),
            at.as_str().into(),
            resolution.operator.as_str().into(),
            resolution.corrective_action.as_str().into(),
            resolution.prevention.as_str().into(),
            case_id.into(),
        ],
    )
    .await
    .map_err(StoreError::db(OP, case_id))?;
    let note = format!("corrective action: {}; prevention: {}", resolution.corrective_action, resolution.prevention);
    let event_row = vec![
        case_id.into(),
        Param::OptText(None),
        at.into(),
        event.as_str().into(),
        Some(resolution.operator.clone()).into(),
        Some(note).into(),
    ];
    insert_events(conn, vec![event_row]).await.map_err(StoreError::db("resolve_case: insert event", case_id))?;
    Ok(())
}
