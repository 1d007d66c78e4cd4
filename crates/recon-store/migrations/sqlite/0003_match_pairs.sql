-- One-to-one matches keep their two items in the match row (SQLite). Keep equivalent to
-- migrations/postgres/0003_match_pairs.sql.
-- Nine matches in ten pair one statement line with one journal item. Their items now live in
-- matches.statement_id and matches.move_id (both set, or both NULL), found by two partial indexes;
-- match_items keeps the items of every other shape (settlements of several journal items,
-- one-sided manual dispositions), automatic or manual alike.
-- A match's items are the pair's two plus its match_items rows. A nightly million-line run writes
-- 0.9 M rows into two small indexes instead of 2 M rows into a table and two indexes.

ALTER TABLE matches ADD COLUMN statement_id TEXT;
ALTER TABLE matches ADD COLUMN move_id TEXT;

UPDATE matches SET
    statement_id = (SELECT mi.item_id FROM match_items mi
                    WHERE mi.match_id = matches.match_id AND mi.side = 'statement'),
    move_id = (SELECT mi.item_id FROM match_items mi
               WHERE mi.match_id = matches.match_id AND mi.side = 'move')
WHERE match_id IN (
    SELECT match_id FROM match_items GROUP BY match_id
    HAVING SUM(CASE WHEN side = 'statement' THEN 1 ELSE 0 END) = 1
       AND SUM(CASE WHEN side = 'move' THEN 1 ELSE 0 END) = 1
       AND COUNT(*) = 2
);
DELETE FROM match_items WHERE match_id IN (SELECT match_id FROM matches WHERE statement_id IS NOT NULL);

CREATE INDEX matches_statement ON matches (statement_id) WHERE statement_id IS NOT NULL;
CREATE INDEX matches_move ON matches (move_id) WHERE move_id IS NOT NULL;
