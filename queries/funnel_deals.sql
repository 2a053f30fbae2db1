-- Deal funnel: deals created in [$start, $end) through the pipeline's open stages to won.
-- An open deal has reached its current stage and every earlier one; a won deal all of them.
-- A lost deal reached the furthest stage in its stage history or, without history, stage
-- number $lost_after (the user's choice, stated on the page; 0 = the last open stage). Deals with no date at all
-- count only when $include_undated is true (the all-time view). Without any open stage,
-- the funnel is "All deals" → won.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $breakdown (text: none, source, segment, owner, product),
--   $lost_after (integer), $include_undated (boolean)
with ranked as (
    select stage, row_number() over (order by min(stage_order), stage) as position
    from deals
    where status = 'open' and stage is not null
    group by stage
),

top as (
    select
        coalesce(max(position), 0) as open_stages,
        (select coalesce(min(stage), 'Won') from deals where status = 'won') as won_stage
    from ranked
),

history_reach as (
    select h.deal_id, max(r.position) as reached
    from stage_history as h
    inner join ranked as r on r.stage = h.stage
    group by h.deal_id
),

cohort as (
    select
        d.amount,
        d.margin,
        d.status,
        case $breakdown
            when 'source' then coalesce(d.source, '(none)')
            when 'segment' then coalesce(d.segment, '(none)')
            when 'owner' then coalesce(d.owner, '(none)')
            when 'product' then coalesce(d.product, '(none)')
            else 'All'
        end as grp,
        case d.status
            when 'won' then greatest(top.open_stages, 1) + 1
            when 'open' then coalesce(r.position, 1)
            else coalesce(h.reached, case
                when top.open_stages = 0 then 1
                when cast($lost_after as integer) <= 0 then top.open_stages
                else least(cast($lost_after as integer), top.open_stages)
            end)
        end as reached
    from deals as d
    cross join top
    left join ranked as r on r.stage = d.stage
    left join history_reach as h on h.deal_id = d.deal_id
    where (
        (coalesce(d.created_at, d.closed_at) >= $start
            and coalesce(d.created_at, d.closed_at) < $end)
        or ($include_undated and d.created_at is null and d.closed_at is null)
    )
    and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], d.source))
    and (array_length($segments::varchar[]) = 0
        or list_contains($segments::varchar[], d.segment))
    and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], d.owner))
),

stages as (
    select stage, position from ranked
    union all
    select 'All deals', 1 from top where open_stages = 0
    union all
    select won_stage, greatest(open_stages, 1) + 1 from top
)

select
    c.grp,
    s.stage,
    s.position,
    count(*) filter (where c.reached >= s.position) as entities,
    coalesce(sum(c.amount) filter (where c.reached >= s.position), 0) as amount,
    coalesce(sum(c.amount) filter (where c.reached >= s.position and c.status = 'won'), 0)
        as revenue_won,
    sum(c.margin) filter (where c.reached >= s.position and c.status = 'won') as margin_won,
    count(*) filter (where c.status = 'lost' and c.reached = s.position) as lost_here,
    count(*) filter (where c.status = 'open' and c.reached = s.position) as open_here
from cohort as c
cross join stages as s
group by c.grp, s.stage, s.position
order by c.grp, s.position
