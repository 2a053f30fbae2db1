-- Days between consecutive lead stages for the cohort created in [$start, $end): the median,
-- 75th and 90th percentile over leads with both dates in order, so the slowest step can be
-- named.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
with cohort as (
    select
        coalesce(lead_at, created_at) as at_1,
        mql_at as at_2,
        sql_at as at_3,
        opportunity_at as at_4,
        customer_at as at_5,
        evangelist_at as at_6
    from leads
    where created_at >= $start and created_at < $end
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
),

steps as (
    select 2 as position, date_diff('second', at_1, at_2) / 86400.0 as days from cohort
    union all select 3, date_diff('second', at_2, at_3) / 86400.0 from cohort
    union all select 4, date_diff('second', at_3, at_4) / 86400.0 from cohort
    union all select 5, date_diff('second', at_4, at_5) / 86400.0 from cohort
    union all select 6, date_diff('second', at_5, at_6) / 86400.0 from cohort
)

select
    position,
    count(days) as converted,
    quantile_cont(days, 0.5) as median_days,
    quantile_cont(days, 0.75) as p75_days,
    quantile_cont(days, 0.9) as p90_days
from steps
where days >= 0
group by position
order by position
