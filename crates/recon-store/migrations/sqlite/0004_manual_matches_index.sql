-- Manual matches are found without a scan (SQLite). Keep equivalent to
-- migrations/postgres/0004_manual_matches_index.sql.
-- Every run reads the active manual matches first (their lines stay out of the tiers). With only
-- matches_scope to go by, that read visited every active match: 3.5 s at a million, 35 s for a store
-- holding 4.4 M. The partial index holds only manual rows, so automatic matches (nearly all) cost
-- nothing more to insert; queries name the review as a literal ('manual') for the planner to use it.

CREATE INDEX matches_manual ON matches (status) WHERE review = 'manual';
