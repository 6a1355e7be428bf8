"""``python -m linkdash``: the command line for admins, scripts and tests.

Every command calls the same functions as the pages. Those return data or write files;
only this module prints and chooses the exit code: 0 success, 1 the user's data has
errors (or a command could not do what was asked, or the acting user may not), 2 usage.

Commands that change data or users act as someone: ``--user EMAIL`` (a user with a
role in the store, limited as on the pages) or ``--as-admin`` (the person at the
server's shell, recorded as such). There is no silent default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkdash.portfolio import Filter, Portfolio


def _store(args):
    from linkdash.store import Store

    return Store.open(args.db)


def _actor(args, store):
    """Who acts (``--user`` / ``--as-admin``); None after printing why not."""
    from linkdash import access

    try:
        return access.cli_actor(store, getattr(args, "user", None), getattr(args, "as_admin", False))
    except access.Denied as e:
        print(f"{args.command}: {e}", file=sys.stderr)
        return None


def _refusal(args, actor, admin_only: str | None = None) -> int | None:
    """The exit code when ``actor`` may not run the command, else None: 2 when no one
    acts (``_actor`` said why), 1 when only administrators may (``admin_only``: what
    they do) and the actor is not one."""
    if actor is None:
        return 2
    if admin_only and not actor.is_admin:
        print(f"{args.command}: only administrators {admin_only} ({actor.describe()}).", file=sys.stderr)
        return 1
    return None


def _acting(admin_only: str | None = None):
    """A command run as someone: ``command(args, store, actor)``, unless ``_refusal``."""
    def wrap(command):
        @functools.wraps(command)
        def run(args) -> int:
            store = _store(args)
            actor = _actor(args, store)
            refused = _refusal(args, actor, admin_only)
            return refused if refused is not None else command(args, store, actor)
        return run
    return wrap


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _print_lines(lines: list[str]) -> None:
    print("\n".join(lines))


# --- filters from the options ------------------------------------------------------

def _split(text: str | None) -> list[str]:
    if text is None:
        return []
    return [t.strip() for t in str(text).split(",") if t.strip()]


def filter_from_args(region=None, country=None, value_chain=None, pilot=None) -> Filter:
    """A Filter from command-line text: regions, value chains and pilot ids match without
    regard to case (several separated by commas); a country is anything the spec's Country
    rule accepts. Raises ValueError with a message for text that matches nothing."""
    from linkdash import catalogue, countries
    from linkdash.portfolio import Filter

    regions = []
    for r in _split(region):
        hit = next((x for x in catalogue.REGIONS if x.lower() == r.lower()), None)
        if hit is None:
            raise ValueError(f"unknown region {r!r}: use one of {', '.join(catalogue.REGIONS)}")
        regions.append(hit)
    cs = []
    if country is not None and country.strip():
        a3 = countries.to_alpha3(country.strip())
        if a3 is None:
            raise ValueError(f"unknown country {country!r}: use an English name or an ISO "
                             "alpha-2/alpha-3 code")
        cs.append(a3)
    chains = []
    for v in _split(value_chain):
        key = catalogue.normalize_header(v)
        hit = next((c for c in catalogue.VALUE_CHAINS
                    if c == key or catalogue.normalize_header(catalogue.VALUE_CHAIN_LABELS[c]) == key), None)
        if hit is None:
            raise ValueError(f"unknown value chain {v!r}: use one of {', '.join(catalogue.VALUE_CHAINS)}")
        chains.append(hit)
    pilots = [p.upper() for p in _split(pilot)]
    return Filter(tuple(regions), tuple(cs), tuple(chains), tuple(pilots))


def _view(args):
    """(stored portfolio, filter, quarter, as-of date) that ``export``/``summary`` show,
    warning about pilots the store does not know; None after saying which option is wrong."""
    try:
        flt, quarter, as_of = view_from_args(args)
    except ValueError as e:
        print(f"{args.command}: {e}", file=sys.stderr)
        return None
    portfolio = _store(args).load()
    _warn_unknown_pilots(args.command, portfolio, flt)
    return portfolio, flt, quarter, as_of


def view_from_args(args) -> tuple[Filter, str | None, dt.date | None]:
    """The filter, quarter and as-of date that the command line's ``--region --country
    --value-chain --pilot --quarter --as-of`` options ask for (absent options: all, None).
    Raises ValueError naming the option whose value can't be read."""
    from linkdash import values

    flt = filter_from_args(getattr(args, "region", None), getattr(args, "country", None),
                           getattr(args, "value_chain", None), getattr(args, "pilot", None))
    quarter = as_of = None
    if getattr(args, "quarter", None):
        quarter, msg = values.parse_quarter(args.quarter)
        if msg:
            raise ValueError(f"--quarter {msg}")
    if getattr(args, "as_of", None):
        as_of, msg = values.parse_date(args.as_of)
        if msg:
            raise ValueError(f"--as-of {msg}")
    return flt, quarter, as_of


def _warn_unknown_pilots(command: str, portfolio: Portfolio, flt: Filter) -> None:
    known = set(portfolio.pilots["pilot_id"])
    for pid in flt.pilots:
        if pid not in known:
            print(f"{command}: no pilot {pid} in the store", file=sys.stderr)


def summary_lines(figs: dict, flt: Filter) -> list[str]:
    """``portfolio_figures`` as the ``summary`` command's table: a title naming the quarter
    and the filter, the as-of date, then one line per figure (label, value, unit)."""
    from linkdash import quarters
    from linkdash.figures import FIGURES, format_figure

    q = figs["quarter"]
    title = f"Portfolio figures for {quarters.label(q) if q else 'no quarter (no indicator data)'}"
    width = max(len(f.label) for f in FIGURES.values())
    return [f"{title} - {flt.describe()}", f"Milestones as of {figs['as_of'].isoformat()}", "",
            *(f"  {f.label:<{width}}  {format_figure(name, figs[name]):>10}  {f.unit}"
              for name, f in FIGURES.items())]


# --- commands ------------------------------------------------------------------
# Each command is a small function; the work is done in linkdash modules.

def cmd_template(args) -> int:
    from linkdash.template import write_template

    write_template(Path(args.out))
    print(f"Wrote the blank template to {args.out}")
    return 0


def _send_file(args, store, actor, send) -> int:
    """``validate`` and ``import``: ``send`` (``submit.validate`` or ``submit.import_file``)
    the file ``args.file`` as ``actor``, its outcome printed."""
    path = Path(args.file)
    return print_outcome(send(store, path.read_bytes(), path.name, actor=actor), args.json)


@_acting()
def cmd_validate(args, store, actor) -> int:
    from linkdash import submit

    return _send_file(args, store, actor, submit.validate)


@_acting()
def cmd_import(args, store, actor) -> int:
    from linkdash import submit

    return _send_file(args, store, actor, submit.import_file)


def print_outcome(outcome, as_json: bool = False) -> int:
    """Print a validation's or an import's outcome; 0 when ok, 1 when the file has errors."""
    from linkdash import submit

    if as_json:
        _print_json(outcome.as_json())
    else:
        print(submit.format_outcome(outcome))
    return 0 if outcome.ok else 1


def cmd_submissions(args) -> int:
    from linkdash import submit

    subs = _store(args).submissions()
    if args.json:
        _print_json(submit.submissions_json(subs))
    else:
        _print_lines(submit.submissions_lines(subs))
    return 0


@_acting()
def cmd_rollback(args, store, actor) -> int:
    from linkdash import submit

    result = submit.rollback(store, args.id, actor=actor)
    if args.json:
        _print_json(result.as_dict())
    else:
        _print_lines(submit.rollback_lines(result))
    return 0 if result.ok else 1  # 1: nothing changed (it cannot be, or they may not)


def _illustrative(args, portfolio):
    """``demo=`` for the deck and the report: ``story.MIXED`` when illustrative data sits
    beside real uploads (the history says so), else None (``portfolio.is_illustrative``)."""
    from linkdash import illustrative, story

    return story.MIXED if illustrative.state(_store(args).submissions(), portfolio).mixed else None


def cmd_export(args) -> int:
    from linkdash import exports

    view = _view(args)
    if view is None:
        return 2
    portfolio, flt, quarter, _ = view
    result = exports.write_export(portfolio, Path(args.out), flt=flt, quarter=quarter,
                                  demo=_illustrative(args, portfolio))
    print(result.message)
    return 0 if result.written else 1


def cmd_summary(args) -> int:
    from linkdash import figures

    view = _view(args)
    if view is None:
        return 2
    portfolio, flt, quarter, as_of = view
    figs = figures.portfolio_figures(portfolio, flt, quarter=quarter, as_of=as_of)
    if args.json:
        _print_json({**figs, "as_of": figs["as_of"].isoformat()})
        return 0
    _print_lines(summary_lines(figs, flt))
    if portfolio.pilots.empty:
        print("\nThe store has no pilots yet: import a workbook, or load the illustrative demo data "
              "with `python -m linkdash demo`.", file=sys.stderr)
    return 0


@_acting(admin_only="load the demo data")
def cmd_demo(args, store, actor) -> int:
    from linkdash import demo

    loaded = demo.load_demo(store, only_if_empty=args.if_empty)
    _print_lines(loaded.lines())
    return 0 if loaded.ok else 1


def cmd_generate(args) -> int:
    from linkdash import generate

    if not args.out and not args.load:
        print("generate: give OUT.xlsx, --load, or both")
        return 2
    store = _store(args) if args.load else None
    if store is not None:  # changes data: an administrator, as for `demo`
        refused = _refusal(args, _actor(args, store), admin_only="load data this way")
        if refused is not None:
            return refused
    tables = generate.generate_tables(args.pilots, args.quarters, seed=args.seed)
    what = generate.described(tables, args.pilots, args.quarters)
    if args.out:
        generate.write_workbook(tables, args.out)
        print(f"Wrote {what} to {args.out}")
    if store is not None:
        try:
            sub = generate.load_store(store, tables, filename=generate.FILENAME_FORMAT.format(
                pilots=args.pilots, quarters=args.quarters, seed=args.seed))
        except ValueError as e:
            print(f"generate: {e}")
            return 1
        print(f"Loaded {what} as submission {sub}")
    return 0


@_acting()
def cmd_user(args, store, actor) -> int:
    """``user add|list|remove|import-csv``: administrators only (``--as-admin`` at the
    shell, or ``--user`` of an administrator); every change is in the role history."""
    from linkdash import access, roles

    try:
        if args.action == "list":
            df = access.list_users(store, actor)
            if args.json:
                _print_json([{**r, "added_at": r["added_at"].isoformat() if r["added_at"] else None,
                              "changed_at": r["changed_at"].isoformat() if r["changed_at"] else None}
                             for r in df.to_dict("records")])
            elif df.empty:
                print("No users yet: add one with `user add EMAIL ROLE [SCOPE] --as-admin`.")
            else:
                for r in df.itertuples(index=False):
                    print(f"{r.email:40}  {r.role:9}  {r.scope}")
            return 0
        if args.action == "add":
            done = access.set_user(store, actor, args.email, args.role, args.scope)
            print({"add": "Added", "change": "Changed", "same": "Unchanged:"}[done],
                  roles.get_user(store.engine, args.email))
            return 0
        if args.action == "remove":
            gone = access.remove_user(store, actor, args.email)
            print(f"Removed {gone.email} ({gone.role}).")
            return 0
        counts = access.import_users_csv(store, actor, Path(args.file).read_text(encoding="utf-8-sig"))
        print(f"Imported {args.file}: {counts['add']} added, {counts['change']} changed, "
              f"{counts['same']} unchanged.")
        return 0
    except (access.Denied, roles.RoleError) as e:
        print(f"user {args.action}: {e}", file=sys.stderr)
        return 1


def cmd_codes(args: argparse.Namespace) -> int:
    from linkdash import problems

    print(problems.codes_markdown(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m linkdash", description="LINK Pilot Monitor")
    p.add_argument("--db", default=None,
                   help="SQLAlchemy URL of the store (default: $LINKDASH_DATABASE_URL, "
                        "else the SQLite file data/linkdash.sqlite)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("codes", help="every problem code a check can report (a markdown table)")
    s.set_defaults(func=cmd_codes)
    s = sub.add_parser("template", help="write the blank workbook template")
    s.add_argument("out")
    s.set_defaults(func=cmd_template)

    s = sub.add_parser("validate", help="check a workbook against the store; store nothing")
    s.add_argument("file")
    _who(s, "who sends it (checks what they may change)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("import", help="check and commit a workbook")
    s.add_argument("file")
    _who(s, "who sends it (only what their role and scope allow)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("submissions", help="the submission history")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_submissions)

    s = sub.add_parser("rollback", help="undo a submission")
    s.add_argument("id", type=int)
    _who(s, "who rolls it back (admins; directors within their scope)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_rollback)

    s = sub.add_parser("export", help="export to .xlsx, .csv, .pptx or .html",
                       description="Export what the filters show (every pilot without them).")
    s.add_argument("out", help="OUT.xlsx (the template's sheets, re-importable), OUT.csv "
                               "(the Indicators sheet), OUT.pptx (slides) or OUT.html (report)")
    _filter_options(s)
    s.add_argument("--quarter", help="xlsx/csv: nothing after this quarter; pptx/html: the "
                                     "quarter shown (default: the latest with data)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("summary", help="the portfolio figures")
    s.add_argument("--quarter")
    _filter_options(s)
    s.add_argument("--as-of", dest="as_of")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("demo", help="load the illustrative demo data for the 13 pilots")
    s.add_argument("--if-empty", action="store_true", help="only when the store has no pilots")
    _who(s, "an administrator")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("generate", help="generated data of any size, for benchmarks and tests",
                       description="N pilots x Q quarters of plausible made-up data, the same "
                                   "for the same seed: an .xlsx to import, or (--load) straight "
                                   "into an empty store.")
    s.add_argument("out", nargs="?", help="OUT.xlsx to write")
    s.add_argument("--pilots", type=int, default=1000)
    s.add_argument("--quarters", type=int, default=40)
    s.add_argument("--seed", type=int, default=13)
    s.add_argument("--load", action="store_true", help="load into the (empty) store as one submission")
    _who(s, "an administrator (with --load)")
    s.set_defaults(func=cmd_generate)

    s = sub.add_parser("user", help="users and roles (administrators only)",
                       description="Roles: admin (everything), director (uploads and rolls "
                                   "back for their regions), country (uploads for their "
                                   "pilots), viewer (reads). Every change is in the history.")
    us = s.add_subparsers(dest="action", required=True)
    u = us.add_parser("list", help="every user with role and scope")
    u.add_argument("--json", action="store_true")
    _who(u, "an administrator")
    u = us.add_parser("add", help="add a user, or change their role and scope")
    u.add_argument("email")
    u.add_argument("role", choices=["admin", "director", "country", "viewer"])
    u.add_argument("scope", nargs="?", default="",
                   help="director: regions (\"Asia\" or \"Africa, Asia\"); country: pilot ids "
                        "(\"KEN-DAIRY, UGA-DAIRY\")")
    _who(u, "an administrator")
    u = us.add_parser("remove", help="remove a user")
    u.add_argument("email")
    _who(u, "an administrator")
    u = us.add_parser("import-csv", help="add or change the users of an access.csv "
                                         "(email,scope[,role]; scope * = admin)")
    u.add_argument("file")
    _who(u, "an administrator")
    s.set_defaults(func=cmd_user)
    return p


def _filter_options(parser: argparse.ArgumentParser) -> None:
    """The filters of ``export`` and ``summary`` (``filter_from_args`` reads them)."""
    parser.add_argument("--region", help="Asia, Africa or Latin America (several: comma-separated)")
    parser.add_argument("--country", help="a country name or ISO code")
    parser.add_argument("--value-chain", dest="value_chain", help="value chain code(s), comma-separated")
    parser.add_argument("--pilot", help="pilot id(s), comma-separated")


def _who(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--user", default=None, metavar="EMAIL",
                        help=f"act as this user, {what}; they need a role in the store")
    parser.add_argument("--as-admin", dest="as_admin", action="store_true",
                        help="act as the administrator at the server's shell (recorded as such)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
