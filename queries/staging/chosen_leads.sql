-- Leads that match the sidebar filters (source, segment, owner; an empty list is all).
-- params: $sources (text[]), $segments (text[]), $owners (text[])
chosen_leads as (
    select *
    from leads
    where (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
)
