-- Transactions → steps: the few thousand counts that ledger.sql turns into a ledger (DESIGN §2.2).
--
-- Input view:  tx(customer_id, day, amount_cents, channel), one row per purchase.
-- Parameters:  {inactive}  days after which a customer without a purchase has churned;
--              {period(x)} the expression that turns a date x into its period ordinal
--                          (consecutive periods differ by 1), written in by the engine.
-- Output:      steps(ordinal, channel, cohort, new_customers, reactivated_customers,
--                    customer_step, revenue_cents, mrr_step_cents, first_day, last_day)
--
-- A customer is active on day D when their last purchase on or before D is at most
-- {inactive} days old (the boundary day counts). Purchases fall into activity spells: a
-- purchase opens a spell when it is the customer's first or comes more than {inactive} days
-- after the previous one, and closes it when the next one is more than {inactive} days away
-- (or there is none). A spell keeps the customer active at the end of every period from the
-- one it opens in up to the one before its last purchase + {inactive} + 1 day. So each spell
-- is a +1 step in the period it opens and a −1 step in the period after the last one it
-- covers; ledger.sql sums the steps up (a difference array) into the customers active at each
-- period end, without ever listing (customer, period) pairs.
--
-- One sorted pass over the purchases (one window, one sort), then a single GROUP BY that
-- folds 10 million purchases into a few thousand rows; nothing else touches the big input.
-- Portable subset: a WINDOW clause, LAG/LEAD/FIRST_VALUE, CASE, EXTRACT, DATE_DIFF and
-- interval arithmetic, all of which sqlglot transpiles.

WITH purchases AS (
    SELECT
        day,
        amount_cents,
        LAG(day) OVER by_customer AS previous_day,
        LEAD(day) OVER by_customer AS next_day,
        -- the first row of a running frame is the customer's first purchase
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
        day,
        amount_cents,
        CASE WHEN previous_day IS NULL THEN 1 ELSE 0 END AS is_new,
        CASE
            WHEN previous_day IS NOT NULL AND DATE_DIFF('day', previous_day, day) > {inactive}
            THEN 1 ELSE 0
        END AS is_reactivation,
        -- the period in which the spell this purchase closes stops counting, if it closes one
        CASE
            WHEN next_day IS NULL OR DATE_DIFF('day', day, next_day) > {inactive}
            THEN {period(day + INTERVAL '{inactive_plus_one}' DAY)}
        END AS closes_at
    FROM purchases
),
grouped AS (
    SELECT
        ordinal,
        channel,
        cohort,
        closes_at,
        SUM(is_new) AS new_customers,
        SUM(is_reactivation) AS reactivated_customers,
        SUM(amount_cents) AS revenue_cents,
        COUNT(closes_at) AS closing,
        MIN(day) AS first_day,
        MAX(day) AS last_day
    FROM marked
    GROUP BY ordinal, channel, cohort, closes_at
)
-- +1 where a spell opens (with the period's flows) ...
SELECT ordinal, channel, cohort, new_customers, reactivated_customers,
       new_customers + reactivated_customers AS customer_step, revenue_cents,
       0 AS mrr_step_cents, first_day, last_day
FROM grouped
UNION ALL
-- ... and −1 in the period after the last one it covers
SELECT closes_at, channel, cohort, 0, 0, -closing, 0, 0, NULL, NULL
FROM grouped
WHERE closes_at IS NOT NULL
