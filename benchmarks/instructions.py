#!/usr/bin/env python
"""Instructions per GET of the 40-field page (`page_render`), and per part of it, counted
by valgrind's callgrind: a figure that the load of other processes on a shared machine does
not change, unlike wall-clock or even CPU time.

    .venv/bin/python benchmarks/instructions.py              # Japanese, 20 requests a part
    .venv/bin/python benchmarks/instructions.py --lang en -n 10

The page is prepared as benchmarks/run.py prepares it (a fresh bench database, the bench
procedures, a draft filled in through the real views), outside valgrind. Then one process
runs under callgrind with instrumentation off (PYTHONHASHSEED=0), warms each part up, and
switches instrumentation on (`callgrind_control -i on`) only around each measured loop:

    whole GET          Django's test client, the whole middleware stack, as wrk's GET
                       (the session and CSRF cookies of a browser that filled the draft in)
    draft read         forms_engine.views.common._draft_for(..., with_unpublished=True)
    field HTML         forms_engine.filing.render_fields for the 40 fields
    template           page.html + base.html with the page's context (fields_html given)

Prints millions of instructions per request for each. Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import run  # noqa: E402 - needs the repository on sys.path first


def _prepare(db_url: str, workdir: Path) -> dict:
    prepare = run.django_setup(db_url, workdir)
    prepare.schema_and_procedures(run.PROCEDURES)
    draft, client = prepare.fill_in(*prepare.LONG_PAGE, prepare.LONG_PAGE_INPUTS)
    url = prepare.long_page(client, draft)
    cookie, _token = prepare.csrf_pair()
    from django.db import connections

    connections.close_all()
    return {
        "url": url,
        "draft": str(draft.pk),
        "session": client.cookies["sessionid"].value,
        "csrftoken": cookie,
    }


def _callgrind(*args: str) -> None:
    subprocess.run(
        ["callgrind_control", *args, str(os.getpid())], check=True, stdout=subprocess.DEVNULL
    )


def _parts(state: dict, lang: str) -> list[tuple[str, Callable[[], object]]]:
    """The measured parts, set up (Django is set up, nothing counted yet)."""
    from django.conf import settings
    from django.shortcuts import render
    from django.test import Client
    from django.utils import translation

    from forms_engine import services
    from forms_engine.filing import raw_from_answers, render_fields
    from forms_engine.views import common, pages

    client = Client()
    client.cookies["sessionid"] = state["session"]
    client.cookies["csrftoken"] = state["csrftoken"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    url = state["url"]

    def whole():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    # The request as the middleware left it, the language it activated; the other parts
    # run outside the middleware with these.
    request = client.get(url).wsgi_request
    translation.activate(lang)
    draft = common._draft_for(request, state["draft"], with_unpublished=True)
    view = services.draft_view(draft)
    position, page_id = url.strip("/").split("/")[2:4]
    step = view.step(int(position), page_id)
    steps = view.steps()
    ctx = common._ctx(request, draft, step)
    raw = draft.pending.get(step.key)
    if raw is None:
        raw = raw_from_answers(view, step)
    context = pages._page_context(request, draft, view, step, raw, {}, [], ctx, steps)

    def draft_read():
        common._draft_for(request, state["draft"], with_unpublished=True)

    def fields():
        render_fields(view, step, raw, {}, ctx)

    def template():
        translation.activate(lang)  # as the middleware left it after whole()
        render(request, "forms_engine/page.html", context)

    return [
        ("whole GET", whole),
        ("draft read", draft_read),
        ("field HTML", fields),
        ("template", template),
    ]


#: What is measured; a probe script may replace it (benchmarks/instructions.py runs the
#: script it was started from under valgrind).
parts = _parts


def _measure(state: dict, db_url: str, workdir: Path, n: int, lang: str) -> list[str]:
    """Runs under callgrind: each part warmed up, then counted alone and dumped."""
    run.django_setup(db_url, workdir)
    names = []
    for name, part in parts(state, lang):
        for _i in range(5):
            part()
        _callgrind("-i", "on")
        for _i in range(n):
            part()
        _callgrind("-i", "off")
        _callgrind("-d")
        names.append(name)
    return names


def _totals(out: str) -> list[int]:
    """The instruction totals of each dump, in dump order."""
    files = sorted(glob.glob(f"{out}.*"), key=lambda f: int(f.rsplit(".", 1)[1].split("-")[0]))
    totals = []
    for name in files:
        with open(name) as f:
            for line in f:
                if line.startswith("totals:"):  # "summary:" is 0 in a dump
                    totals.append(int(line.split()[1]))
                    break
    return totals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=20, help="measured requests per part (20)")
    p.add_argument("--lang", choices=["ja", "en"], default="ja")
    p.add_argument("--database-url")
    p.add_argument("--measure", help=argparse.SUPPRESS)  # the state file, under valgrind
    args = p.parse_args(argv)

    if args.measure:
        state = json.loads(Path(args.measure).read_text())
        names = _measure(state, state["db_url"], Path(state["workdir"]), args.n, args.lang)
        Path(args.measure).with_suffix(".names").write_text("\n".join(names))
        return 0

    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    db_url = run.bench_database_url(args.database_url, f"{run.DB_PREFIX}_instr_{os.getpid()}")
    workdir = Path(tempfile.mkdtemp(prefix="denshi-instr-"))
    try:
        run.database_recreate(db_url)
        state = _prepare(db_url, workdir)
        state.update(db_url=db_url, workdir=str(workdir))
        state_file = workdir / "state.json"
        state_file.write_text(json.dumps(state))
        out = str(workdir / "callgrind.out")
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                os.path.abspath(sys.argv[0]),  # this script, or a probe importing it
                "--measure",
                str(state_file),
                "-n",
                str(args.n),
                "--lang",
                args.lang,
            ],
            check=True,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        totals = _totals(out)
        print(f"millions of instructions per request ({args.lang}, {args.n} requests a part):")
        names = state_file.with_suffix(".names").read_text().split("\n")
        for name, total in zip(names, totals, strict=True):
            print(f"  {name:12} {total / args.n / 1e6:7.2f}")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        run.database_drop(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
