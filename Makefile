# Quick start: `make demo` (set up, then reconstruct the bundled sample) and `make test` (set up, then run the tests).
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: setup demo test test-all bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.cfg scripts/setup.sh
	bash scripts/setup.sh

demo: setup
	$(BIN)/stdm simulate $(OUT)/sample.h5 --sample
	$(BIN)/stdm recon $(OUT)/sample.h5 --method lps --mask vista --accel 8 --acs 20 \
		--out $(OUT)/sample_lps.h5 --png $(OUT)/sample_lps.png --json $(OUT)/sample_lps.json

test: setup
	$(BIN)/python -m pytest

test-all: setup
	$(BIN)/python -m pytest -m "slow or not slow"

bench: setup
	$(BIN)/python benchmarks/phantom_speed.py
	$(BIN)/python benchmarks/run.py --seeds 1000 --no-real --name classical_phantom
	$(BIN)/python benchmarks/run.py --seeds --masks vista --name classical_real

clean:
	rm -rf $(OUT) .pytest_cache
