-- Base measures per period (month, quarter or year: $grain) for the objective panels.
-- Lead measures count events by their own date (leads by created, MQLs by MQL date, …);
-- acceptance and speed-to-lead follow the MQLs of the period. Deal measures count deals
-- closed in the period (pipeline: created in it). Marketing-sourced means a known source
-- not in $sales_sources. Every period that has any event in [$start, $end) appears.
-- params: $start (timestamp), $end (timestamp), $sources (text[]), $segments (text[]),
--   $owners (text[]), $grain (text: month, quarter, year), $sales_sources (text[]),
--   $sla_hours (double)
-- uses: chosen_leads, chosen_deals
with l as (
    select * from chosen_leads
),

d as (
    select
        *,
        source is not null and not list_contains($sales_sources::varchar[], source)
            as marketing_sourced
    from chosen_deals
),

lead_created as (
    select
        date_trunc($grain, created_at) as period,
        count(*) as leads,
        count(*) filter (where lower(source) like '%referral%') as referral_leads
    from l where created_at >= $start and created_at < $end group by all
),

lead_mql as (
    select
        date_trunc($grain, mql_at) as period,
        count(*) as mqls,
        count(sql_at) as mqls_accepted,
        count(*) filter (where stage in ('customer', 'evangelist')) as mqls_won,
        quantile_cont(date_diff('second', mql_at, sql_at) / 3600.0, 0.5) as speed_to_lead_hours,
        count(*) filter (where date_diff('second', mql_at, sql_at) / 3600.0 <= $sla_hours)
            as accepted_within_sla
    from l where mql_at >= $start and mql_at < $end group by all
),

lead_sql as (
    select date_trunc($grain, sql_at) as period, count(*) as sqls
    from l where sql_at >= $start and sql_at < $end group by all
),

lead_customer as (
    select date_trunc($grain, customer_at) as period, count(*) as new_customers
    from l where customer_at >= $start and customer_at < $end group by all
),

lead_evangelist as (
    select date_trunc($grain, evangelist_at) as period, count(*) as evangelists
    from l where evangelist_at >= $start and evangelist_at < $end group by all
),

deal_closed as (
    select
        date_trunc($grain, closed_at) as period,
        count(*) filter (where status = 'won') as won,
        count(*) filter (where status = 'lost') as lost,
        coalesce(sum(amount) filter (where status = 'won'), 0) as revenue_won,
        sum(margin) filter (where status = 'won') as margin_won,
        count(*) filter (where status = 'won' and margin is null) as won_without_margin,
        coalesce(sum(amount) filter (where status = 'won' and marketing_sourced), 0)
            as marketing_revenue,
        quantile_cont(date_diff('second', created_at, closed_at) / 86400.0, 0.5)
            filter (where status = 'won') as cycle_days
    from d where closed_at >= $start and closed_at < $end group by all
),

deal_created as (
    select
        date_trunc($grain, created_at) as period,
        coalesce(sum(amount) filter (where marketing_sourced), 0) as marketing_pipeline,
        count(*) as deals_created
    from d where created_at >= $start and created_at < $end group by all
),

spent as (
    select date_trunc($grain, month) as period, sum(amount) as spend
    from spend
    where month >= $start and month < $end
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], channel))
    group by all
),

seen as (
    select date_trunc($grain, month) as period, sum(visits) as visits
    from awareness
    where month >= $start and month < $end
        and (array_length($sources::varchar[]) = 0 or list_contains($sources::varchar[], channel))
    group by all
),

periods as (
    select period from lead_created
    union select period from lead_mql
    union select period from lead_customer
    union select period from deal_closed
    union select period from deal_created
    union select period from spent
    union select period from seen
),

churn as (
    select
        p.period,
        count(*) filter (where c.started_at < p.period
            and (c.churned_at is null or c.churned_at >= p.period)) as active_at_start,
        count(*) filter (where c.started_at < p.period and c.churned_at >= p.period
            and c.churned_at < p.period + case $grain
                when 'month' then interval 1 month
                when 'quarter' then interval 3 month
                else interval 1 year end) as churned
    from periods as p
    cross join customers as c
    group by p.period
)

select
    p.period,
    coalesce(lc.leads, 0) as leads,
    coalesce(lc.referral_leads, 0) as referral_leads,
    coalesce(m.mqls, 0) as mqls,
    coalesce(m.mqls_accepted, 0) as mqls_accepted,
    coalesce(m.mqls_won, 0) as mqls_won,
    coalesce(sq.sqls, 0) as sqls,
    m.speed_to_lead_hours,
    coalesce(m.accepted_within_sla, 0) as accepted_within_sla,
    coalesce(cu.new_customers, 0) as new_customers,
    coalesce(ev.evangelists, 0) as evangelists,
    coalesce(dc.won, 0) as won,
    coalesce(dc.lost, 0) as lost,
    coalesce(dc.revenue_won, 0) as revenue_won,
    dc.margin_won,
    coalesce(dc.won_without_margin, 0) as won_without_margin,
    coalesce(dc.marketing_revenue, 0) as marketing_revenue,
    dc.cycle_days,
    coalesce(dn.marketing_pipeline, 0) as marketing_pipeline,
    coalesce(dn.deals_created, 0) as deals_created,
    sp.spend,
    se.visits,
    coalesce(ch.active_at_start, 0) as active_at_start,
    coalesce(ch.churned, 0) as churned
from periods as p
left join lead_created as lc on lc.period = p.period
left join lead_mql as m on m.period = p.period
left join lead_sql as sq on sq.period = p.period
left join lead_customer as cu on cu.period = p.period
left join lead_evangelist as ev on ev.period = p.period
left join deal_closed as dc on dc.period = p.period
left join deal_created as dn on dn.period = p.period
left join spent as sp on sp.period = p.period
left join seen as se on se.period = p.period
left join churn as ch on ch.period = p.period
where p.period is not null
order by p.period
