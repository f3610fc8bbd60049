# The README's two commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: run test lint typecheck pytest install docs vendor bench bench-full bench-smoke bench-preview bench-clv clean \
	checkov checkov-install lock

# Both distributions, editable, and the workspace's `dev` group (pip 25.1+ reads
# [dependency-groups]); docs/packaging.md says what each distribution carries.
DISTRIBUTIONS := platform/pyproject.toml service/pyproject.toml

$(STAMP): pyproject.toml $(DISTRIBUTIONS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e './platform[ops]' -e ./service --group dev
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Pulumi programs (and the component package's plugin) each have a top-level __main__.py,
# so each is checked on its own (examples may nest projects one level down:
# examples/two-stack/network; examples in other languages have none).
typecheck: $(STAMP)
	$(BIN)/mypy
	cd stacks && MYPYPATH=../platform ../$(BIN)/mypy --config-file ../pyproject.toml \
		__main__.py analytics_settings.py
	cd provider && MYPYPATH=../platform ../$(BIN)/mypy --config-file ../pyproject.toml __main__.py
	for program in examples/*/__main__.py examples/*/*/__main__.py; do \
		test -f $$program || continue; \
		(cd $$(dirname $$program) && MYPYPATH=$(CURDIR)/platform $(CURDIR)/$(BIN)/mypy \
			--config-file $(CURDIR)/pyproject.toml __main__.py) || exit 1; \
	done

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# The main job on embedded defaults: the dev stack previewed offline, then the service.
run: $(STAMP)
	$(BIN)/platformkit preview --stack dev --policy-pack policies \
		--policy-pack-config policies/config/dev.json
	$(BIN)/flask --app ecommerce_analytics demo --port $(PORT)

# Checkov on every stack through the Terraform-plan export, each with its baseline
# (policies/checkov/<stack>.yaml). Checkov lives in a venv of its own: its pins clash with ours.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): pyproject.toml
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --group checkov
	@touch $(CHECKOV_STAMP)

checkov-install: $(CHECKOV_STAMP)

checkov: $(STAMP) $(CHECKOV_STAMP)
	stacks=$$(scripts/stacks.sh) || exit 1; \
	for stack in $$stacks; do \
		$(BIN)/platformkit checkov --stack $$stack \
			--checkov $(CHECKOV_VENV)/bin/checkov --sarif checkov-$$stack.sarif || exit 1; \
	done

# The service image's dependencies, pinned with hashes (service/Dockerfile installs only these).
# Run after changing service/pyproject.toml's dependencies; tests/test_service_lock.py fails
# until you do.
lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet \
		--generate-hashes --allow-unsafe --build-deps-for wheel --strip-extras \
		--no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
		--output-file service/requirements.lock service/pyproject.toml

# Regenerate the reference tables in docs/ and the component package's schema from the code.
docs: $(STAMP)
	$(BIN)/python -m platformkit.reference
	$(BIN)/python -m platformkit.policy.docs
	$(BIN)/python -m platformkit.provider.schema

# The dashboard's front-end libraries (uPlot, Redoc), re-vendored from npm at the versions
# pinned in the script, each tarball checked against its pinned hash. Needs Node.js + npm.
vendor:
	scripts/vendor-frontend.sh

# Service load benchmarks with wrk (apt-get install wrk): quick (minutes), full (much longer).
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/bench_service.py --mode quick
	$(BIN)/python bench/bench_preview.py . --stack prod --repeat 5

bench-full: $(STAMP)
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/bench_service.py --mode full

bench-smoke: $(STAMP)
	$(BIN)/python bench/bench_service.py --mode smoke

bench-preview: $(STAMP)
	$(BIN)/python bench/bench_preview.py . --stack prod --repeat 5

# The predictive lifetime value fit at a million customers drawn from the CDNOW parameters.
bench-clv: $(STAMP)
	$(BIN)/python bench/bench_clv_fit.py --customers 1000000

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .mypy_cache .ruff_cache .pytest_cache
