"""Risk-of-bias assessments checked against vocabularies/rob_tools.yaml."""

from __future__ import annotations

from ..errors import Problem
from ..model import Catalog, rob_tools


def check_risk_of_bias(catalog: Catalog) -> list[Problem]:
    """Check recorded assessments against ``rob_tools.yaml``: tool, domain ids, judgements.

    The model keeps no source positions, so problems name the record and field but no line.
    """
    tools = rob_tools(catalog)
    problems = []
    for s in catalog.studies:
        for i, a in enumerate(s.risk_of_bias):
            base = f"risk_of_bias[{i}]"
            tool = tools.get(a.tool)
            if tool is None:
                allowed = ", ".join(tools) or "none (rob_tools.yaml is missing)"
                msg = f"'{a.tool}' is not in vocabularies/rob_tools.yaml; allowed: {allowed}"
                problems.append(Problem(s.path, None, None, f"{base}.tool", msg))
                continue
            ids = [k for k, _ in tool.domains]
            allowed = ", ".join(tool.judgements)
            for key, value in a.domains.items():
                where = f"{base}.domains.{key}"
                if key not in ids:
                    msg = f"'{key}' is not a domain of {tool.short}; allowed: {', '.join(ids)}"
                    problems.append(Problem(s.path, None, None, where, msg))
                elif tool.judgements and value not in tool.judgements:
                    msg = f"'{value}' is not a {tool.short} judgement; allowed: {allowed}"
                    problems.append(Problem(s.path, None, None, where, msg))
            if tool.judgements and a.overall not in tool.judgements:
                msg = f"'{a.overall}' is not a {tool.short} judgement; allowed: {allowed}"
                problems.append(Problem(s.path, None, None, f"{base}.overall", msg))
    return problems
