"""``talr lint``: the code registry, the checks, the runner, the cache and the output formats."""
