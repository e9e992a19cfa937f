"""Risk-of-bias assessments checked against vocabularies/rob_tools.yaml, with positions."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Problem
from ..load import Document
from ..model import Vocabulary, rob_tools
from .checks import problem_at


def check_risk_of_bias(
    doc: Document, vocabularies: Mapping[str, Vocabulary], problems: list[Problem]
) -> None:
    """Check a study's assessments against ``rob_tools.yaml``: tool, domain ids, judgements.

    Runs on the loaded record (after its schema check), so every problem points at the line
    and column of the value that is wrong.

    Args:
        doc: A loaded study record that passed its schema.
        vocabularies: The loaded vocabularies (``rob_tools`` among them, when present).
        problems: Where problems are appended.
    """
    tools = rob_tools(vocabularies)
    for i, a in enumerate(doc.data.get("risk_of_bias") or ()):
        base = ("risk_of_bias", i)
        tool = tools.get(a["tool"])
        if tool is None:
            allowed = ", ".join(tools) or "none (rob_tools.yaml is missing)"
            msg = f"'{a['tool']}' is not in vocabularies/rob_tools.yaml; allowed: {allowed}"
            problems.append(problem_at(doc, (*base, "tool"), msg))
            continue
        ids = [k for k, _ in tool.domains]
        allowed = ", ".join(tool.judgements)
        for key, value in a["domains"].items():
            where = (*base, "domains", key)
            if key not in ids:
                msg = f"'{key}' is not a domain of {tool.short}; allowed: {', '.join(ids)}"
                problems.append(problem_at(doc, where, msg))
            elif tool.judgements and value not in tool.judgements:
                msg = f"'{value}' is not a {tool.short} judgement; allowed: {allowed}"
                problems.append(problem_at(doc, where, msg))
        if tool.judgements and a["overall"] not in tool.judgements:
            msg = f"'{a['overall']}' is not a {tool.short} judgement; allowed: {allowed}"
            problems.append(problem_at(doc, (*base, "overall"), msg))
