# The README's commands. Everything installs from pyproject.toml + uv.lock into .venv.
PY ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV_PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: install run test lint fmt check-lock e2e unit bench bench-quick bench-intake bench-policy bench-callbacks browser wrk deploy-env clean

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PY)
	touch $@

install: .venv/.synced

## make run: migrate, seed a demo and start all three services on SQLite (Ctrl-C stops)
run: install
	$(VENV_PY) -m deploy.local

# The browser tests drive Debian's Chromium (never a downloaded browser) and need CJK fonts
# to render the Chinese pages; installed from Debian's packages when missing.
browser: node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  (apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk)

# axe-core (pinned in package-lock.json), injected by the browser tests into every page.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
	npm ci --no-audit --no-fund
	@touch $@

## make test: lint, import contracts, the whole suite (SQLite; TEST_DATABASE_URL=postgresql+asyncpg://… for PostgreSQL)
test: install lint browser
	$(VENV_PY) -m pytest -q

lint: install
	.venv/bin/ruff check .
	.venv/bin/lint-imports

fmt: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

unit: install
	$(VENV_PY) -m pytest -q -m "not e2e"

e2e: install browser
	$(VENV_PY) -m pytest -q -m e2e

# The HTTP load benchmarks drive wrk, from Debian's packages when missing.
wrk:
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)

## make bench: every load benchmark on PostgreSQL with its raw baseline → bench/RESULTS.md
bench: install wrk
	$(VENV_PY) -m bench.all

## make bench-quick: the same with short runs, to try it
bench-quick: install wrk
	$(VENV_PY) -m bench.all --quick

bench-intake: install wrk
	$(VENV_PY) -m bench.intake_load

## make bench-policy: policy engines compared, assessments/s, what-if over 100k on PostgreSQL
bench-policy: install
	$(VENV_PY) -m bench.policy_engines
	$(VENV_PY) -m bench.assess_speed
	$(VENV_PY) -m bench.whatif_load

## make bench-callbacks: 10,000 signed bank events in bulk, single callbacks at 32 connections
bench-callbacks: install wrk
	$(VENV_PY) -m bench.callbacks_load
	$(VENV_PY) -m bench.callbacks_single

## make deploy-env: deploy/.env for docker compose, with a generated database password
deploy-env:
	@test -f deploy/.env && echo "deploy/.env exists: kept" || \
	  ( umask 077; printf 'POSTGRES_PASSWORD=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" > deploy/.env; echo "deploy/.env written" )

clean:
	rm -rf var .pytest_cache .hypothesis
