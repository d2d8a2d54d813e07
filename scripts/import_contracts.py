"""import-linter contract types of this project (pyproject.toml's [tool.importlinter] names them).

`acyclic_modules`: no ring of imports between the modules of each listed package. import-linter's
own `acyclic_siblings` compares whole subpackages, so `artifacts.models` gathering the kinds' models
from `artifacts/versioned/` would count as a cycle; this contract looks at modules only.
"""

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.ModuleField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph, ignore_imports=self.ignore_imports, unmatched_alerting=self.unmatched_ignore_imports_alerting
        )
        cycles = []
        for package in self.packages:
            modules = {package.name} | graph.find_descendants(package.name)
            edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
            cycles += [_ring(graph, edges, component) for component in _rings(edges)]
        return ContractCheck(
            kept=not cycles, warnings=list(removal.warnings), ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": cycles},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("Import cycle:")
            for importer, imported, lines in cycle:
                output.print_error(f"- {importer} -> {imported} (l.{', l.'.join(lines)})", bold=False)
            output.new_line()


def _rings(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _ring(graph: ImportGraph, edges: dict[str, set[str]], component: list[str]) -> list[tuple[str, str, list[str]]]:
    """One concrete ring through the component's first module: (importer, imported, line numbers) each step."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth-first back to `start`: the shortest ring
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(edges[node] & members):
                if nxt == start:
                    path = paths[node] + [start]
                    return [
                        (a, b, [str(d["line_number"]) for d in graph.get_import_details(importer=a, imported=b)] or ["?"])
                        for a, b in zip(path, path[1:])
                    ]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"{start} is in a strongly connected component but on no ring")
