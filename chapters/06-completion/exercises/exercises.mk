# exercises/exercises.mk - the exercise rules, the same file in every chapter.
#
# Included by the chapter Makefile, which defines first: BUILD, LIB_OBJS, CC,
# CPPFLAGS, CFLAGS, LDFLAGS, LDLIBS, CRITERION_CFLAGS, CRITERION_LIBS,
# TEST_ENV, NO_CRITERION, SKIP_NOTE, Q and say. What differs by chapter comes
# in two optional variables:
#   EX_SRCS      more sources every exercise test links (tests/fixture.c)
#   EX_CPPFLAGS  more preprocessor flags for them (-Itests)
# and an exercise may hold a file `ldflags` with extra link flags of its own.
#
# Each exercise is a folder exercises/NN-name/ with test.c and the answer
# files it is tested with: starter.c, solution.c, the reader's answer.c and
# the wrong answers wrong/*.patch. A wrong answer is solution.c with one
# mistake, kept as a diff against it (its first line the `wrong:` header,
# which patch(1) skips): its whole file is made under
# build/exercises/NN-name/wrong/, by patch(1). (A wrong/*.c, a whole file,
# is taken as it is.) Every pair (test.c, answer file) makes one Criterion
# binary, build/exercises/NN-name/<answer file without its extension>.
# exercises/check.py runs them and reports; see its header for the commands.
#
#   make exercises              the board: every exercise, its kind and state
#   make exercises EX=NN-name   one exercise, with its test output
#   make hint EX=NN-name        the next hint, one more each time
#   make grade                  TAP, XML and JSON results for an autograder
#   make exercises-check        (part of make test) every exercise passes on
#                               its solution, fails on its starter, and fails
#                               on each wrong answer with the message expected

EXERCISES := $(patsubst exercises/%/test.c,%,$(sort $(wildcard exercises/*/test.c)))
EX_CHECK   = python3 exercises/check.py --build $(BUILD) --make "$(MAKE)"

# The wrong answers of exercise $(1), without extension: wrong/NAME ...
ex_wrong = $(sort $(patsubst exercises/$(1)/%.c,%,$(wildcard exercises/$(1)/wrong/*.c)) \
                  $(patsubst exercises/$(1)/%.patch,%,$(wildcard exercises/$(1)/wrong/*.patch)))
# The C file of answer $(2) of exercise $(1): made from a patch, or as it is.
ex_source = $(if $(wildcard exercises/$(1)/$(2).patch),$(BUILD)/exercises/$(1)/$(2).c,exercises/$(1)/$(2).c)

# --fuzz=0: a patch whose context no longer matches solution.c exactly
# fails, rather than put its mistake in the wrong place.
define ex_patched
$(BUILD)/exercises/$(1)/$(2).c: exercises/$(1)/solution.c exercises/$(1)/$(2).patch
	$$(call say,PATCH,$$@)
	@mkdir -p $$(@D)
	$$(Q)rm -f $$@ && patch -s -f --fuzz=0 --no-backup-if-mismatch -r - -o $$@ \
	  exercises/$(1)/solution.c exercises/$(1)/$(2).patch || { rm -f $$@; \
	  echo "exercises/$(1)/$(2).patch no longer applies to solution.c: write that wrong answer again as a whole file, then save it with python3 exercises/check.py wrong-patch $(1) FILE.c" >&2; exit 1; }
endef

define ex_binary
$(BUILD)/exercises/$(1)/$(2): exercises/$(1)/test.c $(call ex_source,$(1),$(2)) \
    $(wildcard exercises/$(1)/*.h exercises/*.h) $(EX_SRCS) $(LIB_OBJS) | criterion
	$$(call say,CC,$$@)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(CPPFLAGS) -Iexercises/$(1) -Iexercises $$(EX_CPPFLAGS) $$(CRITERION_CFLAGS) \
	  $$(CFLAGS) exercises/$(1)/test.c $(call ex_source,$(1),$(2)) $$(EX_SRCS) $$(LIB_OBJS) \
	  $$(LDFLAGS) $$(shell cat exercises/$(1)/ldflags 2>/dev/null) $$(CRITERION_LIBS) \
	  $$(LDLIBS) -lpthread -o $$@
endef
$(foreach e,$(EXERCISES),$(foreach v,starter solution answer $(call ex_wrong,$(e)),\
  $(eval $(call ex_binary,$(e),$(v)))))
$(foreach e,$(EXERCISES),$(foreach v,$(patsubst exercises/$(e)/%.patch,%,\
  $(wildcard exercises/$(e)/wrong/*.patch)),$(eval $(call ex_patched,$(e),$(v)))))

EX_CHECKED := $(foreach e,$(EXERCISES),$(foreach v,starter solution $(call ex_wrong,$(e)),\
                $(BUILD)/exercises/$(e)/$(v)))

.PHONY: exercises exercises-check hint grade

# check.py builds each answer itself (through make), so that an answer that
# does not compile shows on the board instead of stopping it.
# EX_OUT and EX_QUIET are for the top Makefile, which prints one board for
# every chapter.
exercises: | criterion
ifneq ($(NO_CRITERION),)
	$(SKIP_NOTE)
else ifneq ($(EX),)
	$(Q)$(TEST_ENV) $(EX_CHECK) run '$(EX)'
else
	$(Q)$(TEST_ENV) $(EX_CHECK) board $(if $(EX_OUT),--json '$(EX_OUT)') $(if $(EX_QUIET),--quiet)
endif

hint:
	$(Q)python3 exercises/check.py hint '$(if $(EX),$(EX),$(error make hint needs EX=NN-name))'

grade: | criterion
ifneq ($(NO_CRITERION),)
	$(SKIP_NOTE)
else
	$(Q)$(TEST_ENV) $(EX_CHECK) grade $(if $(EX_OUT),--json '$(EX_OUT)') $(if $(EX_QUIET),--quiet)
endif

exercises-check: $(EX_CHECKED)
ifneq ($(NO_CRITERION),)
	$(SKIP_NOTE)
else
	$(Q)$(TEST_ENV) $(EX_CHECK) check
endif
