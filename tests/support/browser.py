"""What the browser tests read from a rendered page: Streamlit's run state, and the geometry of the charts
(Vega's SVG marks), tables and links, measured in the page with getBoundingClientRect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" '
    b'fill="#d0d4dc"/></svg>'
)
TIMEOUT_MS = 60_000
LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_page(browser: Any, viewport: dict[str, int] = LAPTOP) -> Any:
    """A page in a fresh context that may only reach 127.0.0.1 (other images: a placeholder)."""
    from playwright.sync_api import Route

    def elsewhere(url: str) -> bool:  # only requests leaving 127.0.0.1 are intercepted (local ones go as they are)
        return not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))

    def refuse(route: Route) -> None:
        if route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER_SVG)
        else:
            route.abort()

    context = browser.new_context(viewport=viewport)
    context.route(elsewhere, refuse)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


# Every chart of the page, measured: bars of the horizontal bar charts (keyed chart_*; their thickness),
# every text of a chart (axis labels, value labels, legend labels: their boxes), legend symbols' colours,
# and how far anything reaches to the right.
MEASURE = """() => {
  // Vega hides a label it removes for overlap with opacity 0: only the drawn ones count
  const visible = (e) => Number(getComputedStyle(e).opacity) > 0 && e.getAttribute('opacity') !== '0';
  const box = (e) => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map((chart) => {
    const holder = chart.closest('[class*="st-key-"]');
    const key = holder ? [...holder.classList].find((c) => c.startsWith('st-key-')).slice(7) : null;
    const svg = chart.querySelector('svg.marks');
    if (!svg) return {key, svg: false, canvas: !!chart.querySelector('canvas'), box: box(chart)};
    const bars = [...svg.querySelectorAll('g.mark-rect.role-mark path')].map(box).filter((b) => b.w > 0.5);
    const texts = [...svg.querySelectorAll('text')]
      .filter((t) => t.textContent.trim() && !t.closest('.role-title') && visible(t))
      .map((t) => ({text: t.textContent, ...box(t)}));
    const legends = [...svg.querySelectorAll('g.role-legend')].map((legend) =>
      [...legend.querySelectorAll('g.role-legend-symbol path')].map((p) => {
        const s = getComputedStyle(p);
        return s.fill && s.fill !== 'none' && !s.fill.endsWith(', 0)') ? s.fill : s.stroke;
      }));
    return {key, svg: true, bars, texts, legends, box: box(svg)};
  });
  const tables = [...document.querySelectorAll('[data-testid="stTable"]')].filter((t) => t.offsetParent)
    .map((t) => ({...box(t), scroll: t.scrollWidth, client: t.clientWidth,
                  overflow: getComputedStyle(t).overflowX + ' ' + getComputedStyle(t.firstElementChild).overflowX}));
  const right = Math.max(...[...document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]')]
    .filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect().right));
  // a headline number whose label or value ends in an ellipsis: some element inside is wider than its box
  const cut = [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricValue"]')]
    .filter((m) => m.offsetParent)
    .filter((m) => [m, ...m.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1))
    .map((m) => m.innerText.trim());
  return {charts, tables, right, cut, scrollWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}"""

MIN_BAR = 16.0  # px: the thinnest bar a chart may draw


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box, slack: float = 1.0) -> bool:
        return (
            self.x + slack < other.x + other.w
            and other.x + slack < self.x + self.w
            and self.y + slack < other.y + other.h
            and other.y + slack < self.y + self.h
        )


def ready(page: Any) -> None:
    """Streamlit connected and its script run finished (Streamlit's own tests wait the same way)."""
    from playwright.sync_api import expect

    app = page.locator("[data-testid='stApp']")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=TIMEOUT_MS)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=TIMEOUT_MS)


UNDRAWN = """() => [...document.querySelectorAll('[class*="st-key-chart_"]')]
  .filter((c) => !c.querySelector('[data-testid="stVegaLiteChart"] svg.marks g, canvas'))
  .map((c) => [...c.classList].find((n) => n.startsWith('st-key-')).slice(7) + ': ' + c.innerText.slice(0, 200))"""


def charts_drawn(page: Any, timeout_ms: int = TIMEOUT_MS) -> None:
    """Every chart the script sent has drawn its marks. Streamlit reports the run finished before a chart's
    component (loaded on demand) has drawn it: each chart sits in a container keyed ``chart_...``, which is
    there at once, so the wait is for each of those to hold a drawn chart (an SVG with marks, or a canvas).
    AssertionError naming the charts not drawn after ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => ({UNDRAWN})().length === 0", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"charts not drawn on {page.url}: {page.evaluate(UNDRAWN)}") from None


def measure(page: Any) -> dict[str, Any]:
    ready(page)
    charts_drawn(page)
    found: dict[str, Any] = page.evaluate(MEASURE)
    return found


def problems(found: dict[str, Any], *, bar_charts: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a measured page, in words (empty: nothing)."""
    out = []
    width = found["viewport"]
    if found["scrollWidth"] > width + 1:
        out.append(f"the page is {found['scrollWidth']} px wide in a {width} px window")
    if found["right"] > width + 1:
        out.append(f"an element reaches {found['right']:.0f} px in a {width} px window")
    keyed = {c["key"]: c for c in found["charts"] if c["key"]}
    for name in bar_charts:
        if not any(key.startswith(name) for key in keyed):
            out.append(f"no chart {name}")
    for chart in found["charts"]:
        name = chart["key"] or "a chart"
        if not chart["svg"]:
            out.append(f"{name} is {'a canvas' if chart['canvas'] else 'not drawn'}: its marks cannot be measured")
            continue
        if chart["box"]["x"] + chart["box"]["w"] > width + 1:
            out.append(f"{name} is cut at the right ({chart['box']['x'] + chart['box']['w']:.0f} px)")
        if chart["key"] and chart["key"].startswith(bar_charts or ("\0",)):
            thin = [b["h"] for b in chart["bars"] if b["h"] < MIN_BAR]
            if not chart["bars"] or thin:
                out.append(f"{name}: bars {min(thin or [0]):.1f} px thick (at least {MIN_BAR:.0f})")
        texts = [(t["text"], Box(t["x"], t["y"], t["w"], t["h"])) for t in chart["texts"]]
        for i, (text, first) in enumerate(texts):
            for other, second in texts[i + 1 :]:
                if first.overlaps(second):
                    out.append(f"{name}: labels {text!r} and {other!r} overlap")
        for legend in chart["legends"]:
            if len(set(legend)) != len(legend):
                out.append(f"{name}: legend colours repeat ({legend})")
    for text in found["cut"]:
        out.append(f"a number's label or value is cut short: {text!r}")
    for table in found["tables"]:
        if table["x"] + table["w"] > width + 1:
            out.append(f"a table reaches {table['x'] + table['w']:.0f} px in a {width} px window")
        if table["scroll"] > table["client"] + 1 and "auto" not in table["overflow"]:
            out.append("a table is cut (wider than its box, which does not scroll)")
    return out


WATCH = """() => {
  window.__lastChange = performance.now();
  new MutationObserver(() => { window.__lastChange = performance.now(); }).observe(
    document.querySelector('[data-testid="stApp"]'),
    {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def still(page: Any, quiet_ms: int = 500) -> None:
    """The page stopped changing: nothing in it changed for ``quiet_ms``. Streamlit reports the run finished
    when the server has sent the last element, not when the browser has drawn them all: a page whose script
    is quick (its reads cached) is still laying out its last elements then, and a measure or a screenshot
    taken at that moment misses them (the screenshots came out cut short)."""
    page.evaluate(WATCH)
    page.wait_for_function(f"() => performance.now() - window.__lastChange > {quiet_ms}", timeout=TIMEOUT_MS)
