-- Lead funnel, in-period view: stage events (a lead reaching a stage) dated in
-- [$start, $end), whenever the lead was created. Needs a date per stage.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $breakdown (text: none, source, segment, owner),
--   $unit (text: leads, accounts)
-- uses: grouped_leads
with base as (
    select
        entity,
        grp,
        coalesce(lead_at, created_at) as at_1,
        mql_at,
        sql_at,
        opportunity_at,
        customer_at,
        evangelist_at
    from grouped_leads
),

events as (
    select grp, entity, 'lead' as stage, 1 as position, at_1 as event_at from base
    union all select grp, entity, 'mql', 2, mql_at from base
    union all select grp, entity, 'sql', 3, sql_at from base
    union all select grp, entity, 'opportunity', 4, opportunity_at from base
    union all select grp, entity, 'customer', 5, customer_at from base
    union all select grp, entity, 'evangelist', 6, evangelist_at from base
)

select
    grp,
    stage,
    position,
    count(*) filter (where $unit <> 'accounts')
    + count(distinct entity) filter (where $unit = 'accounts') as entities
from events
where event_at >= $start and event_at < $end
group by grp, stage, position
order by grp, position
