# inbox-watch: `make demo` to try it, `make test` to check it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test faults bench lint install clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt --config-settings editable_mode=compat -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/inbox-watch demo

test: $(STAMP)
	@sh scripts/install-system-deps.sh
	$(BIN)/python -m pytest

faults: $(STAMP)
	@sh scripts/install-system-deps.sh
	INBOX_WATCH_FAULTS=full $(BIN)/python -m pytest tests/faults

bench: $(STAMP)
	@sh scripts/install-system-deps.sh
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check inbox_watch providers tui tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache
