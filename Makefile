# civicgrid — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV
RUN := $(UV) run --frozen
NPM ?= npm
SCALE ?= 0.05
PORT ?= 8000
PYTEST_ARGS ?=
export CIVICGRID_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/civicgrid_test

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv==0.13.9

.PHONY: install
install: $(UV) ## install the Python and npm dependencies (from the lock files)
	$(UV) sync --frozen
	cd frontend && $(NPM) ci --no-audit --no-fund --loglevel=error

.PHONY: frontend
frontend: ## build the web UI into frontend/dist
	cd frontend && $(NPM) run build

.PHONY: openapi
openapi: ## regenerate frontend/openapi.json and the TypeScript client from the API
	$(RUN) civicgrid openapi --out frontend/openapi.json
	cd frontend && $(NPM) run gen:api

.PHONY: openapi-check
openapi-check: ## fail if the generated TypeScript client is stale
	$(RUN) civicgrid openapi --out frontend/openapi.json
	cd frontend && $(NPM) run gen:api
	@git diff --exit-code -- frontend/openapi.json frontend/src/api/schema.d.ts \
	  || (echo "The generated API client is stale: run 'make openapi' and commit the result." && exit 1)

.PHONY: migrate
migrate: ## bring the database schema up to date
	$(RUN) civicgrid init

.PHONY: demo
demo: install frontend ## build everything, load the demo city into SQLite and serve it on :8000
	@if [ -f var/civicgrid.db ]; then echo "Reusing var/civicgrid.db (delete it or run 'make demo-reset' to rebuild)"; \
	  else CIVICGRID_MODE=demo $(RUN) civicgrid demo --scale $(SCALE); fi
	@echo "Open http://127.0.0.1:$(PORT) — demo accounts above (password Bengbu-2026!), e.g. operator, gridworker, admin."
	CIVICGRID_MODE=demo $(RUN) civicgrid serve --port $(PORT)

.PHONY: demo-reset
demo-reset: ## rebuild the demo database from scratch
	CIVICGRID_MODE=demo $(RUN) civicgrid demo --scale $(SCALE) --reset

.PHONY: dev
dev: ## API with auto-reload on :8000 and the Vite dev server on :5173
	( CIVICGRID_MODE=demo $(RUN) civicgrid serve --reload --port $(PORT) & cd frontend && $(NPM) run dev )

.PHONY: test
test: install frontend ## run every test: Python on SQLite and PostgreSQL, front-end unit tests, end-to-end
	cd frontend && $(NPM) test
	bash scripts/test.sh $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff, mypy --strict, vue-tsc, and the staleness check of the generated client
	$(RUN) ruff check src tests bench migrations
	$(RUN) ruff format --check src tests bench migrations
	$(RUN) mypy src
	cd frontend && $(NPM) run lint
	$(MAKE) --no-print-directory openapi-check

.PHONY: format
format: ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix src tests bench migrations
	$(RUN) ruff format src tests bench migrations

.PHONY: bench
bench: install ## run the benchmarks (figures go to docs/benchmarks.md by hand)
	for b in bench/bench_*.py; do echo "== $$b"; $(RUN) python $$b || exit 1; done
