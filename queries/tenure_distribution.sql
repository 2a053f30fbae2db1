-- Customers by months as a customer, in bins of $width months: how many, and how many of
-- them churned. Months: tenure in months when given, else start to churn (or to the latest
-- date in the file).
-- params: $width (integer), $segments (text[])
with latest as (
    select max(coalesce(churned_at, started_at)) as as_of from customers
),

c as (
    select
        coalesce(
            customers.tenure_months,
            date_diff('second', customers.started_at,
                coalesce(customers.churned_at, latest.as_of)) / 2629800.0
        ) as months,
        coalesce(customers.churned, customers.churned_at is not null) as has_churned
    from customers
    cross join latest
    where array_length($segments::varchar[]) = 0
        or list_contains($segments::varchar[], customers.segment)
)

select
    cast(floor(months / cast($width as integer)) * cast($width as integer) as integer)
        as months_from,
    count(*) as customers,
    count(*) filter (where has_churned) as churned
from c
where months is not null
group by all
order by months_from
