-- How deals link to leads: deals that carry a lead id, and those whose lead is loaded.
-- params: none
select
    count(*) as deals,
    count(lead_id) as with_lead_id,
    count(*) filter (
        where exists (select 1 from leads where leads.lead_id = deals.lead_id)
    ) as linked
from deals
