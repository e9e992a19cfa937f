"""Evidence claims: a record claims no more than it records (issue 13)."""

from __future__ import annotations

from ..errors import Problem
from ..load import Document
from ..model import Vocabulary
from .schema import problem_at


def check_evidence_claims(
    doc: Document, vocabularies: dict[str, Vocabulary], problems: list[Problem]
) -> None:
    """Check that a record claims no more than it records.

    A result category that names the primary outcome needs an outcome marked primary, and the
    adverse-event statement must cite one of the record's own references.
    """
    data = doc.data
    categories = vocabularies.get("result_categories")
    category = data["result"]["category"]
    if (
        categories
        and category in categories
        and categories[category].get("requires_primary")
        and not any(o.get("primary") for o in data.get("outcomes", []))
    ):
        plain = [t.id for t in categories.terms if not t.get("requires_primary")]
        msg = (
            f"'{category}' names the primary outcome, but no outcome is marked 'primary: true'; "
            f"mark the primary outcome or use a category that claims no hierarchy: "
            f"{', '.join(plain)}"
        )
        problems.append(problem_at(doc, ("result", "category"), msg))
    ae = data.get("adverse_events")
    if isinstance(ae, dict):
        ref = ae.get("source", {}).get("ref")
        if ref is not None and ref not in data["references"]:
            problems.append(
                problem_at(
                    doc,
                    ("adverse_events", "source", "ref"),
                    f"adverse-event source '{ref}' must also be listed in references",
                )
            )
        if ae.get("reporting") == "none-reported":
            for name in ("serious", "dropouts"):
                if name in ae:
                    problems.append(
                        problem_at(
                            doc,
                            ("adverse_events", name),
                            f"'{name}' given although reporting is 'none-reported'; use "
                            "'reported' when the source reports anything on safety",
                        )
                    )
