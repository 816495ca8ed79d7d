"""STIX 2.1: the TALR rule -> indicator mapping, bundles and release builds."""
