-- Values offered by the shared filters: each source, segment and owner in leads and deals.
-- params: none
with labelled as (
    select 'source' as field, source as value from leads
    union all select 'source', source from deals
    union all select 'segment', segment from leads
    union all select 'segment', segment from deals
    union all select 'owner', owner from leads
    union all select 'owner', owner from deals
)

select field, value, count(*) as records
from labelled
where value is not null
group by field, value
order by field, records desc, value
