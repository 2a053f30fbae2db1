-- The deal cohort: chosen deals created in [$start, $end) (closed, when the created date is
-- missing; with $include_undated also deals with no date at all), each with the pipeline
-- position it reached. Positions: the open stages in pipeline order, then won. An open deal
-- has reached its current stage and every earlier one; a won deal all of them. A lost deal
-- reached the furthest stage in its stage history; without history, its own stage when
-- that is an open stage (a status column said it was lost); else stage number $lost_after
-- (0 = the last open stage), and `lost_by_rule` marks it. Each deal carries its breakdown
-- group (deal_groups).
-- params: $start (timestamp), $end (timestamp), $lost_after (integer),
--   $include_undated (boolean)
-- uses: deal_groups
ranked as (
    select stage, row_number() over (order by min(stage_order), stage) as position
    from deals
    where status = 'open' and stage is not null
    group by stage
),

top as (
    select
        coalesce(max(position), 0) as open_stages,
        -- A won deal's stage names the won step unless it is an open stage too (Pipedrive
        -- keeps a won deal at the last stage it was in; its status says it was won).
        (select coalesce(min(stage), 'Won') from deals
         where status = 'won' and stage not in (select stage from ranked)) as won_stage
    from ranked
),

history_reach as (
    select h.deal_id, max(r.position) as reached
    from stage_history as h
    inner join ranked as r on r.stage = h.stage
    group by h.deal_id
),

cohort_deals as (
    select
        d.*,
        case d.status
            when 'won' then greatest(top.open_stages, 1) + 1
            when 'open' then coalesce(r.position, 1)
            else coalesce(h.reached, r.position, case
                when top.open_stages = 0 then 1
                when cast($lost_after as integer) <= 0 then top.open_stages
                else least(cast($lost_after as integer), top.open_stages)
            end)
        end as reached,
        d.status = 'lost' and h.reached is null and r.position is null as lost_by_rule
    from deal_groups as d
    cross join top
    left join ranked as r on r.stage = d.stage
    left join history_reach as h on h.deal_id = d.deal_id
    where (coalesce(d.created_at, d.closed_at) >= $start
            and coalesce(d.created_at, d.closed_at) < $end)
        or ($include_undated and d.created_at is null and d.closed_at is null)
)
