-- Drill-down: the leads of the cohort created in [$start, $end) that reached stage number
-- $position ($which = 'reached') or stopped there ($which = 'dropped'), newest first.
-- Same cohort and stage rules as funnel_leads_cohort (without the window).
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $position (integer), $which (text: reached, dropped), $limit (integer),
--   $include_undated (boolean: the all-time view also counts leads without a created date),
--   $breakdown (text: none), $unit (text: leads)
-- uses: cohort_leads
with cohort as (
    select *, stage_rank as reached
    from cohort_leads
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
