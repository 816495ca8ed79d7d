"""``talr fmt``: canonical formatting of rule files (see :mod:`talr_tools.fmt.core`)."""

from talr_tools.fmt.core import FormatError, format_text
from talr_tools.fmt.files import FileOutcome, FormatReport, format_paths

__all__ = ["FileOutcome", "FormatError", "FormatReport", "format_paths", "format_text"]
