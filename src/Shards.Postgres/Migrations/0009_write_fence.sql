-- 0009: the write fence of online resharding, kept and checked by each shard database itself.
--
-- Shards' own column and function, not Orleans': see docs/sharding.md, "The write fence". Orleans' storage
-- statements are unchanged. Every grain write that a silo routed with shard map version V starts its transaction
-- (the same batch, the same round trip) with SELECT shards_write_fence(serviceid, V). It takes a shared lock on this
-- database's identity row of the service, and fails with SQLSTATE SHW01 (its HINT: the oldest version accepted) when
-- V is older than min_write_map_version, so nothing of that transaction is stored. A resharding coordinator raises
-- min_write_map_version to its moving map's version in every shard of the old ring, in its own transaction, before
-- it scans: the UPDATE waits for every write transaction that already passed the check (their rows are then visible
-- to the scan), and every later write routed with an older map is refused, however long it waited on its way.
-- Idempotent: safe to run any number of times.

ALTER TABLE shards_shard_identity ADD COLUMN IF NOT EXISTS min_write_map_version integer NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION shards_write_fence(p_serviceid text, p_map_version integer)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_min integer;
BEGIN
    SELECT i.min_write_map_version INTO v_min
      FROM shards_shard_identity AS i
     WHERE i.serviceid = p_serviceid
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'this database is not a shard of service %: it has no shard identity, so it cannot check the write fence', p_serviceid
            USING ERRCODE = 'SHW02';
    END IF;

    IF p_map_version < v_min THEN
        RAISE EXCEPTION 'this shard no longer accepts writes routed with shard map version % (it accepts version % and later)', p_map_version, v_min
            USING ERRCODE = 'SHW01', HINT = v_min::text; -- not DETAIL: Npgsql redacts it by default
    END IF;

    RETURN v_min;
END
$fn$;
