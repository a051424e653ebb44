"""Mutation and fairness corpora: the evidence that the hidden tests are right.

* A *mutant* is the solution notebook with one realistic student bug, written as
  exact text replacements in one answer cell (``tests/corpus/mutations/<lab>.yaml``).
  It must lose points on its own ``grade_id`` (and, where possible, nowhere else).
* A *fair variant* is a correct alternative implementation of one answer cell
  (``tests/corpus/fair/<lab>/<name>.py``, first line ``# replaces: <grade_id>``).
  It must get full marks.

``python -m autograder.scoring.corpus [LAB ...]`` prints the mutation table and
the fairness results and exits non-zero below 100 %.
"""
from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from autograder.authoring import cells as C
from autograder.config import REPO_ROOT, load_config
from autograder.execution.program import assemble
from autograder.labs import Lab, load_lab
from autograder.release.generate import read_notebook
from autograder.scoring.check_runner import TestOutcome, run_checks
from autograder.scoring.inprocess import probes_of, run_in_process, trusted_notebook

CORPUS_DIR = REPO_ROOT / "tests" / "corpus"


class CorpusError(ValueError):
    pass


@dataclass(frozen=True)
class Mutant:
    id: str
    grade_id: str  # where it must lose points
    cell: str  # the answer cell it edits
    description: str
    replace: tuple[tuple[str, str], ...]
    also_loses: tuple[str, ...] = ()  # other grade_ids it may fairly lose points on (documented)


@dataclass(frozen=True)
class FairVariant:
    id: str
    grade_id: str
    source: str
    path: Path


@dataclass
class VariantResult:
    id: str
    outcomes: list[TestOutcome] = field(default_factory=list)

    def lost(self) -> dict[str, float]:
        lost: dict[str, float] = {}
        for o in self.outcomes:
            if o.points < o.max_points:
                lost[o.grade_id] = lost.get(o.grade_id, 0.0) + (o.max_points - o.points)
        return lost

    def failed_tests(self) -> list[str]:
        return [o.test for o in self.outcomes if o.status != "pass"]


def load_mutants(lab: str, corpus_dir: Path = CORPUS_DIR) -> list[Mutant]:
    path = corpus_dir / "mutations" / f"{lab}.yaml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text()) or []
    mutants = []
    for entry in raw:
        pairs = tuple((str(a), str(b)) for a, b in entry["replace"])
        mutants.append(Mutant(entry["id"], entry["grade_id"], entry.get("cell", entry["grade_id"]),
                              entry.get("description", ""), pairs, tuple(entry.get("also_loses", ()))))
    ids = [m.id for m in mutants]
    if len(ids) != len(set(ids)):
        raise CorpusError(f"{path}: duplicate mutant ids")
    return mutants


def load_fair_variants(lab: str, corpus_dir: Path = CORPUS_DIR) -> list[FairVariant]:
    variants = []
    for path in sorted((corpus_dir / "fair" / lab).glob("*.py")):
        source = path.read_text()
        first = source.splitlines()[0] if source else ""
        if not first.startswith("# replaces:"):
            raise CorpusError(f"{path}: first line must be '# replaces: <grade_id>'")
        variants.append(FairVariant(path.stem, first.split(":", 1)[1].strip(), source, path))
    return variants


def _cell_index(nb: Any, gid: str) -> int:
    hits = C.cells_by_grade_id(nb).get(gid, [])
    if len(hits) != 1:
        raise CorpusError(f"grade_id {gid!r} found {len(hits)} times in the solution")
    return hits[0]


def apply_mutant(solution: Any, mutant: Mutant) -> Any:
    nb = copy.deepcopy(solution)
    cell = nb.cells[_cell_index(nb, mutant.cell)]
    src = C.source_text(cell)
    for old, new in mutant.replace:
        count = src.count(old)
        if count != 1:
            raise CorpusError(f"mutant {mutant.id}: {old!r} occurs {count} times in cell {mutant.cell} (must be exactly once)")
        src = src.replace(old, new)
    cell.source = src
    return nb


def apply_variant(solution: Any, variant: FairVariant) -> Any:
    nb = copy.deepcopy(solution)
    nb.cells[_cell_index(nb, variant.grade_id)].source = variant.source
    return nb


def grade_notebooks(lab: Lab, notebooks: dict[str, Any]) -> dict[str, VariantResult]:
    """Probe each notebook in-process (fresh namespace each) and check all in one session."""
    trusted = trusted_notebook(lab)
    probes = probes_of(lab)
    data = {vid: run_in_process(lab, assemble(trusted, nb), probes).probes for vid, nb in notebooks.items()}
    return {vid: VariantResult(vid, outs) for vid, outs in run_checks(lab.hidden_dir, data).items()}


def mutation_report(lab: Lab) -> tuple[list[tuple[Mutant, VariantResult]], float]:
    solution = read_notebook(lab.notebook)
    mutants = load_mutants(lab.name)
    results = grade_notebooks(lab, {m.id: apply_mutant(solution, m) for m in mutants})
    rows = [(m, results[m.id]) for m in mutants]
    caught = sum(1 for m, r in rows if caught_correctly(m, r))
    return rows, (caught / len(rows) if rows else 1.0)


def caught_correctly(mutant: Mutant, result: VariantResult) -> bool:
    lost = result.lost()
    allowed = {mutant.grade_id, *mutant.also_loses}
    return mutant.grade_id in lost and set(lost) <= allowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation score and fairness corpus of the hidden tests.")
    parser.add_argument("labs", nargs="*")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # many small models: threads only fight each other on a small machine
    config = load_config()
    ok = True
    for name in args.labs or config.labs:
        lab = load_lab(name, config)
        rows, score = mutation_report(lab)
        print(f"\n{name}: mutation score {score:.0%} ({sum(caught_correctly(m, r) for m, r in rows)}/{len(rows)})")
        print(f"  {'mutant':34} {'target':22} {'verdict':9} lost points by grade_id")
        for m, r in rows:
            verdict = "caught" if caught_correctly(m, r) else "MISSED"
            lost = ", ".join(f"{g} -{p:g}" for g, p in sorted(r.lost().items())) or "-"
            print(f"  {m.id:34} {m.grade_id:22} {verdict:9} {lost}")
        ok &= score == 1.0
        solution = read_notebook(lab.notebook)
        variants = load_fair_variants(name)
        fair = grade_notebooks(lab, {v.id: apply_variant(solution, v) for v in variants})
        print(f"{name}: fairness corpus {sum(not r.lost() for r in fair.values())}/{len(fair)} full marks")
        for vid, r in fair.items():
            if r.lost():
                ok = False
                print(f"  UNFAIR {vid}: failed {r.failed_tests()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
