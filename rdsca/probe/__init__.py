"""``rdsca probe``: connect to databases as their clients do, take the certificates they serve, and judge them
against trust stores now and after a CA rotation.

``wire`` speaks each engine's way into TLS (the network shell), ``judge`` is the pure core (paths, names, dates,
the rotation question), ``endpoints`` reads what to probe, ``run`` ties them together concurrently, ``report``
renders; the command is ``rdsca.cli.probe``.
"""
