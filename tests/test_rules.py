"""Every rule of the spec, through check_file as the Upload page and the CLI use it."""

import datetime as dt

import pandas as pd
import pytest

from linkdash.importer import check_file
from tests.workbook_builder import csv_bytes, reference_portfolio, xlsx_bytes

TODAY = dt.date(2018, 1, 15)
CURRENT = reference_portfolio()
IND = ["pilot_id", "quarter"]


def check(sheets, current=CURRENT, **kw):
    kw.setdefault("today", TODAY)
    return check_file(xlsx_bytes(sheets), "q.xlsx", current, **kw)


def test_messy_real_life_workbook_imports_with_warnings_only():
    data = xlsx_bytes({
        "Instructions": [["Fill in the yellow cells"]],
        " indicators ": [
            ["LINK pilot results, Kenya"], [],
            ["Pilot ID", "Quarter", "Participants total", "Participants women", "Sales (USD)",
             "Volume sold", "Volume unit", "Remarks"],
            [" ken-dairy ", "Q3 2017", " 1,234 ", "600", 1500.5, "2\u00a0000", "Litres", "good"],
            ["KEN-DAIRY", "2017q2", 1000.0, 480, None, None, None, None],
            [None, None, None, None],
            ["UGA-DAIRY", dt.date(2017, 8, 1), 12, 5, "3,000", None, None, None],
        ]})
    c = check_file(data, "kenya.xlsx", CURRENT, today=TODAY)
    assert c.report.ok, c.report.errors
    assert c.report.flatten("sheet", "cell", "code") == [
        ("Instructions", None, "sheet_ignored"), (" indicators ", "H3", "unknown_column")]
    assert c.sheet_names == {"Indicators": " indicators "}
    t = c.tables["Indicators"].set_index(["pilot_id", "quarter", "indicator"])
    assert t.loc[("KEN-DAIRY", "2017-Q3", "participants_total"), "value"] == 1234.0
    assert t.loc[("KEN-DAIRY", "2017-Q3", "volume_sold"), "value"] == 2000.0
    assert t.loc[("KEN-DAIRY", "2017-Q3", "volume_unit"), "text"] == "litres"
    assert t.loc[("UGA-DAIRY", "2017-Q3", "sales_usd"), "value"] == 3000.0
    assert len(c.tables["Indicators"]) == 10  # blank cells are not values


def test_a_dozen_mistakes_are_all_reported_at_their_cells():
    c = check({
        "Pilots": [["pilot_id", "country", "value_chain", "latitude", "longitude", "start_date", "end_date"],
                   ["NEW-GOAT", "Kenya", "goats?", 95, 36.9, "2017-01-01", "2016-01-01"]],
        "Progress": [["pilot_id", "milestone", "actual_start", "actual_end", "status"],
                     ["KEN-DAIRY", "vc_map", "2017-02-01", None, "completed"],
                     ["KEN-DAIRY", "Value chain map", "2017-02-01", "2017-01-01", None]],
        "Indicators": [IND + ["participants_total", "participants_women", "nbmp_governance", "sales_usd",
                              "households_reached"],
                       ["KEN-DAIRY", "2017-Q3", 100, 120, 7, -5, "lots"],
                       ["KEN-DAIRY", "2019-Q1", 10, 2, 3, 0, 12.5],
                       ["XYZ-DAIRY", "2017-Q3", 1, 1, 1, 1, 1]],
        "Lessons": [["pilot_id", "quarter", "kind", "lesson"],
                    ["KEN-DAIRY", "2017-Q3", "insight", None]],
    })
    got = c.report.flatten("sheet", "cell", "code")
    expected = [
        ("Pilots", "A2", "pilot_id_prefix"), ("Pilots", "C2", "bad_code"),
        ("Pilots", "D2", "latitude_range"), ("Pilots", "G2", "end_before_start"),
        ("Progress", "E2", "completed_without_end"), ("Progress", "A3", "duplicate_key"),
        ("Progress", "D3", "end_before_start"),
        ("Indicators", "D2", "part_above_total"), ("Indicators", "E2", "score_range"),
        ("Indicators", "F2", "negative"), ("Indicators", "G2", "not_a_number"),
        ("Indicators", "B3", "future_quarter"), ("Indicators", "G3", "not_whole"),
        ("Indicators", "A4", "unknown_pilot"),
        ("Lessons", "D2", "required_value"),
    ]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert not c.report.ok
    msg = {p.code: p.message for p in c.report.problems}
    assert msg["part_above_total"] == ("Participants women (120) is more than Participants total (100) "
                                       "for KEN-DAIRY 2017-Q3: correct one of them.")
    assert "Rows 2 and 3" in msg["duplicate_key"]


def test_parts_are_compared_with_the_stored_total():
    stored = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": "2017-Q3", "indicator": "hh_surveyed",
                            "value": 50.0, "text": None}])
    c = check({"Indicators": [IND + ["hh_above_living_income"], ["KEN-DAIRY", "2017-Q3", 60]]},
              reference_portfolio(indicators=stored))
    assert c.report.flatten("cell", "code") == [("C2", "part_above_total")]
    assert "stored earlier" in c.report.errors[0].message


def test_a_total_lowered_below_its_stored_parts_is_an_error():
    """A blank part keeps its stored value, so a smaller total would leave the store with
    more women than participants (and its own export would no longer import)."""
    stored = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": "2017-Q3", "indicator": c,
                            "value": v, "text": None}
                           for c, v in [("participants_total", 588.0), ("participants_women", 316.0),
                                        ("hh_surveyed", 142.0), ("hh_above_living_income", 66.0)]])
    cur = reference_portfolio(indicators=stored)
    c = check({"Indicators": [IND + ["participants_total", "hh_surveyed"], ["KEN-DAIRY", "2017-Q3", 10, 0]]},
              cur)
    assert c.report.flatten("cell", "code") == [("C2", "part_above_total"), ("D2", "part_above_total")]
    assert c.report.errors[0].message == (
        "Participants total (10) is less than Participants women (316, stored earlier) for KEN-DAIRY "
        "2017-Q3: correct it, or give the right Participants women too.")
    # giving the part too, consistently, is fine
    ok = check({"Indicators": [IND + ["participants_total", "participants_women"],
                               ["KEN-DAIRY", "2017-Q3", 10, 4]]}, cur)
    assert ok.report.ok, ok.report.errors


def test_moving_a_start_date_after_stored_quarters_is_an_error():
    stored = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": q, "indicator": "households_reached",
                            "value": 10.0, "text": None} for q in ("2016-Q3", "2016-Q4", "2017-Q1")])
    cur = reference_portfolio(indicators=stored)
    c = check({"Pilots": [["pilot_id", "country", "value_chain", "start_date"],
                          ["KEN-DAIRY", "Kenya", "dairy_cow", "2017-01-01"]]}, cur)
    assert c.report.flatten("sheet", "cell", "code") == [("Pilots", "D2", "before_start")]
    assert ("after 2016-Q3, the first quarter with indicator values stored for KEN-DAIRY"
            in c.report.errors[0].message)
    assert check({"Pilots": [["pilot_id", "country", "value_chain", "start_date"],
                             ["KEN-DAIRY", "Kenya", "dairy_cow", "2016-08-01"]]}, cur).report.ok


def test_an_end_before_a_stored_start_points_at_the_date_given():
    stored = pd.DataFrame([{"pilot_id": "VNM-DAIRY", "milestone": "peer_review", "planned_start": None,
                            "planned_end": None, "actual_start": None, "actual_end": dt.date(2017, 3, 31),
                            "status": "completed", "notes": None}])
    cur = reference_portfolio(milestones=stored)
    c = check({"Progress": [["pilot_id", "milestone", "actual_start", "actual_end"],
                            ["VNM-DAIRY", "peer_review", "2017-07-03", None]]}, cur)
    (p,) = c.report.errors
    assert (p.cell, p.code, p.value) == ("C2", "end_before_start", "2017-07-03")
    assert p.message == ("Actual end 2017-03-31 (stored earlier) is before actual start 2017-07-03 for "
                         "VNM-DAIRY peer_review: correct it, or give the right actual end too.")


def test_quarter_before_the_pilot_started():
    c = check({"Indicators": [IND + ["households_reached"], ["KEN-DAIRY", "2016-Q1", 5],
                              ["KEN-DAIRY", "2016-Q2", 5]]})
    assert c.report.flatten("cell", "code") == [("B2", "before_start")]


def test_negative_income_is_a_warning():
    c = check({"Indicators": [IND + ["income_avg_usd"], ["KEN-DAIRY", "2017-Q1", -20]]})
    assert c.report.ok and c.report.flatten("cell", "code") == [("C2", "negative_income")]
    assert c.tables["Indicators"]["value"].tolist() == [-20.0]


def test_local_money_is_converted_with_the_files_or_stored_rate():
    rates = pd.DataFrame([{"currency": "UGX", "quarter": "2017-Q2", "units_per_usd": 3600.0}])
    c = check({"Indicators": [IND + ["income_avg_local", "sales_local"],
                              ["KEN-DAIRY", "2017-Q3", 50000, None],
                              ["UGA-DAIRY", "2017-Q2", 360000, None],
                              ["UGA-DAIRY", "2017-Q3", None, 7200]],
               "Rates": [["currency", "quarter", "units_per_usd"], ["kes", "Q3 2017", 100]]},
              reference_portfolio(rates=rates))
    assert c.report.flatten("cell", "code") == [("D4", "missing_rate")]
    assert "currency UGX, quarter 2017-Q3" in c.report.errors[0].message
    t = c.tables["Indicators"].set_index(["pilot_id", "quarter", "indicator"])["value"]
    assert t[("KEN-DAIRY", "2017-Q3", "income_avg_usd")] == 500.0
    assert t[("UGA-DAIRY", "2017-Q2", "income_avg_usd")] == 100.0


def test_usd_and_local_both_given_keeps_usd_with_a_warning():
    c = check({"Indicators": [IND + ["income_avg_usd", "income_avg_local"],
                              ["KEN-DAIRY", "2017-Q3", 400, 50000]],
               "Rates": [["currency", "quarter", "units_per_usd"], ["KES", "2017-Q3", 100]]})
    assert c.report.ok and c.report.flatten("cell", "code") == [("D2", "money_both_given")]
    assert c.tables["Indicators"]["value"].tolist() == [400.0]


def test_pilots_derive_region_cycle_currency_and_warn_outside_the_country():
    c = check({"Pilots": [["Pilot ID", "Country", "Value chain", "Latitude", "Longitude"],
                          ["BOL-SHEEP", "Bolivia", "Sheep", -17.0, -65.0],
                          ["VNM-PIG", "Viet Nam", "swine", 21.0, -105.0]]})
    assert c.report.flatten("cell", "code") == [("D3", "outside_country")]
    t = c.tables["Pilots"].set_index("pilot_id")
    assert t.loc["BOL-SHEEP", ["country", "region", "cycle", "currency"]].tolist() == [
        "BOL", "Latin America", "Asia & Africa", "BOB"]
    assert t.loc["VNM-PIG", "region"] == "Asia"
    assert t.loc["VNM-PIG", "value_chain"] == "swine"


def test_pilots_in_the_file_are_known_to_the_other_sheets_with_their_start():
    c = check({"Pilots": [["pilot_id", "country", "value_chain", "start_date"],
                          ["TZA-GOAT", "Tanzania", "goat_meat", dt.date(2017, 5, 1)]],
               "Indicators": [IND + ["households_reached"], ["TZA-GOAT", "2017-Q3", 3],
                              ["TZA-GOAT", "2017-Q1", 3]]},
              reference_portfolio())
    assert c.report.flatten("sheet", "cell", "code") == [("Indicators", "B3", "before_start")]


def test_status_is_derived_from_stored_and_file_dates():
    stored = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "milestone": "vc_map", "planned_start": None,
                            "planned_end": None, "actual_start": dt.date(2017, 1, 5), "actual_end": None,
                            "status": "in_progress", "notes": None}])
    c = check({"Progress": [["pilot_id", "milestone", "actual_start", "actual_end", "notes"],
                            ["KEN-DAIRY", "vc_map", None, "2017-03-01", None],
                            ["KEN-DAIRY", "training_workshop", "2016-07-01", None, None],
                            ["KEN-DAIRY", "peer_review", None, None, "=planned later"]]},
              reference_portfolio(milestones=stored))
    assert c.report.problems == []
    t = c.tables["Progress"].set_index("milestone")
    assert t["status"].to_dict() == {"vc_map": "completed", "training_workshop": "in_progress",
                                     "peer_review": "not_started"}
    assert t.loc["peer_review", "notes"] == "=planned later"
    assert t.loc["vc_map", "actual_start"] is None  # blank: not reported, never erased


def test_scope_limits_the_pilots_a_user_may_change():
    c = check({"Indicators": [IND + ["households_reached"], ["KEN-DAIRY", "2017-Q3", 3],
                              ["UGA-DAIRY", "2017-Q3", 3]]},
              scope={"KEN-DAIRY"})
    assert c.report.flatten("cell", "code") == [("A3", "out_of_scope")]


def test_targets_lessons_benchmarks_and_rates():
    long_text = "x" * 2001
    c = check({
        "Targets": [["pilot_id", "indicator", "baseline", "target", "target_quarter"],
                    ["KEN-DAIRY", "Income avg (USD)", 300, 600, "2020-Q4"],
                    ["KEN-DAIRY", "happiness", 1, 2, None]],
        "Lessons": [["pilot_id", "quarter", "kind", "lesson", "milestone"],
                    ["KEN-DAIRY", "2017-Q3", "Insight", "Women-led groups repaid faster", "Prototype cycle"],
                    ["KEN-DAIRY", "2018-Q2", "insight", "too early", None],
                    ["KEN-DAIRY", "2017-Q3", "insight", long_text, None],
                    ["KEN-DAIRY", "2017-Q3", "challenge", "Women-led groups repaid faster", None]],
        "Benchmarks": [["country", "year", "living_income_usd"], ["Kenya", 2017, 2500], ["KE", 2017.0, 2600]],
        "Rates": [["currency", "quarter", "units_per_usd"], ["KES", "2017-Q3", 0], ["KSH", "2017-Q3", 100]],
    })
    assert sorted(c.report.flatten("sheet", "cell", "code"), key=str) == sorted([
        ("Targets", "B3", "bad_indicator"),
        ("Lessons", "B3", "future_quarter"), ("Lessons", "D4", "text_too_long"),
        ("Lessons", "A5", "duplicate_key"),
        ("Benchmarks", "A3", "duplicate_key"),
        ("Rates", "C2", "bad_rate"), ("Rates", "A3", "bad_currency"),
    ], key=str)
    assert (c.tables["Targets"].iloc[0][["indicator", "target_quarter"]].tolist()
            == ["income_avg_usd", "2020-Q4"])
    assert c.tables["Lessons"].iloc[0][["kind", "milestone"]].tolist() == ["insight", "prototype_cycle"]
    assert c.tables["Benchmarks"].iloc[0].tolist() == ["KEN", 2017, 2500.0]


def test_outliers_against_the_pilots_earlier_quarters_are_warnings():
    hist = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": q, "indicator": "sales_usd", "value": v,
                          "text": None}
                         for q, v in [("2016-Q3", 1000.0), ("2016-Q4", 1100.0), ("2017-Q1", 950.0),
                                      ("2017-Q2", 1050.0)]])
    cur = reference_portfolio(indicators=hist)
    c = check({"Indicators": [IND + ["sales_usd"], ["KEN-DAIRY", "2017-Q3", 105000],
                              ["KEN-DAIRY", "2017-Q4", 1200]]}, cur)
    assert c.report.ok and c.report.flatten("cell", "code") == [("C2", "outlier")]
    # (the closest of what the earlier quarters predict: the last, 1,050, plus the median change)
    assert "far from its earlier quarters and their trend (expected about 1,150 from 2016-Q3\u20132017-Q2)" \
        in c.report.warnings[0].message


def test_a_value_already_stored_as_it_is_is_not_warned_about_again():
    """Sending a quarter again (or re-importing an export) repeats no outlier warning
    for values the store already holds; a changed value is checked again."""
    hist = pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": q, "indicator": "sales_usd", "value": v,
                          "text": None}
                         for q, v in [("2016-Q3", 1000.0), ("2016-Q4", 1100.0), ("2017-Q1", 950.0),
                                      ("2017-Q2", 1050.0), ("2017-Q3", 105000.0)]])
    cur = reference_portfolio(indicators=hist)
    again = check({"Indicators": [IND + ["sales_usd"], ["KEN-DAIRY", "2017-Q3", 105000]]}, cur)
    assert again.report.ok and again.report.warnings == []
    changed = check({"Indicators": [IND + ["sales_usd"], ["KEN-DAIRY", "2017-Q3", 104000]]}, cur)
    assert changed.report.flatten("cell", "code") == [("C2", "outlier")]


def test_csv_export_quotes_are_dropped_and_problems_name_the_canonical_sheet():
    data = csv_bytes([["pilot_id", "quarter", "lesson", "author"],
                      ["KEN-DAIRY", "2017-Q3", "'=not a formula", "'@maria"],
                      ["KEN-DAIRY", "2017-Q9", "x", ""]])
    c = check_file(data, "lessons.csv", CURRENT, today=TODAY)
    assert c.report.flatten("sheet", "cell", "code") == [("Lessons", "B3", "bad_quarter")]
    assert c.tables["Lessons"].iloc[0][["lesson", "author"]].tolist() == ["=not a formula", "@maria"]


@pytest.mark.parametrize("value", ["1,23", "12abc", "1.234.567", True])
def test_a_number_error_names_the_cell_and_the_text(value):
    c = check({"Indicators": [IND + ["households_reached"], ["KEN-DAIRY", "2017-Q3", value]]})
    (p,) = c.report.errors
    assert (p.sheet, p.cell, p.value) == ("Indicators", "C2", value)
    assert "Households reached" in p.message


def test_years_read_as_years_and_a_benchmark_is_never_negative():
    c = check({"Benchmarks": [["country", "year", "living_income_usd"], ["Kenya", 2017, 2500],
                              ["KE", 2017.0, 2600], ["Uganda", 2018.5, 2000], ["Zambia", 2018, -5]]})
    msg = {(p.cell, p.code): p.message for p in c.report.problems}
    assert msg[("A3", "duplicate_key")].startswith("Rows 2 and 3 both have KEN 2017")
    assert msg[("B4", "bad_year")] == "Year must be a whole number, found 2018.5: write e.g. 2018."
    assert msg[("C5", "negative")] == "Living income (USD) cannot be negative, found -5: write 0 or more."
    assert not c.report.ok


# --- outliers judged on the data as it will be after the upload ------------------------

def _sales(rows):
    return pd.DataFrame([{"pilot_id": "KEN-DAIRY", "quarter": q, "indicator": "sales_usd", "value": v,
                          "text": None} for q, v in rows])


STORED_SALES = [("2016-Q3", 1000.0), ("2016-Q4", 1100.0), ("2017-Q1", 950.0), ("2017-Q2", 1050.0)]


def test_resending_four_quarters_with_consistent_new_values_gives_no_outlier_warning():
    """Real data replacing the illustrative data: the four stored quarters come again,
    all doubled, with a new quarter in line with them. Judged against the values the
    file replaces, the new quarter would look twice too high; judged on the data as it
    will be, nothing is out of line."""
    cur = reference_portfolio(indicators=_sales(STORED_SALES))
    rows = [["KEN-DAIRY", q, 2 * v] for q, v in STORED_SALES] + [["KEN-DAIRY", "2017-Q3", 2050]]
    c = check({"Indicators": [IND + ["sales_usd"], *rows]}, cur)
    assert c.report.ok and c.report.warnings == []


def test_a_real_outlier_among_resent_quarters_gives_exactly_that_warning():
    cur = reference_portfolio(indicators=_sales(STORED_SALES))
    rows = [["KEN-DAIRY", q, 2 * v] for q, v in STORED_SALES] + [["KEN-DAIRY", "2017-Q3", 20500]]
    c = check({"Indicators": [IND + ["sales_usd"], *rows]}, cur)
    assert c.report.flatten("cell", "code") == [("C6", "outlier")]
    assert "(expected about 2,300 from 2016-Q3\u20132017-Q2)" in c.report.warnings[0].message


def test_the_files_own_earlier_quarters_count_as_history():
    """A new pilot sent with five quarters at once: the fifth is judged against the four
    before it, although the store holds nothing of it yet."""
    rows = [["KEN-DAIRY", q, v] for q, v in STORED_SALES]
    fine = check({"Indicators": [IND + ["sales_usd"], *rows, ["KEN-DAIRY", "2017-Q3", 1020]]})
    assert fine.report.ok and fine.report.warnings == []
    far = check({"Indicators": [IND + ["sales_usd"], *rows, ["KEN-DAIRY", "2017-Q3", 10200]]})
    assert far.report.flatten("cell", "code") == [("C6", "outlier")]


def test_a_stored_quarter_the_file_does_not_send_still_counts():
    """Only the values the file gives replace stored ones: a stored quarter the file
    leaves out stays in the history."""
    cur = reference_portfolio(indicators=_sales(STORED_SALES))
    c = check({"Indicators": [IND + ["sales_usd"], ["KEN-DAIRY", "2017-Q2", 1040],
                              ["KEN-DAIRY", "2017-Q3", 9000]]}, cur)
    assert c.report.flatten("cell", "code") == [("C3", "outlier")]
    # 2017-Q2 is the file's 1,040 (not the stored 1,050): the last value, plus the median
    # change (+90: +100, -150, +90)
    assert "(expected about 1,130 from 2016-Q3\u20132017-Q2)" in c.report.warnings[0].message


def _demo_resend(factor: float, today=dt.date(2019, 2, 1)):
    """The demo portfolio, and a workbook resending every quarter of every pilot with
    every number times ``factor`` (scores and units as they are)."""
    from linkdash import catalogue, demo

    tables = demo.demo_tables(today=today)
    cur = demo.portfolio_from_tables(tables)
    ind = tables["Indicators"].copy()
    kinds = catalogue.indicators()
    scale = ind["indicator"].map(lambda c: kinds[c].kind not in ("score", "unit"))
    ind.loc[scale, "value"] = ind.loc[scale, "value"] * factor
    return cur, ind


def _outlier_keys(report) -> set[str]:
    return {w.message.split(" is ")[0] for w in report.warnings if w.code == "outlier"}


def test_demo_data_resent_doubled_is_judged_on_itself_not_on_the_values_it_replaces():
    """Every quarter of the 13 demo pilots sent again, every number doubled: the values
    the file replaces no longer count (the first rule warned about 1,009 values here).
    What is left is what the doubled data says about itself, exactly what the same
    series say when they come into a store without indicators: with the trend, next to
    nothing (the level alone warned about some 200 values of steady growth); a value
    planted ten times too high adds exactly its own warning."""
    from linkdash import demo
    from tests.conftest import workbook_bytes

    today = dt.date(2019, 2, 1)
    cur, ind = _demo_resend(2.0, today)
    doubled = check_file(workbook_bytes({"Indicators": ind}), "real.xlsx", cur, today=today)
    assert doubled.report.ok, doubled.report.errors[:3]
    tables = demo.demo_tables(today=today)
    bare = demo.portfolio_from_tables({k: v for k, v in tables.items() if k != "Indicators"})
    alone = check_file(workbook_bytes({"Indicators": ind}), "real.xlsx", bare, today=today)
    base = _outlier_keys(doubled.report)
    # (a 0 doubled is the stored 0: already stored as it is, so not warned about again)
    zeros = {w.message.split(" is ")[0] for w in alone.report.warnings
             if w.code == "outlier" and w.value == 0}
    assert base == _outlier_keys(alone.report) - zeros
    assert len(base) <= 3  # (a count of 2 households that becomes 12)
    # plant one value ten times too high in the last quarter of a series
    series = ind[(ind["pilot_id"] == "KEN-DAIRY") & (ind["indicator"] == "income_avg_usd")]
    target = series.sort_values("quarter").index[-1]
    ind.loc[target, "value"] *= 10
    planted = check_file(workbook_bytes({"Indicators": ind}), "real.xlsx", cur, today=today)
    key = f"Income avg (USD) for KEN-DAIRY {ind.loc[target, 'quarter']}"
    assert key not in base
    assert _outlier_keys(planted.report) == base | {key}


def _plain_far(earlier: list[tuple[int, float]], xq: int, x: float, *, trend: bool = True) -> bool:
    """The outlier rule for one value ``x`` in quarter ``xq`` (quarter numbers) of
    sales (not a count) after ``earlier`` (4 to 8 (quarter, value), oldest first), one
    plain step at a time."""
    from statistics import median

    vals = [v for _, v in earlier]
    med = median(vals)
    mad = median(abs(v - med) for v in vals)
    level = abs(0.6745 * (x - med) / mad) > 3.5 if mad > 0 else (med > 0 and (x > 3 * med or x < med / 3))
    if not (level or x < min(vals) / 2 or x > 2 * max(vals)):
        return False
    if not trend:
        return True
    pairs = [(a, b) for i, a in enumerate(earlier) for b in earlier[i + 1:]]
    slope = median((vb - va) / (qb - qa) for (qa, va), (qb, vb) in pairs)
    carried = [v + slope * (xq - q) for q, v in earlier]
    line = median(carried)
    last_q, last = earlier[-1]
    steps = [(vb - va) / (qb - qa) for (qa, va), (qb, vb) in zip(earlier, earlier[1:])]
    step = median(steps)
    predictions = [(line, last, median(abs(c - line) for c in carried)),
                   (last + step * (xq - last_q), last, median(abs(s - step) for s in steps) * (xq - last_q))]
    yoy = [vb - va for (qa, va), (qb, vb) in pairs if qb - qa == 4]
    year_before = [v for q, v in earlier if q == xq - 4]
    if year_before and len(yoy) >= 2:
        change = median(yoy)
        predictions.append((year_before[0] + change, year_before[0], median(abs(y - change) for y in yoy)))

    def far_from(expected, base, mad):
        if min(vals) >= 0:
            expected = max(expected, 0.0)
        size, spread = max(abs(expected), abs(base)), 3.5 * mad / 0.6745
        return x - expected > max(spread, size) or expected - x > max(spread, size / 2)

    return all(far_from(*p) for p in predictions)


def test_outliers_agree_with_a_plain_python_reading_of_the_rule():
    """Random series, part stored (some values the file replaces, some it leaves), part
    in the file: the vectorised rule flags exactly what a plain loop over the data as it
    will be flags (the 8 quarters before each value, at least 4 of them; far from their
    level, then from each of what they predict)."""
    import numpy as np

    from linkdash import quarters as Q

    rng = np.random.default_rng(3)
    qs = Q.span("2016-Q3", "2020-Q1")  # 15 quarters, from the pilots' start
    pilots = ["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP", "VNM-DAIRY", "MWI-DAIRY", "RWA-DAIRY", "ZMB-DAIRY",
              "NPL-GOAT"]
    final, stored, rows = {}, [], []
    for pid in pilots:
        for i, q in enumerate(qs):
            v = float(rng.choice([rng.normal(1000, 50), rng.normal(1000, 400), 20000.0, 1000.0],
                                 p=[0.6, 0.2, 0.1, 0.1]).round())
            if i < 9:
                stored.append({"pilot_id": pid, "quarter": q, "indicator": "sales_usd", "value": v,
                               "text": None})
                final[(pid, q)] = v
            if i >= 6:  # the file resends quarters 6-8 (changed) and sends 9-14
                nv = v * 2 if i < 9 else v
                rows.append([pid, q, nv])
                final[(pid, q)] = nv
    cur = reference_portfolio(indicators=pd.DataFrame(stored))
    c = check({"Indicators": [IND + ["sales_usd"], *rows]}, cur, today=dt.date(2020, 6, 1))
    assert c.report.ok, c.report.errors[:3]
    expected, level_only = set(), set()
    for pid, q, x in rows:
        earlier = [(qs.index(e), final[(pid, e)]) for e in qs if e < q and (pid, e) in final][-8:]
        if len(earlier) < 4:
            continue
        if _plain_far(earlier, qs.index(q), x):
            expected.add(f"Sales (USD) for {pid} {q}")
        elif _plain_far(earlier, qs.index(q), x, trend=False):
            level_only.add(f"Sales (USD) for {pid} {q}")
    assert expected and level_only  # the random data holds outliers, and values only the trend explains
    assert _outlier_keys(c.report) == expected


def test_beyond_the_listed_number_the_farthest_outliers_are_listed_and_the_rest_counted(monkeypatch):
    """A file with more outliers than a director can read lists the farthest ones (by
    distance from their median, relative to it) and counts the rest in one warning
    that names how many and in how many pilots; the file can still be stored."""
    from linkdash import quarters as Q
    from linkdash.rules import outliers

    qs = Q.span("2016-Q3", "2018-Q4")  # 10 quarters
    pilots = ["KEN-DAIRY", "UGA-DAIRY", "SEN-SHEEP"]
    rows = []
    for n, pid in enumerate(pilots):
        for i, q in enumerate(qs):
            v = 1000.0 + i
            if i in (6, 8):  # quarters 6 and 8 jump: 3x to 13x, each value its own distance
                v = 1000.0 * (3 + 4 * n + i - 6)
            rows.append([pid, q, v])
    cur = reference_portfolio()
    full = check({"Indicators": [IND + ["sales_usd"], *rows]}, cur, today=dt.date(2019, 6, 1))
    every = [w for w in full.report.warnings if w.code == "outlier"]
    assert len(every) > 3 and not [w for w in full.report.warnings if w.code == "outliers_not_listed"]
    monkeypatch.setattr(outliers, "OUTLIER_LISTED", 3)
    capped = check({"Indicators": [IND + ["sales_usd"], *rows]}, cur, today=dt.date(2019, 6, 1))
    assert capped.report.ok
    listed = [w for w in capped.report.warnings if w.code == "outlier"]
    farthest = sorted(every, key=lambda w: -w.value)[:3]
    assert sorted(w.cell for w in listed) == sorted(w.cell for w in farthest)
    (rest,) = [w for w in capped.report.warnings if w.code == "outliers_not_listed"]
    assert rest.value == len(every) - 3
    assert f"{len(every) - 3:,} more values" in rest.message and "3 farthest" in rest.message
    left = [w for w in every if w.cell not in {x.cell for x in listed}]
    assert f"of {len({w.message.split(' for ')[1].split()[0] for w in left})} pilots" in rest.message


def test_window_medians_and_mads_equal_numpys_on_random_windows():
    """The sorting network and the pick of the MAD from the two sorted runs of
    deviations give np.median's floats exactly, for 8 values and for 4 to 7 (padded)."""
    import numpy as np

    from linkdash.rules import outliers as rules

    rng = np.random.default_rng(11)
    m = np.concatenate([rng.normal(1000, 300, (5000, 8)), rng.integers(0, 4, (5000, 8)).astype(float),
                        rng.uniform(-1e6, 1e6, (5000, 8)).round(2)])
    s = rules._sorted_columns([m[:, c].copy() for c in range(8)])
    med, mad = rules._full_window_stats(s)
    assert np.array_equal(med, np.median(m, axis=1))
    assert np.array_equal(mad, np.median(np.abs(m - med[:, None]), axis=1))
    count = rng.integers(4, 8, len(m))
    padded = np.where(np.arange(8)[None, :] < count[:, None], m, np.inf)
    cols = rules._sorted_columns([padded[:, c].copy() for c in range(8)])
    med, mad = rules._short_window_stats(cols, count)
    for k in range(4, 8):
        rows = m[count == k, :k]
        assert np.array_equal(med[count == k], np.median(rows, axis=1))
        assert np.array_equal(mad[count == k], np.median(np.abs(rows - med[count == k][:, None]), axis=1))


def test_problems_made_at_once_equal_problems_made_one_by_one():
    from linkdash.problems import Problem, many_problems

    made = many_problems("outlier", "warning", "Indicators", ["C2", "D3"], [1.5, 2.0], ["a", "b"])
    assert made == [Problem("outlier", "warning", "Indicators", "C2", 1.5, "a"),
                    Problem("outlier", "warning", "Indicators", "D3", 2.0, "b")]
    assert hash(made[0]) == hash(Problem("outlier", "warning", "Indicators", "C2", 1.5, "a"))
    assert made[1].as_dict()["message"] == "b"
