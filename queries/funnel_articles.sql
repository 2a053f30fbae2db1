-- The five funnel stages for leads created in [$start, $end), per breakdown group:
-- awareness (visits in the period; split by channel only, for the source breakdown),
-- consideration (leads), sale (customers), loyalty (customers still active (not churned, by
-- flag or date) or renewed) and advocacy (evangelists, or customers who referred someone).
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $breakdown (text: none, source, segment, owner), $unit (text: leads),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
-- uses: cohort_leads
with cohort as (
    select lead_id, stage_rank, grp
    from cohort_leads
),

visits as (
    select
        case $breakdown when 'source' then coalesce(channel, '(none)') else 'All' end as grp,
        coalesce(sum(visits), 0) as visits,
        count(*) as awareness_rows
    from awareness
    where month >= $start and month < $end
        and $breakdown in ('none', 'source')
        and (array_length($sources::varchar[]) = 0
            or list_contains($sources::varchar[], channel))
    group by all
),

customer_facts as (
    select
        lead_id,
        bool_or(not coalesce(churned, churned_at is not null) or renewals > 0) as retained,
        bool_or(referrals > 0) as referred
    from customers
    where lead_id is not null
    group by lead_id
),

per_group as (
    select
        c.grp,
        count(*) as consideration,
        count(*) filter (where c.stage_rank >= 5) as sale,
        count(*) filter (where c.stage_rank >= 5 and f.retained) as loyalty,
        count(*) filter (where c.stage_rank >= 6 or (c.stage_rank >= 5 and f.referred))
            as advocacy,
        count(f.lead_id) as linked_customers
    from cohort as c
    left join customer_facts as f on f.lead_id = c.lead_id
    group by c.grp
)

select
    coalesce(g.grp, v.grp) as grp,
    coalesce(v.visits, 0) as awareness,
    coalesce(v.awareness_rows, 0) as awareness_rows,
    coalesce(g.consideration, 0) as consideration,
    coalesce(g.sale, 0) as sale,
    coalesce(g.loyalty, 0) as loyalty,
    coalesce(g.advocacy, 0) as advocacy,
    coalesce(g.linked_customers, 0) as linked_customers
from per_group as g
full outer join visits as v on v.grp = g.grp
order by grp
