-- Rows whose value an earlier row already holds, with the position of that first row, in
-- row order: what `duplicated()` and a first-occurrence lookup give, hashed by DuckDB on
-- every core. `col.i` is the row's position; missing values never repeat (they are
-- dropped before ids are checked).
-- params: (none)
with firsts as (
    select v, min(i) as first from col where v is not null group by v having count(*) > 1
)
select col.i as position, firsts.first
from col join firsts using (v)
where col.i <> firsts.first
order by col.i
