-- 0012: listing grain states without activating them (docs/operations.md, "Listing and events").
--
-- Shards' own indexes on Orleans' storage table, in every database that holds grain state:
--   * orleans_storage_key_order_idx: a state name's string keys in byte order (COLLATE "C": the same order on every
--     server whatever its locale, and the order the silos merge the shards' pages in), so that a page of products,
--     carts or orders after a cursor is an index range scan. The key columns never change once a row exists, so
--     updates stay HOT: only inserts pay for this index.
--   * orleans_storage_order_written_idx: orders by when they were last written, for the most recent purchased events.
--     Partial: only order rows (a handful of writes per checkout) carry it, never the hot product and cart rows.
-- Idempotent: safe to run any number of times.

CREATE INDEX IF NOT EXISTS orleans_storage_key_order_idx
    ON orleans_storage (serviceid, graintypestring, grainidextensionstring COLLATE "C")
    WHERE grainidn0 = 0 AND grainidn1 = 0;

CREATE INDEX IF NOT EXISTS orleans_storage_order_written_idx
    ON orleans_storage (serviceid, modifiedon DESC, grainidextensionstring COLLATE "C" DESC)
    WHERE graintypestring = 'order' AND grainidn0 = 0 AND grainidn1 = 0;
