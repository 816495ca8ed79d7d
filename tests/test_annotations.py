"""GitHub workflow commands: properties and messages escaped as the runner expects."""

from __future__ import annotations

from talr_tools.annotations import workflow_command


def test_properties_and_message_are_escaped() -> None:
    line = workflow_command("error", "50% done\nsecond line", file="rules/a,b:c.yml", line=3, col=1, title="TALR005")
    assert line == "::error file=rules/a%2Cb%3Ac.yml,line=3,col=1,title=TALR005::50%25 done%0Asecond line"


def test_unset_properties_are_left_out() -> None:
    assert workflow_command("warning", "x") == "::warning::x"
    assert workflow_command("notice", "y", title="t: z") == "::notice title=t%3A z::y"
