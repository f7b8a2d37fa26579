"""``rdsca probe``: the command-line shell over ``rdsca.probe`` (parsing, stores, output, exit code)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import click

from rdsca import catalog, clock, terminal
from rdsca import truststore as ts
from rdsca.cli import ci
from rdsca.cli.common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Number, common_options, read_password
from rdsca.cli.truststore import impostor_warnings, known_roots_option
from rdsca.output import emit_json, printable
from rdsca.probe import endpoints as ep
from rdsca.probe import report
from rdsca.probe.run import Options, Result, Store, probe_all, system_store
from rdsca.terminal import echo_table, warn

_REGION = re.compile(catalog.REGION_PATTERN)


def _stores(paths: tuple[Path, ...], password_env: str | None, system: bool) -> list[Store]:
    stores = []
    for path in paths:
        password = read_password(password_env, str(path)) if ts.needs_password(path) else None
        entries = ts.read(path, password)
        impostor_warnings(entries)
        stores.append(Store(str(path), entries))
    if system:
        stores.append(system_store())
    return stores


def _endpoints(args: tuple[str, ...], engine: str | None, from_audit: Path | None) -> list[ep.Endpoint]:
    try:
        chosen = [ep.parse(arg, engine) for arg in args]
    except ep.EndpointError as exc:
        raise click.UsageError(str(exc)) from None
    if from_audit is not None:
        chosen += ep.load_audit(from_audit)
    chosen, warnings = ep.once(chosen)
    for warning in warnings:
        warn(warning)
    return chosen


@click.command()
@click.argument("endpoint_args", metavar="[ENDPOINT]...", nargs=-1)
@click.option(
    "--from-audit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Probe every database in this `rdsca audit --format json` file.",
)
@click.option(
    "--engine",
    type=click.Choice(sorted(ep.ENGINES)),
    help="How to reach TLS on the ENDPOINTs (default: from the port: 5432, 3306, 1433, 2484, 27017).",
)
@click.option(
    "--store",
    "store_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A trust store to judge with (repeatable): PEM, PKCS#7, PKCS#12, JKS, or a directory of PEM files.",
)
@click.option("--password-env", metavar="VAR", help="Environment variable holding the stores' password.")
@click.option("--system", is_flag=True, help="Also judge with the system trust store (OpenSSL's default).")
@known_roots_option
@click.option("--server-name", metavar="NAME", help="The name clients dial, if not the ENDPOINT's host (a tunnel).")
@click.option("--no-hostname", is_flag=True, help="Do not check the name (clients that verify the CA only).")
@click.option("--target-ca", metavar="CA", help=f"The CA to judge rotation to ({', '.join(catalog.CURRENT_CAS)}).")
@click.option("--region", metavar="REGION", help="The databases' region when neither the audit nor the chain tells.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True, help="Endpoints at once.")
@click.option("--connect-timeout", type=Number(0.1, 300), default=5.0, show_default=True, help="Seconds.")
@click.option("--handshake-timeout", type=Number(0.1, 600), default=10.0, show_default=True, help="Seconds.")
@ci.outputs_option(("table", "json", "csv", "sarif", "junit", "html"))
@ci.findings_options
@common_options(("table", "json", "csv", "sarif"))
def probe(
    endpoint_args: tuple[str, ...],
    from_audit: Path | None,
    engine: str | None,
    store_paths: tuple[Path, ...],
    password_env: str | None,
    system: bool,
    server_name: str | None,
    no_hostname: bool,
    target_ca: str | None,
    region: str | None,
    concurrency: int,
    connect_timeout: float,
    handshake_timeout: float,
    fmt: str,
) -> None:
    """Connect to databases the way their clients do, stop after the TLS handshake, and say whether each trust
    store trusts what they serve now and after rotation to the target CA.

    ENDPOINT is HOST[:PORT]. No driver and no credentials are used. Exit 0 when every store trusts every
    endpoint and is ready, 1 when one does not trust an endpoint or will break, 2 when an endpoint could not
    be probed (each is named; the others are still reported).
    """
    today = clock.today()
    if not endpoint_args and from_audit is None:
        raise click.UsageError("give one or more ENDPOINTs, or --from-audit FILE")
    if server_name and (len(endpoint_args) != 1 or from_audit):
        raise click.UsageError("--server-name names one endpoint: give exactly one ENDPOINT and no --from-audit")
    if region and not _REGION.fullmatch(region):
        raise click.UsageError(f"--region {region!r}: not a region name such as us-east-1")
    if target_ca:
        try:
            catalog.require_target(target_ca, today)
        except catalog.CatalogError as exc:
            raise click.UsageError(f"--target-ca: {exc}") from None
    targets = _endpoints(endpoint_args, engine, from_audit)
    stores = _stores(store_paths, password_env, system)
    options = Options(target_ca, region, server_name, not no_hostname, connect_timeout, handshake_timeout)
    with terminal.progress() as steps:
        # One line per endpoint in a log; on a terminal, one line counting them (the table follows).
        def progress(line: str, done: int, total: int) -> None:
            steps.line(printable(line))
            steps.update(f"probing: {done}/{total} endpoint(s)", done, total)

        results = probe_all(targets, stores, options, today, concurrency, progress=progress)
    # The configuration file's suppressions and a baseline, by endpoint and rule; an endpoint that could not be
    # probed is an error, never set aside.
    ci.check_names(rule.id for rule in report.RULES.values())
    judged = frozenset(rule.id for rule in report.RULES.values())
    not_probed = report.RULES["not-probed"].id
    found = [f for f in report.finding_dicts(results) if f["policy"] != not_probed]
    processed = ci.process(found, deploys=False, judged=judged)
    _emit(results, stores, fmt, today, processed)
    ci.write_outputs(lambda out_fmt: _emit(results, stores, out_fmt, today, processed, errors=False))
    for warning in processed.warnings:
        warn(warning)
    if any(r.error for r in results):
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if ci.fails(processed, bool(processed.findings)) else EXIT_OK)


def _emit(results: list[Result], stores: list[Store], fmt: str, today: dt.date, processed: Any,
          errors: bool = True) -> Any:
    suppressed = processed.suppressed
    if fmt == "junit":
        from rdsca import junit

        failures = [{**f, "address": f["name"]} for f in report.remaining(results, suppressed)]
        passed = [r.label for r in results if not any(f["name"] == r.label for f in failures)]
        return junit.document("rdsca probe", failures, passed, [{**f, "address": f["name"]} for f in suppressed])
    if fmt == "json":
        emit_json(report.to_json(results, stores, today, suppressed))
    elif fmt == "csv":
        click.echo(report.to_csv(results, today), nl=False)
    elif fmt == "sarif":
        emit_json(report.to_sarif(results, suppressed))
    else:
        echo_table(report.TABLE_COLUMNS, report.table_rows(results, today))
        for line in report.detail_lines(results):
            click.echo(printable(line))
        if not stores:
            click.echo("no trust store given (--store FILE or --system): the chains are shown, not judged")
        from rdsca import findings

        for line in findings.set_aside_lines(suppressed, processed.hidden):
            click.echo(printable(line))
    if fmt != "table" and errors:
        for r in results:
            if r.error:
                click.echo(printable(f"error: {r.label}: {r.error}"), err=True)
