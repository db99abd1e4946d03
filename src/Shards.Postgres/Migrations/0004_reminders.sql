-- 0004: reminders for Orleans' ADO.NET reminder table (Microsoft.Orleans.Reminders.AdoNet 10.4.2).
--
-- Shards' own schema; the contract is described in docs/orleans-adonet-schema.md. In short:
--   * One row per (service id, grain id, reminder name); grainid is GrainId.ToString() ("type/key").
--   * version is the reminder's ETag: 0 on creation, +1 on every upsert; a delete succeeds only with
--     the current ETag.
--   * grainhash is GrainId.GetUniformHashCode() (a uint) stored as a signed int, as the provider binds it.
--     Ring ranges (begin, end] are read with ReadRangeRows1Key when (int)begin < (int)end, otherwise with
--     ReadRangeRows2Key (the range wraps in signed order).
--   * Columns read by name: grainid, remindername, starttime, period (milliseconds), version.
--
-- Idempotent: safe to run any number of times.

CREATE TABLE IF NOT EXISTS orleans_reminders
(
    serviceid    text        NOT NULL,
    grainid      text        NOT NULL,
    remindername text        NOT NULL,
    starttime    timestamptz NOT NULL,
    period       bigint      NOT NULL,
    grainhash    integer     NOT NULL,
    version      integer     NOT NULL,
    CONSTRAINT orleans_reminders_pkey PRIMARY KEY (serviceid, grainid, remindername)
);

CREATE INDEX IF NOT EXISTS orleans_reminders_hash_idx ON orleans_reminders (serviceid, grainhash);

INSERT INTO orleansquery (querykey, querytext) VALUES
-- Parameters: ServiceId, GrainHash, GrainId, ReminderName, StartTime, Period (int or bigint milliseconds).
-- One row; column read by name: version (the new ETag).
('UpsertReminderRowKey', $sql$
INSERT INTO orleans_reminders AS r (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT ON CONSTRAINT orleans_reminders_pkey DO UPDATE
   SET starttime = EXCLUDED.starttime,
       period = EXCLUDED.period,
       grainhash = EXCLUDED.grainhash,
       version = CASE WHEN r.version >= 2147483647 THEN 0 ELSE r.version + 1 END
RETURNING r.version;
$sql$),

-- Parameters: ServiceId, GrainId.
('ReadReminderRowsKey', $sql$
SELECT grainid,
       remindername,
       starttime,
       period,
       version
  FROM orleans_reminders
 WHERE serviceid = @ServiceId
   AND grainid = @GrainId;
$sql$),

-- Parameters: ServiceId, GrainId, ReminderName. Zero or one row.
('ReadReminderRowKey', $sql$
SELECT grainid,
       remindername,
       starttime,
       period,
       version
  FROM orleans_reminders
 WHERE serviceid = @ServiceId
   AND grainid = @GrainId
   AND remindername = @ReminderName;
$sql$),

-- Parameters: ServiceId, BeginHash, EndHash (signed). Range that does not wrap: begin < hash <= end.
('ReadRangeRows1Key', $sql$
SELECT grainid,
       remindername,
       starttime,
       period,
       version
  FROM orleans_reminders
 WHERE serviceid = @ServiceId
   AND grainhash > @BeginHash
   AND grainhash <= @EndHash;
$sql$),

-- Same parameters. Range that wraps (or the full ring when begin = end): hash > begin or hash <= end.
('ReadRangeRows2Key', $sql$
SELECT grainid,
       remindername,
       starttime,
       period,
       version
  FROM orleans_reminders
 WHERE serviceid = @ServiceId
   AND (grainhash > @BeginHash OR grainhash <= @EndHash);
$sql$),

-- Parameters: ServiceId, GrainId, ReminderName, Version (the ETag). One boolean column: true = deleted.
('DeleteReminderRowKey', $sql$
WITH removed AS (
    DELETE FROM orleans_reminders
     WHERE serviceid = @ServiceId
       AND grainid = @GrainId
       AND remindername = @ReminderName
       AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM removed) AS deleted;
$sql$),

-- Parameters: ServiceId. Removes every reminder of the service.
('DeleteReminderRowsKey', $sql$
DELETE FROM orleans_reminders
 WHERE serviceid = @ServiceId;
$sql$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
