-- 0010: the request log, in every database that holds grain state (docs/exactly-once.md).
--
-- Shards' own table, not Orleans'. A grain command that carries a request ID is logged here in the same transaction
-- as the state change it made, by Shards' own write (ShardWriteStatements): a write alone runs Orleans' compare-and-set
-- write (orleans_storage_write) and inserts the log row only when that write stored the new version, in one statement;
-- a group commit inserts the log rows of all its writes after them and takes out those of writes that met a version
-- conflict before it commits. Either way a row exists exactly when its change was stored. The primary key makes a second application impossible: a write that would log
-- a request already logged for the grain fails (unique violation, nothing stored), which Shards answers as a version
-- conflict, after which the grain reloads its state and its log and answers the original outcome.
--
--   * grainidhash, requestid: the key, narrow on purpose (an int and a uuid per index entry): grainidhash is the hash
--     Orleans' storage keys the grain's row with (orleans_storage.grainidhash), so one index serves both lookups, a
--     grain's rows at activation and one request of a grain; serviceid, graintypestring and grainkey name the grain.
--   * expires_at: the request's deadline plus the clock-skew allowance. No copy of the request is applied after its
--     deadline, so an activation only loads the rows not yet expired; a row is kept for the retention after that so
--     that a late retry can still be told its outcome, then pruned (shards_request_log_prune).
--   * outcome: the answer the request got (Orleans' serializer), returned to a retry as is.
-- Rows move with their grain's state when a resharding moves it (ShardRows).
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_request_log
(
    grainidhash     integer     NOT NULL,
    requestid       uuid        NOT NULL,
    serviceid       text        NOT NULL,
    graintypestring text        NOT NULL,
    grainkey        text        NOT NULL,
    expires_at      timestamptz NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    outcome         bytea,
    CONSTRAINT shards_request_log_pk PRIMARY KEY (grainidhash, requestid)
);

-- Pruning scans by expiry; rows arrive roughly in expiry order, so a BRIN index costs next to nothing per insert.
CREATE INDEX IF NOT EXISTS shards_request_log_expiry_brin ON shards_request_log USING brin (expires_at);

-- Deletes at most p_limit rows that expired more than p_retention ago; returns how many. Called by each silo's
-- pruner; a silo that finds another pruning the same database skips its turn.
CREATE OR REPLACE FUNCTION shards_request_log_prune(p_retention interval, p_limit integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_deleted integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('shards_request_log_prune')) THEN
        RETURN 0;
    END IF;

    DELETE FROM shards_request_log AS l
     WHERE l.ctid = ANY (ARRAY(SELECT p.ctid
                                 FROM shards_request_log AS p
                                WHERE p.expires_at < now() - p_retention
                                LIMIT p_limit));
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$fn$;
