-- Deals that match the sidebar filters, with the rep's manager and team from the teams
-- file (the first by name when a rep is listed twice).
-- params: $sources (text[]), $segments (text[]), $owners (text[])
team as (
    select owner, min(manager) as manager, min(team) as team
    from teams
    group by owner
),

chosen_deals as (
    select d.*, t.manager, t.team
    from deals as d
    left join team as t on t.owner = d.owner
    where (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], d.source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], d.segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], d.owner))
)
