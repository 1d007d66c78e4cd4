-- recon store schema (PostgreSQL). Keep equivalent to migrations/sqlite/0001_init.sql.
-- Differences: BIGINT for integers (sqlx decodes i64 from INT8 only), identity columns,
-- and COLLATE "C" on every TEXT column so that ordering and range comparisons are
-- byte-wise, exactly as in SQLite, whatever the database's locale.
-- Money is TEXT holding a decimal string plus a currency code; counts are BIGINT;
-- timestamps are RFC 3339 UTC text with a fixed width (sortable); dates are YYYY-MM-DD.

CREATE TABLE runs (
    run_id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    mode            TEXT COLLATE "C" NOT NULL CHECK (mode IN ('nightly', 'manual')),
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    operator        TEXT COLLATE "C" NOT NULL,
    correlation_id  TEXT COLLATE "C" NOT NULL,
    scope_json      TEXT COLLATE "C" NOT NULL,
    inputs_json     TEXT COLLATE "C" NOT NULL,
    config_blake3   TEXT COLLATE "C" NOT NULL,
    counts_json     TEXT COLLATE "C",
    kpi_json        TEXT COLLATE "C",
    kpi_count_rate  TEXT COLLATE "C",
    kpi_amount_rate TEXT COLLATE "C",
    kpi_threshold   TEXT COLLATE "C",
    started_at      TEXT COLLATE "C" NOT NULL,
    finished_at     TEXT COLLATE "C",
    timings_json    TEXT COLLATE "C" NOT NULL,
    error           TEXT COLLATE "C"
);
CREATE INDEX runs_status_finished ON runs (status, finished_at);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE run_kpi (
    run_id           TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    account          TEXT COLLATE "C" NOT NULL,
    business_date    TEXT COLLATE "C" NOT NULL,
    statement_lines  BIGINT NOT NULL,
    matched_lines    BIGINT NOT NULL,
    statement_amount TEXT COLLATE "C" NOT NULL,
    matched_amount   TEXT COLLATE "C" NOT NULL,
    currency         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, account, business_date)
);
CREATE INDEX run_kpi_date_account ON run_kpi (business_date, account);

CREATE TABLE matches (
    match_id                TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    rule                    TEXT COLLATE "C" NOT NULL,
    review                  TEXT COLLATE "C" NOT NULL CHECK (review IN ('auto', 'needs_review', 'manual')),
    status                  TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'superseded')),
    account                 TEXT COLLATE "C" NOT NULL,
    business_date           TEXT COLLATE "C" NOT NULL,
    amount                  TEXT COLLATE "C" NOT NULL,
    currency                TEXT COLLATE "C" NOT NULL,
    reference_kind          TEXT COLLATE "C",
    reference               TEXT COLLATE "C",
    date_delta_banking_days BIGINT NOT NULL,
    explanation_json        TEXT COLLATE "C" NOT NULL,
    first_run_id            TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    last_run_id             TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    superseded_by_run_id    TEXT COLLATE "C" REFERENCES runs (run_id),
    created_at              TEXT COLLATE "C" NOT NULL
);
CREATE INDEX matches_scope ON matches (status, account, business_date);

CREATE TABLE match_items (
    match_id TEXT COLLATE "C" NOT NULL REFERENCES matches (match_id),
    side     TEXT COLLATE "C" NOT NULL CHECK (side IN ('statement', 'move')),
    item_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (match_id, side, item_id)
);
CREATE INDEX match_items_item ON match_items (side, item_id);

CREATE TABLE cases (
    case_id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL,
    status             TEXT COLLATE "C" NOT NULL CHECK (status IN ('open', 'resolved', 'ignored')),
    account            TEXT COLLATE "C" NOT NULL,
    business_date      TEXT COLLATE "C" NOT NULL,
    amount             TEXT COLLATE "C",
    currency           TEXT COLLATE "C",
    summary            TEXT COLLATE "C" NOT NULL,
    evidence_json      TEXT COLLATE "C" NOT NULL,
    external_ids_json  TEXT COLLATE "C" NOT NULL,
    correlation_id     TEXT COLLATE "C" NOT NULL,
    opened_at          TEXT COLLATE "C" NOT NULL,
    first_run_id       TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    last_run_id        TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    resolved_at        TEXT COLLATE "C",
    resolved_by_run_id TEXT COLLATE "C" REFERENCES runs (run_id),
    resolved_by        TEXT COLLATE "C",
    corrective_action  TEXT COLLATE "C",
    prevention         TEXT COLLATE "C"
);
CREATE INDEX cases_scope ON cases (status, account, business_date);
CREATE INDEX cases_kind ON cases (kind);

CREATE TABLE case_items (
    case_id     TEXT COLLATE "C" NOT NULL REFERENCES cases (case_id),
    side        TEXT COLLATE "C" NOT NULL CHECK (side IN ('statement', 'move')),
    item_id     TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C",
    PRIMARY KEY (case_id, side, item_id)
);

CREATE TABLE case_events (
    event_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id  TEXT COLLATE "C" NOT NULL REFERENCES cases (case_id),
    run_id   TEXT COLLATE "C" REFERENCES runs (run_id),
    at       TEXT COLLATE "C" NOT NULL,
    event    TEXT COLLATE "C" NOT NULL CHECK (event IN ('opened', 'seen', 'resolved', 'reopened', 'ignored')),
    operator TEXT COLLATE "C",
    note     TEXT COLLATE "C"
);
CREATE INDEX case_events_case ON case_events (case_id, event_id);

CREATE TABLE quarantine (
    quarantine_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        TEXT COLLATE "C" NOT NULL REFERENCES runs (run_id),
    source        TEXT COLLATE "C" NOT NULL,
    file          TEXT COLLATE "C" NOT NULL,
    line          BIGINT NOT NULL,
    column_name   TEXT COLLATE "C",
    value         TEXT COLLATE "C",
    reason        TEXT COLLATE "C" NOT NULL,
    raw           TEXT COLLATE "C" NOT NULL
);
CREATE INDEX quarantine_run ON quarantine (run_id);
