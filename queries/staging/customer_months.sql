-- Customers in the chosen segments with their months as customers: tenure in months when
-- the file gives it, else start to churn or to the latest date in the file (a month is
-- 30.4375 days). Churned: the yes/no churn column when given, else a churn date.
-- params: $segments (text[])
latest as (
    select max(coalesce(churned_at, started_at)) as as_of from customers
),

customer_months as (
    select
        customers.*,
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
