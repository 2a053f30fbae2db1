-- Whole-history measures for LTV, tenure, promoters and pipeline coverage: customer-months
-- of exposure and churns (customers file), revenue and margin won, open pipeline, NPS.
-- A customer's months are its tenure in months when the file gives it, else from its start
-- to its churn (or to $as_of while active); a month is 30.4375 days. Churned: the yes/no
-- churn column when given, else a churn date.
-- params: $as_of (timestamp)
with customer_months as (
    select
        *,
        coalesce(
            tenure_months,
            date_diff('second', started_at, coalesce(churned_at, $as_of)) / 2629800.0
        ) as months,
        coalesce(churned, churned_at is not null) as has_churned
    from customers
    where started_at <= $as_of or (started_at is null and tenure_months is not null)
),

exposure as (
    select
        count(*) as customers,
        count(*) filter (where has_churned) as churned,
        sum(months) as customer_months,
        quantile_cont(months, 0.5) as median_tenure_months,
        avg(monthly_revenue) as avg_monthly_revenue,
        sum(total_revenue) as total_revenue,
        sum(months) filter (where total_revenue is not null) as months_with_revenue,
        count(nps) as nps_responses,
        count(*) filter (where nps >= 9) as promoters,
        count(*) filter (where nps <= 6) as detractors,
        coalesce(sum(referrals), 0) as referrals
    from customer_months
),

money as (
    select
        coalesce(sum(amount) filter (where status = 'won'), 0) as revenue_won,
        sum(margin) filter (where status = 'won') as margin_won,
        coalesce(sum(amount) filter (where status = 'won' and margin is not null), 0)
            as revenue_with_margin,
        coalesce(sum(amount) filter (where status = 'open'), 0) as open_pipeline,
        count(distinct coalesce(lead_id, account, deal_id)) filter (where status = 'won')
            as paying_customers
    from deals
)

select * from exposure cross join money
