"""Plots on the feedback page and in the class report: data specs in, PNG (base64) out.

Two halves, so that nothing lab-specific lives in the framework:

* **Extraction** (grading time, trusted side): a lab may ship
  ``hidden/plots.py`` with ``plots(probes) -> list[dict]``. It receives the
  plain probe data of one submission (exactly what the checks see) and returns
  small, JSON-serialisable *plot specs* drawn from the student's own data, next
  to the expected shape computed by the lab's trusted reference.
  :func:`lab_plots` calls it, validates and shrinks the result, and never lets
  an exception escape (a broken extractor costs a plot, never a grade). The
  specs are stored with the run in the gradebook, so every report can be
  regenerated without re-running anything.
* **Rendering** (report time): :func:`render_png` draws a spec with
  matplotlib's Agg backend; :func:`data_uri` wraps it for an ``<img>``.

A spec::

    {"id": "grad_norms", "grade_id": "w10_grad_norms", "kind": "lines",
     "title": "...", "caption": "...", "x_label": "...", "y_label": "...", "log_y": true,
     "series": [{"label": "yours", "x": [...], "y": [...], "role": "student"},
                {"label": "expected", "x": [...], "y": [...], "role": "reference"}]}

``kind: "hist"`` draws small multiples: ``{"bins": [edges], "panels": [{"label",
"counts", "expected_range": [lo, hi]}]}``. ``role`` picks the style: ``student``
(solid, markers), ``reference`` (dashed grey), ``points`` (dots only, e.g. one per
seed). Text in a spec is shown to the student: write it in course language,
with no threshold that the checks' messages do not already state.
"""
from __future__ import annotations

import base64
import functools
import importlib.util
import io
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger(__name__)

MAX_SERIES = 12
MAX_POINTS = 400
MAX_TEXT = 600
_MODULES: dict[tuple[str, float], Any] = {}

STUDENT = "#1565c0"
REFERENCE = "#6b6b6b"
POINTS = "#64b5f6"


# --------------------------------------------------------------------------- extraction


def _load(path: Path) -> Any:
    key = (str(path), path.stat().st_mtime)
    if key not in _MODULES:
        name = f"_lab_plots_{abs(hash(key))}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _MODULES[key] = module
    return _MODULES[key]


def _number(x: Any) -> float | None:
    """A finite float rounded to 4 significant digits (None otherwise).

    A plot cannot show more, and rounding makes the specs of students whose code
    computes the same curve (up to float noise from another parameter layout)
    identical, so :func:`render_png` draws each distinct curve once per process.
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return float(f"{v:.4g}") if math.isfinite(v) else None


def _text(x: Any) -> str:
    return str(x if x is not None else "")[:MAX_TEXT]


def clean_spec(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """A validated copy of ``spec`` with only plain, finite, bounded data (None if unusable)."""
    if not isinstance(spec, Mapping):
        return None
    kind = spec.get("kind", "lines")
    out: dict[str, Any] = {k: _text(spec.get(k)) for k in ("id", "grade_id", "title", "caption", "x_label", "y_label")}
    out["kind"] = kind
    out["log_y"] = bool(spec.get("log_y", False))
    if spec.get("x_ticks") is not None:
        out["x_ticks"] = [_number(v) for v in list(spec["x_ticks"])[:MAX_POINTS]]
    if kind == "lines":
        series = []
        for s in list(spec.get("series") or [])[:MAX_SERIES]:
            if not isinstance(s, Mapping):
                continue
            ys = [_number(v) for v in list(s.get("y") or [])[:MAX_POINTS]]
            xs = [_number(v) for v in list(s.get("x") or range(1, len(ys) + 1))[:len(ys)]]
            if out["log_y"]:
                ys = [v if v is not None and v > 0 else None for v in ys]
            if not any(v is not None for v in ys):
                continue
            series.append({"label": _text(s.get("label")), "x": xs, "y": ys,
                           "role": s.get("role") if s.get("role") in ("student", "reference", "points") else "student"})
        if not series:
            return None
        out["series"] = series
    elif kind == "hist":
        bins = [_number(v) for v in list(spec.get("bins") or [])[:MAX_POINTS]]
        if len(bins) < 2 or any(b is None for b in bins):
            return None
        panels = []
        for p in list(spec.get("panels") or [])[:MAX_SERIES]:
            counts = [max(0.0, _number(v) or 0.0) for v in list(p.get("counts") or [])[: len(bins) - 1]]
            if len(counts) != len(bins) - 1:
                continue
            rng = p.get("expected_range")
            rng = [_number(rng[0]), _number(rng[1])] if isinstance(rng, (list, tuple)) and len(rng) == 2 else None
            panels.append({"label": _text(p.get("label")), "counts": counts, "expected_range": rng})
        if not panels:
            return None
        out["bins"], out["panels"] = bins, panels
    else:
        return None
    json.dumps(out, allow_nan=False)  # proves it is plain data
    return out


def lab_plots(hidden_dir: Path, probes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The plot specs of one submission from its lab's ``hidden/plots.py`` ([] without one,
    or when the extractor fails: a plot is never worth a grading error)."""
    path = Path(hidden_dir) / "plots.py"
    if not path.exists():
        return []
    try:
        specs = _load(path).plots(probes)
    except Exception as exc:  # noqa: BLE001 - trusted, but a plot must never stop grading
        log.warning("plots.py of %s failed: %s: %s", hidden_dir, type(exc).__name__, exc)
        return []
    out = []
    for spec in list(specs or [])[:MAX_SERIES]:
        try:
            cleaned = clean_spec(spec)
        except (TypeError, ValueError):
            cleaned = None
        if cleaned is not None:
            out.append(cleaned)
    return out


# --------------------------------------------------------------------------- rendering


def _figure(width: float = 6.4, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "autograder", "figure.dpi": 100})
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def render_png(spec: Mapping[str, Any]) -> bytes:
    """Draw one (clean) spec; returns PNG bytes. Identical specs are drawn once (a
    class mostly shares a handful of curves; drawing is ~0.1 s CPU a plot)."""
    return _render_cached(json.dumps(spec, sort_keys=True))


@functools.lru_cache(maxsize=512)
def _render_cached(key: str) -> bytes:
    return _render(json.loads(key))


def _render(spec: Mapping[str, Any]) -> bytes:
    plt = _figure()
    if spec.get("kind") == "hist":
        panels = spec["panels"]
        fig, axes = plt.subplots(1, len(panels), figsize=(min(2.0 * len(panels) + 0.6, 8.5), 2.6), sharey=True,
                                 squeeze=False)
        bins = spec["bins"]
        centers = [(a + b) / 2 for a, b in zip(bins, bins[1:])]
        widths = [b - a for a, b in zip(bins, bins[1:])]
        for ax, p in zip(axes[0], panels):
            if p.get("expected_range"):
                lo, hi = p["expected_range"]
                ax.axvspan(lo, hi, color="#e8f5e9", zorder=0, label="expected range")
            ax.bar(centers, p["counts"], width=widths, color=STUDENT, alpha=0.85, zorder=2)
            ax.set_title(p["label"], fontsize=10)
            ax.set_xlim(bins[0], bins[-1])
            ax.tick_params(labelsize=8)
        axes[0][0].set_ylabel(spec.get("y_label") or "count")
        if spec.get("x_label"):
            fig.supxlabel(spec["x_label"], fontsize=9)
        fig.tight_layout()
        return _png(fig)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for s in spec["series"]:
        pts = [(x, y) for x, y in zip(s["x"], s["y"]) if x is not None and y is not None]
        if not pts:
            continue
        xs, ys = zip(*pts)
        if s["role"] == "reference":
            ax.plot(xs, ys, linestyle="--", color=REFERENCE, linewidth=1.8, marker="", label=s["label"], zorder=5)
        elif s["role"] == "points":
            ax.plot(xs, ys, linestyle="", marker="o", markersize=4, color=POINTS, alpha=0.8, label=s["label"], zorder=3)
        else:
            ax.plot(xs, ys, linestyle="-", color=STUDENT, linewidth=2, marker="o", markersize=5, label=s["label"],
                    zorder=4)
    if spec.get("log_y"):
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        ys_all = [y for s in spec["series"] for y in s["y"] if y is not None and y > 0]
        if ys_all and max(ys_all) / min(ys_all) < 10 ** 2.5:
            # less than ~2 decades: powers of ten alone would leave one labelled tick (or none)
            from matplotlib.ticker import LogLocator

            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        plain = FuncFormatter(lambda v, _: f"{v:.2g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    if spec.get("x_ticks"):
        ax.set_xticks([t for t in spec["x_ticks"] if t is not None])
    ax.set_xlabel(spec.get("x_label") or "")
    ax.set_ylabel(spec.get("y_label") or "")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def spec_uri(spec: Mapping[str, Any]) -> str | None:
    """``data:`` URI of a spec's PNG, or None if it cannot be drawn."""
    try:
        cleaned = clean_spec(spec)
        return data_uri(render_png(cleaned)) if cleaned else None
    except Exception as exc:  # noqa: BLE001 - a bad plot must not break a report
        log.warning("could not draw plot %s: %s", spec.get("id") if isinstance(spec, Mapping) else "?", exc)
        return None
