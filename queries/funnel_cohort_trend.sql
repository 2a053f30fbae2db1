-- Stage conversion by monthly entry cohort: per month of lead creation in [$start, $end),
-- how many leads entered and how many have reached each stage so far.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
-- uses: chosen_leads
with cohort as (
    select
        date_trunc('month', created_at) as month,
        stage_rank
    from chosen_leads
    where created_at >= $start and created_at < $end
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
