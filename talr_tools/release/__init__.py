"""Release builds: rules -> signed STIX 2.1 bundle + release notes (``talr build``)."""
