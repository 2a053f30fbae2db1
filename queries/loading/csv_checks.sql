-- What decides whether DuckDB's reading of a file equals the exact reader's: records read,
-- all-blank records, then the longest cell of each column.
-- params: (none)
select count(*) as records,
       -- blank as Python's str.strip() sees it: Unicode spaces and separators too
       count(*) filter (where regexp_full_match(concat(*columns(*)),
                                               '[\s\v\p{Z}\x{1c}-\x{1f}\x{85}]*')) as blank,
       max(length(columns(*)))
from cells
