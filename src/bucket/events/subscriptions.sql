-- Subscriptions → ledger counts per (period, channel) and cohort survival (DESIGN §2.2).
--
-- Input view:  sub(customer_id, start_day, end_day, mrr_cents, channel); end_day NULL = active.
-- Parameters:  {period(x)} the expression that turns a date x into its period ordinal;
--              {months_per_period} to turn monthly recurring revenue into revenue per period.
--
-- A customer is active on day D when a subscription covers it (start ≤ D ≤ end). Overlapping
-- or back-to-back subscriptions of one customer form one spell; a gap between them is churn
-- then reactivation. As for transactions, customers active at each period end are the running
-- sum of +1 (a spell opens) and −1 (the period after a spell's end) steps; MRR is counted the
-- same way, per subscription.

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
    WINDOW by_customer AS (
        PARTITION BY customer_id ORDER BY start_day, end_day
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
marked AS (
    SELECT
        *,
        CASE
            WHEN covered_until IS NULL OR start_day > covered_until + INTERVAL '1' DAY
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
        {period(MAX(end_day) + INTERVAL '1' DAY)} AS closes_at
    FROM numbered
    GROUP BY customer_id, customer_channel, first_day, spell_no
),
steps AS (
    SELECT opens_at AS ordinal, channel, cohort, COUNT(*) AS step
    FROM spells GROUP BY opens_at, channel, cohort
    UNION ALL
    SELECT closes_at, channel, cohort, -COUNT(*)
    FROM spells GROUP BY closes_at, channel, cohort
),
flows AS (
    SELECT
        opens_at AS ordinal,
        channel,
        SUM(CASE WHEN spell_no = 1 THEN 1 ELSE 0 END) AS new_customers,
        SUM(CASE WHEN spell_no > 1 THEN 1 ELSE 0 END) AS reactivated_customers
    FROM spells
    GROUP BY opens_at, channel
),
mrr_steps AS (
    SELECT {period(start_day)} AS ordinal, customer_channel AS channel, SUM(mrr_cents) AS step
    FROM numbered GROUP BY {period(start_day)}, customer_channel
    UNION ALL
    SELECT {period(end_day + INTERVAL '1' DAY)}, customer_channel, -SUM(mrr_cents)
    FROM numbered GROUP BY {period(end_day + INTERVAL '1' DAY)}, customer_channel
),
channel_steps AS (
    SELECT ordinal, channel, SUM(step) AS step FROM steps GROUP BY ordinal, channel
),
channel_mrr AS (
    SELECT ordinal, channel, SUM(step) AS step FROM mrr_steps GROUP BY ordinal, channel
),
cohort_steps AS (
    SELECT ordinal, cohort, SUM(step) AS step FROM steps GROUP BY ordinal, cohort
),
channels AS (SELECT DISTINCT channel FROM spells),
grid AS (SELECT p.ordinal, c.channel FROM periods AS p CROSS JOIN channels AS c),
ledger AS (
    SELECT
        g.ordinal,
        g.channel,
        SUM(COALESCE(s.step, 0)) OVER running AS customers_end,
        COALESCE(f.new_customers, 0) AS new_customers,
        COALESCE(f.reactivated_customers, 0) AS reactivated_customers,
        SUM(COALESCE(m.step, 0)) OVER running * {months_per_period} AS revenue_cents
    FROM grid AS g
    LEFT JOIN channel_steps AS s ON s.ordinal = g.ordinal AND s.channel = g.channel
    LEFT JOIN channel_mrr AS m ON m.ordinal = g.ordinal AND m.channel = g.channel
    LEFT JOIN flows AS f ON f.ordinal = g.ordinal AND f.channel = g.channel
    WINDOW running AS (
        PARTITION BY g.channel ORDER BY g.ordinal ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
cohort_grid AS (
    SELECT p.ordinal, c.cohort
    FROM periods AS p
    CROSS JOIN (SELECT DISTINCT cohort FROM spells) AS c
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
       reactivated_customers, CAST(ROUND(revenue_cents) AS BIGINT) AS revenue_cents
FROM ledger
UNION ALL
SELECT 'cohorts', cohort, CAST(ordinal AS VARCHAR), active, 0, 0, 0
FROM cohort_active
