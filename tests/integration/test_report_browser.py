"""The HTML report in a real browser (Debian's headless Chromium, installed by
scripts/setup.sh): a run of 8 configs x 6 categories at 1280 px and 420 px. Nothing
overflows the page sideways (the verdict matrix scrolls inside its own box), every bias
cell of the verdict matrix is inside the viewport (a phone gets one card per config;
wider, the config column is sticky), long validity notes wrap, every image fits, the SRS
plot wraps its panels into rows, an h near the limit prints with 3 decimals, a failing
matrix cell's link lands on its open flips table, and a closed flips table opens when
its summary is clicked. Screenshots of both widths are written to
``$BIAS_GATE_SCREENSHOT_DIR`` when set (to look at), else to the test's temp folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bias_gate.report.html import render_html
from tests.support.reports import add_flips, make_large_results

WIDTHS = (1280, 420)

#: Measures the laid-out report (inside a frame of the tested width: Chromium's window is
#: at least 500 px wide) and posts the result to the frame's parent.
CHECK_SCRIPT = """
<script>
window.addEventListener("load", () => {
  if (location.search !== "?check") return;  // a screenshot: the page as it opens
  const width = window.innerWidth;
  const right = (el) => el.getBoundingClientRect().right;
  const out = {
    width: width,
    scrollWidth: document.documentElement.scrollWidth,
    overflowing: [...document.body.querySelectorAll("*")]
      .filter((el) => right(el) > width + 1 && !el.closest(".wide"))
      .map((el) => el.tagName + (el.id ? "#" + el.id : "") + ": " + el.textContent.slice(0, 30))
      .slice(0, 8),
    validityOverflow: [...document.querySelectorAll("#validity td")]
      .filter((td) => right(td) > width + 1).map((td) => td.textContent.slice(0, 40)),
    matrixBoxRight: right(document.querySelector("#verdict-matrix").parentElement),
    // Every bias cell of the matrix, as the page opens: inside the viewport, sideways.
    biasCells: [...document.querySelectorAll("#verdict-matrix td.bias")].length,
    biasCellsOutside: [...document.querySelectorAll("#verdict-matrix td.bias")]
      .filter((td) => td.getBoundingClientRect().left < -1 || right(td) > width + 1)
      .map((td) => td.dataset.label + ": " + td.textContent.slice(0, 20)).slice(0, 8),
    configSticky: getComputedStyle(document.querySelector("#verdict-matrix th.config"))
      .position,
    // The reasons: rendered, inside the page, and above the first plot.
    reasons: (() => {
      const why = document.getElementById("reasons").nextElementSibling.getBoundingClientRect();
      const plot = document.querySelector("figure").getBoundingClientRect();
      return {bottom: why.bottom, right: why.right, height: why.height, plotTop: plot.top};
    })(),
    images: [...document.querySelectorAll("img")].map((img) => ({
      alt: img.alt, natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
      right: right(img)})),
  };
  // A failing cell's link, then a closed (passing) cell's summary, clicked as a reader would.
  const link = document.querySelector("#verdict-matrix td.fail a");
  const target = document.getElementById(link.getAttribute("href").slice(1));
  link.click();
  setTimeout(() => {
    const table = target.querySelector("table.flips").getBoundingClientRect();
    out.link = {hash: location.hash, open: target.open, top: target.getBoundingClientRect().top,
                tableHeight: table.height, tableTop: table.top, viewport: window.innerHeight};
    const closed = document.querySelector("details:not([open])");
    out.closedBefore = closed.open;
    closed.querySelector("summary").click();
    setTimeout(() => {
      out.closedAfter = closed.open;
      out.closedTableHeight = closed.querySelector("table.flips").getBoundingClientRect().height;
      out.flipsOverflow = [...document.querySelectorAll(
        "details summary, details p, details[open] table.flips td")]
        .filter((el) => right(el) > width + 1).map((el) => el.textContent.slice(0, 40));
      closed.open = false;
      window.scrollTo(0, 0);
      parent.postMessage(JSON.stringify(out), "*");
    }, 100);
  }, 100);
});
</script>
"""

#: A page holding the report in a frame ``{width}`` px wide; it writes what the report
#: posts into its own DOM, where --dump-dom shows it.
FRAME_PAGE = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="report.html{fragment}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>
window.addEventListener("message", (event) => {{
  const pre = document.createElement("pre");
  pre.id = "bias-gate-check";
  pre.textContent = event.data;
  document.body.appendChild(pre);
}});
</script></body></html>
"""
HEIGHT = 2400


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium: `apt-get install -y chromium` (scripts/setup.sh does)")


def _browser(
    binary: str, page: Path, width: int, *args: str, fragment: str = ""
) -> subprocess.CompletedProcess:
    frame = page.with_name(f"frame-{width}{re.sub(r'[^A-Za-z0-9_-]', '-', fragment)}.html")
    frame.write_text(
        FRAME_PAGE.format(width=width, height=HEIGHT, fragment=fragment), encoding="utf-8"
    )
    window = max(width, 500)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    return subprocess.run(
        [binary, *flags, f"--window-size={window},{HEIGHT}", *args, frame.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    html = render_html(add_flips(make_large_results()))
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", WIDTHS)
def test_report_lays_out_at_desktop_and_phone_width(page, width, tmp_path):
    binary = _chromium()
    done = _browser(
        binary, page, width, "--virtual-time-budget=3000", "--dump-dom", fragment="?check"
    )
    found = re.search(r'<pre id="bias-gate-check">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, done.stdout[-2000:] + done.stderr[-2000:]
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["width"] == width
    assert check["scrollWidth"] <= width, f"the page scrolls sideways: {check['overflowing']}"
    assert check["validityOverflow"] == [], "validity values pushed off-screen"
    assert check["matrixBoxRight"] <= width + 1, "the verdict matrix overflows the page"
    assert check["biasCells"] == 8 * 6, check["biasCells"]
    assert check["biasCellsOutside"] == [], "bias cells of the matrix off-screen"
    # Wide: the config column stays put while the matrix scrolls; narrow: config cards.
    assert check["configSticky"] == ("sticky" if width > 640 else "static")
    why = check["reasons"]
    assert why["height"] > 0 and why["right"] <= width + 1, why
    assert why["bottom"] <= why["plotTop"], f"the reasons are not above the plots: {why}"
    assert {image["alt"] for image in check["images"]} == {
        "srs_by_sparsity.png",
        "new_bias_rate.png",
        "paradox.png",
    }
    for image in check["images"]:
        assert image["natural"] > 0 and image["right"] <= width + 1, image
        assert image["natural"] <= 1800, f"{image['alt']} is {image['natural']} px wide"
    link = check["link"]
    assert link["hash"].startswith("#flips-") and link["open"], link
    assert abs(link["top"]) < 2, f"the failing cell's link did not land on its table: {link}"
    assert link["tableHeight"] > 0 and link["tableTop"] < link["viewport"], link
    assert check["closedBefore"] is False and check["closedAfter"] is True
    assert check["closedTableHeight"] > 0
    assert check["flipsOverflow"] == [], "flips summaries, notes or answers pushed off-screen"

    shots = Path(os.environ.get("BIAS_GATE_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"report-{width}.png"
    _browser(binary, page, width, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    flips_shot = shots / f"report-{width}-flips.png"
    _browser(
        binary,
        page,
        width,
        "--virtual-time-budget=3000",
        f"--screenshot={flips_shot}",
        fragment=link["hash"],
    )
    assert flips_shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_h_near_the_limit_is_not_misread():
    """h 0.198 against the limit 0.2 prints as 0.198 (3 decimals), not "0.20"."""
    html = render_html(make_large_results())
    assert "h&nbsp;0.198" in html
    assert not re.search(r"h&nbsp;\d\.\d\d<", html)
