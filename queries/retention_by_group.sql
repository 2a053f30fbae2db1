-- Retention per group: customers still customers (not churned) out of all of them.
-- Churned: the yes/no churn column when given, else a churn date.
-- params: $by (text: segment, none), $segments (text[])
select
    case $by when 'segment' then coalesce(segment, '(none)') else 'All customers' end as grp,
    count(*) filter (where not coalesce(churned, churned_at is not null)) as won,
    count(*) as n
from customers
where (churned is not null or started_at is not null)
    and (array_length($segments::varchar[]) = 0 or list_contains($segments::varchar[], segment))
group by grp
order by grp
