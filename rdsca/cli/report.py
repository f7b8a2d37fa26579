"""``rdsca report``: the JSON of ``audit``, ``probe`` and ``check`` runs joined per database into one
self-contained HTML page (``rdsca.campaign`` joins, ``rdsca.html_report`` renders), and its summary here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rdsca.cli.common import EXIT_FINDINGS, Failure, common_options

DEFAULT_PAGE = "rdsca-report.html"


@click.command("report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--html", "page", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_PAGE, show_default=True,
              help="Where to write the HTML page (written atomically; '-' prints it).")
@common_options(("table", "json"))
def report(inputs: tuple[Path, ...], page: Path, fmt: str) -> None:
    """Join audit, probe and check results (their --format json) per database into one HTML page.

    INPUTS: JSON files written by `rdsca audit`, `rdsca probe` and `rdsca check` (Pulumi or Terraform), in any mix.
    The page needs no network when opened. Exit 1 while a database still needs action (a retired or refused CA, a
    restart pending, a change waiting for its window, clients that will break)."""
    from rdsca import campaign, clock
    from rdsca.files import ordinary_mode, write_file
    from rdsca.html_report import render
    from rdsca.output import Column, emit_json, printable, tones
    from rdsca.terminal import echo_table, warn

    if str(page) == "-" and fmt == "json":
        raise Failure("--html - prints the page on stdout, where --format json would print too: choose one")
    found = campaign.read_all(inputs, clock.today())
    html = render(found)
    if str(page) == "-":
        sys.stdout.write(html)
    else:
        if not page.absolute().parent.is_dir():
            raise Failure(f"--html {page}: the folder {page.absolute().parent} does not exist")
        try:
            write_file(page, html.encode("utf-8"), ordinary_mode())
        except OSError as exc:
            raise Failure(f"--html {page}: cannot write it ({exc.strerror or exc})") from None
    if fmt == "json":
        emit_json({**found.to_json(), "page": None if str(page) == "-" else str(page)})
    elif str(page) != "-":
        counts = found.by_state()
        tone = tones({**dict.fromkeys(campaign.ACTION_STATES, "warn"), campaign.REFUSED: "bad", campaign.RETIRED: "bad",
                      campaign.OK: "good"})
        echo_table([Column("STATE", tone=tone), Column("DATABASES"), Column("MEANING", elide=1, wrap=True)],
                   [[s, n, campaign.STATE_HELP[s]] for s, n in counts.items() if n])
        clients = found.clients()
        click.echo(f"clients: {clients['will break']} will break, {clients['ready']} ready, "
                   f"{clients['unknown']} not probed")
        for warning in found.warnings:
            warn(warning)
        click.echo(printable(f"report: {len(found.rows)} database(s) from {len(inputs)} input(s) written to {page}"))
    if found.needs_action:
        raise SystemExit(EXIT_FINDINGS)
