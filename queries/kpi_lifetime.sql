-- Whole-history measures for LTV, tenure, promoters and pipeline coverage: customer-months
-- of exposure and churns (customers file), revenue and margin won, open pipeline, NPS.
-- Exposure runs to $as_of for customers still active; a month is 30.4375 days.
-- params: $as_of (timestamp)
with exposure as (
    select
        count(*) as customers,
        count(churned_at) as churned,
        sum(date_diff('second', started_at, coalesce(churned_at, $as_of)) / 2629800.0)
            as customer_months,
        quantile_cont(
            date_diff('second', started_at, coalesce(churned_at, $as_of)) / 2629800.0, 0.5
        ) as median_tenure_months,
        count(nps) as nps_responses,
        count(*) filter (where nps >= 9) as promoters,
        count(*) filter (where nps <= 6) as detractors,
        coalesce(sum(referrals), 0) as referrals
    from customers
    where started_at is not null and started_at <= $as_of
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
