-- The chosen leads, each with what is counted ($unit: leads, or accounts: a company once)
-- and the breakdown group it falls in ($breakdown: none, source, origin, segment, owner;
-- a lead's own value, '(none)' when blank).
-- params: $breakdown (text), $unit (text)
-- uses: chosen_leads
grouped_leads as (
    select
        *,
        case $unit when 'accounts' then coalesce(account, lead_id) else lead_id end as entity,
        case $breakdown
            when 'source' then coalesce(source, '(none)')
            when 'origin' then coalesce(origin, '(none)')
            when 'segment' then coalesce(segment, '(none)')
            when 'owner' then coalesce(owner, '(none)')
            else 'All'
        end as grp
    from chosen_leads
)
