"""Regenerate docs/report.png: the top of `bucket report` on the shipped example, as a real
headless Chromium draws it (Debian's `chromium` package, driven by Playwright).

    python scripts/report_screenshot.py            # writes docs/report.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "plan.html"
        bucket = Path(sys.executable).with_name("bucket")
        subprocess.run(
            [str(bucket), "report", "examples/saas_monthly.csv", "-o", str(page), "--quiet"],
            check=True,
            cwd=ROOT,
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=exe, args=["--no-sandbox", "--disable-gpu"]
            )
            pg = browser.new_page(viewport={"width": 1000, "height": 1500}, device_scale_factor=1)
            pg.goto(page.as_uri(), wait_until="load")
            png = pg.screenshot(clip={"x": 0, "y": 0, "width": 1000, "height": 1500})
            browser.close()
    img = Image.open(BytesIO(png)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    out = ROOT / "docs" / "report.png"
    img.save(out, optimize=True)
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
