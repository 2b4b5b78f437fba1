"""Draw the field app's PNG icons from static/field/icon.svg with the system Chromium.

    .venv/bin/python manage.py field_icons        # --out DIR to write elsewhere

Writes static/field/icon-192.png and icon-512.png ("any": the rounded artwork as in the SVG,
on a transparent corner) and icon-maskable-192.png and icon-maskable-512.png ("maskable": a
full bleed of the brand colour with the artwork inside the central 80 % safe zone, so any
mask shape the launcher cuts keeps it whole). Run again after changing icon.svg; the PNGs are
committed, so the app needs no image library at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

FIELD = Path(settings.BASE_DIR) / "static" / "field"
BRAND = "#0b3d91"
SIZES = (192, 512)
# The maskable artwork: the SVG drawn at 80 % of the side; its shield then spans about half
# the side and stays inside the safe zone (a circle of 40 % radius) whatever the mask.
MASKABLE_SCALE = 0.8

PAGE = """<!doctype html><html><head><style>
html, body {{ margin: 0; padding: 0; background: transparent; }}
.tile {{ width: {size}px; height: {size}px; display: flex; align-items: center;
  justify-content: center; background: {background}; }}
img {{ width: {art}px; height: {art}px; display: block; }}
</style></head><body><div class="tile"><img src="data:image/svg+xml;base64,{svg}"></div>
</body></html>"""


def draw(out: Path) -> list[Path]:
    """Draw the four icons into `out`; the paths written. Playwright is a development
    dependency: imported here, not at start-up."""
    import base64

    from playwright.sync_api import sync_playwright

    svg = FIELD / "icon.svg"
    inner = svg.read_text()
    # For the maskable icon the shield alone, without the SVG's own rounded square.
    shield = inner.replace('<rect width="96" height="96" rx="18" fill="#0b3d91"/>', "")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        for size in SIZES:
            for name, source, background, art in (
                (f"icon-{size}.png", inner, "transparent", size),
                (
                    f"icon-maskable-{size}.png",
                    shield,
                    BRAND,
                    round(size * MASKABLE_SCALE),
                ),
            ):
                page = browser.new_page(viewport={"width": size, "height": size})
                encoded = base64.b64encode(source.encode()).decode()
                page.set_content(
                    PAGE.format(size=size, background=background, art=art, svg=encoded)
                )
                page.locator(".tile").screenshot(path=str(out / name), omit_background=True)
                page.close()
                written.append(out / name)
        browser.close()
    return written


class Command(BaseCommand):
    help = "Draw the field app's PNG icons (any and maskable, 192 and 512 px) from icon.svg."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=FIELD, help="Folder to write them to.")

    def handle(self, *args, out: Path, **options):
        out.mkdir(parents=True, exist_ok=True)
        for path in draw(out):
            self.stdout.write(f"wrote {path}")
