-- 0003: grain state for Orleans' ADO.NET grain storage provider (Microsoft.Orleans.Persistence.AdoNet 10.4.2).
--
-- Shards' own schema; the contract is described in docs/orleans-adonet-schema.md. Differences from upstream:
--   * One row per grain state, enforced: a unique key over what identifies it (service id, grain type
--     string, the two numeric key halves and the string key/extension, NULLs equal). Upstream has no unique
--     key and inserts with INSERT ... WHERE NOT EXISTS, so two activations racing during a failover can both
--     insert. Here the first write uses INSERT ... ON CONFLICT DO NOTHING: one wins, the other gets the
--     version-conflict result.
--   * Every write, clear and delete is a compare-and-set on the version (the grain's ETag). A stale writer
--     gets NULL back, which the provider turns into InconsistentStateException; nothing is overwritten.
--   * The hashes (grainidhash, graintypehash) only serve the lookup index; they are not part of the
--     identity, so a changed hash function makes writes conflict instead of creating a second row.
--   * Only PayloadBinary: Orleans 7+ no longer reads PayloadJson/PayloadXml.
-- The storage provider's name is not passed to the queries, so all storage names (catalog, carts, ...)
-- sharing this database share this table; rows are told apart by grain type and id.
--
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS orleans_storage
(
    serviceid              text        NOT NULL,
    graintypestring        text        NOT NULL,
    grainidn0              bigint      NOT NULL,
    grainidn1              bigint      NOT NULL,
    grainidextensionstring text,
    grainidhash            integer     NOT NULL,
    graintypehash          integer     NOT NULL,
    payloadbinary          bytea,
    version                integer     NOT NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_storage_grain_key
        UNIQUE NULLS NOT DISTINCT (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
);

-- Lookup path of every query (string-keyed grains all have grainidn0 = grainidn1 = 0, so the unique key's
-- prefix alone would not be selective).
CREATE INDEX IF NOT EXISTS orleans_storage_hash_idx ON orleans_storage (grainidhash, graintypehash);

-- Versions count 1, 2, ... and wrap to 1 after int.MaxValue instead of failing with an overflow.
CREATE OR REPLACE FUNCTION orleans_storage_next_version(p_version integer)
RETURNS integer
LANGUAGE sql
IMMUTABLE
AS $fn$
    SELECT CASE WHEN p_version >= 2147483647 THEN 1 ELSE p_version + 1 END;
$fn$;

-- WriteToStorageKey. Returns the new version, or NULL on a version conflict:
--   * p_grainstateversion NULL (the grain has no ETag): insert version 1; conflict if a row already exists
--     (written by another activation, or cleared: a cleared row keeps its version).
--   * otherwise: update only if the stored version equals p_grainstateversion; conflict if the row is
--     missing or holds another version.
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grainidhash            integer,
    p_grainidn0              bigint,
    p_grainidn1              bigint,
    p_graintypehash          integer,
    p_graintypestring        text,
    p_grainidextensionstring text,
    p_serviceid              text,
    p_grainstateversion      integer,
    p_payloadbinary          bytea)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_grainstateversion IS NULL THEN
        INSERT INTO orleans_storage AS s
            (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring,
             grainidhash, graintypehash, payloadbinary, version, modifiedon)
        VALUES
            (p_serviceid, p_graintypestring, p_grainidn0, p_grainidn1, p_grainidextensionstring,
             p_grainidhash, p_graintypehash, p_payloadbinary, 1, now())
        ON CONFLICT ON CONSTRAINT orleans_storage_grain_key DO NOTHING
        RETURNING s.version INTO v_new;
        RETURN v_new;
    END IF;

    UPDATE orleans_storage AS s
       SET payloadbinary = p_payloadbinary,
           version = orleans_storage_next_version(s.version),
           modifiedon = now()
     WHERE s.grainidhash = p_grainidhash
       AND s.graintypehash = p_graintypehash
       AND s.serviceid = p_serviceid
       AND s.graintypestring = p_graintypestring
       AND s.grainidn0 = p_grainidn0
       AND s.grainidn1 = p_grainidn1
       AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring
       AND s.version = p_grainstateversion
    RETURNING s.version INTO v_new;
    RETURN v_new;
END
$fn$;

-- ClearStorageKey (keep the row, drop the payload, bump the version) and DeleteStorageKey (remove the row;
-- used when AdoNetGrainStorageOptions.DeleteStateOnClear is true). Both compare-and-set on the version.
-- Result (the provider reads the first column as text):
--   * success: one row, the version after the operation (for delete: the deleted version + 1, which the
--     provider only checks to differ from the ETag; it then forgets the ETag);
--   * conflict (row missing, or another version): one row holding NULL;
--   * nothing stored and the grain has no ETag: no row (nothing to clear; not a conflict).
CREATE OR REPLACE FUNCTION orleans_storage_clear(
    p_grainidhash            integer,
    p_grainidn0              bigint,
    p_grainidn1              bigint,
    p_graintypehash          integer,
    p_graintypestring        text,
    p_grainidextensionstring text,
    p_serviceid              text,
    p_grainstateversion      integer,
    p_delete                 boolean)
RETURNS TABLE (newgrainstateversion integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_new integer;
BEGIN
    IF p_grainstateversion IS NOT NULL THEN
        IF p_delete THEN
            DELETE FROM orleans_storage AS s
             WHERE s.grainidhash = p_grainidhash
               AND s.graintypehash = p_graintypehash
               AND s.serviceid = p_serviceid
               AND s.graintypestring = p_graintypestring
               AND s.grainidn0 = p_grainidn0
               AND s.grainidn1 = p_grainidn1
               AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring
               AND s.version = p_grainstateversion
            RETURNING orleans_storage_next_version(s.version) INTO v_new;
        ELSE
            UPDATE orleans_storage AS s
               SET payloadbinary = NULL,
                   version = orleans_storage_next_version(s.version),
                   modifiedon = now()
             WHERE s.grainidhash = p_grainidhash
               AND s.graintypehash = p_graintypehash
               AND s.serviceid = p_serviceid
               AND s.graintypestring = p_graintypestring
               AND s.grainidn0 = p_grainidn0
               AND s.grainidn1 = p_grainidn1
               AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring
               AND s.version = p_grainstateversion
            RETURNING s.version INTO v_new;
        END IF;
        newgrainstateversion := v_new;
        RETURN NEXT;
        RETURN;
    END IF;

    -- No ETag: only "nothing stored" is consistent.
    IF EXISTS (SELECT 1
                 FROM orleans_storage AS s
                WHERE s.serviceid = p_serviceid
                  AND s.graintypestring = p_graintypestring
                  AND s.grainidn0 = p_grainidn0
                  AND s.grainidn1 = p_grainidn1
                  AND s.grainidextensionstring IS NOT DISTINCT FROM p_grainidextensionstring) THEN
        newgrainstateversion := NULL;
        RETURN NEXT;
    END IF;
    RETURN;
END
$fn$;

INSERT INTO orleansquery (querykey, querytext) VALUES
-- Parameters: GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
-- ServiceId. At most one row; columns read by name: payloadbinary (NULL = no record), version (the ETag).
('ReadFromStorageKey', $sql$
SELECT s.payloadbinary,
       s.version
  FROM orleans_storage AS s
 WHERE s.grainidhash = @GrainIdHash
   AND s.graintypehash = @GrainTypeHash
   AND s.serviceid = @ServiceId
   AND s.graintypestring = @GrainTypeString
   AND s.grainidn0 = @GrainIdN0
   AND s.grainidn1 = @GrainIdN1
   AND s.grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString;
$sql$),

-- Parameters: the read's, plus GrainStateVersion (NULL when the grain has no ETag) and PayloadBinary.
-- Exactly one row; column read by name: newgrainstateversion (NULL = version conflict).
('WriteToStorageKey', $sql$
SELECT orleans_storage_write(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                             @GrainIdExtensionString, @ServiceId, @GrainStateVersion,
                             @PayloadBinary) AS newgrainstateversion;
$sql$),

-- Parameters: the read's, plus GrainStateVersion.
('ClearStorageKey', $sql$
SELECT newgrainstateversion
  FROM orleans_storage_clear(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                             @GrainIdExtensionString, @ServiceId, @GrainStateVersion, false);
$sql$),

('DeleteStorageKey', $sql$
SELECT newgrainstateversion
  FROM orleans_storage_clear(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                             @GrainIdExtensionString, @ServiceId, @GrainStateVersion, true);
$sql$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
