-- Subscriptions → steps: the counts that ledger.sql turns into a ledger (DESIGN §2.2).
--
-- Input view:  sub(customer_id, start_day, end_day, mrr_cents, channel); end_day NULL = active.
-- Parameters:  {period(x)} the expression that turns a date x into its period ordinal.
-- Output:      steps(ordinal, channel, cohort, new_customers, reactivated_customers,
--                    customer_step, revenue_cents, mrr_step_cents, first_day, last_day),
--              the same shape as transactions.sql.
--
-- A customer is active on day D when a subscription covers it (start ≤ D ≤ end). Overlapping
-- or back-to-back subscriptions of one customer form one spell; a gap between them that holds
-- a period end is churn then reactivation (a gap inside one period changes no period-end
-- state, so the two subscriptions count as one spell). As for transactions, each spell is a +1 step in the period it opens and a
-- −1 step in the period after its end; MRR steps up when a subscription starts and down after
-- it ends, so ledger.sql's running sums give customers and MRR at each period end.

WITH subs AS (
    SELECT
        customer_id,
        start_day,
        COALESCE(end_day, DATE '9999-12-30') AS end_day,
        mrr_cents,
        -- the latest end among the customer's earlier subscriptions, and their first channel
        MAX(COALESCE(end_day, DATE '9999-12-30')) OVER (
            PARTITION BY customer_id ORDER BY start_day, end_day
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS covered_until,
        FIRST_VALUE(channel) OVER by_customer AS customer_channel,
        FIRST_VALUE(start_day) OVER by_customer AS first_day
    FROM sub
    -- no customer id (empty, blank or NULL) or no start: nobody to follow; counted and left
    -- out with a warning by the checks that run first
    WHERE customer_id IS NOT NULL AND start_day IS NOT NULL
    WINDOW by_customer AS (
        PARTITION BY customer_id ORDER BY start_day, end_day
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
marked AS (
    SELECT
        *,
        -- a new spell when the earlier coverage ran out in an earlier period than this start:
        -- a gap inside one period covers no period end, so it is neither churn nor return
        CASE
            WHEN covered_until IS NULL
                OR {period(covered_until + INTERVAL '1' DAY)} < {period(start_day)}
            THEN 1 ELSE 0
        END AS opens_spell
    FROM subs
),
numbered AS (
    SELECT
        *,
        SUM(opens_spell) OVER (
            PARTITION BY customer_id ORDER BY start_day, end_day
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS spell_no
    FROM marked
),
spells AS (
    SELECT
        customer_id,
        customer_channel AS channel,
        {period(first_day)} AS cohort,
        spell_no,
        {period(MIN(start_day))} AS opens_at,
        {period(MAX(end_day) + INTERVAL '1' DAY)} AS closes_at,
        MIN(start_day) AS first_start,
        -- the latest date the spell shows: its end, or its last start while it is open
        MAX(CASE WHEN end_day < DATE '9999-12-30' THEN end_day ELSE start_day END) AS last_seen
    FROM numbered
    GROUP BY customer_id, customer_channel, first_day, spell_no
),
opened AS (
    SELECT opens_at, closes_at, channel, cohort,
           SUM(CASE WHEN spell_no = 1 THEN 1 ELSE 0 END) AS new_customers,
           SUM(CASE WHEN spell_no > 1 THEN 1 ELSE 0 END) AS reactivated_customers,
           COUNT(*) AS spells,
           MIN(first_start) AS first_day,
           MAX(last_seen) AS last_day
    FROM spells
    GROUP BY opens_at, closes_at, channel, cohort
)
-- +1 where a spell opens, −1 in the period after it ends
SELECT opens_at AS ordinal, channel, cohort, new_customers, reactivated_customers,
       spells AS customer_step, 0 AS revenue_cents, 0 AS mrr_step_cents, first_day, last_day
FROM opened
UNION ALL
SELECT closes_at, channel, cohort, 0, 0, -spells, 0, 0, NULL, NULL
FROM opened
UNION ALL
-- MRR: up when a subscription starts, down in the period after it ends
SELECT {period(start_day)}, customer_channel, NULL, 0, 0, 0, 0, SUM(mrr_cents), NULL, NULL
FROM numbered
GROUP BY {period(start_day)}, customer_channel
UNION ALL
SELECT {period(end_day + INTERVAL '1' DAY)}, customer_channel, NULL, 0, 0, 0, 0, -SUM(mrr_cents), NULL, NULL
FROM numbered
GROUP BY {period(end_day + INTERVAL '1' DAY)}, customer_channel
