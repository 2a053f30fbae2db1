-- New customers per month and segment (by the date a lead became a customer), for the
-- market-capacity view: a segment whose cumulative count flattens is saturating.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
-- uses: chosen_leads
select
    date_trunc('month', customer_at) as month,
    coalesce(segment, '(none)') as segment,
    count(*) as new_customers
from chosen_leads
where customer_at >= $start and customer_at < $end
group by all
order by month, segment
