"""The CI controls every command that reports findings shares (``check``, ``audit``, ``probe``, ``truststore
verify``): ``--output FORMAT=PATH``, ``--baseline``/``--create-baseline``, ``--check``/``--skip-check``,
``--severity``, ``--soft-fail-on``/``--hard-fail-on`` and the configuration file's suppressions; a thin shell over
``rdsca.findings``. The options keep their values in the click context (``ctx.meta``), so that a command's own
signature stays about its job.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from rdsca import findings as core
from rdsca import terminal
from rdsca.cli.common import Failure, split_list

_META = "rdsca.ci"


def _keep(name: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[click.Context, Any, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta.setdefault(_META, {})[name] = convert(value)
        return value

    return callback


def _names(values: Iterable[str]) -> frozenset[str]:
    return frozenset(split_list(list(values)))


def _severities(values: Iterable[str]) -> frozenset[str]:
    names = frozenset(n.lower() for n in split_list(list(values)))
    from rdsca.rules import SEVERITIES

    wrong = sorted(names - set(SEVERITIES))
    if wrong:
        raise click.BadParameter(f"{', '.join(wrong)}: not a severity ({', '.join(SEVERITIES)})",
                                 param_hint="--severity")
    return names


def outputs_option(formats: tuple[str, ...]) -> Callable[[Any], Any]:
    """``--output FORMAT=PATH``, repeatable: the report in another format, written atomically."""
    return click.option(
        "--output", "outputs", metavar="FORMAT=PATH", multiple=True, expose_value=False,
        callback=_keep("outputs", lambda v: parse_outputs(v, formats)),
        help=f"Also write the report in FORMAT ({', '.join(formats)}) to PATH, atomically; repeatable ('-' is "
        "stdout). CI can write SARIF and JSON in one run.",
    )


def findings_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that decide which findings are reported and which fail the run."""
    options = [
        click.option("--check", "check_ids", metavar="POLICY[,...]", multiple=True, expose_value=False,
                     callback=_keep("check", _names),
                     help="Report only these policies (rdsca list-rules names them), as Checkov's --check."),
        click.option("--skip-check", metavar="POLICY[,...]", multiple=True, expose_value=False,
                     callback=_keep("skip", _names), help="Do not report these policies, as Checkov's --skip-check."),
        click.option("--severity", "severity", metavar="SEVERITY[,...]", multiple=True, expose_value=False,
                     callback=_keep("severity", _severities),
                     help="Report only findings of these severities (low, medium, high, critical), as Trivy's "
                     "--severity; the others neither print nor fail the run."),
        click.option("--baseline", metavar="FILE", expose_value=False,
                     type=click.Path(dir_okay=False, path_type=Path), callback=_keep("baseline"),
                     help="Fail only on findings not in FILE (written by --create-baseline); entries no longer "
                     "found are listed so that the file can shrink."),
        click.option("--create-baseline", metavar="FILE", expose_value=False,
                     type=click.Path(dir_okay=False, path_type=Path), callback=_keep("create_baseline"),
                     help="Write today's findings to FILE as a baseline (resource and policy, no line numbers)."),
        click.option("--allow-suppress-refused", is_flag=True, expose_value=False, callback=_keep("allow_refused"),
                     help="Let a suppression (a comment, the configuration file, a baseline) hide a CA that AWS "
                     "refuses at deploy time (retired, or refused by the engine); by default it does not: the deploy "
                     "fails anyway."),
        click.option("--soft-fail-on", metavar="POLICY|LEVEL[,...]", multiple=True, expose_value=False,
                     callback=_keep("soft", _names),
                     help="Findings of these policies or levels do not fail the run (as Checkov's --soft-fail-on). "
                     "Repeatable."),
        click.option("--hard-fail-on", metavar="POLICY|LEVEL[,...]", multiple=True, expose_value=False,
                     callback=_keep("hard", _names),
                     help="Only findings of these policies or levels fail the run (an advisory one too, when named). "
                     "Repeatable."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _meta() -> dict[str, Any]:
    return dict(click.get_current_context().meta.get(_META, {}))


def selection() -> core.Selection:
    meta = _meta()
    return core.Selection(meta.get("check") or frozenset(), meta.get("skip") or frozenset(),
                          meta.get("severity") or frozenset())


def allow_refused() -> bool:
    return bool(_meta().get("allow_refused"))


def fail_on() -> core.FailOn:
    meta = _meta()
    return core.FailOn(meta.get("hard") or frozenset(), meta.get("soft") or frozenset())


def check_names(known: Iterable[str]) -> None:
    """``--check``, ``--skip-check`` and the fail-on options name policies that exist (a typo must not silently
    select nothing); levels are names too for the fail-on options."""
    meta = _meta()
    from rdsca.rules import LEVELS

    names = set(known)
    levels = set(LEVELS)
    checks = (("--check", "check", names), ("--skip-check", "skip", names),
              ("--soft-fail-on", "soft", names | levels), ("--hard-fail-on", "hard", names | levels))
    for option, key, allowed in checks:
        wrong = sorted(set(meta.get(key) or ()) - allowed)
        if wrong:
            raise click.BadParameter(f"{', '.join(wrong)}: no such policy (rdsca list-rules names them)",
                                     param_hint=option)


def process(
    found: Iterable[dict[str, Any]],
    already_suppressed: Iterable[dict[str, Any]] = (),
    final: bool = True,
    deploys: bool = True,
    inline: Callable[[dict[str, Any]], Iterable[core.Suppression]] | None = None,
    judged: frozenset[str] | None = None,
) -> core.Processed:
    """The findings after ``--check``/``--skip-check``/``--severity``, the configuration file's suppressions and
    ``--baseline``; ``--create-baseline`` is written here (today's findings before the baseline applies) when
    ``final`` (the findings that remain: after ``--fix``, the re-check's). ``deploys``: the findings are about
    code that will be deployed (``check``), where a suppression does not hide a CA AWS refuses at deploy time
    unless ``--allow-suppress-refused``; a live database (``audit``) is not deployed: any finding may be accepted."""
    from rdsca.cli import config as config_file

    meta = _meta()
    created = meta.get("create_baseline")
    if created is not None and any(Path(p).absolute() == created.absolute() for _f, p in meta.get("outputs", [])):
        raise click.BadParameter(f"{created} is also an --output: write the baseline to a file of its own",
                                 param_hint="--create-baseline")
    baseline = None
    if meta.get("baseline") is not None:
        path = meta["baseline"]
        baseline = (core.read_baseline(path), str(path))
    settings = config_file.current()
    processed = core.process(found, selection(), settings.suppressions() if settings else [], baseline,
                             allow_refused() or not deploys, already_suppressed, inline, judged)
    if final and meta.get("create_baseline") is not None:
        write_baseline(meta["create_baseline"], processed)
    for resource, policy in processed.gone:
        processed.warnings.append(f"{baseline[1] if baseline else ''}: {policy} for {resource} is no longer found: "
                                  "remove it from the baseline (or write it again with --create-baseline)")
    return processed


def write_baseline(path: Path, processed: core.Processed) -> None:
    from rdsca.files import ordinary_mode, write_file

    # What stays accepted: today's findings, and those already in a baseline (not those a comment suppresses).
    entries = [*processed.findings, *(s for s in processed.suppressed if s["suppressed"].get("baseline"))]
    text = json.dumps(core.baseline_document(entries), indent=2) + "\n"
    try:
        write_file(path, text.encode("utf-8"), ordinary_mode())
    except OSError as exc:
        raise Failure(f"--create-baseline {path}: cannot write it ({exc.strerror or exc})") from None
    click.echo(f"baseline: {len(entries)} finding(s) written to {path}", err=True)


def fails(processed: core.Processed, default: bool) -> bool:
    """Whether what remains fails the run. ``default``: the front end's own answer for what remains."""
    return fail_on().fails(processed.findings, default)


# -- several reports in one run --------------------------------------------------------------------------------------


def parse_outputs(values: Iterable[str], formats: tuple[str, ...]) -> list[tuple[str, str]]:
    """``FORMAT=PATH`` pairs, checked: a known format, a folder that exists, no path given twice."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path or fmt not in formats:
            raise click.BadParameter(f"{value!r}: give FORMAT=PATH, FORMAT one of {', '.join(formats)}",
                                     param_hint="--output")
        if path != "-" and not Path(path).absolute().parent.is_dir():
            raise click.BadParameter(f"{path}: the folder {Path(path).absolute().parent} does not exist",
                                     param_hint="--output")
        if path in {p for _f, p in pairs}:
            raise click.BadParameter(f"{path} is given twice", param_hint="--output")
        pairs.append((fmt, path))
    return pairs


def _rendered(render: Callable[[str], Any], fmt: str) -> str:
    buffer = io.StringIO()
    # terminal.plain(): a report for a file is plain text whatever --color or FORCE_COLOR say.
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()), terminal.plain():
        text = render(fmt)
    return str(text if text is not None else buffer.getvalue())


def campaign_page(document: str, path: str) -> str:
    """``--output html=PATH``: this run's JSON as ``rdsca report`` would show it, one source on the page."""
    from rdsca import campaign, clock
    from rdsca.html_report import render

    return render(campaign.join([campaign.parse(json.loads(document), path)], clock.today()))


def write_outputs(render: Callable[[str], Any]) -> None:
    """Each ``--output FORMAT=PATH``: the report rendered in FORMAT (``render`` returns the text, or prints it),
    written to a temporary sibling and renamed into place (a reader never sees half a report); ``-`` prints it."""
    from rdsca.files import ordinary_mode, write_file

    for fmt, path in _meta().get("outputs", []):
        text = _rendered(render, "json" if fmt == "html" else fmt)
        if fmt == "html":
            text = campaign_page(text, path)
        if path == "-":
            click.echo(text, nl=False)
            continue
        try:
            write_file(Path(path), text.encode("utf-8"), ordinary_mode())
        except OSError as exc:
            raise Failure(f"--output {path}: cannot write it ({exc.strerror or exc})") from None
