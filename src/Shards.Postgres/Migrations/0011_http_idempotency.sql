-- 0011: Idempotency-Key records of the HTTP API (docs/exactly-once.md, "HTTP idempotency"). Used in the main
-- database; applied to every database like the others (a shard database's copy stays empty).
--
-- One row per (service, principal, key): principal is a stable, non-secret identifier of the API key (16 hex
-- digits of a SHA-256 of it, never the key), so each API key has its own keys. A row binds its key to the request
-- it was first used for (method, route, SHA-256 of the body) and holds the request ID and deadline that request's
-- grain calls carry, then its final answer (status, content type, Location, body; NULL while none is stored).
--   * request_id / deadline: replaced together (compare-and-set on the old request ID) when a grain answers that
--     the request expired without being applied.
--   * expires_at: first use + Shards:Api:Idempotency:Retention (24 h), never before the request's deadline; pruned
--     after it by shards_http_idempotency_prune.
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_http_idempotency
(
    serviceid       text        NOT NULL,
    principal       text        NOT NULL,
    idempotency_key text        NOT NULL,
    method          text        NOT NULL,
    route           text        NOT NULL,
    body_sha256     bytea       NOT NULL,
    request_id      uuid        NOT NULL,
    deadline        timestamptz NOT NULL,
    status          integer,
    content_type    text,
    location        text,
    body            bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT shards_http_idempotency_pk PRIMARY KEY (serviceid, principal, idempotency_key)
);

-- Pruning scans by expiry; rows arrive in expiry order, so a BRIN index costs next to nothing per insert.
CREATE INDEX IF NOT EXISTS shards_http_idempotency_expiry_brin ON shards_http_idempotency USING brin (expires_at);

-- Deletes at most p_limit records past their expiry; returns how many. Called by each silo's pruner; a silo that
-- finds another pruning skips its turn.
CREATE OR REPLACE FUNCTION shards_http_idempotency_prune(p_limit integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_deleted integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('shards_http_idempotency_prune')) THEN
        RETURN 0;
    END IF;

    DELETE FROM shards_http_idempotency AS r
     WHERE r.ctid = ANY (ARRAY(SELECT p.ctid
                                 FROM shards_http_idempotency AS p
                                WHERE p.expires_at < now()
                                LIMIT p_limit));
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$fn$;
