"""Exports: the xlsx export re-imports with no change, the csv is the Indicators
sheet in wide form and formula-safe, ``export`` dispatches on the suffix, and an export
of a filter holds that filter's pilots only (and still re-imports with no change)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import types
import zipfile

import openpyxl
import pandas as pd
import pytest

from conftest import sample_tables
from linkdash import access, catalogue, exports, submit
from linkdash.portfolio import Filter, Portfolio

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


def test_xlsx_export_reimports_with_no_change(store, tmp_path):
    _demo_store(store)
    before = store.load()
    out = tmp_path / "export.xlsx"
    done = exports.write_export(before, out)
    assert done.written and "export.xlsx" in done.message
    outcome = submit.import_file(store, out.read_bytes(), out.name, actor=access.local_admin())
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": _n_values(before)}
    after = store.load()
    pd.testing.assert_frame_equal(after.indicators, before.indicators)
    pd.testing.assert_frame_equal(after.pilots, before.pilots)
    pd.testing.assert_frame_equal(after.milestones, before.milestones)


def test_xlsx_export_into_an_empty_store_restores_everything(store, store_url, tmp_path):
    _demo_store(store)
    before = store.load()
    data = exports.export_xlsx_bytes(before)
    assert data[:2] == b"PK"
    first = store.submissions().iloc[-1].id
    store.rollback(int(first))
    assert store.load().pilots.empty
    outcome = submit.import_file(store, data, "export.xlsx", actor=access.local_admin())
    assert outcome.ok and outcome.changes.new == _n_values(before)
    pd.testing.assert_frame_equal(store.load().indicators, before.indicators)


def test_csv_is_the_indicators_sheet_wide(store, tmp_path):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    out = tmp_path / "indicators.csv"
    assert exports.write_export(store.load(), out).written
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


def test_export_dispatches_on_the_suffix(store, tmp_path, monkeypatch):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    calls = []
    deck = types.ModuleType("linkdash.deck")
    deck.deck_bytes = lambda portfolio, *, flt, quarter, as_of, demo, find=(): (
        calls.append(("deck", len(portfolio.pilots), flt, quarter)) or b"pptx")
    report = types.ModuleType("linkdash.report")
    report.report_bytes = lambda portfolio, *, flt, quarter, as_of, demo, find=(): (
        calls.append(("report", len(portfolio.pilots), flt, quarter)) or b"<html>")
    monkeypatch.setitem(sys.modules, "linkdash.deck", deck)
    monkeypatch.setitem(sys.modules, "linkdash.report", report)
    africa = Filter(regions=("Africa",))
    portfolio = store.load()
    slides = exports.write_export(portfolio, tmp_path / "deck.pptx")
    assert slides.written and slides.message == (
        f"Wrote the presentation (editable PowerPoint slides) to {tmp_path / 'deck.pptx'}")
    page = exports.write_export(portfolio, tmp_path / "r" / "report.html", flt=africa, quarter="2017-Q1")
    assert page.written and page.message.endswith(": Africa (1 pilot), for 2017-Q1")
    assert calls == [("deck", 2, Filter(), None), ("report", 2, africa, "2017-Q1")]
    assert (tmp_path / "deck.pptx").read_bytes() == b"pptx"
    assert (tmp_path / "r" / "report.html").read_bytes() == b"<html>"
    assert exports.export_bytes(".PPTX", portfolio) == b"pptx"  # the downloads use the same table
    pdf = exports.write_export(portfolio, tmp_path / "x.pdf")
    assert not pdf.written
    assert "use one of .xlsx, .csv, .pptx, .html" in pdf.message
    with pytest.raises(ValueError, match="use one of .xlsx, .csv, .pptx, .html"):
        exports.export_bytes(".pdf", portfolio)
    assert not (tmp_path / "x.pdf").exists()


# --- exports of what a filter shows ----------------------------------------------------

SPEC_SHEETS = ("Pilots", "Progress", "Indicators", "Targets", "Lessons", "Benchmarks", "Rates")


def _sheets(data: bytes) -> dict[str, pd.DataFrame]:
    """The spec's sheets of an exported workbook as the file holds them (header row =
    column codes)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for name in SPEC_SHEETS:
        rows = list(wb[name].iter_rows(values_only=True))
        out[name] = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    return out


def _csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def demo_store(store):
    _demo_store(store)
    return store


def test_an_africa_export_holds_the_african_pilots_and_nothing_of_asia(demo_store):
    everything = demo_store.load()
    pilots = everything.pilots
    africa = set(pilots.loc[pilots["region"] == "Africa", "pilot_id"])
    asia_ids = set(pilots.loc[pilots["region"] == "Asia", "pilot_id"])
    asia_countries = set(pilots.loc[pilots["region"] == "Asia", "country"])
    assert len(africa) == 6 and asia_ids

    data = exports.export_xlsx_bytes(everything, Filter(regions=("Africa",)))
    sheets = _sheets(data)
    assert set(sheets["Pilots"]["pilot_id"]) == africa
    for name in ("Progress", "Indicators", "Targets", "Lessons"):
        assert len(sheets[name]) > 0, name
        assert set(sheets[name]["pilot_id"]) <= africa, name
    assert set(sheets["Benchmarks"]["country"]) == set(
        everything.benchmarks.loc[everything.benchmarks["country"].isin(
            pilots.loc[pilots["region"] == "Africa", "country"]), "country"])
    for name in SPEC_SHEETS[:-1]:  # no Asian pilot or country in any cell of them
        cells = {str(v) for v in sheets[name].to_numpy().ravel() if v is not None}
        assert not cells & (asia_ids | asia_countries | {"Asia"}), name
    # Rates are reference data kept whole, so money in local currency still converts.
    assert len(sheets["Rates"]) == len(everything.rates)
    note = openpyxl.load_workbook(io.BytesIO(data))["Instructions"]["A2"].value
    assert note.startswith("Export of the stored data of Africa (6 pilots)")

    rows = _csv_rows(exports.export_csv_bytes(everything, Filter(regions=("Africa",))))
    assert {r["pilot_id"] for r in rows} == africa
    africa_ind = everything.indicators[everything.indicators["pilot_id"].isin(africa)]
    assert len(rows) == len(africa_ind[["pilot_id", "quarter"]].drop_duplicates())


def test_a_filtered_xlsx_and_csv_reimport_with_no_change(demo_store):
    everything = demo_store.load()
    flt = Filter(regions=("Africa",), value_chains=("dairy_cow",))
    view = everything.filtered(flt)
    assert 0 < len(view.pilots) < len(everything.pilots)
    data = exports.export_xlsx_bytes(everything, flt)
    outcome = submit.import_file(demo_store, data, "link-pilots_Africa_dairy-cow.xlsx",
                                 actor=access.local_admin())
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": _n_values(view)}
    pd.testing.assert_frame_equal(demo_store.load().indicators, everything.indicators)

    outcome = submit.validate(demo_store, exports.export_csv_bytes(everything, flt), "ind.csv")
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": len(view.indicators)}


def test_a_quarter_ends_the_data_files_there(demo_store):
    everything = demo_store.load()
    quarters_ = everything.quarters()
    cut = quarters_[len(quarters_) // 2]
    assert quarters_[-1] > cut
    sheets = _sheets(exports.export_xlsx_bytes(everything, Filter(), cut))
    assert max(sheets["Indicators"]["quarter"]) == cut
    assert max(sheets["Lessons"]["quarter"]) <= cut
    assert len(sheets["Pilots"]) == len(everything.pilots)
    rows = _csv_rows(exports.export_csv_bytes(everything, Filter(), cut))
    assert max(r["quarter"] for r in rows) == cut
    outcome = submit.validate(demo_store, exports.export_xlsx_bytes(everything, Filter(), cut), "q.xlsx")
    assert outcome.ok and outcome.changes.new == 0 and outcome.changes.changed == 0


def _formula_tables():
    tables = sample_tables()
    tables["Lessons"].loc[0, "lesson"] = '=HYPERLINK("http://example.org","Click")'
    tables["Lessons"].loc[1, "lesson"] = "+2 buyers signed after the peer review"
    tables["Progress"].loc[1, "notes"] = "@team: maps redrawn"
    tables["Progress"].loc[3, "notes"] = "-5 days late"
    return tables


FORMULA_TEXTS = ('=HYPERLINK("http://example.org","Click")', "+2 buyers signed after the peer review",
                 "@team: maps redrawn", "-5 days late", "=Kick-off in Nairobi")


def test_text_that_looks_like_a_formula_stays_text_and_comes_back_exactly(store):
    store.commit(_formula_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    before = store.load()
    # a filtered export (its Instructions note is rewritten, so the file is saved twice)
    data = exports.export_xlsx_bytes(before, Filter(regions=("Africa", "Asia")))

    # xlsx: text cells, never formulas
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = {c.value: c for name in ("Progress", "Lessons") for row in wb[name].iter_rows() for c in row
             if isinstance(c.value, str)}
    for text in FORMULA_TEXTS:
        assert cells[text].data_type == "s", text
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not any("<f>" in z.read(n).decode() or "<f " in z.read(n).decode()
                       for n in z.namelist() if n.startswith("xl/worksheets/"))

    # ... and the importer restores every one exactly, into the same store and an empty one
    outcome = submit.validate(store, data, "export.xlsx")
    assert outcome.ok and outcome.changes.new == 0 and outcome.changes.changed == 0
    store.rollback(int(store.submissions().iloc[-1].id))
    assert store.load().lessons.empty
    outcome = submit.import_file(store, data, "export.xlsx", actor=access.local_admin())
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    after = store.load()
    assert sorted(after.lessons["lesson"]) == sorted(before.lessons["lesson"])
    assert sorted(after.milestones["notes"].dropna()) == sorted(before.milestones["notes"].dropna())
    assert set(FORMULA_TEXTS) <= set(after.lessons["lesson"]) | set(after.milestones["notes"].dropna())

    # csv: a leading ' that the importer drops again (a Lessons sheet as csv)
    lessons = after.lessons[["pilot_id", "quarter", "kind", "lesson", "milestone", "author"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(lessons.columns)
    for row in lessons.itertuples(index=False):
        w.writerow([exports.csv_cell(v) for v in row])
    text = buf.getvalue()
    assert "'=HYPERLINK(" in text and "'+2 buyers" in text
    outcome = submit.validate(store, text.encode("utf-8"), "lessons.csv")
    assert outcome.ok, [p.message for p in outcome.errors][:5]
    assert outcome.changes.counts() == {"new": 0, "changed": 0, "unchanged": len(lessons)}


def test_file_names_say_what_the_file_holds():
    assert exports.export_filename(".xlsx", Filter(regions=("Africa",)), "2018-Q4") \
        == "link-pilots_Africa_2018-Q4.xlsx"
    assert exports.export_filename(".csv", Filter(), "2018-Q4") == "link-pilots_2018-Q4.csv"
    assert exports.export_filename(
        ".pptx", Filter(countries=("KEN", "UGA"), value_chains=("dairy_cow",)), "2017-Q1") \
        == "link-pilots_KEN+UGA_dairy-cow_2017-Q1.pptx"
    many = Filter(countries=("KEN", "UGA", "RWA", "MWI", "ZMB"))
    assert exports.export_filename(".html", many, None) == "link-pilots_5-countries.html"
    assert exports.export_filename(".xlsx", Filter(regions=("Latin America",)), "2016-Q2") \
        == "link-pilots_Latin-America_2016-Q2.xlsx"


def test_a_filter_that_matches_no_pilot_writes_nothing(store, tmp_path):
    store.commit(sample_tables(), file_bytes=b"1", filename="a.xlsx", user=None)
    out = tmp_path / "none.xlsx"
    none = exports.write_export(store.load(), out, flt=Filter(regions=("Latin America",)))
    assert not none.written and none.n_pilots == 0
    assert not out.exists()
    assert "No pilot matches Latin America" in none.message


def test_a_table_as_csv_is_excel_readable_and_formula_safe():
    """The one csv writer (exports, the problem list, the pages' tables)."""
    df = pd.DataFrame({"who": ["=HYPERLINK(\"x\")", "Ana, B."], "n": [3.0, float("nan")]})
    data = exports.frame_csv_bytes(df)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["who", "n"], ["'=HYPERLINK(\"x\")", "3"], ["Ana, B.", ""]]


# --- illustrative data mixed with real uploads: the deck and the report say it as the page ---

def _pptx_text(path) -> str:
    from pptx import Presentation

    prs = Presentation(str(path))
    return "\n".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)


def _said(db_url: str, tmp_path, name: str) -> tuple[str, str]:
    """The text of the deck and of the report the command line exports of the store."""
    import html

    from linkdash import cli

    deck, page = tmp_path / f"{name}.pptx", tmp_path / f"{name}.html"
    for out in (deck, page):
        assert cli.main(["--db", db_url, "export", str(out), "--region", "Asia"]) == 0
    return _pptx_text(deck), html.unescape(page.read_text(encoding="utf-8"))


def test_the_deck_and_the_report_say_illustrative_data_is_mixed_with_real_uploads(demo_url, tmp_path):
    from linkdash import access, story, submit
    from linkdash.store import Store
    from tests.workbook_builder import xlsx_bytes

    mixed_words = "mixed with real uploads"
    deck, page = _said(demo_url, tmp_path, "demo")  # the demo alone: illustrative, not mixed
    for text in (deck, page):
        assert story.DEMO_NOTICE in text and mixed_words not in text
    store = Store.open(demo_url)
    real = submit.import_file(store, xlsx_bytes({"Indicators": [["Pilot ID", "Quarter", "Households reached"],
                                                                ["KEN-DAIRY", "2018-Q4", 1500]]}),
                              "real.xlsx", actor=access.local_admin("test"))
    store.close()
    assert real.ok
    deck, page = _said(demo_url, tmp_path, "mixed")
    for text in (deck, page):
        assert story.MIXED_NOTICE in text and story.DEMO_NOTICE not in text
    # the page's badge says the same words (one function: story.illustrative_notice)
    assert story.illustrative_notice(True, True) == story.MIXED_NOTICE
    assert story.illustrative_notice(True, False) == story.DEMO_NOTICE
    assert story.illustrative_notice(False, False) is None


def test_real_data_alone_says_nothing_of_illustrative_data(tmp_path):
    from linkdash import access, submit
    from linkdash.store import Store
    from tests.workbook_builder import xlsx_bytes

    url = f"sqlite:///{tmp_path}/real.sqlite"
    store = Store.open(url)
    sheets = {"Pilots": [["pilot_id", "pilot_name", "country", "value_chain", "site"],
                         ["NPL-DAIRY", "Nepal dairy", "Nepal", "dairy_cow", "Real site"]],
              "Indicators": [["Pilot ID", "Quarter", "Households reached"], ["NPL-DAIRY", "2018-Q4", 900]]}
    assert submit.import_file(store, xlsx_bytes(sheets), "real.xlsx", actor=access.local_admin("test")).ok
    store.close()
    deck, page = _said(url, tmp_path, "real")
    for text in (deck, page):
        assert "llustrative" not in text
