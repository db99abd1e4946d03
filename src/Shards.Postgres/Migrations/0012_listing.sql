-- 0012: listing grain states without activating them (docs/operations.md, "Listing and events").
--
-- Shards' own column and indexes on Orleans' storage table, in every database that holds grain state:
--   * orleans_storage_key_order_idx: a state name's string keys in byte order (COLLATE "C": the same order on every
--     server whatever its locale, and the order the silos merge the shards' pages in), so that a page of products,
--     carts or orders after a cursor is an index range scan. The key columns never change once a row exists.
--   * order_written_at and orleans_storage_order_written_at_idx: orders by when they were last written, for the most
--     recent purchased events. order_written_at is modifiedon for an order row and NULL for every other row, so only
--     order rows (a handful of writes per checkout) carry the index.
--
-- Why a column of its own, not an index on modifiedon: PostgreSQL updates a row in place (HOT: no new index entries)
-- only when no indexed column changes, and it counts every column any index names, partial or not. Every write sets
-- modifiedon, so an index on it (even one restricted to orders) made every product and cart write a non-HOT update:
-- a new entry in each of the table's indexes, more WAL, and dead entries for each lookup to skip until vacuum.
-- order_written_at stays NULL on a product or cart write, so those writes stay HOT.
--
-- On a database made by an earlier version of this file, adding the stored column rewrites orleans_storage once
-- (locked while it runs); the index on modifiedon is dropped.
-- Idempotent: safe to run any number of times.

CREATE INDEX IF NOT EXISTS orleans_storage_key_order_idx
    ON orleans_storage (serviceid, graintypestring, grainidextensionstring COLLATE "C")
    WHERE grainidn0 = 0 AND grainidn1 = 0;

DROP INDEX IF EXISTS orleans_storage_order_written_idx;

ALTER TABLE orleans_storage
    ADD COLUMN IF NOT EXISTS order_written_at timestamptz
        GENERATED ALWAYS AS (CASE WHEN graintypestring = 'order' THEN modifiedon END) STORED;

CREATE INDEX IF NOT EXISTS orleans_storage_order_written_at_idx
    ON orleans_storage (serviceid, order_written_at DESC, grainidextensionstring COLLATE "C" DESC)
    WHERE graintypestring = 'order' AND grainidn0 = 0 AND grainidn1 = 0;
