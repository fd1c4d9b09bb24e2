# Asynchronous I/O in C, step by step: the whole book.
#
#   make tour        the guided tour: every chapter, narrated, in about a minute
#   make test        every chapter's unit and exercise tests, then the
#                    end-to-end tests in tests/ (plain and sanitizer builds)
#   make docs        the HTML book under docs/html (Doxygen; a warning or a
#                    broken link fails)
#   make bench       every chapter's benchmark, then the C10K comparison
#   make c10k        the C10K comparison alone: every chapter's echo-server
#                    against libuv, asyncio, uvloop and Node (bench/c10k.py;
#                    ARGS=--quick for a shorter run); results: docs/results.md
#   make exercises   your exercise answers, chapter by chapter
#   make snippets    rewrite the code shown in each CHAPTER.md from the sources
#   make transcripts rewrite the sample runs shown in each CHAPTER.md from
#                    real runs (make test checks both)
#   make all|clean
#
# Each target walks the chapters in order and stops at the first failure.
# Every chapter also stands alone: make -C chapters/01-sync test

# Quiet builds: one short line per compiled file; `make V=1` for full commands.
ifneq ($(V),1)
  MAKEFLAGS += --no-print-directory
endif

CHAPTERS := $(patsubst %/Makefile,%,$(sort $(wildcard chapters/[0-9][0-9]-*/Makefile)))

.PHONY: all test tour bench c10k exercises clean docs deps snippets transcripts

all tour exercises: deps
	@for ch in $(CHAPTERS); do \
	  $(MAKE) -C $$ch $@ || exit 1; \
	done

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
	rm -rf docs/html docs/doxygen-warnings.log

test: deps
	@for ch in $(CHAPTERS); do \
	  echo "==== $$ch: make test"; \
	  $(MAKE) -C $$ch test || exit 1; \
	done
	@echo "==== snippets: code in the text matches the compiled files"
	python3 tests/snippets.py --check
	@echo "==== copies: the files a chapter copies unchanged are identical"
	python3 tests/copies.py
	@echo "==== links: every relative link and image in the Markdown exists"
	python3 tests/links.py
	@echo "==== transcripts: the sample runs in the text match real runs"
	python3 tests/transcripts.py --check
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
	@python3 tests/links.py --html
	@echo "The book: docs/html/index.html"

# Rewrite the code blocks of every CHAPTER.md from the marked regions of the
# source files (make test checks that they are up to date).
snippets:
	python3 tests/snippets.py --update

# Re-run the sample runs marked in every CHAPTER.md and rewrite those whose
# output differs (see tests/transcripts.py for the format).
transcripts:
	python3 tests/transcripts.py --update
