-- Lead conversion per group: leads created in [$start, $end) (and, in the all-time view,
-- leads without a date) that reached stage number $position or beyond, out of all of them.
-- Groups: source, origin, segment, owner (each lead's own), or none.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $breakdown (text: source, origin, segment, owner, none),
--   $unit (text: leads), $position (integer),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
-- uses: cohort_leads
with cohort as (
    select
        stage_rank,
        case when $breakdown = 'none' then 'All leads' else grp end as grp
    from cohort_leads
)

select
    grp,
    count(*) filter (where stage_rank >= cast($position as integer)) as won,
    count(*) as n
from cohort
group by grp
order by grp
