"""BibTeX fields to CSL-JSON: types, names, dates, identifiers and pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .fields import (
    ARXIV_PREFIX_RE,
    CSL_TYPES,
    DOI_PREFIX_RE,
    DOI_RE,
    LANGUAGE_CODES,
    MONTH_NUMBERS,
    NAME_FIELDS,
    PMCID_RE,
    THESIS_GENRES,
)
from .latex import matching_brace

# --------------------------------------------------------------------------------------------
# CSL-JSON
# --------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_YEAR_RE = re.compile(r"\d{4}")
_MONTH_RE = re.compile(r"^\s*([A-Za-z]+|\d{1,2})\.?(?:[\s\u00a0~]+(\d{1,2}))?")


def _parse_date_parts(text: str) -> list[list[int]] | None:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or a ``/`` range of them -> CSL date-parts."""
    pieces = [p.strip() for p in text.split("/")]
    if not 1 <= len(pieces) <= 2:
        return None
    result: list[list[int]] = []
    for piece in pieces:
        if not piece and result:
            continue  # "2014/" is an open-ended range; keep the start.
        match = _DATE_RE.match(piece)
        if match is None:
            return None
        numbers = [int(g) for g in match.groups() if g is not None]
        if len(numbers) > 1 and not 1 <= numbers[1] <= 12:
            return None
        if len(numbers) > 2 and not 1 <= numbers[2] <= 31:
            return None
        result.append(numbers)
    return result


def _month_number(text: str) -> tuple[int | None, int | None]:
    """``6``, ``jun``, ``June``, ``June 15`` -> (month, day); (None, None) if unreadable."""
    match = _MONTH_RE.match(text)
    if match is None:
        return None, None
    token = match.group(1)
    month = int(token) if token.isdigit() else MONTH_NUMBERS.get(token[:3].lower())
    if month is None or not 1 <= month <= 12:
        return None, None
    day = int(match.group(2)) if match.group(2) else None
    return month, day if day is not None and 1 <= day <= 31 else None


def _issued(fields: Mapping[str, str]) -> dict[str, Any] | None:
    """The CSL ``issued`` date from ``date`` (biblatex) or ``year``/``month``/``day``."""
    date = fields.get("date")
    if date:
        parts = _parse_date_parts(date)
        if parts is not None:
            return {"date-parts": parts}
    year = fields.get("year")
    if not year:
        return {"literal": date} if date else None
    match = _YEAR_RE.search(year)
    if match is None:
        return {"literal": year}  # "in press", "forthcoming": printed as written.
    date_parts = [int(match.group(0))]
    month, day = _month_number(fields.get("month", ""))
    if month is not None:
        date_parts.append(month)
        day_field = fields.get("day", "")
        day = int(day_field) if day_field.isdigit() and 1 <= int(day_field) <= 31 else day
        if day is not None:
            date_parts.append(day)
    return {"date-parts": [date_parts]}


def date_problems(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """Return (field, message) for each date field that is not a valid date."""
    problems = []
    for name in ("date", "urldate"):
        value = fields.get(name)
        if value and _parse_date_parts(value) is None:
            problems.append(
                (f"cannot read the date '{value}' (write YYYY, YYYY-MM or YYYY-MM-DD)", name)
            )
    return problems


def identifier_problems(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    """Malformed DOIs and PubMed ids: the site would print links that lead nowhere."""
    problems = []
    doi = fields.get("doi")
    if doi and not DOI_RE.match(_normalize_doi(doi)):
        problems.append((f"'{doi}' is not a DOI (a DOI looks like 10.1000/xyz123)", "doi"))
    pmid = fields.get("pmid")
    if pmid and not pmid.isdigit():
        problems.append((f"'{pmid}' is not a PubMed id (digits only)", "pmid"))
    pmcid = fields.get("pmcid")
    if pmcid and not PMCID_RE.match(pmcid):
        problems.append((f"'{pmcid}' is not a PMC id (PMC followed by digits)", "pmcid"))
    return problems


def _normalize_doi(doi: str) -> str:
    return DOI_PREFIX_RE.sub("", doi.strip())


def _page_range(pages: str) -> str:
    """CSL wants plain hyphens in ``page``; the style chooses the range dash."""
    return re.sub(r"\s*[\u2012\u2013\u2014\u2015]+\s*|\s*-{2,}\s*", "-", pages)


def build_csl(
    key: str,
    entry_type: str,
    fields: Mapping[str, str],
    names: Mapping[str, list[dict[str, str]]],
) -> dict[str, Any]:
    """Map decoded BibTeX/biblatex fields to a CSL-JSON item."""
    csl_type = CSL_TYPES.get(entry_type, "document")
    container = fields.get("journaltitle") or fields.get("journal")
    eprint_type = (fields.get("eprinttype") or fields.get("archiveprefix") or "").lower()
    eprint = fields.get("eprint", "")
    if eprint and not eprint_type and ARXIV_PREFIX_RE.match(eprint):
        eprint_type = "arxiv"
    is_arxiv = bool(eprint) and eprint_type == "arxiv"
    if entry_type == "article" and not container and is_arxiv:
        csl_type = "article"  # a preprint, not a journal article

    csl: dict[str, Any] = {"id": key, "type": csl_type}

    title = fields.get("title")
    if title:
        subtitle = fields.get("subtitle")
        csl["title"] = f"{title}: {subtitle}" if subtitle else title

    for bib_name, csl_name in NAME_FIELDS.items():
        if names.get(bib_name):
            csl[csl_name] = names[bib_name]
    if "author" not in csl and "editor" not in csl and fields.get("organization"):
        csl["author"] = [{"literal": fields["organization"]}]

    issued = _issued(fields)
    if issued:
        csl["issued"] = issued
    urldate = fields.get("urldate")
    if urldate:
        parts = _parse_date_parts(urldate)
        csl["accessed"] = {"date-parts": parts} if parts else {"literal": urldate}

    if csl_type in ("chapter", "paper-conference", "entry"):
        container = fields.get("booktitle") or container
    else:
        container = container or fields.get("booktitle")
    if container:
        csl["container-title"] = container
    short = fields.get("shortjournal")
    if short:
        csl["container-title-short"] = short
    if fields.get("series"):
        csl["collection-title"] = fields["series"]
    if fields.get("eventtitle"):
        csl["event"] = fields["eventtitle"]

    publisher = fields.get("publisher")
    if csl_type == "thesis":
        publisher = fields.get("school") or fields.get("institution") or publisher
    elif csl_type == "report":
        publisher = fields.get("institution") or publisher
    if not publisher and fields.get("organization") and ("author" in names or "editor" in names):
        # With people as authors, the organization is the sponsor or publisher; without any,
        # it is already the author (above).
        publisher = fields["organization"]
    if not publisher and fields.get("howpublished") and "://" not in fields["howpublished"]:
        publisher = fields["howpublished"]
    if publisher:
        csl["publisher"] = publisher
    place = fields.get("location") or fields.get("address")
    if place:
        csl["publisher-place"] = place

    genre = fields.get("type") or THESIS_GENRES.get(entry_type)
    if genre and csl_type in ("thesis", "report"):
        csl["genre"] = genre

    if fields.get("volume"):
        csl["volume"] = fields["volume"]
    number = fields.get("number")
    issue = fields.get("issue")
    if csl_type in ("report", "patent", "standard") and number:
        csl["number"] = number
    elif number or issue:
        csl["issue"] = issue or number
    if fields.get("pages"):
        csl["page"] = _page_range(fields["pages"])
    if fields.get("edition"):
        csl["edition"] = fields["edition"]
    if fields.get("chapter"):
        csl["chapter-number"] = fields["chapter"]

    doi = fields.get("doi")
    if doi:
        csl["DOI"] = _normalize_doi(doi)
    url = fields.get("url") or (
        fields["howpublished"] if "://" in fields.get("howpublished", "") else None
    )
    if is_arxiv:
        arxiv_id = ARXIV_PREFIX_RE.sub("", eprint)
        if csl_type == "article":
            # Zotero's CSL for arXiv preprints: the repository as publisher, the id as number.
            csl.setdefault("publisher", "arXiv")
            csl["number"] = f"arXiv:{arxiv_id}"
        if not url and not doi:
            url = f"https://arxiv.org/abs/{arxiv_id}"
    if eprint_type in ("pubmed", "pmid") and eprint and not fields.get("pmid"):
        csl["PMID"] = eprint
    if eprint_type in ("pmc", "pmcid") and eprint and not fields.get("pmcid"):
        csl["PMCID"] = eprint
    if url:
        csl["URL"] = url
    if fields.get("pmid"):
        csl["PMID"] = fields["pmid"]
    pmcid = fields.get("pmcid") or csl.get("PMCID")
    if pmcid:
        match = PMCID_RE.match(pmcid)
        csl["PMCID"] = f"PMC{match.group(1)}" if match else pmcid
    if fields.get("isbn"):
        csl["ISBN"] = fields["isbn"]
    if fields.get("issn"):
        csl["ISSN"] = fields["issn"]

    notes = [fields[n] for n in ("note", "addendum") if fields.get(n)]
    if notes:
        csl["note"] = ". ".join(notes)
    language = fields.get("language") or fields.get("langid")
    if language:
        csl["language"] = LANGUAGE_CODES.get(language.strip().lower(), language.strip())
    return csl


def quote_url_part(text: str) -> str:
    # DOIs keep their punctuation (10.1002/(SICI)1097-...); only what breaks a URL is encoded.
    """Percent-encode what would break a URL, keeping a DOI's punctuation."""
    return quote(text, safe="/:;()[]._-+,=!$*'@~")


# --------------------------------------------------------------------------------------------
# Title case -> sentence case, as Pandoc converts BibTeX (Text.Pandoc.Citeproc.BibTeX)
# --------------------------------------------------------------------------------------------

#: Fields Pandoc turns from title case into sentence case before CSL formatting (styles then
#: apply their own text-case; AMA wants sentence-case article titles): the titles of works,
#: including a book's or proceedings' ``booktitle`` (also when inherited through crossref),
#: ``series`` and ``eventtitle``. Journal titles (``journal``, ``journaltitle``) are names of
#: periodicals: Pandoc keeps them as written.
SENTENCE_CASE_FIELDS = frozenset(
    {"title", "subtitle", "titleaddon", "booktitle", "series", "eventtitle"}
)
#: ``langid``/``language`` values read as English (Pandoc converts English titles only).
_ENGLISH = frozenset({"english", "american", "british", "canadian", "australian", "newzealand"})
_TOKEN_RE = re.compile(
    r"(?P<command>\\(?:[A-Za-z]+|.))"
    r"|(?P<word>[^\W\d_][^\s~{}\\\-\u2010-\u2015/:;.,!?()\[\]\"]*)"
    r"|(?P<stop>[:.!?](?=[\s~]|$))"
    r"|(?P<other>[^{])",
)


def is_english(fields: Mapping[str, str]) -> bool:
    """Whether an entry's language is English (or not given), as Pandoc decides it."""
    lang = (fields.get("langid") or fields.get("language") or "").strip().lower()
    return not lang or lang.split("-")[0] in ("en", "eng") or lang in _ENGLISH


def sentence_case_latex(latex: str) -> str:
    """Return a BibTeX title in sentence case, keeping braced words, as Pandoc does.

    A word written with a capital first letter and lower-case rest is lowered, unless it
    starts the title or a sentence (after ``:``, ``.``, ``?`` or ``!``), where the first
    letter is raised instead. Words with other capitals (``PTSD``, ``McGhee``, ``TIMBER``) and
    every ``{...}`` group at brace depth 0 are kept as written; hyphens and dashes split words
    (``Post-Traumatic`` -> ``post-traumatic``).
    """
    out: list[str] = []
    start = True
    i = 0
    while i < len(latex):
        if latex[i] == "{":
            end = matching_brace(latex, i)
            if end >= len(latex):  # unbalanced: keep the rest as written
                out.append(latex[i:])
                break
            out.append(latex[i : end + 1])
            start = False
            i = end + 1
            continue
        match = _TOKEN_RE.match(latex, i)
        if match is None:  # an unmatched "}": keep it
            out.append(latex[i])
            i += 1
            continue
        token = match.group(0)
        if match.group("word"):
            # Only a word that opens the title or follows a space is raised ("<script>" and
            # "(ab)" stay as written), as citeproc capitalizes a chunk whose first letter leads.
            # A tie (~) is a space to Pandoc: "Dr.~who" -> "Dr. Who", "the~Big" -> "the big".
            opens = i == 0 or latex[i - 1].isspace() or latex[i - 1] == "~"
            if start and opens:
                token = token[:1].upper() + token[1:]
            elif (token[:1].isupper() and token[1:] == token[1:].lower() and len(token) > 1) or (
                len(token) == 1 and token.isupper()
            ):
                token = token.lower()
            start = False
        elif match.group("stop"):
            start = True
        out.append(token)
        i = match.end()
    return "".join(out)
