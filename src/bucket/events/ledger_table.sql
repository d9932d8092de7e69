-- The ledger as a table, one row per period and channel: `bucket plan` reads it as it is.
-- customers_start is the channel's customers_end one period earlier (the grid starts one
-- period before the first reported, so every reported period has one); churned follows from
-- the identity end = start + new + reactivated − churned.
SELECT
    p.label AS period,
    l.channel,
    b.customers_end AS customers_start,
    l.new_customers,
    l.reactivated_customers,
    b.customers_end + l.new_customers + l.reactivated_customers - l.customers_end AS churned_customers,
    l.customers_end,
    CAST(ROUND(l.revenue_cents) AS DECIMAL(20, 2)) / 100 AS revenue
FROM ledger AS l
JOIN periods AS p ON p.ordinal = l.ordinal
JOIN ledger AS b ON b.channel = l.channel AND b.ordinal = l.ordinal - 1
ORDER BY p.ordinal, l.channel
