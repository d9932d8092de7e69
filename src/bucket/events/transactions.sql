-- Transactions → ledger counts per (period, channel) and cohort survival (DESIGN §2.2).
--
-- Input view:  tx(customer_id, day, amount_cents, channel), one row per purchase.
-- Parameters:  {inactive}  days after which a customer without a purchase has churned;
--              {period(x)} the expression that turns a date x into its period ordinal
--                          (consecutive periods differ by 1), written in by the engine.
--
-- A customer is active on day D when their last purchase on or before D is at most
-- {inactive} days old (the boundary day counts). Purchases fall into activity spells: a
-- purchase opens a spell when it is the customer's first or comes more than {inactive} days
-- after the previous one, and closes it when the next one is more than {inactive} days away
-- (or there is none). A spell keeps the customer active at the end of every period from the
-- one it opens in up to the one before its last purchase + {inactive} + 1 day. Counting those
-- as +1 / −1 steps per period and summing them up (a difference array) gives the customers
-- active at each period end without ever listing (customer, period) pairs: one sorted pass
-- over the purchases, then aggregates of a few hundred rows.
--
-- Portable subset: a WINDOW clause, LAG/LEAD/FIRST_VALUE window functions, CASE,
-- EXTRACT, DATE_DIFF and interval arithmetic, all of which sqlglot transpiles.

WITH purchases AS (
    SELECT
        customer_id,
        day,
        amount_cents,
        LAG(day) OVER by_customer AS previous_day,
        LEAD(day) OVER by_customer AS next_day,
        -- the first row of a running frame is the customer's first purchase: one window
        -- (one sort) serves all four functions
        FIRST_VALUE(channel) OVER by_customer AS customer_channel,
        FIRST_VALUE(day) OVER by_customer AS first_day
    FROM tx
    WINDOW by_customer AS (
        PARTITION BY customer_id ORDER BY day, channel
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
marked AS (
    SELECT
        customer_channel AS channel,
        {period(first_day)} AS cohort,
        {period(day)} AS ordinal,
        amount_cents,
        CASE WHEN previous_day IS NULL THEN 1 ELSE 0 END AS is_new,
        CASE
            WHEN previous_day IS NOT NULL AND DATE_DIFF('day', previous_day, day) > {inactive}
            THEN 1 ELSE 0
        END AS is_reactivation,
        CASE
            WHEN next_day IS NULL OR DATE_DIFF('day', day, next_day) > {inactive}
            THEN {period(day + INTERVAL '{inactive_plus_one}' DAY)}
        END AS closes_at
    FROM purchases
),
flows AS (
    -- per period and channel: revenue, new and reactivated customers, spells opened
    SELECT
        ordinal,
        channel,
        SUM(amount_cents) AS revenue_cents,
        SUM(is_new) AS new_customers,
        SUM(is_reactivation) AS reactivated_customers
    FROM marked
    GROUP BY ordinal, channel
),
steps AS (
    -- +1 where a spell opens, −1 in the period after the last one it covers
    SELECT ordinal, channel, cohort, SUM(is_new + is_reactivation) AS step
    FROM marked
    WHERE is_new = 1 OR is_reactivation = 1
    GROUP BY ordinal, channel, cohort
    UNION ALL
    SELECT closes_at, channel, cohort, -COUNT(*)
    FROM marked
    WHERE closes_at IS NOT NULL
    GROUP BY closes_at, channel, cohort
),
channel_steps AS (
    SELECT ordinal, channel, SUM(step) AS step FROM steps GROUP BY ordinal, channel
),
cohort_steps AS (
    SELECT ordinal, cohort, SUM(step) AS step FROM steps GROUP BY ordinal, cohort
),
channels AS (SELECT DISTINCT channel FROM flows),
grid AS (SELECT p.ordinal, c.channel FROM periods AS p CROSS JOIN channels AS c),
ledger AS (
    SELECT
        g.ordinal,
        g.channel,
        SUM(COALESCE(s.step, 0)) OVER (
            PARTITION BY g.channel ORDER BY g.ordinal ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS customers_end,
        COALESCE(f.new_customers, 0) AS new_customers,
        COALESCE(f.reactivated_customers, 0) AS reactivated_customers,
        COALESCE(f.revenue_cents, 0) AS revenue_cents
    FROM grid AS g
    LEFT JOIN channel_steps AS s ON s.ordinal = g.ordinal AND s.channel = g.channel
    LEFT JOIN flows AS f ON f.ordinal = g.ordinal AND f.channel = g.channel
),
cohort_grid AS (
    SELECT p.ordinal, c.cohort
    FROM periods AS p
    CROSS JOIN (SELECT DISTINCT cohort FROM marked WHERE is_new = 1) AS c
    WHERE p.ordinal >= c.cohort
),
cohort_active AS (
    SELECT
        g.cohort,
        g.ordinal,
        SUM(COALESCE(s.step, 0)) OVER (
            PARTITION BY g.cohort ORDER BY g.ordinal ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS active
    FROM cohort_grid AS g
    LEFT JOIN cohort_steps AS s ON s.ordinal = g.ordinal AND s.cohort = g.cohort
)
SELECT 'ledger' AS part, ordinal, channel, customers_end, new_customers,
       reactivated_customers, revenue_cents
FROM ledger
UNION ALL
SELECT 'cohorts', cohort, CAST(ordinal AS VARCHAR), active, 0, 0, 0
FROM cohort_active
