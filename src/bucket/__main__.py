"""`python -m bucket` = the `bucket` command."""

from bucket.cli import run

run()
