"""``python -m linkdash``: the command line for admins, scripts and tests.

Every command calls the same functions as the pages. Exit codes: 0 success, 1 the
user's data has errors (or a command could not do what was asked), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _store(args):
    from linkdash.store import Store

    return Store.open(args.db)


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


# --- commands ------------------------------------------------------------------
# Each command is a small function; the work is done in linkdash modules.

def cmd_template(args) -> int:
    from linkdash.template import write_template

    write_template(Path(args.out))
    print(f"Wrote the blank template to {args.out}")
    return 0


def cmd_validate(args) -> int:
    from linkdash import submit

    store = _store(args)
    current = store.load()  # read once: the checks, the scope and the preview share it
    outcome = submit.validate(store, Path(args.file).read_bytes(), Path(args.file).name,
                              user=args.user, scope=submit.scope_of(store, args.user, current),
                              current=current)
    return submit.print_outcome(outcome, as_json=args.json)


def cmd_import(args) -> int:
    from linkdash import submit

    store = _store(args)
    current = store.load()
    outcome = submit.import_file(store, Path(args.file).read_bytes(), Path(args.file).name,
                                 user=args.user, scope=submit.scope_of(store, args.user, current),
                                 current=current)
    return submit.print_outcome(outcome, as_json=args.json)


def cmd_submissions(args) -> int:
    from linkdash import submit

    return submit.print_submissions(_store(args), as_json=args.json)


def cmd_rollback(args) -> int:
    from linkdash import submit

    return submit.print_rollback(_store(args), args.id, user=args.user, as_json=args.json)


def cmd_export(args) -> int:
    from linkdash import exports
    from linkdash.figures import view_from_args

    try:
        flt, quarter, _ = view_from_args(args)
    except ValueError as e:
        print(f"export: {e}", file=sys.stderr)
        return 2
    return exports.export_command(_store(args), Path(args.out), flt=flt, quarter=quarter)


def cmd_summary(args) -> int:
    from linkdash import figures

    return figures.summary_command(_store(args), args)


def cmd_demo(args) -> int:
    from linkdash import demo

    return demo.demo_command(_store(args), only_if_empty=args.if_empty)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m linkdash", description="LINK Pilot Monitor")
    p.add_argument("--db", default=None,
                   help="SQLAlchemy URL of the store (default: $LINKDASH_DATABASE_URL, "
                        "else the SQLite file data/linkdash.sqlite)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("template", help="write the blank workbook template")
    s.add_argument("out")
    s.set_defaults(func=cmd_template)

    s = sub.add_parser("validate", help="check a workbook against the store; store nothing")
    s.add_argument("file")
    s.add_argument("--user", default=None,
                   help="e-mail of who sends it (checks the pilots they may change)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("import", help="check and commit a workbook")
    s.add_argument("file")
    s.add_argument("--user", default=None,
                   help="e-mail of who sends it (only the pilots they may change, when "
                        "data/access.csv or $LINKDASH_ACCESS_FILE lists who may change what)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("submissions", help="the submission history")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_submissions)

    s = sub.add_parser("rollback", help="undo a submission")
    s.add_argument("id", type=int)
    s.add_argument("--user", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_rollback)

    s = sub.add_parser("export", help="export to .xlsx, .csv, .pptx or .html",
                       description="Export what the filters show (every pilot without them).")
    s.add_argument("out", help="OUT.xlsx (the template's sheets, re-importable), OUT.csv "
                               "(the Indicators sheet), OUT.pptx (slides) or OUT.html (report)")
    s.add_argument("--region", help="Asia, Africa or Latin America (several: comma-separated)")
    s.add_argument("--country", help="a country name or ISO code")
    s.add_argument("--value-chain", dest="value_chain", help="value chain code(s), comma-separated")
    s.add_argument("--pilot", help="pilot id(s), comma-separated")
    s.add_argument("--quarter", help="xlsx/csv: nothing after this quarter; pptx/html: the "
                                     "quarter shown (default: the latest with data)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("summary", help="the portfolio figures")
    s.add_argument("--quarter")
    s.add_argument("--region")
    s.add_argument("--country")
    s.add_argument("--value-chain", dest="value_chain")
    s.add_argument("--pilot")
    s.add_argument("--as-of", dest="as_of")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("demo", help="load the illustrative demo data for the 13 pilots")
    s.add_argument("--if-empty", action="store_true", help="only when the store has no pilots")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
