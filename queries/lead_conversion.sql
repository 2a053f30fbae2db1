-- Lead conversion per group: leads created in [$start, $end) (and, in the all-time view,
-- leads without a date) that reached stage number $position or beyond, out of all of them.
-- Groups: source, origin, segment, owner (each lead's own), or none.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text: source, origin, segment, owner, none), $position (integer),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
with cohort as (
    select
        stage_rank,
        case $by
            when 'source' then coalesce(source, '(none)')
            when 'origin' then coalesce(origin, '(none)')
            when 'segment' then coalesce(segment, '(none)')
            when 'owner' then coalesce(owner, '(none)')
            else 'All leads'
        end as grp
    from leads
    where ((created_at >= $start and created_at < $end)
        or ($include_undated and created_at is null))
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
)

select
    grp,
    count(*) filter (where stage_rank >= cast($position as integer)) as won,
    count(*) as n
from cohort
group by grp
order by grp
