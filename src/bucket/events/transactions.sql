-- Transactions → ledger counts per (period, channel) and cohort survival (DESIGN §2.2).
--
-- Inputs (views the engine creates):
--   tx(customer_id, day, amount_cents, channel)        one row per purchase
--   periods(ordinal, start_day, end_day)                the ledger's periods, plus the period
--                                                       before the first (for customers_start)
-- Parameter: {inactive} days. A customer is active on day D when their last purchase on or
-- before D is at most {inactive} days old (the boundary day counts as active).
--
-- Portable subset: CTEs, window functions, CASE, DATE_DIFF and interval arithmetic that
-- sqlglot transpiles; no engine-specific aggregate where a standard one exists.

WITH purchases AS (
    -- the previous purchase of the same customer, and the channel of their first one
    SELECT
        customer_id,
        day,
        amount_cents,
        LAG(day) OVER (PARTITION BY customer_id ORDER BY day, channel) AS previous_day,
        FIRST_VALUE(channel) OVER (
            PARTITION BY customer_id ORDER BY day, channel
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS customer_channel
    FROM tx
),
spell_marks AS (
    -- a purchase opens an activity spell when it is the first, or when the customer had
    -- lapsed: more than {inactive} days since the previous purchase
    SELECT
        *,
        CASE
            WHEN previous_day IS NULL OR DATE_DIFF('day', previous_day, day) > {inactive}
            THEN 1 ELSE 0
        END AS opens_spell
    FROM purchases
),
numbered AS (
    SELECT
        *,
        SUM(opens_spell) OVER (
            PARTITION BY customer_id ORDER BY day, opens_spell DESC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS spell_no
    FROM spell_marks
),
spells AS (
    -- one row per spell: its first purchase, and the last day the customer is still active
    SELECT
        customer_id,
        customer_channel AS channel,
        spell_no,
        MIN(day) AS spell_start,
        MAX(day) + INTERVAL '{inactive}' DAY AS active_until
    FROM numbered
    GROUP BY customer_id, customer_channel, spell_no
),
first_periods AS (
    SELECT s.customer_id, p.ordinal AS cohort
    FROM spells AS s
    JOIN periods AS p ON s.spell_start BETWEEN p.start_day AND p.end_day
    WHERE s.spell_no = 1
),
active_at_end AS (
    -- customers active on the last day of each period (spells never overlap)
    SELECT p.ordinal, s.channel, s.customer_id
    FROM spells AS s
    JOIN periods AS p ON s.spell_start <= p.end_day AND p.end_day <= s.active_until
),
openings AS (
    -- per customer and period, the lowest spell opened in it: 1 = new, above 1 = reactivated
    SELECT p.ordinal, s.channel, s.customer_id, MIN(s.spell_no) AS lowest_spell
    FROM spells AS s
    JOIN periods AS p ON s.spell_start BETWEEN p.start_day AND p.end_day
    GROUP BY p.ordinal, s.channel, s.customer_id
),
revenue AS (
    SELECT p.ordinal, n.customer_channel AS channel, SUM(n.amount_cents) AS revenue_cents
    FROM numbered AS n
    JOIN periods AS p ON n.day BETWEEN p.start_day AND p.end_day
    GROUP BY p.ordinal, n.customer_channel
),
ends AS (
    SELECT ordinal, channel, COUNT(*) AS customers_end FROM active_at_end GROUP BY ordinal, channel
),
flows AS (
    SELECT
        ordinal,
        channel,
        SUM(CASE WHEN lowest_spell = 1 THEN 1 ELSE 0 END) AS new_customers,
        SUM(CASE WHEN lowest_spell > 1 THEN 1 ELSE 0 END) AS reactivated_customers
    FROM openings
    GROUP BY ordinal, channel
),
cohort_survival AS (
    SELECT f.cohort, a.ordinal, COUNT(*) AS active
    FROM active_at_end AS a
    JOIN first_periods AS f ON f.customer_id = a.customer_id AND a.ordinal >= f.cohort
    GROUP BY f.cohort, a.ordinal
)
,
channels AS (SELECT DISTINCT channel FROM spells),
grid AS (SELECT p.ordinal, c.channel FROM periods AS p CROSS JOIN channels AS c)
SELECT
    'ledger' AS part,
    g.ordinal,
    g.channel,
    COALESCE(e.customers_end, 0) AS customers_end,
    COALESCE(f.new_customers, 0) AS new_customers,
    COALESCE(f.reactivated_customers, 0) AS reactivated_customers,
    COALESCE(r.revenue_cents, 0) AS revenue_cents
FROM grid AS g
LEFT JOIN ends AS e ON e.ordinal = g.ordinal AND e.channel = g.channel
LEFT JOIN flows AS f ON f.ordinal = g.ordinal AND f.channel = g.channel
LEFT JOIN revenue AS r ON r.ordinal = g.ordinal AND r.channel = g.channel
UNION ALL
SELECT 'cohorts', cohort, CAST(ordinal AS VARCHAR), active, 0, 0, 0
FROM cohort_survival
