"""Header matching at scale: a missing column's nearest header, and capped column lists."""

import difflib
import json
import random

from conftest import invoke

from bucket.io import columns as cols


def reference_suggest(missing: str, unknown: list[str]) -> str | None:
    """The nearest header as the first version found it: every header against every name."""
    aliases = [cols.normalize(a) for a in cols.aliases_by_column()[missing]]
    best: tuple[float, str] | None = None
    for header in unknown:
        h = cols.normalize(header)
        for alias in aliases:
            ratio = difflib.SequenceMatcher(None, h, alias).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, header)
    return best[1] if best is not None and best[0] >= 0.6 else None


def test_the_nearest_header_is_the_one_the_full_search_finds():
    rng = random.Random(7)
    names = [a for c in cols.COLUMNS for a in cols.aliases_by_column()[c]]

    def typo(name: str) -> str:
        chars = list(name)
        for _ in range(rng.randint(0, 3)):
            if not chars:
                break
            i = rng.randrange(len(chars))
            chars[i : i + 1] = rng.choice([[], [rng.choice("aeinrst_ ")], [chars[i], "x"]])
        return "".join(chars) or "x"

    for _ in range(100):
        unknown = [typo(rng.choice(names)) for _ in range(rng.randint(1, 6))]
        for missing in ("period", "new_customers", "customers_start", "churned_customers"):
            hint = cols.suggest(missing, unknown)
            want = reference_suggest(missing, unknown)
            if want is None:
                assert hint.startswith("usually called"), (missing, unknown, hint)
            else:
                assert hint.startswith(f"nearest: '{cols.display(want)}';"), (missing, unknown)


def test_a_typo_is_found_among_thousands_of_unknown_columns(write):
    wide = [f"unknown_column_{i:05d}" for i in range(5000)]
    path = write(
        "period,new_customers,custmers_start,churned_customers," + ",".join(wide) + "\n"
        "2025-01,1,10,1," + ",".join("1" for _ in wide) + "\n"
    )
    result = invoke("validate", path)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "columns found: period, new_customers, custmers_start" in line
    assert "unknown_column_00015 … and 4,984 more)" in line
    assert (
        "nearest: 'custmers_start'; if that is it, pass --map customers_start=custmers_start"
        in line
    )
    assert "(the first 200 of 5,001 unknown columns were compared)" in line


def test_five_thousand_unknown_columns_give_capped_messages(write):
    """Every name against every alias took over a minute here; now at most 200 headers are
    compared and each message lists 20 names."""
    wide = [f"unknown_column_{i:05d}" for i in range(5000)]
    path = write(",".join(wide) + "\n" + ",".join("1" for _ in wide) + "\n")
    result = invoke("validate", path, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [p["code"] for p in problems] == ["missing-column"] * 4
    for p in problems:
        assert p["message"].endswith("unknown_column_00019 … and 4,980 more)")
        assert len(p["message"]) < 700
        assert p["fix"].endswith("(the first 200 of 5,000 unknown columns were compared)")


def test_a_valid_ledger_with_many_extra_columns_warns_once_with_a_capped_list(write):
    extra = [f"note_{i}" for i in range(1000)]
    path = write(
        "period,new_customers,customers_start,churned_customers," + ",".join(extra) + "\n"
        "2025-01,1,10,1," + ",".join("x" for _ in extra) + "\n"
        "2025-02,1,10,1," + ",".join("x" for _ in extra) + "\n"
    )
    result = invoke("validate", path)
    assert result.exit_code == 0, result.stderr
    assert "column(s) not used: 'note_0', 'note_1'," in result.stderr
    assert "'note_19' … and 980 more" in result.stderr


def test_a_huge_column_name_is_cut_in_messages():
    assert cols.name_list(["a" * 500, "b"]) == "a" * 79 + "…, b"
    assert cols.name_list(["x", "y"], quote="'") == "'x', 'y'"
