-- The five stages of the articles for leads created in [$start, $end): awareness (visits
-- in the period), consideration (leads), sale (customers), loyalty (customers still active
-- (not churned, by flag or date) or renewed) and advocacy (evangelists, or customers who
-- referred someone).
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]),
--   $include_undated (boolean: the all-time view also counts leads without a created date)
with cohort as (
    select
        lead_id,
        stage_rank
    from leads
    where ((created_at >= $start and created_at < $end)
        or ($include_undated and created_at is null))
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
),

visits as (
    select coalesce(sum(visits), 0) as visits, count(*) as awareness_rows
    from awareness
    where month >= $start and month < $end
        and (array_length($sources::varchar[]) = 0
            or list_contains($sources::varchar[], channel))
),

customer_facts as (
    select
        lead_id,
        bool_or(not coalesce(churned, churned_at is not null) or renewals > 0) as retained,
        bool_or(referrals > 0) as referred
    from customers
    where lead_id is not null
    group by lead_id
)

select
    any_value(v.visits) as awareness,
    any_value(v.awareness_rows) as awareness_rows,
    count(*) as consideration,
    count(*) filter (where c.stage_rank >= 5) as sale,
    count(*) filter (where c.stage_rank >= 5 and f.retained) as loyalty,
    count(*) filter (where c.stage_rank >= 6 or (c.stage_rank >= 5 and f.referred)) as advocacy,
    count(f.lead_id) as linked_customers
from cohort as c
cross join visits as v
left join customer_facts as f on f.lead_id = c.lead_id
