-- Lead funnel, cohort view: leads created in [$start, $end), followed through every stage.
-- Reaching a stage implies the earlier ones. With $window_days > 0 a stage counts only when
-- its date is known and falls within $window_days of the previous stage's date.
-- The breakdown value is the lead's own, set when it entered the funnel.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $window_days (integer, 0 = none), $breakdown (text: none, source,
--   segment, owner), $unit (text: leads, accounts),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
-- uses: cohort_leads
with cohort as (
    select
        lead_id,
        entity,
        grp,
        stage_rank,
        coalesce(lead_at, created_at) as at_1,
        mql_at as at_2,
        sql_at as at_3,
        opportunity_at as at_4,
        customer_at as at_5,
        evangelist_at as at_6
    from cohort_leads
),

windowed as (
    select
        *,
        case
            when $window_days = 0 then stage_rank
            when stage_rank < 2 or at_2 is null
                or at_2 > at_1 + to_days(cast($window_days as integer)) then 1
            when stage_rank < 3 or at_3 is null
                or at_3 > at_2 + to_days(cast($window_days as integer)) then 2
            when stage_rank < 4 or at_4 is null
                or at_4 > at_3 + to_days(cast($window_days as integer)) then 3
            when stage_rank < 5 or at_5 is null
                or at_5 > at_4 + to_days(cast($window_days as integer)) then 4
            when stage_rank < 6 or at_6 is null
                or at_6 > at_5 + to_days(cast($window_days as integer)) then 5
            else 6
        end as reached
    from cohort
),

won as (
    select lead_id, sum(amount) as revenue, sum(margin) as margin
    from deals
    where status = 'won' and lead_id is not null
    group by lead_id
),

per_entity as (
    -- one row per counted entity: a lead as it is (ids are unique); an account once, at
    -- its furthest stage (grouping millions of unique lead ids would cost memory for nothing)
    select w.grp, w.reached, won.revenue, won.margin
    from windowed as w
    left join won on won.lead_id = w.lead_id
    where $unit <> 'accounts'
    union all
    select w.grp, max(w.reached), sum(won.revenue), sum(won.margin)
    from windowed as w
    left join won on won.lead_id = w.lead_id
    where $unit = 'accounts'
    group by w.grp, w.entity
),

wide as (
    select
        grp,
        count(*) as n1,
        count(*) filter (where reached >= 2) as n2,
        count(*) filter (where reached >= 3) as n3,
        count(*) filter (where reached >= 4) as n4,
        count(*) filter (where reached >= 5) as n5,
        count(*) filter (where reached >= 6) as n6,
        coalesce(sum(revenue), 0) as r1,
        coalesce(sum(revenue) filter (where reached >= 2), 0) as r2,
        coalesce(sum(revenue) filter (where reached >= 3), 0) as r3,
        coalesce(sum(revenue) filter (where reached >= 4), 0) as r4,
        coalesce(sum(revenue) filter (where reached >= 5), 0) as r5,
        coalesce(sum(revenue) filter (where reached >= 6), 0) as r6,
        sum(margin) as m1,
        sum(margin) filter (where reached >= 2) as m2,
        sum(margin) filter (where reached >= 3) as m3,
        sum(margin) filter (where reached >= 4) as m4,
        sum(margin) filter (where reached >= 5) as m5,
        sum(margin) filter (where reached >= 6) as m6
    from per_entity
    group by grp
)

select grp, 'lead' as stage, 1 as position, n1 as entities, r1 as revenue_won, m1 as margin_won
from wide
union all select grp, 'mql', 2, n2, r2, m2 from wide
union all select grp, 'sql', 3, n3, r3, m3 from wide
union all select grp, 'opportunity', 4, n4, r4, m4 from wide
union all select grp, 'customer', 5, n5, r5, m5 from wide
union all select grp, 'evangelist', 6, n6, r6, m6 from wide
order by grp, position
