-- The cohort: chosen leads created in [$start, $end), and, in the all-time view, the leads
-- without a created date (an export with no dates is counted over all time), with their
-- entity and breakdown group.
-- params: $start (timestamp), $end (timestamp), $include_undated (boolean)
-- uses: grouped_leads
cohort_leads as (
    select *
    from grouped_leads
    where (created_at >= $start and created_at < $end)
        or ($include_undated and created_at is null)
)
