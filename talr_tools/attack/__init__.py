"""MITRE ATT&CK: the compact index shipped with TALR, and the builder that refreshes it."""

from talr_tools.attack.index import AttackIndex, AttackObject, Technique, load_index

__all__ = ["AttackIndex", "AttackObject", "Technique", "load_index"]
