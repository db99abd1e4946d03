-- 0001: the query catalogue of Orleans' ADO.NET providers (Orleans 10.4.2).
--
-- Every provider loads its SQL from this table at start-up, with the hard-coded text
--   SELECT QueryKey, QueryText FROM OrleansQuery            (clustering, reminders)
--   SELECT QueryKey, QueryText FROM OrleansQuery WHERE ...  (grain persistence)
-- Unquoted, those identifiers fold to lower case, so the table is orleansquery(querykey, querytext);
-- Npgsql resolves the provider's GetOrdinal("QueryKey") case-insensitively.
-- The later migrations fill it with Shards' own queries (INSERT ... ON CONFLICT DO UPDATE), so
-- re-running any of them replaces the stored text. Providers cache the queries when they start:
-- a silo picks up changed text only after a restart.
--
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64) NOT NULL,
    querytext text        NOT NULL,
    CONSTRAINT orleansquery_pkey PRIMARY KEY (querykey)
);

COMMENT ON TABLE orleansquery IS
    'Query catalogue read by Orleans ADO.NET providers (clustering, persistence, reminders). Rows are written by Shards migrations 0002-0004.';
