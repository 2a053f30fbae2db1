-- Sales-cycle length (days from created to closed) of deals won in [$start, $end), per
-- group: quartiles and the 90th percentile, so groups can be compared at a glance.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text), $sales_sources (text[])
with team as (
    select owner, min(manager) as manager, min(team) as team
    from teams
    group by owner
),

won as (
    select
        case $by
            when 'owner' then coalesce(d.owner, '(none)')
            when 'manager' then coalesce(t.manager, '(not in teams file)')
            when 'team' then coalesce(t.team, '(not in teams file)')
            when 'source' then coalesce(d.source, '(none)')
            when 'sourcing' then case
                when d.source is null then '(source unknown)'
                when list_contains($sales_sources::varchar[], d.source) then 'Sales-sourced'
                else 'Marketing-sourced'
            end
            when 'segment' then coalesce(d.segment, '(none)')
            when 'product' then coalesce(d.product, '(none)')
            when 'quarter' then cast(year(d.closed_at) as varchar) || ' Q'
                || cast(quarter(d.closed_at) as varchar)
            else 'All'
        end as grp,
        date_diff('second', d.created_at, d.closed_at) / 86400.0 as days
    from deals as d
    left join team as t on t.owner = d.owner
    where d.status = 'won' and d.closed_at >= $start and d.closed_at < $end
        and d.created_at is not null
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], d.source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], d.segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], d.owner))
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
