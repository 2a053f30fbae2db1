-- Loyalty over every customer in the customers file: how many, how many churned, their
-- months as customers (tenure in months when given, else start to churn or to the latest
-- date in the file) and what they pay. Churned: the yes/no churn column when given, else a
-- churn date. A month is 30.4375 days.
-- params: $segments (text[])
-- uses: customer_months
with c as (
    select
        months,
        has_churned,
        churned is not null or started_at is not null as status_known,
        monthly_revenue,
        total_revenue
    from customer_months
)

select
    count(*) as customers,
    count(*) filter (where status_known) as status_known,
    count(*) filter (where has_churned) as churned,
    count(months) as with_tenure,
    sum(months) as customer_months,
    quantile_cont(months, 0.5) as median_tenure_months,
    max(months) as longest_months,
    avg(monthly_revenue) as avg_monthly_revenue,
    sum(total_revenue) as total_revenue,
    sum(months) filter (where total_revenue is not null) as months_with_revenue
from c
