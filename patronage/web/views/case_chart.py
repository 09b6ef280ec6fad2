"""The case page's small chart: purchases (bars, by amount) and P(alive) (a line) on one time
axis, as SVG coordinates for the template (no script, nothing fetched)."""

from __future__ import annotations

from datetime import date, datetime

WIDTH, HEIGHT, PAD = 560, 160, 24


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def case_chart(purchases: list[dict], history: list[dict]) -> dict | None:
    """Bars and a polyline in a ``WIDTH`` × ``HEIGHT`` box, or None with nothing to draw.

    Args:
        purchases: ``ordered_at`` and ``amount`` per order, oldest first.
        history: ``as_of`` and ``p_alive`` per run the score changed, oldest first.

    Returns:
        ``bars`` (x, y, height, label), ``line`` (the polyline's points), ``points`` (x, y,
        label) and the first and last dates of the axis.
    """
    days = [_day(p["ordered_at"]) for p in purchases] + [_day(h["as_of"]) for h in history]
    if not days:
        return None
    start, end = min(days), max(days)
    span = max((end - start).days, 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(day: date) -> float:
        return round(PAD + inner_w * (day - start).days / span, 1)

    top = max((float(p["amount"]) for p in purchases), default=0.0) or 1.0
    bars = []
    for p in purchases:
        height = round(inner_h * float(p["amount"]) / top, 1)
        bars.append(
            {
                "x": x(_day(p["ordered_at"])) - 2,
                "y": round(PAD + inner_h - height, 1),
                "height": height,
                "label": f"{_day(p['ordered_at']).isoformat()}: {float(p['amount']):,.2f}",
            }
        )
    points = [
        {
            "x": x(_day(h["as_of"])),
            "y": round(PAD + inner_h * (1 - float(h["p_alive"])), 1),
            "label": f"{_day(h['as_of']).isoformat()}: P(alive) {float(h['p_alive']):.2f}",
        }
        for h in history
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "baseline": PAD + inner_h,
    }
