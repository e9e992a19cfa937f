"""Security and hygiene checks on the GitHub Actions workflows in .github/workflows.

Each rule is a small function that takes a loaded workflow and returns a list of
problems (empty when the rule holds). The tests run every rule on every workflow,
and a parametrized negative test feeds deliberately bad snippets through the same
functions to prove that each rule catches what it is meant to catch. A last test
runs zizmor offline over the workflows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
PR_WORKFLOW = WORKFLOWS_DIR / "pr.yml"
PAGES_WORKFLOW = WORKFLOWS_DIR / "pages.yml"

SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(\.\d+)*\b")
USES_LINE = re.compile(
    r"""^\s*(?:-\s+)?uses:\s*(?P<quote>["']?)(?P<ref>[^\s"'#]+)(?P=quote)(?P<rest>.*)$"""
)
UNTRUSTED_EXPRESSION = re.compile(r"\$\{\{\s*github\.(event|head_ref)\b")
MKDOCS_BUILD = re.compile(r"\bmkdocs\s+build\b(?P<args>[^\n;&|]*)")
QUIET_OR_VERBOSE_LONG = {"--quiet", "--verbose"}
PRIVILEGED_SCOPES = ("id-token", "pages")
DEPLOY_PAGES = "actions/deploy-pages@"


@dataclass(frozen=True)
class Workflow:
    """A workflow file: its path, raw text and parsed YAML."""

    path: Path
    text: str
    data: dict[str, Any]


Rule = Callable[[Workflow], list[str]]


def load_workflow(path: Path) -> Workflow:
    """Read and parse one workflow file with yaml.safe_load."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a workflow must be a mapping, got {type(data).__name__}")
    return Workflow(path=path, text=text, data=data)


def workflow_paths() -> list[Path]:
    """All workflow files in .github/workflows."""
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def triggers(wf: Workflow) -> set[str]:
    """The names of the events that trigger a workflow.

    PyYAML follows YAML 1.1, where the bare key `on` is the boolean True, so the
    trigger block is looked up under both keys.
    """
    raw = wf.data.get("on", wf.data.get(True))
    if isinstance(raw, str):
        return {raw}
    if isinstance(raw, list):
        return {str(item) for item in raw}
    if isinstance(raw, dict):
        return {str(key) for key in raw}
    return set()


def jobs(wf: Workflow) -> dict[str, dict[str, Any]]:
    """The jobs of a workflow, by id."""
    found = wf.data.get("jobs") or {}
    return {str(job_id): job for job_id, job in found.items() if isinstance(job, dict)}


def steps(wf: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every step of every job, with the id of its job."""
    for job_id, job in jobs(wf).items():
        for step in job.get("steps") or []:
            if isinstance(step, dict):
                yield job_id, step


def run_scripts(wf: Workflow) -> Iterator[tuple[str, str]]:
    """Every `run:` script, with a label saying where it is."""
    for job_id, step in steps(wf):
        script = step.get("run")
        if isinstance(script, str):
            yield f"job {job_id!r}, step {step.get('name') or step.get('id') or '?'!r}", script


def grants(permissions: object, scope: str) -> bool:
    """Whether a `permissions:` value grants write access to a scope."""
    if isinstance(permissions, str):
        return permissions == "write-all"
    if isinstance(permissions, dict):
        return permissions.get(scope) == "write"
    return False


# --- rules ---------------------------------------------------------------------------


def rule_top_level_permissions(wf: Workflow) -> list[str]:
    """The workflow sets `permissions:` at the top level, and not to write-all."""
    if "permissions" not in wf.data or wf.data["permissions"] is None:
        return ["no top-level `permissions:`; the token would get the repository default"]
    if wf.data["permissions"] == "write-all":
        return ["top-level `permissions: write-all`"]
    return []


def rule_no_pull_request_target(wf: Workflow) -> list[str]:
    """The workflow is never triggered by pull_request_target."""
    if "pull_request_target" in triggers(wf):
        return ["triggered by `pull_request_target`, which runs fork code with a privileged token"]
    return []


def rule_uses_pinned_to_sha(wf: Workflow) -> list[str]:
    """Every non-local `uses:` is a 40-hex commit SHA followed by a `# vX` comment."""
    problems = []
    for number, line in enumerate(wf.text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref, rest = match["ref"], match["rest"]
        if ref.startswith("./"):
            continue
        if not SHA_PIN.match(ref):
            problems.append(f"line {number}: `{ref}` is not pinned to a full 40-hex commit SHA")
        elif not VERSION_COMMENT.match(rest):
            problems.append(f"line {number}: `{ref}` has no `# vX` version comment after it")
    return problems


def rule_checkout_without_credentials(wf: Workflow) -> list[str]:
    """Every actions/checkout step sets `persist-credentials: false`."""
    problems = []
    for job_id, step in steps(wf):
        uses = str(step.get("uses", ""))
        if not uses.startswith("actions/checkout@"):
            continue
        persist = (step.get("with") or {}).get("persist-credentials")
        if persist is not False and str(persist).lower() != "false":
            problems.append(
                f"job {job_id!r}: actions/checkout without `persist-credentials: false`"
            )
    return problems


def rule_privileged_scopes_only_in_deploy_job(wf: Workflow) -> list[str]:
    """`id-token: write` and `pages: write` are granted only to the job that deploys Pages."""
    problems = []
    for scope in PRIVILEGED_SCOPES:
        if grants(wf.data.get("permissions"), scope):
            problems.append(f"`{scope}: write` granted at the top level")
    for job_id, job in jobs(wf).items():
        deploys = any(
            str(step.get("uses", "")).startswith(DEPLOY_PAGES)
            for step in job.get("steps") or []
            if isinstance(step, dict)
        )
        for scope in PRIVILEGED_SCOPES:
            if grants(job.get("permissions"), scope) and not deploys:
                problems.append(f"job {job_id!r} has `{scope}: write` but does not deploy Pages")
    return problems


def rule_no_untrusted_context_in_run(wf: Workflow) -> list[str]:
    """No `run:` script interpolates `${{ github.event... }}` or `${{ github.head_ref }}`."""
    return [
        f"{where}: interpolates attacker-controllable `{match.group(0)}...`; pass it via `env:`"
        for where, script in run_scripts(wf)
        for match in UNTRUSTED_EXPRESSION.finditer(script)
    ]


def mkdocs_noise_flags(args: str) -> list[str]:
    """The -q/--quiet/-v/--verbose flags among the arguments of one `mkdocs build`."""
    return [
        token
        for token in args.split()
        if token in QUIET_OR_VERBOSE_LONG
        or (re.fullmatch(r"-[A-Za-z]+", token) and set(token[1:]) & {"q", "v"})
    ]


def rule_mkdocs_build_not_quiet_or_verbose(wf: Workflow) -> list[str]:
    """`mkdocs build` is never run with -q/--quiet/-v/--verbose."""
    problems = []
    for where, script in run_scripts(wf):
        for match in MKDOCS_BUILD.finditer(script):
            for flag in mkdocs_noise_flags(match["args"]):
                problems.append(f"{where}: `mkdocs build` called with `{flag}`")
    return problems


def rule_pr_token_read_only(wf: Workflow) -> list[str]:
    """A pull-request workflow grants exactly `contents: read` and uses no secrets."""
    problems = []
    if wf.data.get("permissions") != {"contents": "read"}:
        problems.append(
            f"top-level permissions are {wf.data.get('permissions')!r}, not {{'contents': 'read'}}"
        )
    for job_id, job in jobs(wf).items():
        permissions = job.get("permissions")
        if permissions is not None and permissions not in ({"contents": "read"}, {}):
            problems.append(f"job {job_id!r} asks for more than `contents: read`: {permissions!r}")
    for number, line in enumerate(wf.text.splitlines(), start=1):
        if re.search(r"\bsecrets\s*[.\[]", line):
            problems.append(f"line {number}: uses secrets in a pull-request workflow")
    return problems


def rule_pages_concurrency_and_actions(wf: Workflow) -> list[str]:
    """The Pages workflow has a concurrency group and uses the upload and deploy Pages actions."""
    problems = []
    concurrency = wf.data.get("concurrency")
    group = concurrency.get("group") if isinstance(concurrency, dict) else concurrency
    if not group:
        problems.append("no top-level `concurrency:` group")
    used = {str(step.get("uses", "")).split("@")[0] for _, step in steps(wf)}
    for action in ("actions/upload-pages-artifact", "actions/deploy-pages"):
        if action not in used:
            problems.append(f"does not use {action}")
    return problems


GENERAL_RULES: dict[str, Rule] = {
    "top-level-permissions": rule_top_level_permissions,
    "no-pull-request-target": rule_no_pull_request_target,
    "uses-pinned-to-sha": rule_uses_pinned_to_sha,
    "checkout-without-credentials": rule_checkout_without_credentials,
    "privileged-scopes-only-in-deploy-job": rule_privileged_scopes_only_in_deploy_job,
    "no-untrusted-context-in-run": rule_no_untrusted_context_in_run,
    "mkdocs-build-not-quiet-or-verbose": rule_mkdocs_build_not_quiet_or_verbose,
}


def report(wf: Workflow, problems: list[str]) -> str:
    """A failure message listing the problems found in one workflow."""
    relative = wf.path.relative_to(REPO_ROOT) if wf.path.is_relative_to(REPO_ROOT) else wf.path
    return f"{relative}:\n  " + "\n  ".join(problems)


# --- tests on the real workflows ------------------------------------------------------


def test_expected_workflows_exist() -> None:
    """Both workflows this project relies on are present."""
    assert PR_WORKFLOW.is_file(), f"missing {PR_WORKFLOW}"
    assert PAGES_WORKFLOW.is_file(), f"missing {PAGES_WORKFLOW}"


@pytest.mark.parametrize("rule_name", sorted(GENERAL_RULES))
@pytest.mark.parametrize("path", workflow_paths(), ids=lambda p: p.name)
def test_workflow_rule(path: Path, rule_name: str) -> None:
    """Every general rule holds for every workflow file."""
    wf = load_workflow(path)
    problems = GENERAL_RULES[rule_name](wf)
    assert not problems, report(wf, problems)


def test_pull_request_workflows_are_read_only() -> None:
    """Every workflow triggered by pull requests holds a read-only token and no secrets."""
    problems = []
    for path in workflow_paths():
        wf = load_workflow(path)
        if triggers(wf) & {"pull_request", "pull_request_target"}:
            found = rule_pr_token_read_only(wf)
            if found:
                problems.append(report(wf, found))
    assert not problems, "\n".join(problems)


def test_pr_workflow_is_pull_request_only() -> None:
    """pr.yml runs on pull_request and nothing else, with a read-only token."""
    wf = load_workflow(PR_WORKFLOW)
    assert triggers(wf) == {"pull_request"}, triggers(wf)
    problems = rule_pr_token_read_only(wf)
    assert not problems, report(wf, problems)


def test_pages_workflow_deploys_safely() -> None:
    """pages.yml serialises deployments and publishes with the official Pages actions."""
    wf = load_workflow(PAGES_WORKFLOW)
    problems = rule_pages_concurrency_and_actions(wf)
    assert not problems, report(wf, problems)
    assert wf.data.get("permissions") == {"contents": "read"}, wf.data.get("permissions")


def test_zizmor_auditor_reports_nothing() -> None:
    """zizmor, offline and as the auditor persona, finds nothing in the workflows.

    The auditor persona reports every finding at every severity and confidence, unpinned
    container images included.
    """
    zizmor = Path(sys.executable).parent / "zizmor"
    if not zizmor.is_file():
        pytest.fail(f"zizmor is not installed at {zizmor}; install requirements.lock")
    result = subprocess.run(
        [
            str(zizmor),
            "--offline",
            "--persona",
            "auditor",
            "--no-progress",
            "--color",
            "never",
            str(WORKFLOWS_DIR),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    output = f"exit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, f"zizmor reported problems:\n{output}"
    assert "No findings to report" in result.stdout, f"unexpected zizmor output:\n{output}"


# --- negative tests: each rule catches a deliberately bad workflow --------------------

SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"

GOOD_WORKFLOW = f"""\
name: good
on:
  push:
    branches: [main]
permissions:
  contents: read
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@{SHA} # v7.0.1
        with:
          persist-credentials: false
      - run: .venv/bin/mkdocs build --strict
      - uses: actions/upload-pages-artifact@{SHA} # v5.0.0
        with:
          path: site
  deploy:
    runs-on: ubuntu-24.04
    permissions:
      pages: write
      id-token: write
    steps:
      - uses: actions/deploy-pages@{SHA} # v5.0.1
      - uses: ./.github/actions/local
"""

GOOD_PR_WORKFLOW = f"""\
name: good pull request checks
on:
  pull_request:
permissions:
  contents: read
jobs:
  check:
    runs-on: ubuntu-24.04
    env:
      TITLE: ${{{{ github.event.pull_request.title }}}}
    steps:
      - uses: actions/checkout@{SHA} # v7.0.1
        with:
          persist-credentials: false
      - run: echo "$TITLE" && mkdocs build --strict
"""

BAD_SNIPPETS: list[tuple[str, Rule, str]] = [
    (
        "no-top-level-permissions",
        rule_top_level_permissions,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n",
    ),
    (
        "write-all-permissions",
        rule_top_level_permissions,
        "on: push\npermissions: write-all\njobs: {}\n",
    ),
    (
        "pull-request-target-mapping",
        rule_no_pull_request_target,
        "on:\n  pull_request_target:\n    types: [opened]\npermissions: {}\njobs: {}\n",
    ),
    (
        "pull-request-target-list",
        rule_no_pull_request_target,
        "on: [push, pull_request_target]\npermissions: {}\njobs: {}\n",
    ),
    (
        "uses-tag",
        rule_uses_pinned_to_sha,
        "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n",
    ),
    (
        "uses-short-sha",
        rule_uses_pinned_to_sha,
        "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@3d3c42e # v7.0.1\n",
    ),
    (
        "uses-sha-without-version-comment",
        rule_uses_pinned_to_sha,
        f"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@{SHA}\n",
    ),
    (
        "uses-quoted-branch",
        rule_uses_pinned_to_sha,
        "jobs:\n  a:\n    steps:\n      - name: x\n        uses: 'actions/checkout@main' # v4\n",
    ),
    (
        "checkout-default-credentials",
        rule_checkout_without_credentials,
        f"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@{SHA} # v7.0.1\n",
    ),
    (
        "checkout-persist-true",
        rule_checkout_without_credentials,
        f"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@{SHA} # v7.0.1\n"
        "        with:\n          persist-credentials: true\n",
    ),
    (
        "id-token-top-level",
        rule_privileged_scopes_only_in_deploy_job,
        "permissions:\n  contents: read\n  id-token: write\njobs: {}\n",
    ),
    (
        "pages-write-top-level",
        rule_privileged_scopes_only_in_deploy_job,
        "permissions:\n  pages: write\njobs: {}\n",
    ),
    (
        "pages-write-in-build-job",
        rule_privileged_scopes_only_in_deploy_job,
        "permissions:\n  contents: read\njobs:\n  build:\n    permissions:\n"
        "      pages: write\n    steps:\n      - run: make site\n",
    ),
    (
        "event-title-in-run",
        rule_no_untrusted_context_in_run,
        'jobs:\n  a:\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n',
    ),
    (
        "head-ref-in-run",
        rule_no_untrusted_context_in_run,
        "jobs:\n  a:\n    steps:\n      - run: |\n          git checkout ${{github.head_ref}}\n",
    ),
    (
        "mkdocs-quiet",
        rule_mkdocs_build_not_quiet_or_verbose,
        "jobs:\n  a:\n    steps:\n      - run: mkdocs build --strict -q\n",
    ),
    (
        "mkdocs-verbose-long",
        rule_mkdocs_build_not_quiet_or_verbose,
        "jobs:\n  a:\n    steps:\n      - run: .venv/bin/mkdocs build --verbose --strict\n",
    ),
    (
        "mkdocs-combined-short-flags",
        rule_mkdocs_build_not_quiet_or_verbose,
        "jobs:\n  a:\n    steps:\n      - run: |\n          python -m mkdocs build -sv\n",
    ),
    (
        "pr-write-permissions",
        rule_pr_token_read_only,
        "on: pull_request\npermissions:\n  contents: write\njobs: {}\n",
    ),
    (
        "pr-extra-scope",
        rule_pr_token_read_only,
        "on: pull_request\npermissions:\n  contents: read\n  pull-requests: write\njobs: {}\n",
    ),
    (
        "pr-uses-secret",
        rule_pr_token_read_only,
        "on: pull_request\npermissions:\n  contents: read\njobs:\n  a:\n    steps:\n"
        "      - run: deploy\n        env:\n          TOKEN: ${{ secrets.DEPLOY_TOKEN }}\n",
    ),
    (
        "pages-without-concurrency",
        rule_pages_concurrency_and_actions,
        f"permissions:\n  contents: read\njobs:\n  a:\n    steps:\n"
        f"      - uses: actions/upload-pages-artifact@{SHA} # v5.0.0\n"
        f"      - uses: actions/deploy-pages@{SHA} # v5.0.1\n",
    ),
    (
        "pages-without-deploy-pages",
        rule_pages_concurrency_and_actions,
        f"concurrency:\n  group: pages\njobs:\n  a:\n    steps:\n"
        f"      - uses: actions/upload-pages-artifact@{SHA} # v5.0.0\n",
    ),
]


@pytest.mark.parametrize(
    ("rule", "snippet"),
    [pytest.param(rule, snippet, id=case) for case, rule, snippet in BAD_SNIPPETS],
)
def test_rule_catches_bad_workflow(tmp_path: Path, rule: Rule, snippet: str) -> None:
    """Each rule reports a problem for a workflow that breaks it."""
    path = tmp_path / "bad.yml"
    path.write_text(snippet, encoding="utf-8")
    assert rule(load_workflow(path)), f"{rule.__name__} did not catch:\n{snippet}"


@pytest.mark.parametrize(
    ("rule", "snippet"),
    [
        *[
            pytest.param(rule, GOOD_WORKFLOW, id=f"pages-{name}")
            for name, rule in GENERAL_RULES.items()
        ],
        *[
            pytest.param(rule, GOOD_PR_WORKFLOW, id=f"pr-{name}")
            for name, rule in GENERAL_RULES.items()
        ],
        pytest.param(rule_pr_token_read_only, GOOD_PR_WORKFLOW, id="pr-read-only"),
        pytest.param(rule_pages_concurrency_and_actions, GOOD_WORKFLOW, id="pages-actions"),
    ],
)
def test_rule_accepts_good_workflow(tmp_path: Path, rule: Rule, snippet: str) -> None:
    """No rule reports a problem for a workflow that follows the rules."""
    path = tmp_path / "good.yml"
    path.write_text(snippet, encoding="utf-8")
    wf = load_workflow(path)
    assert rule(wf) == [], report(wf, rule(wf))


def test_on_key_is_read_despite_yaml_1_1() -> None:
    """PyYAML reads the bare key `on` as True; triggers() still finds the events."""
    data = yaml.safe_load("on:\n  push:\n  pull_request:\n")
    assert True in data
    wf = Workflow(path=Path("x.yml"), text="", data=data)
    assert triggers(wf) == {"push", "pull_request"}
