"""The registry of lint codes: every check has a stable code, a summary and an explanation.

Families (a code prefix selects or ignores a whole family, ``--ignore TALR1``):

========  ==================================================================
TALR0xx   the file and its YAML (the loader's codes, :mod:`talr_tools.loader`)
TALR1xx   JSON schema, the ``talr:`` block, dates and changelog
TALR2xx   pySigma parsing of rules, correlation rules and filters
TALR3xx   ATT&CK tags against the vendored index
TALR4xx   repository consistency: unique ids and titles, file names
SV0xx     pySigma core validators (offline ones, see :mod:`.sigma_codes`)
SV1xx     pySigma-validators-sigmahq validators (offline ones)
========  ==================================================================

Codes marked *TALR-only* need the ``talr:`` block; ``--ignore`` them (see
:data:`TALR_ONLY_HINT`) to lint a folder of plain Sigma rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from talr_tools.lint.sigma_codes import STATE_REASONS, VALIDATOR_CODES
from talr_tools.model import Severity


@dataclass(frozen=True)
class Code:
    """One lint code."""

    code: str
    summary: str
    explanation: str
    severity: Severity = Severity.ERROR
    talr_only: bool = False
    validator: str | None = None  # pySigma validator identifier (SV codes)


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

_TALR_CODES: tuple[Code, ...] = (
    Code("TALR001", "File cannot be read or is too large",
         "The file could not be read (permissions, vanished) or is larger than `[lint] max_file_size` "
         "in talr.toml (default 1 MiB). Large files are not parsed at all, so a 50 MB file costs nothing."),
    Code("TALR002", "Binary file",
         "The file contains NUL bytes in its first 8 KiB: it is not a YAML rule."),
    Code("TALR003", "Not valid UTF-8",
         "Rule files must be UTF-8. The finding points at the first invalid byte."),
    Code("TALR004", "Empty file",
         "The file holds no YAML document (empty, or only comments)."),
    Code("TALR005", "YAML syntax error",
         "The YAML parser (libyaml) rejected the file; the position is where it gave up."),
    Code("TALR006", "Duplicate mapping key",
         "A mapping has the same key twice. YAML loaders silently keep the last one, which hides "
         "detection logic, so TALR refuses it."),
    Code("TALR007", "YAML alias bomb",
         "Anchors and aliases expand to more than 200,000 nodes ('billion laughs'). The file is not "
         "expanded."),
    Code("TALR008", "Document is not a mapping",
         "Every YAML document of a rule file must be a mapping (a Sigma rule, correlation or filter)."),
    Code("TALR009", "Internal error while checking the file",
         "A TALR check crashed on this file (a bug in TALR or pySigma). The other files were still "
         "checked; please report the file and message."),
    Code("TALR100", "No talr: block",
         "The file's primary document has no `talr:` mapping (version, changelog, tlp, intel). Plain "
         "Sigma rules trigger it: lint them without the TALR-only codes, "
         "`--ignore TALR100,TALR11,TALR12,TALR307`.", talr_only=True),
    Code("TALR101", "Schema: wrong type or value",
         "A Sigma field has the wrong type or a value the schema (talr_tools/schemas/"
         "talr-rule.schema.json) does not allow, e.g. `status: done` or `tags: a-string`."),
    Code("TALR102", "Schema: required field missing",
         "A field the document needs is missing: title, logsource and detection for a rule; "
         "correlation for a correlation rule; filter and logsource for a filter."),
    Code("TALR103", "Schema: unknown top-level key",
         "A top-level key that is neither a Sigma field nor `talr`. Sigma would keep it as a custom "
         "attribute, but it is usually a typo (`tag:` for `tags:`). Organisation-specific data goes "
         "under a key starting with `x_` (e.g. `x_ticket`)."),
    Code("TALR110", "talr: block has a wrong type or value",
         "A key of the `talr:` block has the wrong shape: e.g. `version: one`, `tlp: orange`, "
         "`changelog` not a list of {version, date, note}, an intel link without kind.",
         talr_only=True),
    Code("TALR111", "talr: block misses a required key",
         "The `talr:` block (or one of its entries) lacks a required key, e.g. `version`, or the "
         "`kind` of an intel link.", talr_only=True),
    Code("TALR112", "talr: block has an unknown key",
         "A key in the `talr:` block that the format does not define (typo?).", talr_only=True),
    Code("TALR120", "Changelog does not match the version",
         "`talr.changelog` must hold one entry per version, 1 to `talr.version`, in order: the last "
         "entry is the current version.", talr_only=True),
    Code("TALR121", "Changelog dates go backwards",
         "Each changelog entry's date must be on or after the previous entry's date.", talr_only=True),
    Code("TALR122", "Changelog date after modified",
         "A changelog entry is dated after the rule's `modified` (or `date`, when there is no "
         "`modified`): the Sigma dates were not updated with the change.", _W, talr_only=True),
    Code("TALR130", "modified before date",
         "Sigma `modified` is earlier than `date` (the creation date)."),
    Code("TALR131", "Date in the future",
         "`date`, `modified` or a changelog date lies after today (UTC).", _W),
    Code("TALR201", "pySigma cannot parse the rule",
         "pySigma rejected the rule, correlation rule or filter (SigmaError); the message is pySigma's, "
         "the position is the field it concerns where that is known, else the document."),
    Code("TALR202", "pySigma collection error",
         "An error about the file's documents together: unknown `action`, a correlation rule or "
         "filter referencing a rule that is not in the file."),
    Code("TALR209", "pySigma validator failed",
         "A pySigma validator raised an exception on this rule. The rule is probably malformed in a "
         "way pySigma accepted; the other validators still ran.", _W),
    Code("TALR301", "Unknown ATT&CK technique",
         "An `attack.tNNNN[.NNN]` tag names a technique or sub-technique that is not in the vendored "
         "ATT&CK index (talr_tools/data/attack-index.json; refresh with `talr attack update`)."),
    Code("TALR302", "Revoked ATT&CK technique",
         "The technique was revoked by MITRE; the message names the technique that replaces it. "
         "Tag the replacement instead."),
    Code("TALR303", "Deprecated ATT&CK technique",
         "The technique is deprecated by MITRE (no direct replacement). Remove the tag or pick a "
         "current technique.", _W),
    Code("TALR304", "Unknown ATT&CK tactic",
         "An `attack.<name>` tag that is neither a tactic (`attack.defense-evasion`, underscore "
         "spelling accepted) nor a technique, group, software or campaign id."),
    Code("TALR305", "Unknown ATT&CK group, software or campaign",
         "An `attack.gNNNN`, `attack.sNNNN` or `attack.cNNNN` tag that is not in the vendored index."),
    Code("TALR306", "Revoked or deprecated ATT&CK group, software or campaign",
         "The group, software or campaign is revoked or deprecated in ATT&CK.", _W),
    Code("TALR307", "talr.intel link does not match ATT&CK",
         "An intel link of kind group, software or campaign has an `external_id` that is not in the "
         "ATT&CK index, or a `stix_id` that differs from the index's id for it.", talr_only=True),
    Code("TALR401", "Duplicate rule id",
         "Two documents in the linted files share a Sigma `id`. Ids identify rules across releases and "
         "organisations: each must be unique. Every occurrence is reported, naming the other."),
    Code("TALR402", "Duplicate title",
         "Two rule documents share a title; analysts tell alerts apart by title.", _W),
    Code("TALR403", "File name convention",
         "Rule file names are lowercase ASCII letters, digits and underscores with a `.yml` suffix "
         "(`[a-z0-9_]+\\.yml`, as in SigmaHQ), at most 120 characters."),
    Code("TALR404", "Duplicate file name",
         "Two rule files in different folders share a file name. SigmaHQ and many SIEM imports use the "
         "file name as a key; every occurrence is reported, naming the others.", _W),
)

TALR_ONLY_HINT = "TALR100,TALR11,TALR12,TALR307"


def _severity(name: str) -> Severity:
    return Severity(name)


@lru_cache(maxsize=1)
def registry() -> dict[str, Code]:
    """Every enabled code, by code."""
    codes = {c.code: c for c in _TALR_CODES}
    for vc in VALIDATOR_CODES:
        if vc.state != "on":
            continue
        codes[vc.code] = Code(
            vc.code,
            vc.summary,
            f"pySigma validator `{vc.identifier}`: {vc.summary}. Severity follows pySigma's issue "
            "severity (high -> error, medium/low -> warning, informational -> info).",
            _severity(vc.severity),
            validator=vc.identifier,
        )
    return codes


def enabled_validators() -> list[tuple[str, str]]:
    """(code, pySigma validator identifier) of the validators TALR runs."""
    return [(vc.code, vc.identifier) for vc in VALIDATOR_CODES if vc.state == "on"]


def left_out_validators() -> list[tuple[str, str, str]]:
    """(code, identifier, reason) of the pySigma validators TALR does not run."""
    return [(vc.code, vc.identifier, STATE_REASONS[vc.state]) for vc in VALIDATOR_CODES if vc.state != "on"]


def explain(code: str) -> str | None:
    """The text ``talr lint --explain CODE`` prints, or None for an unknown code."""
    found = registry().get(code.strip().upper())
    if found is None:
        return None
    scope = "TALR rules only (needs the talr: block)" if found.talr_only else "TALR and plain Sigma rules"
    return (
        f"{found.code}: {found.summary}\n"
        f"severity: {found.severity}; applies to: {scope}\n\n{found.explanation}"
    )
