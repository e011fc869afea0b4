-- Depth of a GiST index (levels from the root to a leaf), read with
-- pageinspect by following the first downlink from the root (block 0);
-- every leaf of a GiST index is at the same depth. psql variable: idx.
WITH RECURSIVE walk(blk, depth, leaf) AS (
    SELECT 0, 1, 'leaf' = ANY ((gist_page_opaque_info(get_raw_page(:'idx', 0))).flags)
  UNION ALL
    SELECT c.blk, w.depth + 1, 'leaf' = ANY ((gist_page_opaque_info(get_raw_page(:'idx', c.blk))).flags)
    FROM walk AS w,
         LATERAL (SELECT (ctid::text::point)[0]::int AS blk
                  FROM gist_page_items_bytea(get_raw_page(:'idx', w.blk)) LIMIT 1) AS c
    WHERE NOT w.leaf
)
SELECT max(depth) || '|' || pg_relation_size(:'idx') / 8192 FROM walk;
