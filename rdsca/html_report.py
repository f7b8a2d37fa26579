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

#: The database table's columns: title, how the script sorts them (numbers, else text) and width in rem. The widths
#: make the table's layout fixed (``table-layout: fixed``): the browser lays 5,000 rows out in one pass instead of
#: measuring every cell first (half the layout time in Chromium); a longer value wraps, it is never cut.
COLUMNS = (("State", "number", 7), ("Account", None, 9), ("Region", None, 8), ("Identifier", None, 14),
           ("Kind", None, 9), ("Engine", None, 10), ("CA now", None, 10), ("Target", None, 10), ("Apply", None, 8),
           ("Restart", None, 5), ("Window", None, 10), ("Served certificate", None, 12), ("Clients", None, 9),
           ("Declared in", None, 18), ("Fix", None, 26))


#: Rows drawn before "Show all": laying out every row of a 5,000-database table costs Chromium over a second, 500
#: a tenth of it. Filters and sorting always cover every row; printing shows every match.
PAGE_SIZE = 500


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
        state_order={s: i for i, s in enumerate(STATES)}, filters=filters, columns=COLUMNS, page_size=PAGE_SIZE,
        # rdsca's own files: inlined as they are (escaping would break CSS strings and the script's "<").
        css=Markup(_asset("report.css")), js=Markup(_asset("report.js")),
    )
