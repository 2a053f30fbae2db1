-- Leads without a created date: counted only in the all-time view of the funnel.
-- params: none
select count(*) as undated
from leads
where created_at is null
