# The README's words: `make run` starts everything locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# checkov (infra tests) lives in a virtualenv of its own: it pins boto3 and other libraries
# to old versions that must not decide what the app is tested with.
CHECKOV := $(VENV)/checkov/bin/checkov
CHECKOV_VERSION := >=3.3,<3.4
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run ratings phone rebuild-aggregates test test-fast lint format bench package pages-upload first-admin onboard deps java chromium clean

run: deps
	$(PY) -m devtools.local_stack

# The ratings the running `make run` stack has stored (reads DynamoDB Local).
ratings: $(VENV)/.installed
	$(PY) -m devtools.show_ratings

# A fake phone texting the local stack: make phone NUMBER=+14155550123 [TEXT=2] [INVITE=1]
phone: $(VENV)/.installed
	$(PY) -m devtools.fake_phone $${NUMBER:?set NUMBER=+1...} $${TEXT:+"$$TEXT"} $${INVITE:+--invite}

# Recompute every aggregate of the running stack: make rebuild-aggregates SINCE=2026-11-01
rebuild-aggregates: $(VENV)/.installed
	$(PY) -m devtools.rebuild_aggregates --since $${SINCE:?set SINCE=YYYY-MM-DD}

# On every core (at most 4): each worker starts its own DynamoDB Local and, for the browser
# tests, its own local stack. `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto
test: deps
	$(PY) -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4

# tests/unit only (no Java, no browser); `-m integration`, `-m infra`, `-m browser` run the others.
test-fast: deps
	$(PY) -m pytest -m unit

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# make bench QUICK=1: a tenth of the work (load: 5 s runs instead of 60 s), to see that the
# benchmarks run.
bench: deps
	$(PY) -m benchmarks.ingest $${QUICK:+--quick}
	$(PY) -m benchmarks.kiosk $${QUICK:+--quick}
	$(PY) -m benchmarks.loop $${QUICK:+--quick}
	$(PY) -m benchmarks.aggregate $${QUICK:+--quick}
	$(PY) -m benchmarks.load $${QUICK:+--quick}

# The CloudFormation template: Chalice's resources merged with infra/resources.yaml.
package: deps
	cd functions && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} STOREPULSE_TABLE_NAME=packaging \
	  ../$(VENV)/bin/chalice package --stage $${STAGE:-dev} --pkg-format cloudformation \
	  --template-format yaml --merge-template ../infra/resources.yaml ../build/package

# The kiosk and staff pages into the deployed stack's bucket, with the API address and the
# sign-in they use, from the stack's outputs: make pages-upload STACK=storepulse
# (or each one: BUCKET=<PagesBucketName> API=<EndpointURL> CLIENT_ID=<UserPoolClientId> REGION=)
pages-upload: $(VENV)/.installed
	$(PY) -m devtools.upload_pages $${STACK:+--stack "$$STACK"} $${BUCKET:+--bucket "$$BUCKET"} \
	  $${API:+--api "$$API"} $${CLIENT_ID:+--client-id "$$CLIENT_ID"} $${REGION:+--region "$$REGION"}

# The first admin of a deployed stack: Cognito e-mails them a temporary password.
# make first-admin EMAIL=you@example.com STACK=storepulse
first-admin: $(VENV)/.installed
	$(PY) -m devtools.first_admin $${EMAIL:?set EMAIL=the first admin e-mail address} \
	  --stack $${STACK:?set STACK=the stack name} $${REGION:+--region "$$REGION"}

# Stores and their staff from a CSV (docs/onboarding.md), into the running local stack as
# its demo admin, or into a deployed stack as an admin who has signed in once:
# make onboard CSV=stores.csv [STACK=storepulse EMAIL=<admin e-mail> PASSWORD=<theirs>]
onboard: $(VENV)/.installed
	$(PY) -m devtools.onboard $${CSV:?set CSV=stores.csv} $${STACK:+--stack "$$STACK"} \
	  $${API:+--api "$$API"} $${EMAIL:+--email "$$EMAIL"} $${PASSWORD:+--password "$$PASSWORD"} \
	  $${REGION:+--region "$$REGION"}

deps: $(VENV)/.installed $(CHECKOV) node_modules/.installed java chromium

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'pip>=23,<26.3'  # chalice needs pip below 26.3
	$(PY) -m pip install --quiet -c constraints.txt '.[dev]'
	touch $@

$(CHECKOV): Makefile
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet 'checkov$(CHECKOV_VERSION)'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used);
# a CJK font so the zh-CN kiosk renders.
chromium:
	@{ command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wenquanyi; } || { \
	  echo "installing Chromium and a CJK font for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei; }

# DynamoDB Local needs Java 17 or newer.
java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || { \
	  echo "installing Java 17 for DynamoDB Local"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }

clean:
	rm -rf $(VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
