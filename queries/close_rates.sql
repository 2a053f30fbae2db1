-- Close rates per group. $definition 'closed': deals closed (won or lost) in
-- [$start, $end), rate = won / (won + lost). 'cohort': deals created in [$start, $end),
-- rate = won / all of them, open deals counted and shown as open.
-- Groups: owner (rep), manager and team (from the teams file), source, sourcing
-- (marketing- vs sales-sourced: sources in $sales_sources are sales-sourced), segment,
-- product, or quarter (of the close date, or of the created date for cohorts).
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text), $definition (text: closed, cohort),
--   $sales_sources (text[]), $include_undated (boolean: the all-time view also counts
--   deals without the date the definition uses)
with team as (
    select owner, min(manager) as manager, min(team) as team
    from teams
    group by owner
),

chosen as (
    select
        d.*,
        t.manager,
        t.team,
        case $definition when 'cohort' then d.created_at else d.closed_at end as period_at
    from deals as d
    left join team as t on t.owner = d.owner
    where (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], d.source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], d.segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], d.owner))
        and ($definition = 'cohort' or d.status in ('won', 'lost'))
),

grouped as (
    select
        *,
        case $by
            when 'owner' then coalesce(owner, '(none)')
            when 'manager' then coalesce(manager, '(not in teams file)')
            when 'team' then coalesce(team, '(not in teams file)')
            when 'source' then coalesce(source, '(none)')
            when 'sourcing' then case
                when source is null then '(source unknown)'
                when list_contains($sales_sources::varchar[], source) then 'Sales-sourced'
                else 'Marketing-sourced'
            end
            when 'segment' then coalesce(segment, '(none)')
            when 'product' then coalesce(product, '(none)')
            when 'quarter' then coalesce(cast(year(period_at) as varchar) || ' Q'
                || cast(quarter(period_at) as varchar), '(no date)')
            else 'All'
        end as grp
    from chosen
    where (period_at >= $start and period_at < $end)
        or ($include_undated and period_at is null)
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
from grouped
group by grp
order by grp
