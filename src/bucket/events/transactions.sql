-- Transactions → steps: the few thousand counts that ledger.sql turns into a ledger (DESIGN §2.2).
--
-- Input view:  tx(customer_id, day, amount_cents, channel), one row per purchase.
-- Parameters:  {inactive}  days after which a customer without a purchase has churned;
--              {period(x)} the expression that turns a date x into its period ordinal
--                          (consecutive periods differ by 1), written in by the engine.
-- Output:      steps(ordinal, channel, cohort, new_customers, reactivated_customers,
--                    customer_step, revenue_cents, mrr_step_cents, first_day, last_day);
--              rows without an ordinal count the events left out (no customer id or no date)
--
-- A customer is active on day D when their last purchase on or before D is at most
-- {inactive} days old (the boundary day counts). So a purchase on day x keeps the customer
-- active at the end of every period from its own, period(x), up to the one before its *lapse*
-- period, period(x + {inactive} + 1 day). The counts of §2.2 are states at period ends:
-- a customer is active at the end of period t when some purchase has period(x) ≤ t < lapse.
-- Following the purchases of one customer in date order, each purchase
--   is new           when it is the first;
--   is a return      when the previous purchase lapsed in an earlier period than this one
--                    (so the customer was not active at the end of the last period: §2.2's
--                    "reactivated"); a lapse and a return inside one period change no period
--                    end and count as neither churn nor reactivation;
--   closes           when the next purchase (if any) falls after its lapse period: the
--                    customer stops counting from its lapse period on.
-- New and returning purchases are +1 steps in their period, closing ones −1 steps in their
-- lapse period; ledger.sql sums the steps up (a difference array) into the customers active
-- at each period end, without ever listing (customer, period) pairs.
--
-- One sorted pass over the purchases (one window, one sort), then a single GROUP BY that
-- folds 10 million purchases into a few thousand rows; nothing else touches the big input.
-- Portable subset: a WINDOW clause, LAG/LEAD/FIRST_VALUE, CASE, EXTRACT and interval
-- arithmetic, all of which sqlglot transpiles.

WITH flagged AS (
    SELECT
        customer_id,
        day,
        amount_cents,
        channel,
        CASE WHEN customer_id IS NULL THEN 1 WHEN day IS NULL THEN 2 ELSE 0 END AS unplaced
    FROM tx
),
dated AS (
    -- an event without a customer id (1) or a date (2) is nobody's purchase in no period: its
    -- id, day and channel are cleared (one NULL partition, never a customer); it is only counted
    SELECT
        CASE WHEN unplaced = 0 THEN customer_id END AS customer_id,
        CASE WHEN unplaced = 0 THEN day END AS day,
        amount_cents,
        CASE WHEN unplaced = 0 THEN channel END AS channel,
        unplaced,
        CASE WHEN unplaced = 0 THEN {period(day)} END AS ordinal,
        CASE WHEN unplaced = 0 THEN {period(day + INTERVAL '{inactive_plus_one}' DAY)} END AS lapse
    FROM flagged
),
purchases AS (
    SELECT
        day,
        amount_cents,
        ordinal,
        lapse,
        unplaced,
        LAG(lapse) OVER by_customer AS previous_lapse,
        LEAD(ordinal) OVER by_customer AS next_ordinal,
        -- the first row of a running frame is the customer's first purchase
        FIRST_VALUE(channel) OVER by_customer AS customer_channel,
        FIRST_VALUE(ordinal) OVER by_customer AS cohort
    FROM dated
    WINDOW by_customer AS (
        PARTITION BY customer_id ORDER BY day, channel
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
marked AS (
    SELECT
        customer_channel AS channel,
        cohort,
        ordinal,
        day,
        amount_cents,
        unplaced,
        CASE WHEN previous_lapse IS NULL THEN 1 ELSE 0 END AS is_new,
        CASE WHEN previous_lapse < ordinal THEN 1 ELSE 0 END AS is_reactivation,
        CASE WHEN next_ordinal IS NULL OR lapse < next_ordinal THEN lapse END AS closes_at
    FROM purchases
),
grouped AS (
    SELECT
        ordinal,
        channel,
        cohort,
        closes_at,
        unplaced,
        SUM(is_new) AS new_customers,
        SUM(is_reactivation) AS reactivated_customers,
        SUM(amount_cents) AS revenue_cents,
        COUNT(closes_at) AS closing,
        MIN(day) AS first_day,
        MAX(day) AS last_day
    FROM marked
    GROUP BY ordinal, channel, cohort, closes_at, unplaced
)
-- +1 where a spell opens (with the period's flows); the events that could not be placed come
-- out as rows without an ordinal, their reason (1, 2) as cohort and their count as new_customers
SELECT ordinal, channel, CASE WHEN unplaced = 0 THEN cohort ELSE unplaced END AS cohort,
       new_customers, reactivated_customers,
       new_customers + reactivated_customers AS customer_step, revenue_cents,
       0 AS mrr_step_cents, first_day, last_day
FROM grouped
UNION ALL
-- ... and −1 in the period after the last one it covers
SELECT closes_at, channel, cohort, 0, 0, -closing, 0, 0, NULL, NULL
FROM grouped
WHERE closes_at IS NOT NULL
