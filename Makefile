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
#   make exercises   your exercise answers: one board of every chapter's
#                    exercises (kind, solved or not); EX=NN-name runs one,
#                    EX=01-sync/NN-name when several chapters have that name
#   make hint EX=NN-name   the next hint for that exercise
#   make grade       the autograder's view: build/grade/summary.json (a score
#                    per exercise) and each chapter's TAP/XML reports
#   make fuzz        the input parser under clang's libFuzzer, every chapter's
#                    copy (FUZZ_SECONDS=30 each; make test runs 1 s each)
#   make snippets    rewrite the code shown in each CHAPTER.md from the sources
#   make transcripts rewrite the sample runs shown in each CHAPTER.md from
#                    real runs (make test checks both)
#   make all|clean
#
# Each target walks the chapters in order and stops at the first failure
# (exercises and grade go through every chapter and end with one board).
# Every chapter also stands alone: make -C chapters/01-sync test

# Quiet builds: one short line per compiled file; `make V=1` for full commands.
ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = @printf '  %-7s %s\n' '$(1)' '$(2)'
  MAKEFLAGS += --no-print-directory
endif

CHAPTERS := $(patsubst %/Makefile,%,$(sort $(wildcard chapters/[0-9][0-9]-*/Makefile)))

.PHONY: all test tour bench c10k exercises hint grade clean docs deps snippets \
        transcripts fuzz

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
	rm -rf docs/html docs/doxygen-warnings.log build tests/fuzz/build

test: deps
	@for ch in $(CHAPTERS); do \
	  echo "==== $$ch: make test"; \
	  $(MAKE) -C $$ch test || exit 1; \
	done
	@echo "==== fuzz: the input parser, 1 s per chapter"
	@$(MAKE) fuzz FUZZ_SECONDS=1
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

# The input parser (src/input.c, the same in every chapter) under libFuzzer,
# with AddressSanitizer and UBSan. tests/fuzz/fuzz_input.c checks every
# answer against a second model of the contract, so a wrong classification
# fails as surely as a crash. One binary per chapter's copy; a failing input
# is saved as tests/fuzz/build/<chapter>-crash-*, and the log is printed.
FUZZ_SECONDS ?= 30
FUZZ_CHAPTERS := $(patsubst %/src/input.c,%,$(wildcard chapters/[0-9][0-9]-*/src/input.c))
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

tests/fuzz/build/fuzz-input-%: tests/fuzz/fuzz_input.c chapters/%/src/input.c chapters/%/src/input.h chapters/%/src/fib.h
	$(call say,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -Ichapters/$*/src tests/fuzz/fuzz_input.c chapters/$*/src/input.c -o $@

fuzz: $(foreach ch,$(FUZZ_CHAPTERS),tests/fuzz/build/fuzz-input-$(notdir $(ch)))
	@for ch in $(notdir $(FUZZ_CHAPTERS)); do \
	  log=tests/fuzz/build/$$ch.log; \
	  if tests/fuzz/build/fuzz-input-$$ch -max_total_time=$(FUZZ_SECONDS) -max_len=100 \
	       -artifact_prefix=tests/fuzz/build/$$ch- > $$log 2>&1; then \
	    echo "  FUZZ    $$ch/src/input.c: $$(grep -o 'Done [0-9]* runs' $$log | cut -d' ' -f2) inputs in $(FUZZ_SECONDS) s, all classified as the model says"; \
	  else cat $$log; echo "fuzz: $$ch/src/input.c FAILED (log above; input saved in tests/fuzz/build/)"; exit 1; fi; \
	done

# Install (or on non-Debian systems, name) whatever is missing.
deps:
	@./setup.sh

# Doxygen reads its list of inputs from DOC_INPUT, so each new chapter joins
# the book without editing the Doxyfile.
DOC_INPUT := README.md $(foreach ch,$(CHAPTERS),$(wildcard $(ch)/CHAPTER.md $(ch)/APPENDIX.md $(ch)/src/*.h) \
                                     $(wildcard $(ch)/exercises/*/EXERCISE.md)) \
             $(wildcard docs/*.md)
docs: deps
	@rm -rf docs/html
	$(call say,DOXYGEN,docs/html)
	$(Q)DOC_INPUT="$(DOC_INPUT)" doxygen docs/Doxyfile 2> docs/doxygen-warnings.log
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
