"""The ``talr`` command line: parses arguments, calls the library, renders results."""
