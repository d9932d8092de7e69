"""The docs stay true: every command documented, Quick start = what CI runs."""

import json
import re

from conftest import ROOT, invoke

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    from typer.main import get_command

    from bucket.cli import app

    return sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_has_a_readme_section_and_help():
    for name in commands():
        assert f"### `bucket {name}`" in README, f"README lacks a section for bucket {name}"
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.stdout, name


def test_quick_start_has_two_commands_and_ci_runs_them_verbatim():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)
    assert len(blocks) == 2 and all("\n" not in b for b in blocks), blocks
    install_run, test = blocks
    assert "bucket metrics examples/" in install_run or "bucket plan examples/" in install_run
    assert "[test]" in test and "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_run in ci.splitlines() and test in ci.splitlines()


def test_every_option_has_help():
    from typer.main import get_command

    from bucket.cli import app

    for name, cmd in get_command(app).commands.items():  # type: ignore[attr-defined]
        assert cmd.help, name
        for param in cmd.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help"


def console_examples() -> list[tuple[str, list[str]]]:
    """Each `$ bucket ...` line of the README's console blocks whose files ship with bucket
    (examples/), with the output lines shown under it; a block's lines after one that writes a
    file this test does not run (a redirection) are left out too, since they may read it (such
    blocks have tests of their own)."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        lines: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                lines.append((line[2:], []))
            elif lines:
                lines[-1][1].append(line)
        for cmd, out in lines:
            if ">" in cmd and not _runnable(cmd):
                break  # what follows may read what this line wrote
            if _runnable(cmd):
                found.append((cmd, out))
    return found


def _runnable(cmd: str) -> bool:
    return (
        cmd.startswith("bucket ")
        and all(
            (ROOT / w).exists()
            for w in cmd.split()
            if w.endswith((".csv", ".parquet", ".toml")) and "-output" not in w
        )
        and "|" not in cmd
        and ">" not in cmd
    )


def squeeze(text: str) -> str:
    return " ".join(text.split())


def test_readme_console_examples_print_what_the_readme_shows(monkeypatch, tmp_path):
    """Every README example on the shipped files runs as written and prints the lines shown
    (whitespace aside; a line ending in '...' is a prefix; `echo $?` shows the exit code)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)  # what an example writes lands here
    examples = console_examples()
    assert len(examples) >= 4
    for cmd, shown in examples:
        args = cmd.split(";")[0].split()[1:]
        result = invoke(*args, env={"COLUMNS": "200"})
        printed = squeeze(result.stdout + "\n" + result.stderr)
        if "echo $?" in cmd:
            assert str(result.exit_code) == shown[-1].strip(), cmd
            shown = shown[:-1]
        else:
            assert result.exit_code == 0, (cmd, result.stderr)
        for line in shown:
            want = squeeze(line)
            if want in ("", "..."):
                continue
            want = want[:-3].rstrip() if want.endswith("...") else want
            assert want in printed, f"README shows for `{cmd}`:\n{line}\nbut it printed:\n{printed}"


def test_the_readme_shows_the_shipped_experiments_file():
    block = README.split("## Experiments", 1)[1].split("```csv\n", 1)[1].split("```", 1)[0]
    assert block == (ROOT / "examples" / "experiments.csv").read_text(encoding="utf-8")


def test_the_readme_lift_tests_give_the_figures_it_quotes(tmp_path):
    block = README.split("Acquisition lift tests go in", 1)[1].split("```csv\n", 1)[1]
    path = tmp_path / "lifts.csv"
    path.write_text(block.split("```", 1)[0])
    res = invoke(
        "plan", str(ROOT / "examples/saas_monthly.csv"), "--json", "--experiments", str(path)
    )
    assert res.exit_code == 0, res.stderr
    params = {(p["symbol"], p["channel"]): p for p in json.loads(res.stdout)["parameters"]}
    m, k = params[("M", "search")]["value"], params[("κ", "search")]["value"]
    iota = params[("M", "social")]["note"].split("ι = ")[1].split()[0]
    quoted = f"gives search M = {m:.0f} and κ = {k:.0f} (truth 240 and 90) and social ι = {iota}"
    assert squeeze(quoted) in squeeze(README)


def test_every_setting_is_a_documented_bucket_toml_key(tmp_path):
    """The README's bucket.toml paragraph names every setting, and its example loads."""
    import re as regex

    from bucket.settings import PlanSettings, load_settings

    section = README.split("**`bucket.toml`.**", 1)[1].split("```toml", 1)
    for name in PlanSettings.model_fields:
        assert f"`{name}`" in section[0], name
    example = section[1].split("```", 1)[0]
    (tmp_path / "bucket.toml").write_text(example)
    settings, sources, _ = load_settings(tmp_path / "bucket.toml", {})
    assert settings.annual_discount_rate == 0.12 and sources["annual_discount_rate"] == "set"
    assert settings.margin == 0.7 and settings.horizon == 24
    both = tmp_path / "both.toml"
    both.write_text("discount_rate = 0.1\nannual_discount_rate = 0.2\n")
    res = invoke("plan", str(ROOT / "examples" / "saas_monthly.csv"), "--config", str(both))
    assert res.exit_code == 1 and regex.search(
        r"discount_rate and annual_discount_rate", res.stderr
    )


def test_every_design_section_cited_is_in_docs_design():
    """ "DESIGN §n" in the README and the source points to a heading of docs/design.md."""
    import re as regex

    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    headings = set(regex.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", design, flags=regex.M))
    texts = [README] + [p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")]
    cited = {m for t in texts for m in regex.findall(r"DESIGN §(\d+(?:\.\d+)?)", t)}
    assert cited and cited <= headings, sorted(cited - headings)
