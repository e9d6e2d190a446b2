# The two commands of the README: `make book` and `make test`.
# Both create .venv and install everything from constraints.txt on first use.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PEERS   := $(VENV)/.installed-peers
SPHINX  := $(BIN)/sphinx-build -c . book
LATEXDIR := _build/latex
STUDENTDIR := _build/student

.PHONY: book test pdf check-tex student instructor serve bench results verify dist lock clean help

help:
	@echo "make book   build the HTML book into _build/html"
	@echo "make test   run every test (doctests, unit tests, book build, browser test);"
	@echo "           also installs the peers extra, the libraries the tests compare with"
	@echo "make pdf    build the PDF into $(LATEXDIR)/ (needs TeX Live)"
	@echo "make student    the student edition, without worked solutions: HTML and PDF in $(STUDENTDIR)/"
	@echo "make instructor the instructor edition, with them: make book + make pdf"
	@echo "make serve  live-reload preview on http://127.0.0.1:8000"
	@echo "make bench  run the benchmarks (ratios against framework built-ins)"
	@echo "make results rerun every benchmark and rewrite benchmarks/results/ (the book's figures)"
	@echo "make verify run python -m companion verify"
	@echo "make dist   build the companion's sdist and wheel into dist/ and check them with twine"
	@echo "make clean  remove build outputs (keeps .venv)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The tests' independent oracles (the `peers` extra), on top of the set-up above.
$(PEERS): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,peers]'
	touch $(PEERS)

book: $(STAMP)
	$(SPHINX) -b html -n -W --keep-going _build/html
	@echo
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

test: $(PEERS)
	$(BIN)/python -m pytest

check-tex:
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || { \
	  echo "the PDF needs TeX Live. On Debian/Ubuntu install it with:"; \
	  echo "  sudo apt-get install latexmk texlive-xetex texlive-latex-extra texlive-fonts-recommended texlive-plain-generic fonts-freefont-otf fonts-dejavu-core tex-gyre xindy"; \
	  exit 1; }

pdf: $(STAMP)
	@$(MAKE) --no-print-directory check-tex
	$(SPHINX) -b latex -n -W --keep-going $(LATEXDIR)
	$(MAKE) -C $(LATEXDIR) all-pdf LATEXMKOPTS="-interaction=nonstopmode -halt-on-error"
	@echo
	@echo "The PDF is at: $(CURDIR)/$(LATEXDIR)/custom-derivative-rules.pdf"

# Two editions from one source (book/_ext/editions.py). The student edition leaves
# every worked solution out of the pages, the PDF, the notebooks and the sources.
# It shares the execution cache, so no page runs twice.
student: $(STAMP)
	@$(MAKE) --no-print-directory check-tex
	BOOK_EDITION=student $(SPHINX) -b html -n -W --keep-going $(STUDENTDIR)/html
	BOOK_EDITION=student $(SPHINX) -b latex -n -W --keep-going $(STUDENTDIR)/latex
	$(MAKE) -C $(STUDENTDIR)/latex all-pdf LATEXMKOPTS="-interaction=nonstopmode -halt-on-error"
	@echo
	@echo "Student edition: file://$(CURDIR)/$(STUDENTDIR)/html/index.html"
	@echo "                 $(CURDIR)/$(STUDENTDIR)/latex/custom-derivative-rules.pdf"

instructor: book pdf

serve: $(STAMP)
	$(BIN)/sphinx-autobuild -c . book _build/serve --port 8000 --watch companion

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The measurements the book plots (Part IV, "What custom rules buy"); each file records
# its date, command and machine. Takes a while; the figures change from run to run.
RESULTS := ops reuse fixed_point ode circuits
results: $(STAMP)
	$(BIN)/python -m benchmarks --json benchmarks/results/ops.json
	for name in $(filter-out ops,$(RESULTS)); do \
	  $(BIN)/python -m benchmarks.$$name --json benchmarks/results/$$name.json || exit 1; done

verify: $(STAMP)
	$(BIN)/python -m companion verify

# The release of the companion (distribution jvp-vjp-companion): sdist and wheel,
# their metadata checked as PyPI would. The version is companion/__init__.py's __version__.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

lock:
	rm -rf _build/lockenv && $(PYTHON) -m venv _build/lockenv
	_build/lockenv/bin/pip install --quiet torch==2.13.0 -e '.[dev,peers]'
	{ echo "# Exact versions for reproducible installs (make book / make test / CI install with -c constraints.txt)."; \
	  echo "# torch is pinned to the CPU build of 2.13.0; regenerate with: make lock"; \
	  _build/lockenv/bin/pip freeze --exclude-editable | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/' | sort -f; } > constraints.txt

clean:
	rm -rf _build test-artifacts .pytest_cache dist
