-- Headline counts for the Home page: leads by furthest stage reached, deals by outcome.
-- A lead at a later stage has passed every earlier one, so "mqls" counts every lead past lead.
-- params: none
with lead_counts as (
    select
        count(*) as leads,
        count(*) filter (where stage <> 'lead') as mqls,
        count(*) filter (where stage in ('sql', 'opportunity', 'customer', 'evangelist')) as sqls,
        count(*) filter (where stage in ('customer', 'evangelist')) as customers,
        min(created_at) as first_lead_at,
        max(created_at) as last_lead_at
    from leads
),

deal_counts as (
    select
        count(*) as deals,
        count(*) filter (where status = 'won') as won,
        count(*) filter (where status = 'lost') as lost,
        count(*) filter (where status = 'open') as open_deals,
        coalesce(sum(amount) filter (where status = 'won'), 0) as revenue_won,
        sum(margin) filter (where status = 'won') as margin_won,
        count(*) filter (where status = 'won' and margin is null) as won_without_margin,
        -- every date a page filters deals on: an export may date a deal's creation after
        -- its close (a re-import stamps CreatedDate), so both ends take both dates
        least(min(created_at), min(closed_at)) as first_deal_at,
        greatest(max(created_at), max(closed_at)) as last_deal_at
    from deals
)

select
    lead_counts.*,
    deal_counts.*,
    deal_counts.won / nullif(deal_counts.won + deal_counts.lost, 0) as win_rate,
    lead_counts.customers / nullif(lead_counts.leads, 0) as lead_to_customer
from lead_counts
cross join deal_counts
