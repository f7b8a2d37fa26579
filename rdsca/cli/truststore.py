"""``rdsca truststore inspect|build|verify``: thin shells over ``rdsca.truststore``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rdsca import catalog, clock, terminal
from rdsca import truststore as ts
from rdsca.cli import ci
from rdsca.cli.common import EXIT_FINDINGS, EXIT_OK, common_options, read_password, split_list
from rdsca.output import Column, emit_json, ident, printable, tones
from rdsca.terminal import echo_table, warn
from rdsca.text import quoted

FAMILIES = (*catalog.CURRENT_CAS, catalog.CA_2019)
#: ``--families`` may also name certificates from no RDS CA, to keep them on purpose.
BUILD_FAMILIES = (*FAMILIES, ts.OTHER)


def _vouch(ctx: click.Context, param: click.Parameter, paths: tuple[Path, ...]) -> tuple[Path, ...]:
    for path in paths:
        if not ts.aws_roots.vouch(e.cert for e in ts.read(path)):
            raise click.BadParameter(f"{path}: holds no root certificate", ctx, param)
    return paths


#: A root counts as AWS's by its key (rdsca knows the roots of AWS's 2024-06 global bundle); this vouches for more.
known_roots_option = click.option(
    "--known-roots",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    envvar="RDSCA_KNOWN_ROOTS",
    callback=_vouch,
    expose_value=False,
    is_eager=True,
    metavar="BUNDLE",
    help="Also count this bundle's roots as AWS's (a newer, GovCloud or China bundle; repeatable; env "
    "RDSCA_KNOWN_ROOTS). A root named like an RDS root whose key is in neither this nor rdsca's list is not counted.",
)


def impostor_warnings(entries: list[ts.Entry]) -> None:
    """One warning per root that is named like AWS's but is not AWS's key."""
    for e in entries:
        if e.impostor:
            warn(
                f"{quoted(e.cn)} (SHA-1 {e.sha1}) is named like an RDS root but its key is not one of "
                "AWS's: it is not counted as that CA (if it is AWS's, pass --known-roots with AWS's bundle)"
            )


@click.group()
def truststore() -> None:
    """Inspect, build and verify client trust stores from the RDS CA bundle."""


@truststore.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--password-env", metavar="VAR", help="Environment variable holding the store's password.")
@click.option(
    "--require-region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Exit 1 unless the store has a current root for REGION (repeatable).",
)
@click.option(
    "--require-family",
    "families",
    multiple=True,
    type=click.Choice(FAMILIES),
    help="Exit 1 unless the store has a current root of this CA (repeatable).",
)
@known_roots_option
@common_options(("table", "json"))
def inspect(
    source: Path, password_env: str | None, regions: tuple[str, ...], families: tuple[str, ...], fmt: str
) -> None:
    """Every certificate in a PEM or PKCS#7 bundle, a PKCS#12 or JKS store, or a directory of PEM files (pem-dir):
    family, region, expiry."""
    today = clock.today()
    password = read_password(password_env) if ts.needs_password(source) else None
    entries = ts.order(ts.read(source, password))
    impostor_warnings(entries)
    missing = ts.unmet(entries, today, split_list(regions), list(families))
    if fmt == "json":
        emit_json(
            {
                "source": str(source),
                "as_of": today.isoformat(),
                "certificates": [e.to_json(today) for e in entries],
                "summary": ts.summary(entries, today),
                "unmet": missing,
            }
        )
    else:
        rows = [
            [
                e.cn,
                e.region or "-",
                e.family,
                ("root (not AWS's key)" if e.impostor else "root") if e.root else "intermediate",
                e.key_type,
                e.not_after.date().isoformat(),
                e.days_left(today),
                "yes" if e.expired(today) else "",
                e.sha1,
            ]
            for e in entries
        ]
        echo_table(INSPECT_COLUMNS, rows)
        click.echo("")
        echo_table(
            [Column("FAMILY"), Column("REGION"), Column("ROOTS"), Column("INTERMEDIATES"), Column("EXPIRED")],
            [
                [g["family"], g["region"] or "-", g["roots"], g["intermediates"], g["expired"]]
                for g in ts.summary(entries, today)
            ],
        )
        for line in missing:
            click.echo(f"unmet: {line}")
    sys.exit(EXIT_FINDINGS if missing else EXIT_OK)


#: ``inspect``'s columns: the certificate's name always whole; on a narrow terminal the SHA-1 (whole or not at all)
#: goes first, then the key type, kind, days left and the date; region, family and whether it expired stay.
INSPECT_COLUMNS = [
    ident("SUBJECT CN"), Column("REGION"), Column("FAMILY"), Column("KIND", elide=3), Column("KEY", elide=4),
    Column("VALID UNTIL", elide=1), Column("DAYS LEFT", elide=2), Column("EXPIRED", tone=tones({"yes": "bad"})),
    ident("SHA-1", elide=5),
]


class ModeType(click.ParamType):
    """File permissions in octal: ``0644``, ``644``, ``0o640``."""

    name = "OCTAL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().removeprefix("0o")
        try:
            mode = int(text, 8)
        except ValueError:
            self.fail(f"{value!r}: expected an octal mode such as 0644", param, ctx)
        if not 0 <= mode <= 0o7777:
            self.fail(f"{value!r}: a mode is an octal number from 0 to 7777", param, ctx)
        return mode


@truststore.command()
@click.option("--bundle", type=click.Path(dir_okay=False, path_type=Path), help="A PEM or PKCS#7 bundle to build from.")
@click.option("--download", is_flag=True, help="Download AWS's global bundle (or --region's).")
@click.option("--region", help="With --download: the regional bundle instead of the global one.")
@click.option(
    "--base-url",
    help="With --download: a mirror of the bundles (default: AWS's host for --region's partition: "
    f"{ts.BASE_URL}, or GovCloud's and China's own).",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Where to write the store.")
@click.option(
    "--store-format",
    "store_format",
    type=click.Choice(ts.FORMATS),
    help="pkcs12 or jks trust store, pem bundle, or pem-dir (one PEM per certificate); default from --out "
    "(.p12/.pfx, .jks, .pem, or a name without a suffix for pem-dir).",
)
@click.option("--regions", "regions", multiple=True, metavar="R[,R]", help="Only these regions' certificates.")
@click.option("--families", "families", multiple=True, metavar="CA[,CA]", help="Only these CA families.")
@click.option("--include-intermediates", is_flag=True, help="Keep intermediates (AWS advises roots only).")
@click.option("--keep-expired", is_flag=True, help="Keep expired certificates (they can validate nothing).")
@click.option("--password-env", metavar="VAR", help="Environment variable holding the store password.")
@click.option(
    "--mode",
    type=ModeType(),
    help="The store's permissions (default: an existing store's, else 0666/0777 less the umask, like any new file).",
)
@click.option("--force", is_flag=True, help="Replace an existing --out (or the store a link at --out names).")
@known_roots_option
@common_options(("table", "json"))
def build(**options: Any) -> None:
    """Write a trust store (PKCS#12, JKS, PEM or a PEM directory) of the current RDS roots.

    The same input and options give the same entries, aliases and order; the store is written atomically and
    read back before it replaces anything.
    """
    opts = BuildOptions(**options)
    store_format = opts.check()
    source, certs = _certificates(opts)
    classified = [ts.classify(c) for c in certs]
    if ts.OTHER not in split_list(opts.families):
        for entry in ts.foreign(classified):
            warn(f"left out {entry.cn!r} (SHA-1 {entry.sha1}): not from an RDS CA")
    impostor_warnings(classified)
    classified = [e for e in classified if not e.impostor]  # a store of AWS's roots holds AWS's keys only
    entries = ts.select(
        classified,
        clock.today(),
        split_list(opts.regions),
        split_list(opts.families),
        opts.include_intermediates,
        opts.keep_expired,
    )
    if not entries:
        raise ts.TruststoreError("no certificate left after the filters: nothing written")
    password = read_password(opts.password_env, confirm=True) if store_format in ("pkcs12", "jks") else None
    written = ts.write_store(entries, store_format, opts.out, password, opts.force, opts.mode)
    if opts.fmt == "json":
        entries_json = [{"alias": a, "sha1": s} for a, s in written]
        emit_json({"source": source, "out": str(opts.out), "format": store_format, "entries": entries_json})
    else:
        click.echo(f"wrote {len(written)} certificate(s) to {opts.out} ({store_format}) from {source}")
        echo_table([ident("ALIAS"), ident("SHA-1", elide=1)], [[a, s] for a, s in written])


@dataclass(frozen=True)
class BuildOptions:
    """``truststore build``'s options, checked together."""

    bundle: Path | None
    download: bool
    region: str | None
    base_url: str | None
    out: Path
    store_format: str | None
    regions: tuple[str, ...]
    families: tuple[str, ...]
    include_intermediates: bool
    keep_expired: bool
    password_env: str | None
    mode: int | None
    force: bool
    fmt: str

    def check(self) -> str:
        """The usage errors, then the store format."""
        if bool(self.bundle) == self.download:
            raise click.UsageError("give exactly one of --bundle FILE or --download")
        if self.region and not self.download:
            raise click.UsageError("--region goes with --download")
        unknown = [f for f in split_list(self.families) if f not in BUILD_FAMILIES]
        if unknown:
            choices = ", ".join(BUILD_FAMILIES)
            raise click.UsageError(f"--families: unknown CA {', '.join(unknown)} (choose from {choices})")
        store_format = self.store_format or ts.format_for(self.out)
        if store_format is None:
            raise click.UsageError(f"--out {self.out}: cannot tell the store format from the name; give --store-format")
        ts.target_of(self.out, store_format, self.force)
        return store_format


def _certificates(opts: BuildOptions) -> tuple[str, list[Any]]:
    """(where they come from, the certificates): the bundle file or the download."""
    if opts.download:
        base_url = opts.base_url or ts.base_url_for(opts.region)
        if not base_url.lower().startswith("https://"):
            warn(f"{base_url} is not HTTPS: whoever can change the connection can change the bundle")
        with terminal.progress() as steps:

            def progress(done: int, total: int | None) -> None:
                of = f" of {total // 1024} KiB" if total else ""
                steps.update(f"downloading {base_url}: {done // 1024} KiB{of}", done, total)

            data = ts.download(opts.region, base_url, progress=progress if steps.live else None)
        source = f"{base_url}/{opts.region or 'global'}"
        certs = ts.load(data, source)
        if ts.is_aws_host(base_url):  # AWS's own host, over HTTPS: its roots are AWS's (new regions too)
            ts.aws_roots.vouch(certs)
        return source, certs
    assert opts.bundle is not None
    return str(opts.bundle), [e.cert for e in ts.read(opts.bundle)]


@truststore.command()
@click.argument("chain", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bundle",
    "trusted",
    type=click.Path(path_type=Path),
    required=True,
    help="The bundle or store to trust (PEM, PKCS#7, PKCS#12, JKS or a pem-dir).",
)
@click.option("--password-env", metavar="VAR", help="Environment variable holding the store's password.")
@known_roots_option
@ci.outputs_option(("table", "json", "junit"))
@ci.findings_options
@common_options(("table", "json"))
def verify(chain: Path, trusted: Path, password_env: str | None, fmt: str) -> None:
    """Whether a server certificate (and intermediates, PEM) chains to a current root in a bundle or store."""
    today = clock.today()
    password = read_password(password_env) if ts.needs_password(trusted) else None
    store = ts.read(trusted, password)
    certs = [e.cert for e in ts.read(chain)]
    result = ts.verify(certs, store, today)
    server = result.chain[0] if result.chain else None
    # The configuration file's suppressions and a baseline, by chain file and problem (rdsca-verify-<code>).
    from rdsca import chains, findings

    ci.check_names(f"rdsca-verify-{code}" for code in chains.PROBLEMS)
    found = [{"policy": f"rdsca-verify-{code}", "level": "mandatory", "severity": "high", "resource": str(chain),
              "name": chain.name, "message": text} for code, text in result.problems]
    processed = ci.process(found, deploys=False, judged=frozenset(f"rdsca-verify-{c}" for c in chains.PROBLEMS))

    def render(out_fmt: str) -> Any:
        if out_fmt == "json":
            emit_json(
                {
                    "chains": result.ok,
                    "root": result.root.to_json(today) if result.root else None,
                    "path": [e.cn for e in result.chain],
                    "server_certificate_valid_until": clock.utc_iso(server.not_after) if server else None,
                    # As ``probe --format json`` writes a store's problems: the same verifier, the same shape.
                    "problems": [{"code": code, "text": text} for code, text in result.problems],
                    "results": findings.results(processed.findings, processed.suppressed),
                }
            )
        elif out_fmt == "junit":
            from rdsca import junit

            return junit.document(f"rdsca truststore verify {chain}", processed.findings,
                                  [] if processed.findings else [str(chain)], processed.suppressed)
        else:
            if result.root:
                root = result.root
                about = "not AWS's key" if root.impostor else f"family {root.family}, region {root.region or '-'}"
                click.echo(f"chains to {root.cn} ({about})")
            if server:
                click.echo(f"server certificate {server.cn} valid until {server.not_after.date()} "
                           f"({server.days_left(today)} days)")
            for f in processed.findings:
                click.echo(f"problem: {printable(f['message'])}")
            for line in findings.set_aside_lines(processed.suppressed, processed.hidden):
                click.echo(printable(line))
        return None

    render(fmt)
    ci.write_outputs(render)
    for warning in processed.warnings:
        warn(warning)
    # No root at all is a finding too (ts.verify reports it as a problem): what remains decides.
    sys.exit(EXIT_FINDINGS if ci.fails(processed, bool(processed.findings)) else EXIT_OK)
