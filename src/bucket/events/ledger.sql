-- Steps → ledger counts per (period, channel) and cohort survival per channel (DESIGN §2.2).
--
-- Input tables: steps    the output of transactions.sql or subscriptions.sql (a few thousand
--                        rows: +1/−1 customer steps, flows and MRR steps per period);
--               periods(ordinal, start_day, end_day), every period of the ledger plus the one
--                        before the first (its end gives the first customers_start).
-- Parameters:   {months_per_period} to turn monthly recurring revenue into revenue per period.
--
-- Customers active at a period's end are the running sum of their channel's (or cohort's)
-- steps up to that period; MRR is a running sum in the same way. Periods without any event
-- are in the grid, so they carry the previous count forward. Steps before the grid's first
-- period (events before the ledger's range) count in that first period, which is not reported
-- itself: it only gives the first customers_start. Steps after the last period are ignored.

WITH first_period AS (SELECT MIN(ordinal) AS ordinal FROM periods),
clamped AS (
    SELECT
        CASE WHEN s.ordinal < f.ordinal THEN f.ordinal ELSE s.ordinal END AS ordinal,
        s.channel,
        s.cohort,
        s.customer_step,
        s.new_customers,
        s.reactivated_customers,
        s.revenue_cents,
        s.mrr_step_cents
    FROM steps AS s
    CROSS JOIN first_period AS f
    WHERE s.ordinal IS NOT NULL  -- events counted but left out (no customer id, no date)
),
channel_steps AS (
    SELECT
        ordinal,
        channel,
        SUM(customer_step) AS customer_step,
        SUM(new_customers) AS new_customers,
        SUM(reactivated_customers) AS reactivated_customers,
        SUM(revenue_cents) AS revenue_cents,
        SUM(mrr_step_cents) AS mrr_step_cents
    FROM clamped
    GROUP BY ordinal, channel
),
channels AS (SELECT DISTINCT channel FROM steps WHERE ordinal IS NOT NULL),
grid AS (SELECT p.ordinal, c.channel FROM periods AS p CROSS JOIN channels AS c),
ledger AS (
    SELECT
        g.ordinal,
        g.channel,
        SUM(COALESCE(s.customer_step, 0)) OVER running AS customers_end,
        COALESCE(s.new_customers, 0) AS new_customers,
        COALESCE(s.reactivated_customers, 0) AS reactivated_customers,
        COALESCE(s.revenue_cents, 0)
            + SUM(COALESCE(s.mrr_step_cents, 0)) OVER running * {months_per_period} AS revenue_cents
    FROM grid AS g
    LEFT JOIN channel_steps AS s ON s.ordinal = g.ordinal AND s.channel = g.channel
    WINDOW running AS (
        PARTITION BY g.channel ORDER BY g.ordinal ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
cohort_steps AS (
    SELECT ordinal, channel, cohort, SUM(customer_step) AS customer_step
    FROM clamped
    GROUP BY ordinal, channel, cohort
),
cohort_grid AS (
    SELECT p.ordinal, c.channel, c.cohort
    FROM periods AS p
    CROSS JOIN (
        SELECT DISTINCT channel, cohort FROM steps WHERE new_customers > 0 AND ordinal IS NOT NULL
    ) AS c
    WHERE p.ordinal >= c.cohort
),
cohort_active AS (
    SELECT
        g.channel,
        g.cohort,
        g.ordinal,
        SUM(COALESCE(s.customer_step, 0)) OVER (
            PARTITION BY g.channel, g.cohort ORDER BY g.ordinal
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS active
    FROM cohort_grid AS g
    LEFT JOIN cohort_steps AS s
        ON s.ordinal = g.ordinal AND s.channel = g.channel AND s.cohort = g.cohort
)
SELECT 'ledger' AS part, ordinal, channel, customers_end, new_customers,
       reactivated_customers, CAST(ROUND(revenue_cents) AS BIGINT) AS revenue_cents
FROM ledger
UNION ALL
-- a cohort is the customers whose first period it is, per channel (a customer's channel is
-- the one of their first event): (cohort, channel, active, period) in the ledger's columns
SELECT 'cohorts', cohort, channel, active, ordinal, 0, 0
FROM cohort_active
