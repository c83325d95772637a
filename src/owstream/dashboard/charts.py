"""Every chart of the dashboard, as Vega-Lite specs built from plain rows (no altair: a spec is a dict, built
in microseconds). The rules, said once here:

- A chart's height follows its rows: each bar has a row of :data:`ROW` pixels (the bar itself ~20 px,
  never thinner than 16), so 1 hero or 40 read the same; pages show the top :data:`TOP` and a "show all".
- Labels never overlap: one bar per row, value labels at the bar's end inside a padded scale, time ticks
  thinned by Vega's greedy overlap removal, long names cut with an ellipsis (the tooltip has the whole).
- Time axes span the tracked period (fetch times, UTC) and show the year when it spans one.
- Colour says the role (:mod:`owstream.dashboard.palette`); the platform is a second channel (a line's dash,
  a bar's opacity); lines of one chart each get their own colour; legends sit above the plot in rows that fit
  a phone's width.
- Drawn as SVG, so every mark is a DOM node (the browser tests measure bars and labels).

Values shown as text (labels, tooltips) come already written by :mod:`owstream.domain.format`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from owstream.dashboard import palette
from owstream.domain.vocabulary import DIVISION_NAMES, DIVISIONS

Spec = dict[str, Any]
Row = dict[str, Any]

ROW = 28  # pixels per bar row
TOP = 10  # bars drawn before "show all"
LINE_HEIGHT = 210
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_LEGEND = {"orient": "top", "direction": "horizontal", "title": None, "labelLimit": 120, "symbolType": "square"}


def show(spec: Spec, key: str) -> None:
    """Draw ``spec`` across its container's width, its own height, in a container keyed ``key`` (its
    ``st-key-<key>`` class names the chart in the page: the browser tests measure it by that)."""
    with st.container(key=key):
        st.vega_lite_chart(spec=inline(spec), width="stretch")


_OUTER = ("$schema", "autosize", "usermeta", "config", "title", "width", "height")


def inline(spec: Spec) -> Spec:
    """``spec`` with its rows kept in the spec: its body (data, encoding, marks, transforms) one layer down.

    Streamlit takes a spec's top-level ``data.values`` out and sends them as an Arrow table (pandas on the
    server, an Arrow decoder and a second dataflow pass in the browser): for the few dozen rows of a chart
    that costs more than the rows themselves. Vega-Lite draws the nested form the same, pixel for pixel,
    except a line chart with points and a colour legend (its legend moves up 22 px): that one is left as is."""
    if "data" not in spec or "color" in spec.get("encoding", {}):
        return spec
    outer = {name: spec[name] for name in _OUTER if name in spec}
    body = {name: value for name, value in spec.items() if name not in outer}
    return {**outer, "layer": [body]}


def _base(title: str | None, values: Sequence[Row]) -> Spec:
    spec: Spec = {
        "$schema": SCHEMA,
        "data": {"values": list(values)},
        "autosize": {"type": "fit-x", "contains": "padding"},
        "usermeta": {"embedOptions": {"renderer": "svg"}},
        "config": {"axis": {"labelFontSize": 12, "titleFontSize": 12}, "view": {"stroke": None}},
    }
    if title:
        spec["title"] = {"text": title, "anchor": "start", "fontSize": 14}
    return spec


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at most ``top`` (``count`` or so of them)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [round(i * step, 10) for i in range(int(top // step) + 1)]


def _decimals(fmt: str) -> int:
    """The decimals a d3 number format shows (``,.0f`` 0, ``.2f`` 2): the smallest tick step worth a label."""
    digits = fmt.rsplit(".", 1)[-1].rstrip("f~") if "." in fmt else "0"
    return int(digits) if digits.isdigit() else 0


def legend_columns(entries: int) -> int:
    return max(1, min(entries, 4))


# --- bars, one row each -------------------------------------------------------------------------------


def bars(
    rows: Sequence[Row],
    *,
    value: str,
    title: str,
    axis_title: str,
    category: str = "name",
    color: str | None = "role",
    scale: dict[str, list[str]] | None = None,
    fmt: str = ",.0f",
    domain_max: float | None = None,
    legend: bool = True,
    tooltip: Sequence[tuple[str, str]] = (),
) -> Spec:
    """Horizontal bars in the order of ``rows`` (each: ``category``, ``value``, ``label`` the value written
    out, ``color``'s field, the tooltip's fields), ``label`` at each bar's end."""
    top = max([float(r[value] or 0) for r in rows] + [domain_max or 0.0])
    ticks = nice_ticks(domain_max or top)
    order = [r[category] for r in rows]
    spec = _base(title, rows)
    spec["height"] = {"step": ROW}
    spec["encoding"] = {
        "y": {"field": category, "type": "nominal", "sort": order, "title": None,
              "axis": {"labelLimit": 130, "labelOverlap": False, "ticks": False, "labelPadding": 6}},
        "x": {"field": value, "type": "quantitative", "title": axis_title,
              "scale": {"domain": [0, (top or 1) * 1.22], "nice": False},
              "axis": {"values": ticks, "format": fmt, "labelOverlap": "greedy", "grid": True}},
    }  # fmt: skip
    bar: Spec = {"mark": {"type": "bar", "cornerRadiusEnd": 3, "height": {"band": 0.72}}, "encoding": {}}
    if color and scale is not None:
        shown = dict(_LEGEND, columns=legend_columns(len(scale["domain"]))) if legend else None
        bar["encoding"]["color"] = {"field": color, "type": "nominal", "scale": scale, "legend": shown}
    else:
        bar["mark"]["color"] = palette.CATEGORICAL[0]
    if "platform" in (rows[0] if rows else {}):
        bar["encoding"]["opacity"] = {"field": "platform", "type": "nominal", "legend": None,
                                      "scale": {"domain": list(palette.PLATFORM_OPACITY),
                                                "range": list(palette.PLATFORM_OPACITY.values())}}  # fmt: skip
    bar["encoding"]["tooltip"] = [{"field": f, "title": t} for f, t in tooltip] or [{"field": "label"}]
    text = {
        "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 12},
        "encoding": {"text": {"field": "label"}},
    }
    spec["layer"] = [bar, text]
    return spec


def stacked(
    rows: Sequence[Row],
    *,
    value: str,
    title: str,
    axis_title: str,
    scale: dict[str, list[str]],
    order: Sequence[str],
    tooltip: Sequence[tuple[str, str]] = (),
) -> Spec:
    """One bar per ``category`` (``order``), stacked by ``part``, coloured by ``color``; a part wide enough
    (``show``: true) carries its ``part`` name."""
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["category"]] = totals.get(r["category"], 0.0) + float(r[value])
    top = max(totals.values(), default=1.0)
    spec = _base(title, rows)
    spec["height"] = {"step": ROW + 8}
    spec["transform"] = [
        {"stack": value, "groupby": ["category"], "as": ["x0", "x1"],
         "sort": [{"field": value, "order": "descending"}, {"field": "part", "order": "ascending"}]},
        {"calculate": "(datum.x0 + datum.x1) / 2", "as": "mid"},
    ]  # fmt: skip
    spec["encoding"] = {
        "y": {"field": "category", "type": "nominal", "sort": list(order), "title": None,
              "axis": {"labelLimit": 130, "ticks": False, "labelPadding": 6}},
    }  # fmt: skip
    x = {"field": "x0", "type": "quantitative", "title": axis_title,
         "scale": {"domain": [0, top * 1.03], "nice": False},
         "axis": {"values": nice_ticks(top), "format": ",.0f", "labelOverlap": "greedy"}}  # fmt: skip
    spec["layer"] = [
        {"mark": {"type": "bar", "stroke": "#ffffff", "strokeWidth": 1, "height": {"band": 0.78}},
         "encoding": {"x": x, "x2": {"field": "x1"},
                      "color": {"field": "color", "type": "nominal", "scale": scale,
                                "legend": dict(_LEGEND, columns=legend_columns(len(scale["domain"])))},
                      "tooltip": [{"field": f, "title": t} for f, t in tooltip]}},
        {"transform": [{"filter": "datum.show"}],
         "mark": {"type": "text", "color": "#ffffff", "fontSize": 11, "limit": 90},
         "encoding": {"x": {"field": "mid", "type": "quantitative"}, "text": {"field": "part"}}},
    ]  # fmt: skip
    return spec


# --- time ---------------------------------------------------------------------------------------------


def iso(epoch: float) -> str:
    """An epoch as the ISO UTC time Vega reads."""
    return datetime.fromtimestamp(float(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_format(times: Sequence[float]) -> str:
    """Tick labels for a period: the year when it spans one (or is not this year), hours within two days."""
    if not times:
        return "%-d %b"
    first, last = min(times), max(times)
    years = {datetime.fromtimestamp(t, tz=UTC).year for t in (first, last)}
    this_year = datetime.now(tz=UTC).year
    if len(years) > 1 or years != {this_year}:
        return "%-d %b %Y" if last - first > 2 * 86400 else "%-d %b %Y %H:%M"
    return "%-d %b %H:%M" if last - first <= 2 * 86400 else "%-d %b"


def time_x(times: Sequence[float], title: str, field: str = "t") -> Spec:
    """A UTC time axis over the period of ``times`` (epochs)."""
    axis = {"labelExpr": f"utcFormat(datum.value, '{time_format(times)}')", "labelOverlap": "greedy",
            "labelSeparation": 12, "tickCount": 5, "labelFlush": True, "grid": False}  # fmt: skip
    scale: Spec = {"type": "utc"}
    if times and max(times) - min(times) < 60:  # one moment: a window around it, so the point sits inside
        middle = (max(times) + min(times)) / 2
        scale["domain"] = [iso(middle - 3600), iso(middle + 3600)]
    return {"field": field, "type": "temporal", "title": title, "scale": scale, "axis": axis}


def over_time(
    rows: Sequence[Row],
    *,
    value: str,
    title: str,
    y_title: str,
    times: Sequence[float],
    x_title: str = "Fetched (UTC)",
    fmt: str = ",.0f",
    color: str | None = None,
    scale: dict[str, list[str]] | None = None,
    dash: str | None = None,
    tooltip: Sequence[tuple[str, str]] = (),
    y_axis: Spec | None = None,
    height: int = LINE_HEIGHT,
) -> Spec:
    """Lines with points over time (``t``: ISO time); one line per ``color`` value, dashed per ``dash``."""
    spec = _base(title, rows)
    spec["height"] = height
    encoding: Spec = {
        "x": time_x(times, x_title),
        "y": {"field": value, "type": "quantitative", "title": y_title, "scale": {"zero": False, "padding": 8},
              "axis": y_axis or {"format": fmt, "tickCount": 4, "labelOverlap": "greedy",
                                 "tickMinStep": 10 ** -_decimals(fmt)}},
        "tooltip": [{"field": f, "title": t} for f, t in tooltip],
    }  # fmt: skip
    if color is not None:
        legend = dict(_LEGEND, columns=legend_columns(len(scale["domain"]) if scale else 4))
        encoding["color"] = {"field": color, "type": "nominal", "legend": legend}
        if scale is not None:
            encoding["color"]["scale"] = scale
    if dash is not None:
        dashes = palette.PLATFORM_DASH
        encoding["strokeDash"] = {"field": dash, "type": "nominal", "legend": dict(_LEGEND, title=None),
                                  "scale": {"domain": list(dashes), "range": list(dashes.values())}}  # fmt: skip
    spec["encoding"] = encoding
    spec["mark"] = {"type": "line", "point": {"size": 45, "filled": True}, "strokeWidth": 2,
                    **({} if color else {"color": palette.CATEGORICAL[0]})}  # fmt: skip
    return spec


_RANK_LABEL = (
    f"{[DIVISION_NAMES[d] for d in DIVISIONS]}[floor((round(datum.value) - 1) / 5)] + ' ' + "
    "(6 - (round(datum.value) - floor((round(datum.value) - 1) / 5) * 5))"
)


def rank_axis(scores: Sequence[float]) -> Spec:
    """The y axis of ranks: a tick at each rank held, named (``Gold 3``)."""
    return {"values": sorted({float(round(s)) for s in scores}), "labelExpr": _RANK_LABEL, "labelOverlap": "greedy"}


def session_bars(rows: Sequence[Row], *, times: Sequence[float], title: str) -> Spec:
    """Play sessions on a timeline: at each session's end, its games stacked won (green) over lost (red)."""
    spec = _base(title, rows)
    spec["height"] = 170
    spec["mark"] = {"type": "bar", "width": 9, "cornerRadiusTopLeft": 2, "cornerRadiusTopRight": 2}
    spec["encoding"] = {
        "x": time_x(times, "Session ended (UTC)"),
        "y": {"field": "n", "type": "quantitative", "stack": True, "title": "Games",
              "axis": {"tickMinStep": 1, "format": "d", "tickCount": 4}},
        "color": {"field": "result", "type": "nominal", "legend": dict(_LEGEND, columns=2),
                  "scale": {"domain": ["Won", "Lost"], "range": [palette.WON, palette.LOST]}},
        "order": {"field": "order", "type": "quantitative"},
        "tooltip": [{"field": "when", "title": "When"}, {"field": "games", "title": "Games"},
                    {"field": "wl", "title": "Result"}, {"field": "heroes", "title": "Heroes"}],
    }  # fmt: skip
    return spec


def session_strip(rows: Sequence[Row], *, times: Sequence[float], order: Sequence[str], title: str) -> Spec:
    """Each player's sessions on one timeline row: a dot per session, sized by games, coloured won/lost."""
    spec = _base(title, rows)
    spec["height"] = {"step": ROW + 6}
    spec["mark"] = {"type": "circle", "opacity": 0.85, "stroke": "#ffffff", "strokeWidth": 1}
    spec["encoding"] = {
        "x": time_x(times, "Session ended (UTC)"),
        "y": {"field": "player", "type": "nominal", "sort": list(order), "title": None,
              "axis": {"labelLimit": 130, "ticks": False}},
        "size": {"field": "games", "type": "quantitative", "legend": None, "scale": {"range": [40, 420]}},
        "color": {"field": "result", "type": "nominal", "legend": dict(_LEGEND, columns=3),
                  "scale": {"domain": ["More won", "Even", "More lost"],
                            "range": [palette.WON, palette.UNKNOWN_ROLE, palette.LOST]}},
        "tooltip": [{"field": "player", "title": "Player"}, {"field": "when", "title": "When"},
                    {"field": "wl", "title": "Result"}, {"field": "heroes", "title": "Heroes"}],
    }  # fmt: skip
    return spec


def per_minute(rows: Sequence[Row], *, times: Sequence[float], title: str) -> Spec:
    spec = _base(title, rows)
    spec["height"] = 170
    spec["mark"] = {"type": "bar", "width": 5, "color": palette.CATEGORICAL[0]}
    spec["encoding"] = {
        "x": time_x(times, "Minute (UTC)"),
        "y": {"field": "results", "type": "quantitative", "title": "Results",
              "axis": {"tickMinStep": 1, "format": "d"}},
        "tooltip": [{"field": "when", "title": "Minute"}, {"field": "results", "title": "Results"}],
    }  # fmt: skip
    return spec
