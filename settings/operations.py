"""Settings for nightly operation: incremental crawls, re-checks, run reports, spool, scale-out."""
