-- Sales-cycle length (days from created to closed) of deals won in [$start, $end), per
-- group (see staging/deal_groups.sql; quarters are of the close date): quartiles and the
-- 90th percentile, so groups can be compared at a glance.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text), $sales_sources (text[]), $definition (text: closed)
-- uses: deal_groups
with won as (
    select grp, date_diff('second', created_at, closed_at) / 86400.0 as days
    from deal_groups
    where status = 'won' and period_at >= $start and period_at < $end
        and created_at is not null
)

select
    grp,
    count(*) as won,
    quantile_cont(days, 0.25) as p25_days,
    quantile_cont(days, 0.5) as median_days,
    quantile_cont(days, 0.75) as p75_days,
    quantile_cont(days, 0.9) as p90_days
from won
group by grp
order by grp
