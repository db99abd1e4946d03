-- 0010: the request log, in every database that holds grain state (docs/exactly-once.md).
--
-- Shards' own table and function, not Orleans'. A grain command that carries a request ID is logged here in the
-- same transaction as the state change it made: shards_storage_write_logged inserts the log row first and then calls
-- Orleans' write (orleans_storage_write); when the write's version check fails, the row is taken out again, so a row
-- exists exactly when its change was stored. The primary key makes a second application impossible: a write that
-- would log a request already logged for the grain stores nothing and answers a version conflict, after which the
-- grain reloads its state and its log and answers the original outcome.
--
--   * expires_at: the request's deadline plus the clock-skew allowance. No copy of the request is applied after its
--     deadline, so an activation only loads the rows not yet expired; a row is kept for the retention after that so
--     that a late retry can still be told its outcome, then pruned (shards_request_log_prune).
--   * outcome: the answer the request got (Orleans' serializer), returned to a retry as is.
-- Rows move with their grain's state when a resharding moves it (ShardRows).
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_request_log
(
    serviceid       text        NOT NULL,
    graintypestring text        NOT NULL,
    grainkey        text        NOT NULL,
    requestid       uuid        NOT NULL,
    expires_at      timestamptz NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    outcome         bytea,
    CONSTRAINT shards_request_log_pk PRIMARY KEY (serviceid, graintypestring, grainkey, requestid)
);

-- Pruning scans by expiry; rows arrive roughly in expiry order, so a BRIN index costs next to nothing per insert.
CREATE INDEX IF NOT EXISTS shards_request_log_expiry_brin ON shards_request_log USING brin (expires_at);

-- Orleans' write plus the request's log row, atomically. Returns the new version, or NULL on a version conflict
-- (which includes: the request is already logged for this grain). p_requestid NULL: exactly orleans_storage_write.
CREATE OR REPLACE FUNCTION shards_storage_write_logged(
    p_grainidhash            integer,
    p_grainidn0              bigint,
    p_grainidn1              bigint,
    p_graintypehash          integer,
    p_graintypestring        text,
    p_grainidextensionstring text,
    p_serviceid              text,
    p_grainstateversion      integer,
    p_payloadbinary          bytea,
    p_requestid              uuid,
    p_expires_at             timestamptz,
    p_outcome                bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new    integer;
    v_logged integer;
BEGIN
    IF p_requestid IS NOT NULL THEN
        INSERT INTO shards_request_log (serviceid, graintypestring, grainkey, requestid, expires_at, outcome)
        VALUES (p_serviceid, p_graintypestring, coalesce(p_grainidextensionstring, ''), p_requestid, p_expires_at, p_outcome)
        ON CONFLICT ON CONSTRAINT shards_request_log_pk DO NOTHING;
        GET DIAGNOSTICS v_logged = ROW_COUNT;
        IF v_logged = 0 THEN
            RETURN NULL;
        END IF;
    END IF;

    v_new := orleans_storage_write(p_grainidhash, p_grainidn0, p_grainidn1, p_graintypehash, p_graintypestring,
                                   p_grainidextensionstring, p_serviceid, p_grainstateversion, p_payloadbinary);

    IF v_new IS NULL AND p_requestid IS NOT NULL THEN
        DELETE FROM shards_request_log AS l
         WHERE l.serviceid = p_serviceid
           AND l.graintypestring = p_graintypestring
           AND l.grainkey = coalesce(p_grainidextensionstring, '')
           AND l.requestid = p_requestid;
    END IF;

    RETURN v_new;
END
$fn$;

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
