"""Rule versions from git history: ``talr version check``, ``talr version bump``, ``talr history``.

A rule is identified by its Sigma ``id`` (:attr:`talr_tools.model.Rule.id`), never its path;
whether its content changed is decided by :attr:`talr_tools.model.Rule.content_hash`. A rule
without a ``talr:`` block, or without ``talr.version``, is at the implicit version 1.
"""
