-- How many distinct values one column holds (missing ones not counted), as pandas' nunique.
-- The column is `col.v`, handed over as Arrow (no copy); user text never enters this SQL.
-- params: (none)
select count(distinct v) from col
