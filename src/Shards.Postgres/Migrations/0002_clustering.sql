-- 0002: cluster membership for Orleans' ADO.NET clustering provider (Microsoft.Orleans.Clustering.AdoNet 10.4.2).
--
-- Shards' own schema; the contract (query keys, parameter names, result columns) is described in
-- docs/orleans-adonet-schema.md. In short:
--   * Every query is scoped by @DeploymentId (= ClusterOptions.ClusterId), so several clusters share one
--     database without seeing each other.
--   * orleans_membership_version holds one row per cluster: the table version ("etag") that makes
--     membership writes optimistic. Insert/update of a silo row succeed only when @Version is still the
--     current version; they then bump it by one, atomically with the row change. Heartbeats
--     (UpdateIAmAlivetimeKey) and dead-row cleanup do not touch the version.
--   * Result columns are read by name (case-insensitively): starttime, address, port, generation,
--     siloname, hostname, status, proxyport, suspecttimes, iamalivetime, version.
--   * All timestamps are timestamptz: the provider binds DateTime values as DbType.DateTime, which Npgsql
--     sends as timestamptz (UTC only), so nothing depends on the session's TimeZone.
--
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS orleans_membership_version
(
    deploymentid text        NOT NULL,
    modifiedon   timestamptz NOT NULL DEFAULT now(),
    version      integer     NOT NULL DEFAULT 0,
    CONSTRAINT orleans_membership_version_pkey PRIMARY KEY (deploymentid)
);

CREATE TABLE IF NOT EXISTS orleans_membership
(
    deploymentid text        NOT NULL,
    address      text        NOT NULL,
    port         integer     NOT NULL,
    generation   integer     NOT NULL,
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    status       integer     NOT NULL,
    proxyport    integer     NOT NULL DEFAULT 0,
    suspecttimes text,
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,
    CONSTRAINT orleans_membership_pkey PRIMARY KEY (deploymentid, address, port, generation),
    -- A silo row cannot outlive its cluster's version row (DeleteMembershipTableEntriesKey removes both).
    CONSTRAINT orleans_membership_version_fkey FOREIGN KEY (deploymentid)
        REFERENCES orleans_membership_version (deploymentid) ON DELETE CASCADE
);

-- InsertMembershipKey: add a silo row if the caller's table version is current.
-- Returns true when the row was inserted and the version bumped; false (and no change at all) when the
-- version moved on, the cluster has no version row, or the silo row already exists.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deploymentid text,
    p_address      text,
    p_port         integer,
    p_generation   integer,
    p_siloname     text,
    p_hostname     text,
    p_status       integer,
    p_proxyport    integer,
    p_starttime    timestamptz,
    p_iamalivetime timestamptz,
    p_version      integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    -- Lock the cluster's version row, provided it still carries the version the caller read. A concurrent
    -- writer holding the lock makes us wait; PostgreSQL then re-checks the version on the committed row.
    PERFORM 1
      FROM orleans_membership_version
     WHERE deploymentid = p_deploymentid
       AND version = p_version
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO orleans_membership
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport,
         suspecttimes, starttime, iamalivetime)
    VALUES
        (p_deploymentid, p_address, p_port, p_generation, coalesce(p_siloname, ''), coalesce(p_hostname, ''),
         p_status, coalesce(p_proxyport, 0), NULL, p_starttime, p_iamalivetime)
    ON CONFLICT ON CONSTRAINT orleans_membership_pkey DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_version
       SET version = version + 1,
           modifiedon = now()
     WHERE deploymentid = p_deploymentid;
    RETURN true;
END
$fn$;

-- UpdateMembershipKey: change a silo's status and suspicion votes if the caller's table version is current.
-- Returns true when the row was updated and the version bumped; false (and no change) otherwise.
-- The heartbeat only moves forward: an entry read before the silo's last heartbeat cannot roll it back.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deploymentid text,
    p_address      text,
    p_port         integer,
    p_generation   integer,
    p_status       integer,
    p_suspecttimes text,
    p_iamalivetime timestamptz,
    p_version      integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    PERFORM 1
      FROM orleans_membership_version
     WHERE deploymentid = p_deploymentid
       AND version = p_version
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership
       SET status = p_status,
           suspecttimes = p_suspecttimes,
           iamalivetime = greatest(iamalivetime, p_iamalivetime)
     WHERE deploymentid = p_deploymentid
       AND address = p_address
       AND port = p_port
       AND generation = p_generation;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_version
       SET version = version + 1,
           modifiedon = now()
     WHERE deploymentid = p_deploymentid;
    RETURN true;
END
$fn$;

-- True when every suspicion vote in a SuspectTimes value is older than p_cutoff (or there is none).
-- Orleans writes the value as "<address>:<port>@<generation>,yyyy-MM-dd HH:mm:ss.fff GMT" entries joined
-- by '|'. A vote that cannot be read counts as recent, so its row is kept.
CREATE OR REPLACE FUNCTION orleans_membership_votes_before(p_suspecttimes text, p_cutoff timestamptz)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $fn$
DECLARE
    v_vote text;
    v_at   timestamptz;
BEGIN
    IF p_suspecttimes IS NULL OR btrim(p_suspecttimes) = '' THEN
        RETURN true;
    END IF;
    FOREACH v_vote IN ARRAY string_to_array(p_suspecttimes, '|')
    LOOP
        BEGIN
            v_at := btrim(regexp_replace(substring(v_vote FROM '[^,]*$'), 'GMT\s*$', ''))::timestamp
                    AT TIME ZONE 'UTC';
        EXCEPTION WHEN others THEN
            RETURN false;
        END;
        IF v_at IS NULL OR v_at >= p_cutoff THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$fn$;

INSERT INTO orleansquery (querykey, querytext) VALUES
-- Silo start-up (InitializeMembershipTable): create the cluster's version row unless it exists.
-- Read as one boolean column: true = created.
('InsertMembershipVersionKey', $sql$
WITH created AS (
    INSERT INTO orleans_membership_version (deploymentid, modifiedon, version)
    VALUES (@DeploymentId, now(), 0)
    ON CONFLICT ON CONSTRAINT orleans_membership_version_pkey DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created) AS created;
$sql$),

-- Parameters: DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime,
-- IAmAliveTime, Version (the table version the caller read). One boolean column.
('InsertMembershipKey', $sql$
SELECT orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                 @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS inserted;
$sql$),

-- Parameters: DeploymentId, Address, Port, Generation, Status, SuspectTimes (null when none),
-- IAmAliveTime, Version. One boolean column.
('UpdateMembershipKey', $sql$
SELECT orleans_membership_update(@DeploymentId, @Address, @Port, @Generation,
                                 @Status, @SuspectTimes, @IAmAliveTime, @Version) AS updated;
$sql$),

-- Heartbeat. The key's spelling ("Alivetime") is the provider's. Does not change the table version.
('UpdateIAmAlivetimeKey', $sql$
UPDATE orleans_membership
   SET iamalivetime = @IAmAliveTime
 WHERE deploymentid = @DeploymentId
   AND address = @Address
   AND port = @Port
   AND generation = @Generation;
$sql$),

-- Always one row per cluster (the version row), joined with the silo row when it exists: the provider
-- takes the table version from the first row and skips rows whose starttime is null.
('MembershipReadRowKey', $sql$
SELECT v.deploymentid,
       m.address,
       m.port,
       m.generation,
       m.siloname,
       m.hostname,
       m.status,
       m.proxyport,
       m.suspecttimes,
       m.starttime,
       m.iamalivetime,
       v.version
  FROM orleans_membership_version AS v
  LEFT JOIN orleans_membership AS m
         ON m.deploymentid = v.deploymentid
        AND m.address = @Address
        AND m.port = @Port
        AND m.generation = @Generation
 WHERE v.deploymentid = @DeploymentId;
$sql$),

-- The version row joined with every silo row of the cluster, read in one snapshot.
('MembershipReadAllKey', $sql$
SELECT v.deploymentid,
       m.address,
       m.port,
       m.generation,
       m.siloname,
       m.hostname,
       m.status,
       m.proxyport,
       m.suspecttimes,
       m.starttime,
       m.iamalivetime,
       v.version
  FROM orleans_membership_version AS v
  LEFT JOIN orleans_membership AS m
         ON m.deploymentid = v.deploymentid
 WHERE v.deploymentid = @DeploymentId;
$sql$),

-- Clients' gateway list. @Status is 3 (Active). Columns read: address, proxyport, generation.
('GatewaysQueryKey', $sql$
SELECT address,
       proxyport,
       generation
  FROM orleans_membership
 WHERE deploymentid = @DeploymentId
   AND status = @Status
   AND proxyport > 0;
$sql$),

-- Removes the whole cluster: its silo rows and its version row.
('DeleteMembershipTableEntriesKey', $sql$
WITH removed_silos AS (
    DELETE FROM orleans_membership
     WHERE deploymentid = @DeploymentId
)
DELETE FROM orleans_membership_version
 WHERE deploymentid = @DeploymentId;
$sql$),

-- Bulk cleanup, used by the provider only when CleanupDefunctSiloEntryKey is absent. @IAmAliveTime is the
-- cut-off (now - DefunctSiloExpiration). Deletes Dead (6) rows that started, last heartbeated and were
-- last voted on before it. Unlike upstream, rows carrying suspicion votes are cleaned too (dead silos
-- nearly always carry them, which is why upstream's tables grew without bound). The version row stays.
('CleanupDefunctSiloEntriesKey', $sql$
DELETE FROM orleans_membership
 WHERE deploymentid = @DeploymentId
   AND status = 6
   AND starttime < @IAmAliveTime
   AND iamalivetime < @IAmAliveTime
   AND orleans_membership_votes_before(suspecttimes, @IAmAliveTime);
$sql$),

-- Per-row cleanup (optional key; when present the provider uses it instead of the bulk one). The provider
-- reads all rows, picks Dead rows whose start, heartbeat and votes are older than the cut-off, and deletes
-- each only if it still holds the captured values, so a row changed meanwhile survives.
-- Parameters: DeploymentId, Address, Port, Generation, StartTime, IAmAliveTime, SuspectTimes.
('CleanupDefunctSiloEntryKey', $sql$
DELETE FROM orleans_membership
 WHERE deploymentid = @DeploymentId
   AND address = @Address
   AND port = @Port
   AND generation = @Generation
   AND status = 6
   AND starttime = @StartTime
   AND iamalivetime = @IAmAliveTime
   AND coalesce(suspecttimes, '') = coalesce(@SuspectTimes, '');
$sql$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
