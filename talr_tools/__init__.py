"""TALR: detection-as-code for Sigma rules, shared as signed STIX 2.1 over TAXII 2.1."""

__version__ = "0.1.0"
