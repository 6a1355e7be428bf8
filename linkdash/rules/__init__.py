"""Every rule of the workbook spec, one module per concern:

- ``sheet``: a located sheet as typed columns (``ParsedSheet``), the check's
  ``Context``, the file's keys on one integer scale with the stored values;
- ``cells``: ``parse_sheet``, every cell typed and checked column by column;
- ``common``: duplicate keys, known pilots within the scope, quarters;
- ``pilots``, ``progress``, ``indicators`` (parts, local money, volume units),
  ``outliers``, ``lessons`` (Lessons and Rates): what needs more than one cell.

``importer.check_file`` calls them in order. Problem codes, their severities and
meanings are registered in ``problems.CODES``.
"""

from linkdash.rules.cells import parse_sheet
from linkdash.rules.common import duplicate_keys, pilot_rows_rules, quarter_rules
from linkdash.rules.indicators import (
    convert_local_money,
    parts_rules,
    rate_for,
    volume_unit_rules,
)
from linkdash.rules.lessons import lessons_rules, rates_rules
from linkdash.rules.outliers import LongValues, outlier_rules
from linkdash.rules.pilots import pilot_context, pilots_rules
from linkdash.rules.progress import progress_rules
from linkdash.rules.sheet import (
    Context,
    ParsedSheet,
    StoredKeys,
    indicator_index,
    stored_keys,
)

__all__ = [
    "Context", "LongValues", "ParsedSheet", "StoredKeys",
    "convert_local_money", "duplicate_keys", "indicator_index", "lessons_rules", "outlier_rules",
    "parse_sheet", "parts_rules", "pilot_context", "pilot_rows_rules", "pilots_rules",
    "progress_rules", "quarter_rules", "rate_for", "rates_rules", "stored_keys", "volume_unit_rules",
]
