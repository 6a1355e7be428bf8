"""Exports: the xlsx export re-imports with no change, the csv is the Indicators
sheet in wide form and formula-safe, and ``export`` dispatches on the suffix."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import types

import pandas as pd
import pytest

from conftest import sample_tables
from linkdash import catalogue, exports, submit
from linkdash.portfolio import Portfolio

DEMO_TODAY = dt.date(2019, 9, 30)


def _demo_store(store):
    from linkdash.demo import demo_tables

    tables = demo_tables(DEMO_TODAY)
    store.commit(tables, file_bytes=b"demo", filename="demo", user="demo", kind="demo")
    return tables


def _n_values(portfolio: Portfolio) -> int:
    return (len(portfolio.pilots) + len(portfolio.milestones) + len(portfolio.indicators)
            + len(portfolio.targets) + len(portfolio.lessons) + len(portfolio.benchmarks)
            + len(portfolio.rates))


def test_xlsx_export_reimports_with_no_change(store, tmp_path, capsys):
    _demo_store(store)
    before = store.load()
    out = tmp_path / "export.xlsx"
    assert exports.export_command(store, out) == 0
    assert "export.xlsx" in capsys.readouterr().out
    outcome = submit.import_file(store, out.read_bytes(), out.name)
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": _n_values(before)}
    after = store.load()
    pd.testing.assert_frame_equal(after.indicators, before.indicators)
    pd.testing.assert_frame_equal(after.pilots, before.pilots)
    pd.testing.assert_frame_equal(after.milestones, before.milestones)


def test_xlsx_export_into_an_empty_store_restores_everything(store, store_url, tmp_path):
    from linkdash.store import Store

    _demo_store(store)
    before = store.load()
    data = exports.export_xlsx_bytes(before)
    assert data[:2] == b"PK"
    first = store.submissions().iloc[-1].id
    store.rollback(int(first))
    assert store.load().pilots.empty
    outcome = submit.import_file(store, data, "export.xlsx")
    assert outcome.ok and outcome.changes.new == _n_values(before)
    pd.testing.assert_frame_equal(store.load().indicators, before.indicators)


def test_csv_is_the_indicators_sheet_wide(store, tmp_path):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    out = tmp_path / "indicators.csv"
    assert exports.export_command(store, out) == 0
    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["pilot_id", "quarter", *catalogue.indicators()]
    body = {(r[0], r[1]): dict(zip(rows[0], r)) for r in rows[1:]}
    assert sorted(body) == [("KEN-DAIRY", "2017-Q1"), ("KEN-DAIRY", "2017-Q2"),
                            ("VNM-DAIRY", "2017-Q1"), ("VNM-DAIRY", "2017-Q2")]
    ken = body[("KEN-DAIRY", "2017-Q2")]
    assert ken["households_reached"] == "110"  # whole numbers without ".0"
    assert ken["volume_sold"] == "2469"
    assert ken["income_avg_usd"] == "410.5"
    assert ken["volume_unit"] == "litres"
    assert ken["members_total"] == ""  # not reported stays blank, never 0


def test_csv_export_reimports_with_no_change(store):
    _demo_store(store)
    before = store.load()
    data = exports.export_csv_bytes(before)
    outcome = submit.validate(store, data, "indicators.csv")
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": len(before.indicators)}


def test_csv_cells_are_formula_safe():
    assert exports.csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for text in ("+1", "-5 kg", "@SUM(A1)"):
        assert exports.csv_cell(text) == "'" + text
    assert exports.csv_cell("litres") == "litres"
    assert exports.csv_cell(-5.0) == "-5"  # a number is not text: no quote
    assert exports.csv_cell(0.1) == "0.1"
    assert exports.csv_cell(float("nan")) == "" and exports.csv_cell(None) == ""
    p = Portfolio(indicators=pd.DataFrame({
        "pilot_id": ["KEN-DAIRY"], "quarter": ["2017-Q1"], "indicator": ["volume_unit"],
        "value": [float("nan")], "text": ["=cmd|' /C calc'!A0"]}))
    line = exports.export_csv_bytes(p).decode("utf-8-sig").splitlines()[1]
    assert "'=cmd|" in line and ",=cmd" not in line


def test_export_dispatches_on_the_suffix(store, tmp_path, monkeypatch, capsys):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    calls = []
    deck = types.ModuleType("linkdash.deck")
    deck.write_deck = lambda portfolio, out: (calls.append(("deck", len(portfolio.pilots), out)),
                                              out.write_bytes(b"pptx"))
    report = types.ModuleType("linkdash.report")
    report.write_report = lambda portfolio, out: (calls.append(("report", len(portfolio.pilots), out)),
                                                  out.write_text("<html>"))
    monkeypatch.setitem(sys.modules, "linkdash.deck", deck)
    monkeypatch.setitem(sys.modules, "linkdash.report", report)
    assert exports.export_command(store, tmp_path / "deck.pptx") == 0
    assert exports.export_command(store, tmp_path / "r" / "report.html") == 0
    assert calls == [("deck", 2, tmp_path / "deck.pptx"), ("report", 2, tmp_path / "r" / "report.html")]
    assert exports.export_command(store, tmp_path / "x.pdf") == 1
    assert "use one of .xlsx, .csv, .pptx, .html" in capsys.readouterr().out
    assert not (tmp_path / "x.pdf").exists()
