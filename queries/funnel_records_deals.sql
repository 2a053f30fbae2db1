-- Drill-down: the deals of the cohort in [$start, $end) that reached pipeline position
-- $position ($which = 'reached') or stopped there, lost or still open ($which = 'dropped').
-- Same cohort and stage rules as funnel_deals.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $lost_after (integer), $include_undated (boolean), $position (integer),
--   $which (text: reached, dropped), $limit (integer), $by (text: none),
--   $definition (text: cohort), $sales_sources (text[]: unused here)
-- uses: deal_cohort
select
    deal_id, lead_id, account, created_at, closed_at, stage, status, amount, margin, owner,
    source, segment, product
from cohort_deals
where case $which
    when 'dropped' then reached = cast($position as integer) and status <> 'won'
    else reached >= cast($position as integer)
end
order by coalesce(closed_at, created_at) desc nulls last, deal_id
limit $limit
