-- Stage conversion by monthly entry cohort: per month of lead creation in [$start, $end),
-- how many leads entered and how many have reached each stage so far.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
with cohort as (
    select
        date_trunc('month', created_at) as month,
        stage_rank
    from leads
    where created_at >= $start and created_at < $end
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
        and (array_length($segments::varchar[]) = 0
            or list_contains($segments::varchar[], segment))
        and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
)

select
    month,
    count(*) as lead,
    count(*) filter (where stage_rank >= 2) as mql,
    count(*) filter (where stage_rank >= 3) as sql,
    count(*) filter (where stage_rank >= 4) as opportunity,
    count(*) filter (where stage_rank >= 5) as customer,
    count(*) filter (where stage_rank >= 6) as evangelist
from cohort
group by month
order by month
