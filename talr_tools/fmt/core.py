"""Canonical formatting of rule text through the shared ruamel round-trip.

What :func:`format_text` does, and only this:

- top-level keys in SigmaHQ order (:mod:`talr_tools.fmt.order`), unknown keys after the
  known ones in their original order, ``talr`` last; inside ``talr``, its entries, ``related``,
  ``correlation`` and ``filter`` a fixed order too; in ``detection`` and ``filter`` the
  selections keep the author's order and ``condition`` goes last;
- indentation of the shared round-trip config (mappings 4, sequences 6 with offset 4:
  SigmaHQ's style), one ``---`` between documents, no leading ``---``, one final newline;
- quoting: a double-quoted string that needs no escape and holds no ``'`` becomes
  single-quoted (SigmaHQ style); plain and single-quoted scalars are left as written, so
  no value ever changes type; ``None`` is written ``null`` (also for an empty value);
- comments are kept (a modeline before a leading ``---`` too). A full-line comment between
  two top-level keys belongs (in ruamel) to the key above it, so it moves with that key when
  keys are reordered.

Safety net: the result is re-read with the loader TALR checks rules with (PyYAML) and must
give exactly the same data as the input, else :class:`FormatError` is raised and nothing is
written.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from talr_tools.errors import TalrError
from talr_tools.fmt import order
from talr_tools.roundtrip import load_documents, make_yaml


class _Representer(RoundTripRepresenter):
    """The shared round-trip representer, writing ``None`` as an explicit ``null``.

    Sigma authors write ``field: null`` to match an absent field; ruamel would print it as
    an empty value, which reads the same but hides the intent.
    """


_Representer.add_representer(
    type(None),
    lambda representer, _data: representer.represent_scalar("tag:yaml.org,2002:null", "null"),
)


class FormatError(TalrError):
    """Text that cannot be formatted: invalid YAML, or formatting would change its data."""

    def __init__(
        self, message: str, line: int | None = None, col: int | None = None, code: str = "TALR005"
    ) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.code = code


def format_text(text: str) -> str:
    """The canonical form of rule ``text`` (all documents). Idempotent.

    Raises :class:`FormatError` (with ``line``/``col`` when known) when the text does not
    parse, or when the formatted text would load to different data.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        documents = [doc for doc in load_documents(_drop_first_start_marker(text)) if doc is not None]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise FormatError(
            f"invalid YAML: {message}",
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
        ) from exc
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise FormatError(f"invalid YAML: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    if not documents:
        raise FormatError("empty file: no YAML document")
    for doc in documents:
        _canonicalise_document(doc)
    result = _dump(documents)
    result = result.rstrip("\n") + "\n"
    _check_same_data(text, result)
    return result


def _drop_first_start_marker(text: str) -> str:
    """Remove a ``---`` that opens the first document after only comments and blank lines.

    ruamel drops comments written before the first ``---`` (such as the
    ``# yaml-language-server`` modeline); without the marker they are kept as the
    document's leading comment. The data is the same either way.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "---" or (line.startswith("--- ") and line[4:].lstrip().startswith("#")):
            return "\n".join(lines[:index] + lines[index + 1 :])
        break
    return text


def _dump(documents: list[Any]) -> str:
    """Serialise with the shared round-trip config and the explicit-``null`` representer."""
    dumper = make_yaml()
    dumper.Representer = _Representer
    stream = io.StringIO()
    dumper.dump_all(documents, stream)
    return stream.getvalue()


def _canonicalise_document(doc: Any) -> None:
    if not isinstance(doc, CommentedMap):
        return
    _reorder(doc, order.TOP_LEVEL, last=("talr",))
    talr = doc.get("talr")
    if isinstance(talr, CommentedMap):
        _reorder(talr, order.TALR)
        _reorder_items(talr.get("changelog"), order.CHANGELOG_ENTRY)
        _reorder_items(talr.get("intel"), order.INTEL_LINK)
        _reorder_items(talr.get("tests"), order.TEST_CASE)
        conversion = talr.get("conversion")
        if isinstance(conversion, CommentedMap):
            _reorder_items(conversion.get("expected_failures"), order.EXPECTED_FAILURE)
    _reorder_items(doc.get("related"), order.RELATED)
    correlation = doc.get("correlation")
    if isinstance(correlation, CommentedMap):
        _reorder(correlation, order.CORRELATION)
    detection = doc.get("detection")
    if isinstance(detection, CommentedMap):
        _reorder(detection, (), last=order.DETECTION_LAST)
    sigma_filter = doc.get("filter")
    if isinstance(sigma_filter, CommentedMap):
        _reorder(sigma_filter, order.FILTER_FIRST, last=order.FILTER_LAST)
    _normalise_quotes(doc)


def _reorder(mapping: Any, first: Iterable[str], last: Iterable[str] = ()) -> None:
    """Reorder ``mapping`` in place: ``first`` keys in that order, the rest, then ``last``.

    Uses ``move_to_end`` so each key keeps its ruamel comment attachments.
    """
    first = tuple(first)
    last = tuple(last)
    keys = list(mapping.keys())
    wanted = (
        [k for k in first if k in mapping]
        + [k for k in keys if k not in first and k not in last]
        + [k for k in last if k in mapping]
    )
    if wanted == keys:
        return
    _move_trailing_comment(mapping, keys[-1], wanted[-1])
    for key in wanted:
        mapping.move_to_end(key)


def _move_trailing_comment(mapping: Any, old_last: Any, new_last: Any) -> None:
    """Keep the blank lines/comments that ended the mapping at its new end.

    ruamel stores what follows the last value (often blank lines and comments before the
    next document or parent key) on the last key; when another key becomes last, that
    end-of-mapping text is moved to the new last scalar, and the old last key keeps only
    its own end-of-line comment.
    """
    if old_last == new_last:
        return
    old = mapping.ca.items.get(old_last)
    old_token = old[2] if old is not None and len(old) > 2 else None
    if old_token is None:
        return
    head, sep, tail = old_token.value.partition("\n")
    if not tail:
        return
    old_token.value = head + sep
    _attach_tail(mapping, new_last, tail, old_token.start_mark)


def _attach_tail(container: Any, key: Any, tail: str, mark: Any) -> None:
    """Append ``tail`` (text after a line end) after the last scalar under ``container[key]``."""
    value = container[key]
    if isinstance(value, CommentedMap) and len(value):
        _attach_tail(value, list(value.keys())[-1], tail, mark)
        return
    if isinstance(value, CommentedSeq) and len(value):
        _attach_tail(value, len(value) - 1, tail, mark)
        return
    slot = 0 if isinstance(container, CommentedSeq) else 2
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    token = entry[slot]
    if token is None:
        entry[slot] = CommentToken("\n" + tail, mark, None)
    else:
        token.value = token.value.rstrip("\n") + "\n" + tail


def _reorder_items(items: Any, first: Iterable[str]) -> None:
    if isinstance(items, CommentedSeq):
        for item in items:
            if isinstance(item, CommentedMap):
                _reorder(item, first)


def _normalise_quotes(node: Any) -> None:
    """Double-quoted strings that need no escapes and hold no ``'`` become single-quoted."""
    if isinstance(node, CommentedMap):
        for key in list(node.keys()):
            value = node[key]
            replacement = _single_quoted(value)
            if replacement is not None:
                _set_keep_comment(node, key, replacement)
            else:
                _normalise_quotes(value)
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            replacement = _single_quoted(value)
            if replacement is not None:
                node[index] = replacement
            else:
                _normalise_quotes(value)


def _set_keep_comment(mapping: Any, key: Any, value: Any) -> None:
    # CommentedMap.__setitem__ on an existing key keeps position and comment attachments.
    mapping[key] = value


def _single_quoted(value: Any) -> Any:
    if not isinstance(value, DoubleQuotedScalarString):
        return None
    text = str(value)
    if "'" in text or any(not ch.isprintable() for ch in text):
        return None
    result = SingleQuotedScalarString(text)
    anchor = getattr(value, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None):
        result.yaml_set_anchor(anchor.value, always_dump=anchor.always_dump)
    return result


def _check_same_data(before: str, after: str) -> None:
    """Raise :class:`FormatError` unless both texts load (PyYAML) to the same data."""
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        old = [d for d in yaml.load_all(before, Loader=loader) if d is not None]
    except yaml.YAMLError as exc:  # ruamel accepted it but PyYAML does not
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(
            f"invalid YAML: {str(getattr(exc, 'problem', '') or exc).splitlines()[0]}",
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
        ) from exc
    new = [d for d in yaml.load_all(after, Loader=loader) if d is not None]
    if old != new:
        raise FormatError(
            "formatting would change the rule's data; file left as it is (please report this TALR bug)",
            code="FMT001",
        )
