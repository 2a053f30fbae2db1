-- CAC per channel over [$start, $end): marketing spend on the channel divided by the new
-- customers whose lead came from it (leads.source matched to spend.channel).
-- params: $start (timestamp), $end (timestamp)
with spent as (
    select channel, sum(amount) as spend
    from spend where month >= $start and month < $end
    group by channel
),

won as (
    select source as channel, count(*) as new_customers
    from leads where customer_at >= $start and customer_at < $end
    group by source
)

select
    coalesce(s.channel, w.channel) as channel,
    coalesce(s.spend, 0) as spend,
    coalesce(w.new_customers, 0) as new_customers,
    s.spend / nullif(w.new_customers, 0) as cac
from spent as s
full outer join won as w on w.channel = s.channel
where coalesce(s.channel, w.channel) is not null
order by cac nulls last, channel
