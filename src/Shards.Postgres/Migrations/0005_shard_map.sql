-- 0005: Shards' shard map (which database holds which grain's state) and each database's shard identity.
--
-- Shards' own tables, not Orleans': see docs/sharding.md.
--   * shards_shard_map lives in the main database (ConnectionStrings:Shards, beside membership). One row per map
--     version and service; the current map is the highest version. Rows are never updated: a resharding
--     coordinator publishes version + 1 (INSERT, so two publishers of the same version conflict), silos notice it
--     and switch, or refuse to write while they cannot. The map names shards and where they are
--     (host, port, database: never credentials); the ring is computed from it (ShardRouter).
--   * shards_shard_identity lives in every shard database: the shard name this database has for a service,
--     claimed by the first silo that uses it. A silo whose configured connection string for shard "s1" leads to
--     the database that says "s0" refuses to start, whatever the host is called in its connection string.
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_shard_map
(
    serviceid  text        NOT NULL,
    version    integer     NOT NULL CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    map        jsonb       NOT NULL,
    CONSTRAINT shards_shard_map_pk PRIMARY KEY (serviceid, version)
);

CREATE TABLE IF NOT EXISTS shards_shard_identity
(
    serviceid  text        NOT NULL,
    shard      text        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shards_shard_identity_pk PRIMARY KEY (serviceid)
);
