-- Time from stage number $from_position to stage number $to_position for leads created in
-- [$start, $end): how many started from the first stage (its date known), how many reached
-- the second with both dates known, and the median, 75th and 90th percentile of the days
-- between. Leads that have not reached the second stage are still open: they are counted
-- as open, never as converted, and never enter the percentiles. `weeks` maps whole weeks
-- taken (52 = a year or more) to the number of leads.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $from_position (integer), $to_position (integer)
-- uses: chosen_leads
with cohort as (
    select
        stage_rank,
        [coalesce(lead_at, created_at), mql_at, sql_at, opportunity_at, customer_at,
            evangelist_at] as dates
    from chosen_leads
    where created_at >= $start and created_at < $end
),

pairs as (
    select
        stage_rank,
        dates[cast($from_position as integer)] as from_at,
        dates[cast($to_position as integer)] as to_at
    from cohort
    where stage_rank >= cast($from_position as integer)
),

spans as (
    select
        *,
        case when to_at >= from_at then date_diff('second', from_at, to_at) / 86400.0
        end as days
    from pairs
)

select
    count(*) as started,
    count(days) as converted,
    count(*) filter (where stage_rank < cast($to_position as integer)) as still_open,
    count(*) filter (where stage_rank >= cast($to_position as integer) and days is null)
        as converted_undated,
    quantile_cont(days, 0.5) as median_days,
    quantile_cont(days, 0.75) as p75_days,
    quantile_cont(days, 0.9) as p90_days,
    histogram(least(floor(days / 7), 52)) filter (where days is not null) as weeks
from spans
