"""``rdsca report``'s page: a campaign (``rdsca.campaign``) as one self-contained HTML file.

Jinja2 renders it with autoescaping on (every value from an input is escaped: a database identifier or a finding
cannot inject markup or script); the style and the script are rdsca's own files, inlined. The page loads nothing:
its Content-Security-Policy allows only inline style and script, so even a value that escaped would not reach the
network.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from rdsca import __version__
from rdsca.campaign import STATE_HELP, STATES, Campaign

#: The database table's columns: title and, for numbers, how the script sorts them.
COLUMNS = (("State", "number"), ("Account", None), ("Region", None), ("Identifier", None), ("Kind", None),
           ("Engine", None), ("CA now", None), ("Target", None), ("Apply", None), ("Restart", None),
           ("Window", None), ("Served certificate", None), ("Clients", None), ("Declared in", None),
           ("Fix", None))


def _asset(name: str) -> str:
    return resources.files("rdsca.report_assets").joinpath(name).read_text(encoding="utf-8")


def render(campaign: Campaign) -> str:
    from jinja2 import Environment, StrictUndefined
    from markupsafe import Markup

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    template = env.from_string(_asset("report.html.j2"))
    rows = campaign.rows
    filters: dict[str, list[Any]] = {
        "state": [s for s in STATES if any(r.state == s for r in rows)],
        "account": sorted({r.account or "-" for r in rows}),
        "region": sorted({r.region or "-" for r in rows}),
        "clients": sorted({r.clients for r in rows}),
    }
    return template.render(
        campaign=campaign, rows=rows, version=__version__, by_state=campaign.by_state(), clients=campaign.clients(),
        places=campaign.by_place(), states=STATES, state_help=STATE_HELP,
        state_order={s: i for i, s in enumerate(STATES)}, filters=filters, columns=COLUMNS,
        # rdsca's own files: inlined as they are (escaping would break CSS strings and the script's "<").
        css=Markup(_asset("report.css")), js=Markup(_asset("report.js")),
    )
