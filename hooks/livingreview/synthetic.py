"""Synthetic review projects of any size, for benchmarks (``scripts/bench.py``).

A synthetic project has the real schema, vocabularies and glossary, ``n`` study records that
pass the validator, a bibliography of at least ``10 * n`` entries made from a real-world
``.bib`` file by suffixing its keys (``Feickert:2021ajf`` -> ``Feickert:2021ajf-s3``), and
``n / 10`` narrative pages that cite about 30 keys each. Everything is drawn from a seeded
random generator, so the same arguments always give the same files.

Nothing here is used by the site build; it only writes files under a directory it is given.
"""

from __future__ import annotations

import math
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .bibliography import parse_bibtex_bytes

__all__ = [
    "SyntheticProject",
    "make_bibliography",
    "make_project",
    "site_config",
]

#: Files and folders of the real project copied into every synthetic project.
COPIED_DATA = ("schema", "vocabularies", "glossary.yaml")

#: Plugins that read git history, which a synthetic project does not have.
GIT_PLUGINS = frozenset({"git-revision-date-localized", "git-revision-date", "git-authors"})

#: An entry header at the start of a line: ``@article{Key,``.
_ENTRY_HEADER = re.compile(r"^[ \t]*@([A-Za-z]+)[ \t]*\{[ \t]*([^,\s]+)[ \t]*,", re.MULTILINE)

_SURNAMES = [
    "abbott",
    "adams",
    "baker",
    "barnes",
    "bell",
    "brooks",
    "carter",
    "clark",
    "collins",
    "cooper",
    "davies",
    "dixon",
    "evans",
    "fischer",
    "foster",
    "garcia",
    "gray",
    "hall",
    "harris",
    "hayes",
    "hughes",
    "jensen",
    "kelly",
    "king",
    "larsen",
    "lewis",
    "martin",
    "meyer",
    "miller",
    "moore",
    "morgan",
    "murphy",
    "nguyen",
    "olsen",
    "parker",
    "perry",
    "price",
    "reed",
    "reyes",
    "rogers",
    "ross",
    "russell",
    "sanders",
    "schmidt",
    "scott",
    "shaw",
    "silva",
    "stewart",
    "sullivan",
    "taylor",
    "turner",
    "walker",
    "ward",
    "watson",
    "white",
    "wood",
    "wright",
    "young",
]

_WORDS = [
    "ketamine",
    "infusion",
    "response",
    "remission",
    "symptom",
    "severity",
    "trial",
    "cohort",
    "participants",
    "dose",
    "session",
    "follow-up",
    "outcome",
    "scale",
    "baseline",
    "improvement",
    "placebo",
    "randomized",
    "open-label",
    "clinician",
    "self-report",
    "relapse",
    "tolerability",
    "dissociation",
    "adverse",
    "event",
    "weight",
    "anxiety",
    "depression",
    "trauma",
    "treatment",
    "evidence",
    "review",
    "meta-analysis",
    "effect",
    "estimate",
    "interval",
    "sample",
    "duration",
    "schedule",
    "psychotherapy",
    "combination",
    "protocol",
    "observation",
]


@dataclass(frozen=True)
class SyntheticProject:
    """What :func:`make_project` wrote.

    Attributes:
        root: Project root (holds ``mkdocs.yml``, ``data/``, ``docs/``, ``references.bib``).
        n: Number of study records.
        entries: Number of bibliography entries.
        pages: Source paths (inside ``docs/``) of the narrative pages, in nav order.
        study_ids: Ids of the study records.
        cited: Citations written into narrative pages and records (with repeats).
    """

    root: Path
    n: int
    entries: int
    pages: list[str] = field(default_factory=list)
    study_ids: list[str] = field(default_factory=list)
    cited: int = 0


def _entry_blocks(text: str) -> list[tuple[str, str, int]]:
    """Split ``.bib`` text into (key, entry text, first line) per entry header."""
    matches = list(_ENTRY_HEADER.finditer(text))
    blocks = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        line = text.count("\n", 0, match.start()) + 1
        blocks.append((match.group(2), text[match.start() : end].rstrip() + "\n", line))
    return blocks


def vocabulary_references(repo: Path, vocabularies: Path) -> str:
    """Return the project's entries that the copied vocabularies cite, under their own keys.

    ``outcome_families.yaml`` cites the sources of published certainty ratings; the synthetic
    bibliography renames every key, so those entries are carried over unchanged.
    """
    path = vocabularies / "outcome_families.yaml"
    if not path.exists():
        return ""
    terms = (yaml.safe_load(path.read_text("utf-8")) or {}).get("terms") or []
    cited = {c["source"]["ref"] for t in terms for c in t.get("certainty") or ()}
    text = (repo / "references.bib").read_text("utf-8")
    return "".join("\n" + entry for key, entry, _ in _entry_blocks(text) if key in cited)


def make_bibliography(source: Path, count: int) -> tuple[str, list[str]]:
    """Return ``.bib`` text of exactly ``count`` entries, and their keys in file order.

    Entries of ``source`` that the review's own loader reports a problem for (a missing year
    or title) are left out, so the result loads cleanly. The remaining entries are repeated
    with suffixed keys, copy ``i`` getting ``-s{i}``, by substituting the key in each entry
    header; nothing else in an entry changes.
    """
    raw = source.read_bytes()
    _, problems = parse_bibtex_bytes(raw, source.name)
    blocks = _entry_blocks(raw.decode("utf-8"))
    starts = [line for _, _, line in blocks]
    bad: set[int] = set()
    for problem in problems:
        if problem.line is None:
            continue
        # The entry holding the problem's line: the last header at or before it.
        index = max((i for i, start in enumerate(starts) if start <= problem.line), default=-1)
        if index >= 0:
            bad.add(index)
    usable = [(key, text) for i, (key, text, _) in enumerate(blocks) if i not in bad]
    if not usable:
        raise ValueError(f"{source} has no entry that loads without problems")
    copies = math.ceil(count / len(usable))
    parts: list[str] = []
    keys: list[str] = []
    for copy in range(copies):
        left = count - copy * len(usable)
        chosen = usable
        if left < len(usable):
            # A partial copy takes evenly spaced entries, so that a small bibliography has
            # the same mix (types, keys with and without ':') as the whole source.
            chosen = [usable[i * len(usable) // left] for i in range(left)]
        for key, text in chosen:
            new_key = f"{key}-s{copy}"
            header = _ENTRY_HEADER.match(text)
            assert header is not None
            start, end = header.span(2)
            parts.append(text[:start] + new_key + text[end:])
            keys.append(new_key)
    return "\n".join(parts), keys


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors or aliases (the review's loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _vocab(root: Path, name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((root / "data" / "vocabularies" / f"{name}.yaml").read_text("utf-8"))
    return list(data["terms"])


def _bibliographic(rng: random.Random) -> dict[str, str]:
    """A bibliographic status; anything short of verified says what is unverified."""
    status = rng.choice(("verified", "partial"))
    return (
        {"status": status}
        if status == "verified"
        else {"status": status, "note": "PMID unverified."}
    )


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _study_ids(n: int) -> list[str]:
    ids = []
    per_letter = len(_SURNAMES) * 36
    for i in range(n):
        surname = _SURNAMES[i % len(_SURNAMES)]
        year = 1990 + (i // len(_SURNAMES)) % 36
        letter = "" if i < per_letter else chr(ord("a") + i // per_letter - 1)
        ids.append(f"{surname}-{year}{letter}")
    return ids


def _quantity(rng: random.Random, low: float, high: float) -> dict[str, Any]:
    kind = rng.choice(("value", "mean", "median", "range"))
    a = round(rng.uniform(low, high), 1)
    if kind == "value":
        return {"value": a}
    if kind == "mean":
        return {"mean": a, "sd": round(a * rng.uniform(0.05, 0.4), 1)}
    if kind == "median":
        return {"median": a}
    b = round(a + rng.uniform(1, high - low + 1), 1)
    return {"min": a, "max": b}


def _study(
    rng: random.Random,
    study_id: str,
    refs: list[str],
    vocabs: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """Return one study record as plain data, valid against the schema and vocabularies."""
    condition = rng.choice(vocabs["conditions"])["id"]
    design_term = rng.choice(vocabs["designs"])
    primary = design_term.get("kind") == "primary"
    diagnoses = [d["id"] for d in vocabs["diagnoses"] if d.get("condition") in (None, condition)]
    n = rng.randint(1, 400) if design_term["id"] != "case-report" else 1
    participants: dict[str, Any] = {}
    if primary or rng.random() < 0.5:
        participants["n"] = n
        if rng.random() < 0.6:
            participants["n_female"] = rng.randint(0, n)
        if rng.random() < 0.7:
            participants["age_years"] = _quantity(rng, 14, 60)
        if n >= 2 and rng.random() < 0.4:
            half = max(1, n // 2)
            participants["groups"] = [
                {"name": "Ketamine", "n": half},
                {"name": "Comparator", "n": max(1, n - half)},
            ]
    else:
        participants["studies_included"] = rng.randint(2, 40)
    dose_unit = rng.choice(("mg/kg", "mg/h", "mg", "mg/kg/h"))
    if rng.random() < 0.5:
        dose: dict[str, Any] = {"value": round(rng.uniform(0.1, 2.0), 2), "unit": dose_unit}
    else:
        low = round(rng.uniform(0.1, 1.0), 2)
        dose = {"min": low, "max": round(low + rng.uniform(0.1, 1.0), 2), "unit": dose_unit}
    routes = [r["id"] for r in vocabs["routes"]]
    intervention: dict[str, Any] = {
        "drug": rng.choice(vocabs["drugs"])["id"],
        "routes": rng.sample(routes, rng.randint(1, 2)),
        "dose": dose,
        "sessions": _quantity(rng, 1, 12),
        "schedule": _sentence(rng, 5),
    }
    if rng.random() < 0.5:
        intervention["session_minutes"] = {"value": rng.choice((40, 60, 100, 600))}
    outcomes = []
    measures = [m["id"] for m in vocabs["outcome_measures"]]
    for j in range(rng.randint(1, 3)):
        outcome: dict[str, Any] = {
            "measure": rng.choice(measures),
            "finding": _sentence(rng, 14),
            "source": {"ref": refs[j % len(refs)], "locator": f"Table {j + 1}"},
        }
        if j == 0:
            outcome["primary"] = True
        if rng.random() < 0.3:
            arm_n = max(1, n // 2)
            outcome["arms"] = [
                {"name": "Ketamine", "n": arm_n, "events": rng.randint(0, arm_n)},
                {"name": "Comparator", "n": arm_n, "events": rng.randint(0, arm_n)},
            ]
        if rng.random() < 0.3:
            estimate = round(rng.uniform(0.2, 3.0), 2)
            outcome["effect"] = {
                "measure": rng.choice(vocabs["effect_measures"])["id"],
                "estimate": estimate,
                "ci_lower": round(estimate * 0.7, 2),
                "ci_upper": round(estimate * 1.4, 2),
                "ci_level": 95,
                "p_value": round(rng.uniform(0.001, 0.9), 3),
            }
        outcomes.append(outcome)
    covers = ["design", "population", "participants", "diagnoses", "intervention", "outcomes"]
    provenance = []
    for j, ref in enumerate(refs[:2]):
        status = rng.choice(("verified", "verified", "partial", "unverified"))
        locator = rng.choice(("Abstract", "Methods", "Results", "Table 2"))
        item: dict[str, Any] = {
            "source": ref,
            "basis": "abstract" if locator == "Abstract" else "full-text",
            "locator": locator,
            "covers": covers[j::2],
            "status": status,
        }
        if status != "verified":
            item["note"] = _sentence(rng, 8)
        provenance.append(item)
    record: dict[str, Any] = {
        "id": study_id,
        "condition": condition,
        "design": design_term["id"],
        "summary": _sentence(rng, 30),
        "population": {
            "description": _sentence(rng, 10),
            "group": rng.choice(("civilians", "military", "veterans", "mixed", "not-applicable")),
        },
        "participants": participants,
        "diagnoses": rng.sample(diagnoses, min(len(diagnoses), rng.randint(1, 2))),
        "intervention": intervention,
        "comparator": rng.choice(vocabs["comparators"])["id"],
        "outcomes": outcomes,
        "result": {
            "category": rng.choice(vocabs["result_categories"])["id"],
            "summary": _sentence(rng, 18),
        },
        "references": refs,
        "provenance": provenance,
        "bibliographic": _bibliographic(rng),
        "added": f"{rng.randint(2019, 2022)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "updated": f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    comorbidities = [c["id"] for c in vocabs["comorbidities"]]
    if rng.random() < 0.4:
        record["comorbidities"] = rng.sample(comorbidities, rng.randint(1, 2))
    # Every record states its adverse events (the schema requires it); half say the source
    # reports none.
    if rng.random() < 0.5:
        record["adverse_events"] = {
            "reporting": "reported",
            "summary": _sentence(rng, 12),
            "source": {"ref": refs[0], "locator": "Abstract"},
        }
    else:
        record["adverse_events"] = {
            "reporting": "none-reported",
            "summary": "The abstract has no statement on adverse events.",
            "source": {"ref": refs[0], "locator": "Abstract"},
        }
    return record


def _citation(rng: random.Random, pool: list[str]) -> tuple[str, int]:
    """Return one bracketed citation (one or two keys) and the number of keys in it."""
    if rng.random() < 0.3:
        a, b = rng.sample(pool, 2)
        return f"[@{a}; @{b}]", 2
    return f"[@{rng.choice(pool)}]", 1


def _narrative_page(
    rng: random.Random, title: str, pool: list[str], citations: int, marker: str
) -> tuple[str, int]:
    """Return a hand-written page citing about ``citations`` keys, and the keys cited."""
    lines = [f"# {title}", ""]
    done = 0
    section = 0
    while done < citations:
        if done % 9 == 0:
            section += 1
            lines += [f"## Section {section}", ""]
        sentences = []
        for _ in range(3):
            cite, k = _citation(rng, pool)
            done += k
            sentences.append(f"{_sentence(rng, rng.randint(10, 20))[:-1]} {cite}.")
        lines += [" ".join(sentences), ""]
    if marker:
        lines += [marker, ""]
    return "\n".join(lines), done


def site_config(template: str, nav: list[tuple[str, Any]], *, hooks: bool = True) -> str:
    """Return ``mkdocs.yml`` text: ``template`` with its ``nav`` replaced by ``nav``.

    Everything else (theme, extensions, plugins, strictness) is kept, so a synthetic site is
    built as the real one, with two exceptions: ``hooks`` is dropped when ``hooks`` is false
    (the plain-MkDocs baseline), and plugins that need git history are disabled, because a
    synthetic project has none (the adapter disables them too when there is no history).
    Comments are not kept.
    """
    config = yaml.safe_load(template)
    config["nav"] = [{title: target} for title, target in nav]
    if not hooks:
        config.pop("hooks", None)
    plugins = []
    for plugin in config.get("plugins", []):
        if isinstance(plugin, dict):
            (name, options), *_ = plugin.items()
            if name in GIT_PLUGINS:
                plugin = {name: {**(options or {}), "enabled": False}}
        elif plugin in GIT_PLUGINS:
            plugin = {plugin: {"enabled": False}}
        plugins.append(plugin)
    if plugins:
        config["plugins"] = plugins
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def make_project(
    root: Path,
    n: int,
    *,
    repo: Path,
    bib_source: Path,
    seed: int = 0,
    entries_per_study: int = 10,
    colon_free: bool = False,
) -> SyntheticProject:
    """Write a synthetic review of ``n`` studies under ``root`` (which must not exist).

    Args:
        root: Where to write the project.
        n: Number of study records.
        repo: The real project (schema, vocabularies, glossary, ``mkdocs.yml``, ``hooks/``,
            ``overrides/`` and ``docs/assets`` are copied from it).
        bib_source: The real-world ``.bib`` file whose entries are repeated with new keys.
        seed: Seed of the random generator.
        entries_per_study: Bibliography entries per study record (at least 10 for the
            benchmark).
        colon_free: Cite only keys without ``:`` (for tools that cannot parse such keys); the
            bibliography itself is the same.
    """
    rng = random.Random(f"{seed}-{n}-{colon_free}")
    root.mkdir(parents=True)
    data = root / "data"
    (data / "studies").mkdir(parents=True)
    for name in COPIED_DATA:
        src = repo / "data" / name
        if src.is_dir():
            shutil.copytree(src, data / name)
        elif src.exists():
            shutil.copy(src, data / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo / "hooks", root / "hooks", ignore=ignore)
    if (repo / "overrides").is_dir():
        shutil.copytree(repo / "overrides", root / "overrides", ignore=ignore)
    docs = root / "docs"
    docs.mkdir()
    if (repo / "docs" / "assets").is_dir():
        shutil.copytree(repo / "docs" / "assets", docs / "assets")

    bib_text, keys = make_bibliography(bib_source, max(1, entries_per_study * n))
    bib_text += vocabulary_references(repo, data / "vocabularies")
    (root / "references.bib").write_text(bib_text, encoding="utf-8")
    pool = [k for k in keys if ":" not in k] if colon_free else keys
    if len(pool) < 5:
        raise ValueError("too few citable keys in the bibliography")

    vocab_names = [
        "conditions",
        "designs",
        "diagnoses",
        "routes",
        "drugs",
        "outcome_measures",
        "effect_measures",
        "comparators",
        "result_categories",
        "comorbidities",
    ]
    vocabs = {name: _vocab(root, name) for name in vocab_names}
    ids = _study_ids(n)
    cited = 0
    for study_id in ids:
        refs = rng.sample(pool, rng.randint(3, 5))
        record = _study(rng, study_id, refs, vocabs)
        # Study pages cite the primary reference, each outcome source and each provenance
        # source; the index and the characteristics table cite the primary one again.
        cited += len(refs)
        text = yaml.dump(record, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        header = "# yaml-language-server: $schema=../schema/study.schema.json\n"
        (data / "studies" / f"{study_id}.yaml").write_text(header + text, encoding="utf-8")

    pages: list[str] = []
    (docs / "topics").mkdir()
    for i in range(max(1, n // 10)):
        src = f"topics/topic-{i + 1:03d}.md"
        marker = "[[table characteristics]]" if i == 0 else ""
        text, k = _narrative_page(rng, f"Topic {i + 1}", pool, 30, marker)
        cited += k
        (docs / src).write_text(text, encoding="utf-8")
        pages.append(src)
    home = (
        "# Synthetic review\n\n"
        "This synthetic review has [[count studies]] studies "
        "([[count studies kind=primary]] primary, [[count participants]] participants).\n"
    )
    (docs / "index.md").write_text(home, encoding="utf-8")
    nav: list[tuple[str, Any]] = [
        ("Home", "index.md"),
        ("Topics", [{f"Topic {i + 1}": src} for i, src in enumerate(pages)]),
        ("Studies", "studies/index.md"),
        ("Study explorer", "explorer.md"),
        ("References", "references.md"),
    ]
    template = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(site_config(template, nav), encoding="utf-8")
    return SyntheticProject(
        root=root, n=n, entries=len(keys), pages=pages, study_ids=ids, cited=cited
    )
