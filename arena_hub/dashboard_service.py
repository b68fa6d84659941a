"""The cohort dashboard as a JupyterHub service: ``python -m arena_hub.dashboard_service``.

The hub starts it (``hub.HubSettings``) and only users holding
``access:services!service=dashboard`` (the graders' group) get in; HubOAuth answers 403 to
everybody else, students included. It reads the course through :mod:`arena_hub.dashboard`
(gradebook, exchange, grading state) and the hub's users through the REST API with its own
token (activity, groups, servers and their spawner state for the GPU holders).

Routes under the service prefix: ``/`` the page (tables and plotly charts; plotly.js is served
from the installed plotly package, nothing from a CDN), ``data.json`` the whole view,
``csv/<table>`` each table as CSV; ``?day=`` and ``?student=`` filter all three, ``?group=``
shows another cohort (hub group) than ``DashboardSettings.group``. A built view is
kept ``cache_seconds`` per filter, so a busy page does not rebuild it for every visitor.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import sys
import time
from pathlib import Path

import plotly
from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from traitlets import Integer, Unicode
from traitlets.config import Configurable

from . import dashboard
from .cohort import STUDENTS_GROUP
from .course import Layout

SERVICE_NAME = "dashboard"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: What the service's own token may do on the hub: read users, their activity and servers.
MAX_ROWS = 500  # of the grading table on the page (the CSV has every row)
SCOPES = ["list:users", "read:users", "read:users:activity", "read:users:groups",
          "read:servers", "admin:server_state"]


class DashboardSettings(Configurable):
    group = Unicode(STUDENTS_GROUP, help="The hub group that is the cohort.").tag(config=True)
    cache_seconds = Integer(30, help="How long a built view is reused for the same filters.").tag(config=True)
    inactive_days = Integer(7, help="Days without hub activity after which a student is at risk.").tag(config=True)


class Views:
    """Builds views off the event loop and keeps each for ``cache_seconds``."""

    def __init__(self, layout: Layout, settings: DashboardSettings):
        self.layout, self.settings = layout, settings
        self.cache: dict[tuple, tuple[float, dashboard.CohortView]] = {}

    async def users(self) -> list[dict] | None:
        api, token = os.environ.get("JUPYTERHUB_API_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
        if not api or not token:
            return None  # not under a hub: nobody is marked inactive or deleted
        r = await AsyncHTTPClient().fetch(f"{api}/users?include_stopped_servers=0",
                                          headers={"Authorization": f"token {token}"})
        return json.loads(r.body)

    async def get(self, day: str | None, student: str | None, group: str | None = None) -> dashboard.CohortView:
        group = group or self.settings.group
        key = (day, student, group)
        hit = self.cache.get(key)
        if hit and time.monotonic() - hit[0] < self.settings.cache_seconds:
            return hit[1]
        users = await self.users()
        view = await asyncio.get_running_loop().run_in_executor(None, lambda: dashboard.from_layout(
            self.layout, users=users, group=group, day=day or None,
            student=student or None, inactive_days=self.settings.inactive_days))
        self.cache[key] = (time.monotonic(), view)
        return view


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    @property
    def views(self) -> Views:
        return self.settings["views"]

    def filters(self) -> tuple[str | None, str | None, str | None]:
        """?day= and ?student= narrow the view; ?group= picks another cohort (a hub group)."""
        return self.get_argument("day", None), self.get_argument("student", None), self.get_argument("group", None)


class DataHandler(BaseHandler):
    @web.authenticated
    async def get(self):
        view = await self.views.get(*self.filters())
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(view.as_dict()))


class CsvHandler(BaseHandler):
    @web.authenticated
    async def get(self, table: str):
        if table not in (*dashboard.TABLES, "scores"):
            raise web.HTTPError(404, f"no table {table!r}; tables: {', '.join([*dashboard.TABLES, 'scores'])}")
        view = await self.views.get(*self.filters())
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{view.course_id}-{table}.csv"')
        self.finish(view.csv(table))


class PlotlyHandler(BaseHandler):
    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "application/javascript")
        self.set_header("Cache-Control", "max-age=86400")
        self.finish(PLOTLY_JS.read_bytes())


class PageHandler(BaseHandler):
    @web.authenticated
    async def get(self):
        view = await self.views.get(*self.filters())
        prefix = self.settings["prefix"]
        self.finish(render(view, prefix, self.request.query))


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value, digits=1) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(table_id: str, head: list[str], rows: list[list[str]]) -> str:
    """Cells in ``rows`` are already HTML."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<table id="{table_id}"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table>")


def render(view: dashboard.CohortView, prefix: str, query: str) -> str:
    q = f"?{query}" if query else ""
    csv = " ".join(f'<a href="{prefix}csv/{t}{_e(q)}">{t}.csv</a>' for t in (*dashboard.TABLES, "scores"))
    day_options = "".join(
        f'<option value="{_e(d)}"{" selected" if view.filters.get("day") == [d] else ""}>{_e(d)}</option>'
        for d in view.days)
    matrix = _table("matrix", ["student", *view.days, "total"], [
        [_e(r.student) + ("" if r.on_hub is not False else " <em>(left the hub)</em>"),
         *[f'<span class="st-{_e(c.status.replace(" ", "-"))}" data-student="{_e(r.student)}" data-day="{_e(c.day)}">'
           f'{_e(c.status)}{" " + _num(c.score) if c.score is not None else ""}'
           f'{" (late)" if c.late else ""}</span>' for c in r.cells],
         _num(r.total)] for r in view.matrix])
    days = _table("days", ["day", "released", "cohort", "fetched", "submitted", "late", "graded",
                           "completion", "mean", "median"], [
        [_e(d.day), _e(d.released), _e(d.cohort), _e(d.fetched), _e(d.submitted), _e(d.late),
         _e(d.graded), "–" if d.completion_rate is None else f"{100 * d.completion_rate:.0f}%",
         _num(d.mean), _num(d.median)] for d in view.per_day])
    tests = _table("tests", ["day", "test", "passed / graded", "pass rate", "formgrader"], [
        [_e(t.day), _e(t.test), f"{t.passed} / {t.graded}",
         "–" if t.pass_rate is None else f"{100 * t.pass_rate:.0f}%",
         f'<a href="{_e(t.link)}">open</a>'] for t in view.tests])
    risk = _table("at_risk", ["student", "why"], [[_e(a.student), _e(a.reason)] for a in view.at_risk])
    # What needs attention: queued, running and failed jobs (a cohort's graded rows run to tens
    # of thousands; they are counted above and listed in grading.csv).
    pending = [g for g in view.grading if g.state != dashboard.GRADED]
    grading = _table("grading", ["day", "student", "state", "reason", "seconds"], [
        [_e(g.day), _e(g.student), _e(g.state), _e(g.reason), _num(g.seconds)]
        for g in pending[:MAX_ROWS]]) + (f"<p>… and {len(pending) - MAX_ROWS} more in grading.csv</p>"
                                         if len(pending) > MAX_ROWS else "")
    gpus = _table("gpus", ["user", "GPUs", "profile", "since", "last activity"], [
        [_e(g.user), _e(",".join(map(str, g.gpu_ids or []))), _e(g.profile), _e(g.started),
         _e(g.last_activity)] for g in view.gpus])
    charts = {
        # Every student's dot for a small cohort; a large one would cost seconds of SVG.
        "distribution": [{"type": "box", "name": d.day, "y": d.scores,
                          "boxpoints": "all" if len(view.cohort) <= 200 else "outliers"}
                         for d in view.per_day if d.scores],
        "completion": [{"type": "bar", "x": [d.day for d in view.per_day],
                        "y": [round(100 * (d.completion_rate or 0), 1) for d in view.per_day]}],
        "hardest": [{"type": "bar", "orientation": "h",
                     "y": [f"{t.day} {t.test}" for t in view.tests[:15] if t.pass_rate is not None][::-1],
                     "x": [round(100 * t.pass_rate, 1) for t in view.tests[:15] if t.pass_rate is not None][::-1]}],
    }
    titles = {"distribution": "Scores per day", "completion": "Handed in (% of cohort)",
              "hardest": "Hardest tests (pass rate %)"}
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(view.grading_counts.items())) or "nothing graded yet"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Cohort dashboard — {_e(view.course_id)}</title>
<script src="{prefix}static/plotly.min.js"></script>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
th {{ background: #f3f3f3; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1em; }} .chart {{ width: 440px; height: 300px; }}
.st-graded {{ color: #156a15; }} .st-late {{ color: #a35d00; }} .st-not-fetched {{ color: #999; }}
.st-submitted {{ color: #1a4f9c; }} .summary span {{ margin-right: 2em; }}
</style></head><body>
<h1>Cohort dashboard: {_e(view.course_id)}{f" / {_e(view.group)}" if view.group else ""}</h1>
<p class="summary"><span id="cohort-size">students: {len(view.cohort)}</span>
<span>days: {len(view.days)} ({len(view.released)} released)</span>
<span id="at-risk-count">at risk: {len(view.at_risk)}</span>
<span>grading: {_e(counts)}</span><span>built {_e(view.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"))}</span></p>
<form method="get">Day <select name="day"><option value="">all</option>{day_options}</select>
Student <input name="student" value="{_e(",".join(view.filters.get("student") or []))}">
<button>Filter</button> <a href="{prefix}">clear</a></form>
<p>CSV: {csv}</p>
<div class="charts">{"".join(f'<div class="chart" id="chart-{k}"></div>' for k in charts)}</div>
<h2>Students × days</h2>{matrix}
<h2>Days</h2>{days}
<h2>Tests, hardest first</h2>{tests}
<h2>Students at risk</h2>{risk}
<h2>Grading</h2>{grading}
<h2>GPU servers</h2>{gpus}
<script>
const charts = {json.dumps(charts)}, titles = {json.dumps(titles)};
for (const [k, data] of Object.entries(charts)) {{
  Plotly.newPlot("chart-" + k, data, {{title: {{text: titles[k]}}, margin: {{l: k === "hardest" ? 220 : 40, r: 10, t: 40, b: 60}},
    showlegend: false}}, {{displaylogo: false, responsive: true}});
}}
</script></body></html>"""


def make_app(layout: Layout, settings: DashboardSettings, prefix: str) -> web.Application:
    views = Views(layout, settings)
    return web.Application([
        (prefix, PageHandler),
        (prefix + "data.json", DataHandler),
        (prefix + r"csv/([a-z_]+)", CsvHandler),
        (prefix + "static/plotly.min.js", PlotlyHandler),
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
    ], views=views, prefix=prefix, cookie_secret=os.urandom(32))


def main() -> None:
    from urllib.parse import urlparse

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8003"))

    async def serve():
        app = make_app(Layout.from_env(), DashboardSettings(), prefix)
        app.listen(url.port, url.hostname or "127.0.0.1")  # loopback: the hub's proxy reaches it
        print(f"dashboard service on {url.hostname}:{url.port}{prefix}", file=sys.stderr, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
