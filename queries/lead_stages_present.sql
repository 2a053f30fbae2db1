-- Which lifecycle stages the loaded leads actually use, so the funnel shows only those.
-- params: none
select stage, count(*) as leads
from leads
group by stage
