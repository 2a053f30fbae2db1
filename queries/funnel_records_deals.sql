-- Drill-down: the deals of the cohort in [$start, $end) that reached pipeline position
-- $position ($which = 'reached') or stopped there, lost or still open ($which = 'dropped').
-- Same cohort and stage rules as funnel_deals.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $lost_after (integer), $include_undated (boolean), $position (integer),
--   $which (text: reached, dropped), $limit (integer)
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
        d.deal_id, d.lead_id, d.account, d.created_at, d.closed_at, d.stage, d.status,
        d.amount, d.margin, d.owner, d.source, d.segment, d.product,
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
)

select
    deal_id, lead_id, account, created_at, closed_at, stage, status, amount, margin, owner,
    source, segment, product
from cohort
where case $which
    when 'dropped' then reached = cast($position as integer) and status <> 'won'
    else reached >= cast($position as integer)
end
order by coalesce(closed_at, created_at) desc nulls last, deal_id
limit $limit
