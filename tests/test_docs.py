"""The docs stay true: every command documented, Quick start = what CI runs."""

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
