-- Lead funnel, cohort view: leads created in [$start, $end), followed through every stage.
-- Reaching a stage implies the earlier ones. With $window_days > 0 a stage counts only when
-- its date is known and falls within $window_days of the previous stage's date.
-- The breakdown value is the lead's own, set when it entered the funnel.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $window_days (integer, 0 = none), $breakdown (text: none, source,
--   segment, owner), $unit (text: leads, accounts)
with cohort as (
    select
        lead_id,
        case $unit when 'accounts' then coalesce(account, lead_id) else lead_id end as entity,
        case $breakdown
            when 'source' then coalesce(source, '(none)')
            when 'segment' then coalesce(segment, '(none)')
            when 'owner' then coalesce(owner, '(none)')
            else 'All'
        end as grp,
        stage_rank,
        coalesce(lead_at, created_at) as at_1,
        mql_at as at_2,
        sql_at as at_3,
        opportunity_at as at_4,
        customer_at as at_5,
        evangelist_at as at_6
    from leads
    where created_at >= $start and created_at < $end
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
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

stages as (
    select * from (values
        ('lead', 1), ('mql', 2), ('sql', 3), ('opportunity', 4), ('customer', 5),
        ('evangelist', 6)
    ) as s (stage, position)
)

select
    w.grp,
    s.stage,
    s.position,
    count(distinct w.entity) filter (where w.reached >= s.position) as entities,
    coalesce(sum(won.revenue) filter (where w.reached >= s.position), 0) as revenue_won,
    sum(won.margin) filter (where w.reached >= s.position) as margin_won
from windowed as w
cross join stages as s
left join won on won.lead_id = w.lead_id
group by w.grp, s.stage, s.position
order by w.grp, s.position
