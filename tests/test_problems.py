"""The registry of problem codes (``problems.CODES``): every code a check can report is
there with its severity and meaning, the README's table is made from it, and a problem
with an unknown code or the wrong severity is a bug that fails under the tests."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

from linkdash import problems
from linkdash.problems import CODES, ERROR, WARNING, Problem, Report, UnknownProblemCode, many_problems

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULE_MODULES = ["cells", "common", "pilots", "progress", "indicators", "outliers", "lessons"]


def test_every_code_has_a_severity_and_a_one_line_description():
    assert len(CODES) >= 60
    for code, c in CODES.items():
        assert c.code == code and c.severity in (ERROR, WARNING)
        assert c.description and "\n" not in c.description and len(c.description) < 110


def test_an_unknown_code_or_the_wrong_severity_fails_under_the_tests():
    assert problems.strict_codes()  # (tests/conftest.py sets LINKDASH_STRICT_CODES)
    with pytest.raises(UnknownProblemCode):
        Report().error("no_such_code", "Indicators", "C2", 1, "x")
    with pytest.raises(UnknownProblemCode, match="is a warning"):
        Report().error("outlier", "Indicators", "C2", 1, "x")
    with pytest.raises(UnknownProblemCode):
        many_problems("not_a_number", WARNING, "Indicators", ["C2"], [1], ["x"])
    assert Problem("outlier", WARNING, "Indicators", "C2", 1, "x").code == "outlier"


def test_without_the_strict_setting_a_director_still_gets_the_problem(monkeypatch):
    monkeypatch.setenv("LINKDASH_STRICT_CODES", "0")
    r = Report()
    r.error("no_such_code", "Indicators", "C2", 1, "x")
    assert r.problems[0].code == "no_such_code"


@pytest.mark.parametrize("name", RULE_MODULES)
def test_each_rule_module_declares_the_codes_it_reports(name):
    """Every code a rules module names is in its ``RAISES`` (declared beside its
    rules), and every declared code is registered and named in the module."""
    mod = importlib.import_module(f"linkdash.rules.{name}")
    tree = ast.parse(pathlib.Path(mod.__file__).read_text())
    named = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
             and isinstance(n.value, str) and n.value in CODES}
    assert set(mod.RAISES) == named
    assert set(mod.RAISES) <= set(CODES)


def test_every_code_reported_anywhere_in_the_core_is_registered():
    """A literal code passed to ``Report.error/warn``, ``Problem`` or ``many_problems``
    anywhere in linkdash/ is in the registry with that call's severity."""
    seen = []
    for path in (ROOT / "linkdash").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if (name in ("error", "warn") and literal and isinstance(node.func, ast.Attribute)
                    and "report" in ast.unparse(node.func.value)):
                seen.append((path.name, first.value, ERROR if name == "error" else WARNING))
            elif (name in ("Problem", "many_problems") and isinstance(first, ast.Constant)
                  and len(node.args) > 1):
                sev = node.args[1]
                sev = {"ERROR": ERROR, "WARNING": WARNING}.get(getattr(sev, "id", ""),
                                                               getattr(sev, "value", None))
                seen.append((path.name, first.value, sev))
    assert len(seen) > 40
    wrong = [(f, c, s) for f, c, s in seen if c not in CODES or CODES[c].severity != s]
    assert not wrong


def test_the_readme_lists_every_code_from_the_registry():
    readme = (ROOT / "README.md").read_text()
    assert problems.codes_markdown() in readme, \
        "README's table of problem codes is out of date: paste problems.codes_markdown() in"


def test_the_command_line_prints_the_table(capsys):
    from linkdash import cli

    assert cli.main(["codes"]) == 0
    assert capsys.readouterr().out == problems.codes_markdown()
