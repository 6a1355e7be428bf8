"""Every rule of the workbook spec, one module per concern:

- ``sheet``: a located sheet as typed columns (``ParsedSheet``), the check's
  ``Context``, the file's keys on one integer scale with the stored values;
- ``cells``: ``parse_sheet``, every cell typed and checked column by column;
- ``common``: duplicate keys, known pilots within the scope, quarters;
- ``pilots``, ``progress``, ``indicators`` (parts, local money, volume units),
  ``outliers``, ``lessons`` (Lessons and Rates): what needs more than one cell.

``importer.check_file`` calls them in order. Problem codes (stable; severity in
``PROBLEM_CODES``) are listed below.
"""

from linkdash.problems import ERROR, WARNING
from linkdash.rules.cells import parse_sheet
from linkdash.rules.common import duplicate_keys, pilot_rows_rules, quarter_rules
from linkdash.rules.indicators import convert_local_money, parts_rules, rate_for, volume_unit_rules
from linkdash.rules.lessons import lessons_rules, rates_rules
from linkdash.rules.outliers import LongValues, outlier_rules
from linkdash.rules.pilots import pilot_context, pilots_rules
from linkdash.rules.progress import progress_rules
from linkdash.rules.sheet import Context, ParsedSheet, StoredKeys, indicator_index, stored_keys

PROBLEM_CODES: dict[str, str] = {
    # the file (workbook.py)
    "file_empty": ERROR, "file_too_large": ERROR, "file_unreadable": ERROR,
    "not_a_spreadsheet": ERROR, "file_encrypted": ERROR, "zip_bomb": ERROR,
    "xml_entities": ERROR, "too_many_rows": ERROR, "no_known_sheet": ERROR,
    "no_header": ERROR, "duplicate_sheet": ERROR, "missing_column": ERROR,
    "duplicate_column": ERROR, "unknown_column": WARNING, "sheet_ignored": WARNING,
    "empty_sheet": WARNING, "file_unsafe": ERROR, "sheet_too_large": ERROR,
    "hidden_sheet": WARNING, "external_links": WARNING, "macros": WARNING,
    # who may send what (access.py)
    "not_allowed": ERROR, "admin_only": ERROR,
    # refused inside the commit's transaction (store.py, recheck.py)
    "conflict": ERROR, "nul_character": ERROR, "not_finite": ERROR, "out_of_range": ERROR,
    "bad_character": ERROR,
    # cells
    "not_a_number": ERROR, "not_whole": ERROR, "negative": ERROR, "negative_income": WARNING,
    "score_range": ERROR, "latitude_range": ERROR, "longitude_range": ERROR, "bad_year": ERROR,
    "bad_quarter": ERROR, "bad_date": ERROR, "bad_code": ERROR, "bad_pilot_id": ERROR,
    "bad_country": ERROR, "bad_currency": ERROR, "bad_indicator": ERROR,
    "required_value": ERROR, "text_too_long": ERROR, "formula_error": ERROR,
    "bad_text": ERROR,
    # rows and sheets
    "duplicate_key": ERROR, "unknown_pilot": ERROR, "out_of_scope": ERROR,
    "future_quarter": ERROR, "before_start": ERROR, "part_above_total": ERROR,
    "end_before_start": ERROR, "completed_without_end": ERROR,
    "pilot_id_prefix": WARNING, "outside_country": WARNING, "coordinates_incomplete": WARNING,
    "missing_rate": ERROR, "bad_rate": ERROR, "money_both_given": WARNING,
    "volume_unit_missing": WARNING, "outlier": WARNING, "outliers_not_listed": WARNING,
}

__all__ = [
    "ERROR", "WARNING", "PROBLEM_CODES", "Context", "LongValues", "ParsedSheet", "StoredKeys",
    "convert_local_money", "duplicate_keys", "indicator_index", "lessons_rules", "outlier_rules",
    "parse_sheet", "parts_rules", "pilot_context", "pilot_rows_rules", "pilots_rules",
    "progress_rules", "quarter_rules", "rate_for", "rates_rules", "stored_keys", "volume_unit_rules",
]
