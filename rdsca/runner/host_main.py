"""The host process's entry point (``rdsca.runner.check.HOST_COMMAND``): take the result channel and the spec, start
the policy packs, and only then import the Pulumi SDK and run (``rdsca.runner.python_host.run``).

Starting the packs before the 0.2 s of SDK imports lets each pack import pulumi_policy and listen meanwhile: on a
small stack that was a third of ``rdsca check --policy-pack``'s wall time (issue 30). Nothing heavier than
``subprocess`` is imported before the packs start.
"""

from __future__ import annotations

import json
import os
import sys

from rdsca.runner.pack_launch import launch_all


def main(argv: list[str]) -> None:
    output_fd = os.dup(1)
    # The program's own prints must not mix with the result: send them to stderr.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stdin = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the program reads nothing
    os.close(devnull)
    spec = json.loads(stdin.readline())
    started = launch_all(spec)

    from rdsca.runner import python_host

    python_host.run(spec, stdin, output_fd, started)
