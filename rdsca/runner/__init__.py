"""The offline Pulumi engine behind ``rdsca check``: where each part lives.

- ``check``: runs a program's host process and its policy packs as one process group (timeouts, signals) and
  returns the report; the entry point is ``check.check_program``.
- ``project``: reads ``Pulumi.yaml`` and the stack file; ``secrets``, ``state``, ``ignore_changes``: the stack's
  encrypted values, a ``--state`` export and the ``ignoreChanges`` paths.
- ``python_host``: the child process that runs a Python program as ``pulumi-language-python`` would, with
  ``monitor`` (the resource monitor), ``engine`` (the engine's steps: providers, outputs, diffs) and ``invokes`` /
  ``invoke_answers`` (data sources answered offline).
- ``policy_packs``: a pack directory and what it answered; ``pack_client``: one pack process driven over gRPC as the
  engine drives an analyzer; ``pack_calls``: the calls of every pack for every resource of one run.
- ``judge``: the databases a run registered, judged into rows; ``report``: the table, JSON, SARIF and ``pulumi``
  outputs of a check.
- ``processes``: process groups and the signals that stop them.

Only ``check``, ``project``, ``policy_packs``, ``invoke_answers``, ``judge`` and ``report`` load in the parent process
of ``rdsca check``: the Pulumi SDK and grpc load in the host (``python_host``), never in the parent.
"""
