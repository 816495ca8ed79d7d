"""Conversion work pySigma repeats, or that cannot change a ``test-convert`` cell: done once, or left out.

Each measured on the SigmaHQ corpus over all installed backends (see
``benchmarks/bench_convert.py`` and ``docs/conversion.md``, "Speed"); none changes a
cell's state, message or query count (``tests/test_convert_fastpath.py``). pySigma's own
objects are changed in place, so each function says where it applies: per backend, per
``with`` block, or per process (called from :func:`prepare_conversion_process`, when a
conversion process starts, never at import):

* :func:`reuse_combined_pipeline`: a backend combines its pipelines once, as it does when
  sigma-cli converts a whole folder in one call, instead of once per rule;
* :func:`outcome_only`: when only the outcome is kept, Panther's Python output is checked for
  syntax with :func:`ast.parse` instead of being formatted with black (a third of all
  conversion time), and JSON is written without indentation (C encoder); code that does not
  parse or JSON that does not encode still goes through the real function, for its error;
* :func:`remember_valid_regexes`: pySigma checks every regular expression it builds by compiling
  it; a pattern already found valid in this process is not compiled again;
* :func:`remember_parsed_strings`: a Sigma string value is parsed (wildcards, escapes) once per
  process, not again by each backend;
* :func:`copy_condition_trees_directly`: pySigma deep-copies a cached parse of each rule's
  condition for every conversion; a tree of plain condition nodes is copied node by node;
* :func:`short_circuit_rule_conditions`: a processing item whose rule conditions are all of
  pySigma's read-only kinds stops checking them once the result is known;
* :func:`share_loki_partitions`: Loki splits a query too long for LogQL into parts, deep-copying
  the whole condition tree once per part; each part now copies only its own share.
"""

from __future__ import annotations

from talr_tools.convert.fastpath.loki import partition_condition, share_loki_partitions
from talr_tools.convert.fastpath.outcome import outcome_only
from talr_tools.convert.fastpath.pipelines import reuse_combined_pipeline
from talr_tools.convert.fastpath.process import (
    copy_condition_tree,
    copy_condition_trees_directly,
    enlarge_regex_cache,
    prepare_conversion_process,
    remember_parsed_strings,
    remember_valid_regexes,
    short_circuit_rule_conditions,
)

__all__ = [
    "copy_condition_tree",
    "copy_condition_trees_directly",
    "enlarge_regex_cache",
    "outcome_only",
    "partition_condition",
    "prepare_conversion_process",
    "remember_parsed_strings",
    "remember_valid_regexes",
    "reuse_combined_pipeline",
    "share_loki_partitions",
    "short_circuit_rule_conditions",
]
