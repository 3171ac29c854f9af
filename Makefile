# Two commands do everything on a fresh machine:  make demo   and   make test
# DATABASE_URL selects the database (default: SQLite under var/); PORT the demo port (default 8000).
# make demo: migrate, cache table, demo data, then the web server and the background worker together.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Coverage (and its floor, pyproject.toml) for `make test`; `make test COV=` runs without it, as
# .ci/run does for the PostgreSQL suite: the SQLite suite runs the same code under coverage.
COV    ?= --cov --cov-report=term:skip-covered
PORT   ?= 8000
STAMP  := $(VENV)/.installed-stamp
# The warm PDF converter (documents/pdf.py) runs unoserver under the system Python, which has
# LibreOffice's UNO bridge (Debian's python3-uno); the project venv only talks to it over XML-RPC.
UNO_PYTHON ?= /usr/bin/python3
UNO_VENV   := .venv-uno
UNO_STAMP  := $(UNO_VENV)/.installed-stamp
DEMO_PETITIONS ?= 3000

.PHONY: install demo serve test test-fast fuzz lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list or the pins change.
$(STAMP): $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e ".[dev,postgres,bench]"
	touch $(STAMP)

# Without python3-uno nothing fails: documents are converted by a cold soffice (3-5 s each) and the
# log says so; the stamp is not written, so the next `make install` looks again.
$(UNO_STAMP): requirements/constraints.txt
	@if $(UNO_PYTHON) -c "import uno" 2>/dev/null; then \
	  $(UNO_PYTHON) -m venv --system-site-packages $(UNO_VENV) && \
	  $(UNO_VENV)/bin/python -m pip install -q -c requirements/constraints.txt unoserver && \
	  touch $(UNO_STAMP); \
	else \
	  echo "make install: no python3-uno for $(UNO_PYTHON): PDFs will be made by a cold soffice (slow)."; \
	  echo "  apt-get install libreoffice-writer-nogui python3-uno fonts-noto-cjk, then make install"; \
	fi

install: $(STAMP) $(UNO_STAMP)

var/secrets.env: | $(STAMP)
	mkdir -p var
	umask 077 && $(BIN)/python -m xinfang.core.keygen > var/secrets.env

demo: install var/secrets.env
	DEBUG=1 $(BIN)/xinfang migrate --noinput
	DEBUG=1 $(BIN)/xinfang createcachetable
	DEBUG=1 $(BIN)/xinfang seed --demo --petitions $(DEMO_PETITIONS)
	DEBUG=1 $(BIN)/xinfang run 127.0.0.1:$(PORT)

# The web server and the background worker together (xinfang run); Ctrl-C stops both.
serve: install var/secrets.env
	DEBUG=1 $(BIN)/xinfang run 127.0.0.1:$(PORT)

# The whole suite, end-to-end browser tests included.  pytest's exit code 5 ("no tests ran") is a
# failure here, said out loud, never a silent pass.
test: install
	@$(BIN)/python -m pytest -p no:cacheprovider $(COV); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing"; exit 1; fi; exit $$rc

test-fast: install
	$(BIN)/python -m pytest -m "not e2e" -x -q

# schemathesis against the API's OpenAPI document (also part of `make test`); a longer run:
# XINFANG_FUZZ_EXAMPLES=200 make fuzz
fuzz: install
	$(BIN)/python -m pytest -p no:cacheprovider -m fuzz -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	DEBUG=1 XINFANG_ENV_FILE=/dev/null $(BIN)/xinfang makemigrations --check --dry-run

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The load generator (locust, the "bench" extra) is installed with the development tools: the suite
# checks the locustfile; production installs neither.
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(UNO_VENV) var/xinfang.sqlite3* var/static var/test-media
