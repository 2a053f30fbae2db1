-- Days between consecutive lead stages for the cohort created in [$start, $end): the median,
-- 75th and 90th percentile over leads with both dates in order, so the slowest step can be
-- named. One pass over the cohort: each step is its own aggregate.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
-- uses: chosen_leads
with cohort as (
    select
        date_diff('second', coalesce(lead_at, created_at), mql_at) / 86400.0 as d2,
        date_diff('second', mql_at, sql_at) / 86400.0 as d3,
        date_diff('second', sql_at, opportunity_at) / 86400.0 as d4,
        date_diff('second', opportunity_at, customer_at) / 86400.0 as d5,
        date_diff('second', customer_at, evangelist_at) / 86400.0 as d6
    from chosen_leads
    where created_at >= $start and created_at < $end
),

per_step as (
    select
        count(d2) filter (where d2 >= 0) as n2,
        quantile_cont(d2, [0.5, 0.75, 0.9]) filter (where d2 >= 0) as q2,
        count(d3) filter (where d3 >= 0) as n3,
        quantile_cont(d3, [0.5, 0.75, 0.9]) filter (where d3 >= 0) as q3,
        count(d4) filter (where d4 >= 0) as n4,
        quantile_cont(d4, [0.5, 0.75, 0.9]) filter (where d4 >= 0) as q4,
        count(d5) filter (where d5 >= 0) as n5,
        quantile_cont(d5, [0.5, 0.75, 0.9]) filter (where d5 >= 0) as q5,
        count(d6) filter (where d6 >= 0) as n6,
        quantile_cont(d6, [0.5, 0.75, 0.9]) filter (where d6 >= 0) as q6
    from cohort
),

steps as (
    select 2 as position, n2 as converted, q2 as q from per_step
    union all select 3, n3, q3 from per_step
    union all select 4, n4, q4 from per_step
    union all select 5, n5, q5 from per_step
    union all select 6, n6, q6 from per_step
)

select
    position,
    converted,
    q[1] as median_days,
    q[2] as p75_days,
    q[3] as p90_days
from steps
where converted > 0
order by position
