-- Customers by months as a customer, in bins of $width months: how many, and how many of
-- them churned. Months: tenure in months when given, else start to churn (or to the latest
-- date in the file).
-- params: $width (integer), $segments (text[])
-- uses: customer_months
select
    cast(floor(months / nullif(cast($width as integer), 0)) * cast($width as integer) as integer)
        as months_from,
    count(*) as customers,
    count(*) filter (where has_churned) as churned
from customer_months
where months is not null
group by all
order by months_from
