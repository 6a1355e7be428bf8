"""The template and the xlsx export: layout, drop-downs, text never a formula, round trip."""

import datetime as dt
import io

import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook

from linkdash import catalogue
from linkdash.importer import check_file
from linkdash.template import write_template
from tests.workbook_builder import reference_portfolio


def _blank() -> bytes:
    buf = io.BytesIO()
    write_template(buf)
    return buf.getvalue()


def test_blank_template_has_every_sheet_labels_and_instructions():
    wb = openpyxl.load_workbook(io.BytesIO(_blank()))
    assert wb.sheetnames == ["Instructions", *catalogue.SHEET_ORDER, "Lists"]
    assert wb["Lists"].sheet_state == "hidden"
    ws = wb["Indicators"]
    assert [c.value for c in ws[1]][:3] == ["Pilot ID", "Quarter", "Households reached"]
    assert ws.freeze_panes == "B2"
    instr = [[c.value for c in row] for row in wb["Instructions"].iter_rows()]
    assert ["Indicators", "Participants women", "participants_women", "", "whole number, 0 or more",
            "Women among the participants"] in [[v if v is not None else "" for v in r] for r in instr]


def test_blank_template_has_drop_downs_and_formats():
    wb = openpyxl.load_workbook(io.BytesIO(_blank()))
    lists = {str(dv.sqref).split(":")[0]: dv.formula1
             for dv in wb["Progress"].data_validations.dataValidation}
    assert lists["A2"].startswith("=Lists!")  # pilot ids
    ms_col = lists["B2"].split("!")[1].split(":")[0].replace("$", "")[0]
    assert [c.value for c in wb["Lists"][ms_col]][1:10] == list(catalogue.MILESTONES)
    assert wb["Progress"].column_dimensions["C"].number_format == "yyyy-mm-dd"
    quarters_col = [dv for dv in wb["Indicators"].data_validations.dataValidation
                    if str(dv.sqref).startswith("B2")]
    assert quarters_col


def test_blank_template_imports_cleanly():
    c = check_file(_blank(), "template.xlsx", reference_portfolio())
    assert c.report.ok
    assert c.report.flatten("code", "value") == [("sheet_ignored", "Instructions"),
                                                 ("sheet_ignored", "Lists")]


def _portfolio():
    cur = reference_portfolio()
    ind = pd.DataFrame([
        {"pilot_id": "KEN-DAIRY", "quarter": "2017-Q3", "indicator": code, "value": value, "text": text}
        for code, value, text in (("participants_total", 120.0, None), ("income_avg_usd", 812.5, None),
                                  ("volume_unit", float("nan"), "litres"))
    ])
    les = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": "2017-Q3", "kind": "insight",
                         "lesson": "=HYPERLINK(\"http://x\")", "milestone": None, "author": "@maria"},
                        {"pilot_id": "KEN-DAIRY", "quarter": "2017-Q2", "kind": None,
                         "lesson": "-women first", "milestone": "vc_map", "author": "+25 team"}])
    pil = cur.pilots.copy()
    pil.loc[0, "pilot_name"] = "=1+1"
    return type(cur)(pilots=pil, indicators=ind, lessons=les)


def test_formula_like_text_is_written_as_text():
    buf = io.BytesIO()
    write_template(buf, _portfolio())
    data = buf.getvalue()
    ws = openpyxl.load_workbook(io.BytesIO(data))["Lessons"]
    cells = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if c.value}
    assert cells['=HYPERLINK("http://x")'].data_type == "s"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Lessons").to_python()
    assert ['KEN-DAIRY', '2017-Q3', 'insight', '=HYPERLINK("http://x")', '', '@maria'] in rows
    pil = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Pilots").to_python()
    assert pil[0][:2] == ["pilot_id", "pilot_name"] and "=1+1" in [r[1] for r in pil]


def test_export_reimports_to_the_same_values():
    pf = _portfolio()
    buf = io.BytesIO()
    write_template(buf, pf)
    c = check_file(buf.getvalue(), "export.xlsx", pf, today=dt.date(2018, 1, 1))
    assert c.report.ok, c.report.problems
    assert {p.code for p in c.report.problems} == {"sheet_ignored"}
    got = c.tables["Indicators"].sort_values("indicator").reset_index(drop=True)
    want = pf.indicators.sort_values("indicator").reset_index(drop=True)
    cols = ["pilot_id", "quarter", "indicator", "value"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False)
    assert [t if isinstance(t, str) else None for t in got["text"]] == [None, None, "litres"]
    assert sorted(c.tables["Lessons"]["lesson"]) == sorted(pf.lessons["lesson"])
    p = c.tables["Pilots"].set_index("pilot_id")
    ref = pf.pilots.set_index("pilot_id")
    assert p.loc["VNM-DAIRY", "pilot_name"] == "=1+1"
    assert p.loc["VNM-DAIRY", "start_date"] == ref.loc["VNM-DAIRY", "start_date"]
    assert p["currency"].to_dict() == ref["currency"].to_dict()
    assert len(p) == 13
