-- Close rates per group. $definition 'closed': deals closed (won or lost) in
-- [$start, $end), rate = won / (won + lost). 'cohort': deals created in [$start, $end),
-- rate = won / all of them, open deals counted and shown as open.
-- Groups: see staging/deal_groups.sql.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text), $definition (text: closed, cohort),
--   $sales_sources (text[]), $include_undated (boolean: the all-time view also counts
--   deals without the date the definition uses)
-- uses: deal_groups
with counted as (
    select *
    from deal_groups
    where ($definition = 'cohort' or status in ('won', 'lost'))
        and ((period_at >= $start and period_at < $end)
            or ($include_undated and period_at is null))
)

select
    grp,
    count(*) filter (where status = 'won') as won,
    count(*) filter (where status = 'lost') as lost,
    count(*) filter (where status = 'open') as open_deals,
    coalesce(sum(amount) filter (where status = 'won'), 0) as revenue_won,
    avg(amount) filter (where status = 'won') as avg_deal_size,
    quantile_cont(date_diff('second', created_at, closed_at) / 86400.0, 0.5)
        filter (where status = 'won') as median_cycle_days
from counted
group by grp
order by grp
