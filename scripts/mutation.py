"""Mutation testing of the rules that carry the law, one module at a time (docs/testing.md).

    .venv/bin/python scripts/mutation.py                 # every module, smallest first
    .venv/bin/python scripts/mutation.py audit consent   # some of them
    .venv/bin/python scripts/mutation.py --list          # what each module mutates and which tests judge it
    .venv/bin/python scripts/mutation.py audit --survivors --timeouts  # test again the last survivors, timeouts

Each module runs mutmut in a folder of its own under ``.mutation/<module>/`` with a configuration that
mutates only the module's files and runs only its own fast tests, on SQLite only
(``OPENBUREAU_TEST_SKIP_POSTGRES=1``; the rules mutated here are engine-independent Python, and the SQL
conditions among them are tested on both engines by the ordinary suite). mutmut then runs, for each mutant,
only the tests that call the mutated function. The score printed per module is (killed + timeout) /
(killed + survived + timeout) over the functions named for the module; survivors are listed with their
``mutmut show`` command.
Not part of CI: a run of every module takes about an hour on two shared cores.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"


@dataclass(frozen=True)
class Module:
    """What one run mutates (file -> the law-carrying functions in it; ``[]``: every function) and which
    tests judge the mutants."""

    functions: dict[str, list[str]]
    tests: list[str]
    note: str = ""

    @property
    def files(self) -> list[str]:
        return list(self.functions)


MODULES: dict[str, Module] = {
    "reasons": Module({"src/openbureau/scoring/service.py": ["_reason_of", "reasons", "improvements"]},
                      ["tests/scoring/test_reasons.py"], "reason codes (the registry functions beside them are "
                      "judged by the slower scoring tests)"),
    "masking": Module({"src/openbureau/kit/crypto.py": ["mask"], "src/openbureau/reports/assembly.py": ["Labels.*"],
                       "src/openbureau/intake/validation/fields.py": ["mask_value"]},
                      ["tests/kit/test_crypto.py", "tests/reports/test_report.py", "tests/reports/test_masking.py",
                       "tests/intake/test_validation.py"],
                      "masked identifiers, values quoted in findings and lender names in the subscriber's view"),
    "access": Module({"src/openbureau/inquiries/access.py": []},
                     ["tests/reports/test_inquiries.py", "tests/security/test_lawful_basis.py"],
                     "lawful basis: role, reciprocity, purpose, consent, the existing-account exception"),
    "consent": Module({"src/openbureau/consent/models.py": ["status_at", "Consent.*"],
                       "src/openbureau/consent/repository.py": ["valid_at"],
                       "src/openbureau/consent/service.py": ["_check_grantee", "check_evidence_time", "grant", "revoke"],
                       "src/openbureau/intake/quarantine.py": ["consented", "release", "grant_consent"]},
                      ["tests/consent", "tests/intake/test_gate.py"], "consent validity and the consent gate"),
    "retention": Module({"src/openbureau/tradelines/history.py": ["_negative", "_expired_months", "expired_periods",
                                                                 "build_tradelines"],
                         "src/openbureau/tradelines/tasks.py": ["run_retention"]},
                        ["tests/tradelines"], "negative information hidden and purged when its retention ends"),
    "audit": Module({"src/openbureau/audit/service.py": ["canonical_details", "entry_digest", "record_many", "verify",
                                                        "_mismatch_reason", "_first_keyed_seq"]},
                    ["tests/audit/test_service.py", "tests/security/test_audit_chain.py"],
                    "the keyed hash chain and its verification"),
    "validation": Module({"src/openbureau/intake/validation/fields.py": ["_text", "_period", "_date", "_integer",
                                                                        "_enum", "field_checks"],
                          "src/openbureau/intake/validation/cross_field.py": []},
                         ["tests/intake/test_validation.py", "tests/intake/test_validation_boundaries.py"],
                         "field and cross-field rules of the furnishing standard"),
}
COUNTED = ("killed", "survived", "timeout")
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def mutant_module(path: str) -> str:
    """``src/openbureau/audit/service.py`` -> ``openbureau.audit.service``."""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def prepare(name: str, module: Module) -> Path:
    """The module's folder: the sources and tests (linked) and a configuration of its own."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    for part in ("src", "tests", "docs", "README.md"):  # some tests read the docs they keep up to date
        link = folder / part
        if not link.exists():
            link.symlink_to(ROOT / part, target_is_directory=(ROOT / part).is_dir())
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    tests = [t for t in module.tests if (ROOT / t).exists()]
    config = {
        "source_paths": ["src"],
        "also_copy": ["docs", "README.md"],
        "only_mutate": module.files,
        "pytest_add_cli_args": ["-p", "no:randomly", "-q"],
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
        # A mutant that loops for ever is detected when its tests take 5 times their usual time (not 15), plus
        # 10 s each: a mutant's run starts with the session's fixtures (a template database migrated), which
        # the tests' own durations leave out, and which take several seconds on a loaded machine (with the
        # default of 1 s, a third of the audit module's mutants timed out at a load average of 10 on 2 cores).
        "timeout_multiplier": 5.0,
        "timeout_constant": 10.0,
        # Workers forked from a server that never ran a test: a worker forked from the process that ran the
        # statistics inherits the audit checkpoint threads' locks and hangs until its time runs out.
        "process_isolation": "forkserver",
    }
    lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    lines += ["", "[tool.pytest.ini_options]"] + [f"{k} = {json.dumps(v)}" for k, v in pytest_options.items()]
    (folder / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return folder


def mutant_globs(module: Module) -> list[str]:
    """mutmut's names of the mutants to run: ``pkg.mod.x_func__mutmut_3``, ``pkg.mod.xǁClassǁmethod__mutmut_3``."""
    globs = []
    for path, functions in module.functions.items():
        name = mutant_module(path)
        for function in functions or ["*"]:
            if function == "*":
                globs.append(f"{name}.x*")
            elif "." in function:
                cls, method = function.split(".", 1)
                globs.append(f"{name}.xǁ{cls}ǁ{method}__mutmut_*")
            else:
                globs.append(f"{name}.x_{function}__mutmut_*")
    return globs


def scored(module: Module, mutant: str) -> bool:
    """Whether ``mutant`` is in a function named for the module."""
    return any(fnmatch.fnmatchcase(mutant, glob) for glob in mutant_globs(module))


def statuses(folder: Path, module: Module) -> dict[str, str]:
    """Status of each scored mutant this folder's last mutmut run tested."""
    found = {}
    for meta in sorted((folder / "mutants" / "src").rglob("*.py.meta")) if (folder / "mutants").exists() else []:
        for mutant, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
            status = STATUS.get(code, "suspicious")
            if scored(module, mutant) and status != "not checked":
                found[mutant] = status
    return found


def results(folder: Path, module: Module) -> dict[str, str]:
    """Every scored mutant's latest status (a re-run of the survivors updates theirs)."""
    path = folder / "results.json"
    return json.loads(path.read_text()) if path.exists() else statuses(folder, module)


def run(name: str, module: Module, max_children: int, *, again: tuple[str, ...] = ()) -> dict[str, str]:
    """Run the module's mutants, or only those whose last status is in ``again`` (e.g. ``("survived",)``)."""
    folder = prepare(name, module)
    known = results(folder, module)
    if again:
        names = sorted(m for m, status in known.items() if status in again)
        if not names:
            return known
    else:
        names, known = mutant_globs(module), {}
    env = {k: v for k, v in os.environ.items() if k != "OPENBUREAU_TEST_POSTGRES_URL"}
    env["OPENBUREAU_TEST_SKIP_POSTGRES"] = "1"
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    shutil.rmtree(folder / "mutants", ignore_errors=True)  # fresh: the tests may have changed since
    log = folder / "mutmut.log"
    print(f"{name}: mutating {', '.join(module.files)} ({len(names)} names; log: {log})", flush=True)
    with log.open("w") as out:
        subprocess.run([mutmut, "run", "--max-children", str(max_children), *names], cwd=folder, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=False)
    known.update(statuses(folder, module))
    (folder / "results.json").write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return known


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(MODULES)} (default: every one)")
    parser.add_argument("--list", action="store_true", help="say what each module mutates and exit")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report", action="store_true", help="print the last results without running")
    parser.add_argument("--survivors", action="store_true",
                        help="test again only the last run's survivors (after adding tests that should kill them)")
    parser.add_argument("--timeouts", action="store_true",
                        help="test again only the last run's timeouts (on a loaded machine a slow test can time out)")
    args = parser.parse_args()
    if args.list:
        for name, module in MODULES.items():
            print(f"{name}: {', '.join(module.files)}  <-  {', '.join(module.tests)}  ({module.note})")
        return
    unknown = set(args.modules) - set(MODULES)
    if unknown:
        parser.error(f"no module {', '.join(sorted(unknown))}; choose from {', '.join(MODULES)}")
    rows = []
    for name in args.modules or list(MODULES):
        module = MODULES[name]
        known = (results(prepare(name, module), module) if args.report
                 else run(name, module, args.max_children,
                          again=("survived",) * args.survivors + ("timeout",) * args.timeouts))
        counts = Counter(known.values())
        survivors = sorted(m for m, status in known.items() if status == "survived")
        judged = sum(counts[s] for s in COUNTED)
        # A timeout is a mutant that made the tests hang (a loop that never ends): detected, as mutmut counts it.
        score = f"{100 * (counts['killed'] + counts['timeout']) / judged:.1f}%" if judged else "n/a"
        rows.append((name, score, counts))
        for survivor in survivors:
            print(f"  survived: {survivor}   (see: cd {WORK / name} && mutmut show {survivor})")
    print("\nmodule       score    " + "  ".join(f"{s:>9}" for s in (*COUNTED, "no tests")))
    for name, score, counts in rows:
        print(f"{name:<12} {score:>6}   " + "  ".join(f"{counts[s]:>9}" for s in (*COUNTED, "no tests")))


if __name__ == "__main__":
    main()
