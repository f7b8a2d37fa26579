"""Live AWS accounts: scan (``audit``), change (``rotate``, ``default-ca``) with boto3; no module-level clients."""
