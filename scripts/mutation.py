"""Mutation testing of the rules that carry the law, one module at a time (docs/testing.md).

    .venv/bin/python scripts/mutation.py                 # every module, smallest first
    .venv/bin/python scripts/mutation.py audit consent   # some of them
    .venv/bin/python scripts/mutation.py --list          # what each module mutates and which tests judge it

Each module runs mutmut in a folder of its own under ``.mutation/<module>/`` with a configuration that
mutates only the module's files and runs only its own fast tests, on SQLite only
(``OPENBUREAU_TEST_SKIP_POSTGRES=1``; the rules mutated here are engine-independent Python, and the SQL
conditions among them are tested on both engines by the ordinary suite). mutmut then runs, for each mutant,
only the tests that call the mutated function. The score printed per module is killed / (killed +
survived + timeout) over the functions named for the module; survivors are listed with ``mutmut show``.
Not part of CI: a full run takes about half an hour on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"


@dataclass(frozen=True)
class Module:
    """What one run mutates and which tests judge the mutants."""

    files: list[str]
    tests: list[str]
    functions: list[str] = field(default_factory=list)  # the law-carrying functions scored (empty: all)
    note: str = ""


MODULES: dict[str, Module] = {
    "reasons": Module(["src/openbureau/scoring/service.py"], ["tests/scoring/test_reasons.py"],
                      ["_reason_of", "reasons", "improvements"],
                      "reason codes; the file's registry functions are judged by the slow scoring tests"),
    "masking": Module(["src/openbureau/kit/crypto.py", "src/openbureau/reports/assembly.py"],
                      ["tests/kit/test_crypto.py", "tests/reports/test_report.py", "tests/reports/test_masking.py"],
                      ["mask", "Labels.*"], "masked identifiers and lender names in the subscriber's view"),
    "access": Module(["src/openbureau/inquiries/access.py"],
                     ["tests/reports/test_inquiries.py", "tests/security/test_lawful_basis.py",
                      "tests/inquiries"], note="lawful basis: role, reciprocity, purpose, consent, exception"),
    "consent": Module(["src/openbureau/consent/models.py", "src/openbureau/consent/service.py",
                       "src/openbureau/intake/quarantine.py"],
                      ["tests/consent", "tests/intake/test_gate.py"],
                      note="consent validity and the consent gate"),
    "retention": Module(["src/openbureau/tradelines/history.py", "src/openbureau/tradelines/tasks.py"],
                        ["tests/tradelines"], note="what a file shows, the notice hold and retention"),
    "audit": Module(["src/openbureau/audit/service.py"],
                    ["tests/audit/test_service.py", "tests/security/test_audit_chain.py"],
                    note="the keyed hash chain and its verification"),
    "validation": Module(["src/openbureau/intake/validation/*"], ["tests/intake/test_validation.py"],
                         note="field and cross-field rules of the furnishing standard"),
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
    for part in ("src", "tests"):
        link = folder / part
        if not link.exists():
            link.symlink_to(ROOT / part, target_is_directory=True)
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    tests = [t for t in module.tests if (ROOT / t).exists()]
    config = {
        "source_paths": ["src"],
        "only_mutate": module.files,
        "pytest_add_cli_args": ["-p", "no:randomly", "-q"],
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
    }
    lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    lines += ["", "[tool.pytest.ini_options]"] + [f"{k} = {json.dumps(v)}" for k, v in pytest_options.items()]
    (folder / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return folder


def scored(module: Module, mutant: str) -> bool:
    """Whether ``mutant`` (``pkg.mod.x_func__mutmut_3`` or ``pkg.mod.xǁClassǁmethod__mutmut_3``) is in a
    function named for the module."""
    if not module.functions:
        return True
    function = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0].removeprefix("x_").replace("xǁ", "").replace(
        "ǁ", ".")
    return any(function == f or (f.endswith(".*") and function.startswith(f[:-1])) for f in module.functions)


def results(folder: Path, module: Module) -> tuple[Counter, list[str]]:
    """Statuses of the scored mutants, and the survivors' names."""
    counts, survivors = Counter(), []
    for meta in sorted((folder / "mutants" / "src").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        for mutant, code in data.get("exit_code_by_key", {}).items():
            if not scored(module, mutant):
                continue
            status = STATUS.get(code, "suspicious")
            counts[status] += 1
            if status == "survived":
                survivors.append(mutant)
    return counts, survivors


def run(name: str, module: Module, max_children: int) -> tuple[Counter, list[str]]:
    folder = prepare(name, module)
    env = {k: v for k, v in os.environ.items() if k != "OPENBUREAU_TEST_POSTGRES_URL"}
    env["OPENBUREAU_TEST_SKIP_POSTGRES"] = "1"
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    names = [f"{mutant_module(f).replace('*', '')}*" for f in module.files]
    shutil.rmtree(folder / "mutants", ignore_errors=True)  # a fresh run: the tests may have changed since
    log = folder / "mutmut.log"
    print(f"{name}: mutating {', '.join(module.files)} (log: {log})", flush=True)
    with log.open("w") as out:
        subprocess.run([mutmut, "run", "--max-children", str(max_children), *names], cwd=folder, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=False)
    return results(folder, module)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(MODULES)} (default: every one)")
    parser.add_argument("--list", action="store_true", help="say what each module mutates and exit")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--report", action="store_true", help="print the last results without running")
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
        counts, survivors = (results(prepare(name, module), module) if args.report
                             else run(name, module, args.max_children))
        judged = sum(counts[s] for s in COUNTED)
        score = f"{100 * counts['killed'] / judged:.1f}%" if judged else "n/a"
        rows.append((name, score, counts))
        for survivor in survivors:
            print(f"  survived: {survivor}   (see: cd {WORK / name} && mutmut show {survivor})")
    print("\nmodule       score    " + "  ".join(f"{s:>9}" for s in (*COUNTED, "no tests")))
    for name, score, counts in rows:
        print(f"{name:<12} {score:>6}   " + "  ".join(f"{counts[s]:>9}" for s in (*COUNTED, "no tests")))


if __name__ == "__main__":
    main()
