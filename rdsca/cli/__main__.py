"""``python -m rdsca.cli``: the same command line as ``rdsca``."""

from rdsca.cli import main

main()
