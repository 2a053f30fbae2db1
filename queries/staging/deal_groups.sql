-- Chosen deals with the date that places them in a period ($definition 'cohort': created,
-- else closed) and their group for $by: owner (rep), manager and team (teams file), source,
-- sourcing (sources in $sales_sources are sales-sourced, the rest marketing-sourced),
-- segment, product, or quarter of that date.
-- params: $definition (text: closed, cohort), $by (text), $sales_sources (text[])
-- uses: chosen_deals
dated_deals as (
    select
        *,
        case $definition when 'cohort' then created_at else closed_at end as period_at
    from chosen_deals
),

deal_groups as (
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
    from dated_deals
)
