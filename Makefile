# Asynchronous I/O in C, step by step: the whole book.
#
#   make tour        the guided tour: every chapter, narrated, in about a minute
#   make test        every chapter's unit and exercise tests, then the
#                    end-to-end tests in tests/ (plain and sanitizer builds)
#   make docs        the HTML book under docs/html (Doxygen; a warning fails)
#   make bench       every chapter's benchmark, then the C10K comparison
#   make c10k        the C10K comparison alone: every chapter's echo-server
#                    against libuv, asyncio, uvloop and Node (bench/c10k.py;
#                    ARGS=--quick for a shorter run); results: docs/results.md
#   make exercises   your exercise answers: one board of every chapter's
#                    exercises (kind, solved or not); EX=NN-name runs one,
#                    EX=01-sync/NN-name when several chapters have that name
#   make hint EX=NN-name   the next hint for that exercise
#   make grade       the autograder's view: build/grade/summary.json (a score
#                    per exercise) and each chapter's TAP/XML reports
#   make all|clean
#
# Each target walks the chapters in order and stops at the first failure
# (exercises and grade go through every chapter and end with one board).
# Every chapter also stands alone: make -C chapters/01-sync test

# Quiet builds: one short line per compiled file; `make V=1` for full commands.
ifneq ($(V),1)
  MAKEFLAGS += --no-print-directory
endif

CHAPTERS := $(patsubst %/Makefile,%,$(sort $(wildcard chapters/[0-9][0-9]-*/Makefile)))

.PHONY: all test tour bench c10k exercises hint grade clean docs deps snippets

all tour: deps
	@for ch in $(CHAPTERS); do \
	  $(MAKE) -C $$ch $@ || exit 1; \
	done

# Exercises: each chapter writes its results as JSON into build/ here, and
# one board of all of them ends the run. With EX=, the chapter that holds
# the exercise runs it alone. The runner is the same file in every chapter.
EX_RUNNER := python3 $(firstword $(CHAPTERS))/exercises/check.py

exercises grade: deps
ifneq ($(EX),)
	@found=$$($(EX_RUNNER) find '$(EX)' $(CHAPTERS)) || exit 2; \
	 $(MAKE) -C $${found%% *} $@ EX=$${found#* }
else
	@rm -rf build/$@ && mkdir -p build/$@
	@for ch in $(CHAPTERS); do \
	  $(MAKE) -C $$ch $@ EX_QUIET=1 EX_OUT=$(CURDIR)/build/$@/$$(basename $$ch).json || exit 1; \
	done
	@$(EX_RUNNER) combine --chapters-dir chapters $(if $(filter grade,$@),--out build/grade/summary.json) \
	  $$(ls build/$@/*.json 2>/dev/null | grep -v summary.json)
endif

hint:
	@found=$$($(EX_RUNNER) find '$(if $(EX),$(EX),$(error make hint needs EX=NN-name))' $(CHAPTERS)) || exit 2; \
	 $(MAKE) -C $${found%% *} hint EX=$${found#* }

# The chapters' own benchmarks, then the comparison across all of them.
bench: deps
	@for ch in $(CHAPTERS); do \
	  $(MAKE) -C $$ch bench || exit 1; \
	done
	$(MAKE) c10k

c10k: deps
	$(MAKE) -C bench all
	python3 bench/c10k.py $(ARGS)

clean:
	@for ch in $(CHAPTERS); do $(MAKE) -C $$ch clean || exit 1; done
	$(MAKE) -C bench clean
	rm -rf docs/html docs/doxygen-warnings.log build

test: deps
	@for ch in $(CHAPTERS); do \
	  echo "==== $$ch: make test"; \
	  $(MAKE) -C $$ch test || exit 1; \
	done
	@echo "==== snippets: code in the text matches the compiled files"
	python3 tests/snippets.py --check
	@echo "==== end-to-end tests"
	python3 tests/run.py

# Install (or on non-Debian systems, name) whatever is missing.
deps:
	@./setup.sh

# Doxygen reads its list of inputs from DOC_INPUT, so each new chapter joins
# the book without editing the Doxyfile.
DOC_INPUT := README.md $(foreach ch,$(CHAPTERS),$(wildcard $(ch)/CHAPTER.md $(ch)/src/*.h) \
                                     $(wildcard $(ch)/exercises/*/EXERCISE.md)) \
             $(wildcard docs/*.md)
docs: deps
	@rm -rf docs/html
	DOC_INPUT="$(DOC_INPUT)" doxygen docs/Doxyfile 2> docs/doxygen-warnings.log
	@if [ -s docs/doxygen-warnings.log ]; then \
	  echo "Doxygen warnings (they fail the build):"; cat docs/doxygen-warnings.log; exit 1; fi
	@echo "The book: docs/html/index.html"

# Rewrite the code blocks of every CHAPTER.md from the marked regions of the
# source files (make test checks that they are up to date).
snippets:
	python3 tests/snippets.py --update
