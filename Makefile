# RehabHost — the two commands of the README, and a few helpers.
#
#   make demo    build, then run the simulator-backed demo (rehabctl demo)
#   make test    build once, then run the whole test suite (what CI runs: .ci/run)
#
# Both install the Debian -dev packages of libserialport, libusb-1.0, libudev and libzstd first when
# pkg-config cannot find them (scripts/setup.sh; uses sudo when not root).

SWIFT ?= swift
CONFIGURATION ?= release
BIN := .build/$(CONFIGURATION)

.PHONY: demo test setup build vectors clean help

help:
	@echo "make demo   - run the simulated wrist-trainer demo (rehabctl demo)"
	@echo "make test   - run the whole test suite"
	@echo "make build  - build rehabctl and rehabsim ($(CONFIGURATION))"

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c $(CONFIGURATION)

# scripts/demo.sh runs `rehabctl demo`; on a non-preemptible kernel, as root, it applies the
# measured real-time tuning (scripts/rt-tune.sh) for the demo's duration and reverts it.
demo: build
	CONFIGURATION=$(CONFIGURATION) scripts/demo.sh

# Tests run in release mode: the allocation counter and the timing checks must see the code that ships.
# The log is kept, and every failure is repeated at the end: CI shows only the tail of a run. The
# PTY integration tests' host-stall retries are counted and reported; more than the budget (5, in
# scripts/run-tests.sh) fails the run.
# Then every fuzz target for FUZZ_SECONDS each (libFuzzer with the address sanitizer, built once into
# .build-fuzz; the long campaign is scripts/fuzz.sh TARGET SECONDS, docs/reliability.md).
# Then the scenarios (hardware/scenarios/README.md): all in virtual time, the ones tagged ci-sim against
# rehabsim over pseudo-terminals too, and the safety evidence report from both results.
# Then the session report and a patient's progress page in headless Chromium (scripts/report-browser-check.sh:
# console errors, plots without data, overlapping or cut-off labels; installs Debian's chromium when missing).
FUZZ_SECONDS ?= 5
test: setup
	$(SWIFT) build -c $(CONFIGURATION) --build-tests
	scripts/run-tests.sh $(SWIFT) $(CONFIGURATION)
	$(BIN)/rehabctl scenario run hardware/scenarios --target virtual --junit .build/scenarios-virtual.xml
	$(BIN)/rehabctl scenario run hardware/scenarios --target sim --tag ci-sim --junit .build/scenarios-sim.xml
	$(BIN)/rehabctl scenario trace hardware/scenarios --results .build/scenarios-virtual.xml,.build/scenarios-sim.xml \
		--markdown .build/safety-evidence.md --html .build/safety-evidence.html
	scripts/report-browser-check.sh
	SWIFT=$(SWIFT) scripts/fuzz.sh all $(FUZZ_SECONDS)

# Regenerate the RehabLink and RehabRef test vectors from the Python reference implementations.
vectors:
	python3 protocols/rehablink/tools/make_vectors.py
	python3 protocols/rehabref/tools/make_vectors.py

clean:
	rm -rf .build
