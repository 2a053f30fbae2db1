-- Drill-down: the leads of the cohort created in [$start, $end) that reached stage number
-- $position ($which = 'reached') or stopped there ($which = 'dropped'), newest first.
-- Same cohort and stage rules as funnel_leads_cohort (without the window).
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $position (integer), $which (text: reached, dropped), $limit (integer),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
with cohort as (
    select *, stage_rank as reached
    from leads
    where ((created_at >= $start and created_at < $end)
        or ($include_undated and created_at is null))
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
)

select
    lead_id, created_at, source, segment, owner, account, stage,
    mql_at, sql_at, opportunity_at, customer_at, evangelist_at
from cohort
where case $which
    when 'dropped' then reached = cast($position as integer)
    else reached >= cast($position as integer)
end
order by created_at desc, lead_id
limit $limit
