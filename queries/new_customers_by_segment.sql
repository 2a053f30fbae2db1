-- New customers per month and segment (by the date a lead became a customer), for the
-- market-capacity view: a segment whose cumulative count flattens is saturating.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[])
select
    date_trunc('month', customer_at) as month,
    coalesce(segment, '(none)') as segment,
    count(*) as new_customers
from leads
where customer_at >= $start and customer_at < $end
    and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], source))
    and (array_length($segments::varchar[]) = 0 or list_contains($segments::varchar[], segment))
    and (array_length($owners::varchar[]) = 0 or list_contains($owners::varchar[], owner))
group by all
order by month, segment
