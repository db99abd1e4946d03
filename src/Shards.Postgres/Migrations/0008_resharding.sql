-- 0008: progress of online resharding (shards reshard add|remove), in the main database beside the shard map.
--
-- Shards' own table, not Orleans': see docs/sharding.md, "Online resharding". One row per resharding of a service,
-- keyed by the moving map version it published. A row with finished_at NULL is the service's resharding in
-- progress (at most one: the partial unique index); re-running the same command continues it. The coordinator
-- inserts the row in the same transaction as the moving map version, so a moving map never exists without it.
-- keys_moved counts rows moved so far (updated after each batch is committed on both sides); the rows themselves are
-- the real progress: a row still in its old shard is moved again, with its current version, when the command resumes.
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS shards_resharding
(
    serviceid      text        NOT NULL,
    moving_version integer     NOT NULL,
    operation      text        NOT NULL CHECK (operation IN ('add', 'remove')),
    shard          text        NOT NULL,
    from_version   integer     NOT NULL,
    target_version integer,
    keys_moved     bigint      NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    CONSTRAINT shards_resharding_pk PRIMARY KEY (serviceid, moving_version)
);

CREATE UNIQUE INDEX IF NOT EXISTS shards_resharding_one_in_progress
    ON shards_resharding (serviceid) WHERE finished_at IS NULL;
