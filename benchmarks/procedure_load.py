#!/usr/bin/env python
"""`make bench`: validate and load 200 procedure files, as `validate_procedures` and
`load_procedures` do at a deployment, into PostgreSQL.

The 200 files are made from the shipped samples (procedures/), copied into a temporary
tree of 20 organizations of 10 procedures each, every copy with its own title so that
each is a new version. Printed: the seconds to validate the tree (load_tree), to load it
into an empty database (procedures_load: validate again, write organizations, versions and
the waiting room's config), and, as the baseline of the same run, to only parse the same
files with PyYAML (no checks, no database).

    procedure_load   seconds to validate and load the 200 files. Target: under 10 s.

One JSON line like benchmarks/run.py's ("ratio" is value / baseline). Exit 0 on target, 3
when missed, 1 on an error. `--smoke`: 20 files, never fails on the target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run as harness  # noqa: E402

SAMPLES = ROOT / "procedures"
TARGET_SECONDS = 10.0


def make_tree(dest: Path, files: int, per_org: int = 10) -> int:
    """`files` procedure files under dest/, copied from the samples; returns how many."""
    sources = {
        org.name: sorted(
            p
            for p in org.glob("*.yaml")
            if p.name != "organization.yaml" and not p.name.endswith(".bundle.yaml")
        )
        for org in sorted(SAMPLES.iterdir())
        if org.is_dir()
    }
    made = 0
    n_org = 0
    while made < files:
        template = sorted(sources)[n_org % len(sources)]
        org_dir = dest / f"{template}-{n_org:03d}"
        org_dir.mkdir(parents=True)
        shutil.copy(SAMPLES / template / "organization.yaml", org_dir / "organization.yaml")
        for i in range(min(per_org, files - made)):
            src = sources[template][i % len(sources[template])]
            text = src.read_text(encoding="utf-8")
            # A title of its own: a distinct content, hence a distinct version.
            text = text.replace("title: {ja: ", f"title: {{ja: 第{made}号 ", 1)
            (org_dir / f"{src.stem}-{i:02d}.yaml").write_text(text, encoding="utf-8")
            made += 1
        n_org += 1
    return made


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--files", type=int)
    p.add_argument("--database-url")
    a = p.parse_args(argv)
    files = a.files or (20 if a.smoke else 200)
    name = f"{harness.DB_PREFIX}_load_{os.getpid()}"
    db_url = harness.bench_database_url(a.database_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="denshi-bench-load-"))
    created = False
    try:
        tree_dir = workdir / "procedures"
        made = make_tree(tree_dir, files)
        harness.database_recreate(db_url)
        created = True
        harness.django_setup(db_url, workdir)
        from django.core.management import call_command

        call_command("migrate", interactive=False, run_syncdb=True, verbosity=0)
        import yaml

        from forms_engine import services
        from forms_engine.procedure_format import loader

        paths = sorted(tree_dir.rglob("*.yaml"))
        began = time.perf_counter()
        safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built
        for path in paths:
            yaml.load(path.read_text(encoding="utf-8"), Loader=safe_loader)  # noqa: S506
        parse_s = time.perf_counter() - began

        began = time.perf_counter()
        tree = loader.load_tree(tree_dir)  # every registered integration type, as the service
        validate_s = time.perf_counter() - began
        if tree.errors:
            raise harness.BenchError("generated tree does not validate: " + str(tree.errors[:3]))

        began = time.perf_counter()
        report = services.procedures_load(tree_dir)
        load_s = time.perf_counter() - began
        if report.errors or len(report.created) != made:
            raise harness.BenchError(
                f"load: {len(report.created)} created of {made}, errors {report.errors[:3]}"
            )
        total = validate_s + load_s
        ok = total < TARGET_SECONDS
        print()
        print(
            f"files            {made} procedure files in {len(list(tree_dir.iterdir()))} organizations"
        )
        print(f"parse only       {parse_s:7.2f} s  (PyYAML's safe loader alone, the baseline)")
        print(f"validate         {validate_s:7.2f} s  (load_tree: every check)")
        print(f"load             {load_s:7.2f} s  (procedures_load into PostgreSQL)")
        print(
            f"validate + load  {total:7.2f} s  target < {TARGET_SECONDS:.0f} s: {'yes' if ok else 'NO'}"
        )
        print()
        print(
            json.dumps(
                {
                    "bench": "procedure_load",
                    "value": round(total, 2),
                    "unit": "s",
                    "baseline": round(parse_s, 3),
                    "ratio": round(total / parse_s, 2) if parse_s else 0.0,
                    "target": TARGET_SECONDS,
                    "ok": ok,
                }
            ),
            flush=True,
        )
        return 0 if ok or a.smoke else 3
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        if created:
            harness.database_drop(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except harness.BenchError as exc:
        print(f"bench: ERROR: {exc}", file=sys.stderr)
        sys.exit(1)
