-- Deal funnel: deals created in [$start, $end) through the pipeline's open stages to won.
-- An open deal has reached its current stage and every earlier one; a won deal all of them.
-- A lost deal reached the furthest stage in its stage history, else its own stage when that
-- is an open stage, else stage number $lost_after (the user's choice, stated on the page;
-- 0 = the last open stage): `lost_by_rule` counts those. Deals with no date at all
-- count only when $include_undated is true (the all-time view). Without any open stage,
-- the funnel is "All deals" → won.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $by (text: none, source, segment, owner, product),
--   $definition (text: cohort), $sales_sources (text[]: unused here),
--   $lost_after (integer), $include_undated (boolean)
-- uses: deal_cohort
with cohort as (
    -- One row per group, position reached and status before the stages are crossed in:
    -- the cross join then multiplies a few hundred rows, not every deal.
    select
        grp,
        reached,
        status,
        lost_by_rule,
        count(*) as deals,
        sum(amount) as amount,
        sum(margin) as margin
    from cohort_deals
    group by grp, reached, status, lost_by_rule
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
    cast(coalesce(sum(c.deals) filter (where c.reached >= s.position), 0) as bigint)
        as entities,
    coalesce(sum(c.amount) filter (where c.reached >= s.position), 0) as amount,
    coalesce(sum(c.amount) filter (where c.reached >= s.position and c.status = 'won'), 0)
        as revenue_won,
    sum(c.margin) filter (where c.reached >= s.position and c.status = 'won') as margin_won,
    cast(coalesce(sum(c.deals) filter (where c.status = 'lost' and c.reached = s.position), 0)
        as bigint) as lost_here,
    cast(coalesce(sum(c.deals) filter (where c.status = 'open' and c.reached = s.position), 0)
        as bigint) as open_here,
    cast(coalesce(sum(c.deals) filter (where c.lost_by_rule and c.reached = s.position), 0)
        as bigint) as lost_by_rule
from cohort as c
cross join stages as s
group by c.grp, s.stage, s.position
order by c.grp, s.position
