# The contract: `make install`, `make run`, `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint bench schema clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# Embedded defaults: SQLite in var/, the filesystem Celery transport; web + worker + beat.
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo --port $(PORT)
	@export PORT=$(PORT); trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A helpdesk worker --beat --loglevel=INFO --concurrency=2 \
		--schedule var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload

test: install
	bash scripts/ensure-services.sh
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not browser and not worker"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: install
	$(BIN)/python bench/businesstime.py

# The committed OpenAPI snapshot (tests/api/test_schema.py fails when the code drifts from it).
schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file helpdesk/api/openapi.yaml

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
