# Quick start: `make demo` (set up, then reconstruct the bundled sample) and `make test` (set up, then run the tests).
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: setup demo test test-all bench weights weights-gldm screenshot clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.cfg scripts/setup.sh
	bash scripts/setup.sh

# The main job: the bundled sample, VISTA R=8, reconstructed with dSTDM (and L+S to compare); results in out/;
# napari opens with the dock widget and both results when a display exists.
demo: setup
	$(BIN)/stdm simulate $(OUT)/sample.h5 --sample
	$(BIN)/stdm recon $(OUT)/sample.h5 --method dstdm --mask vista --accel 8 --acs 20 \
		--out $(OUT)/sample_dstdm.h5 --png $(OUT)/sample_dstdm.png --json $(OUT)/sample_dstdm.json \
		--dicom $(OUT)/sample_dstdm_dicom --overwrite
	$(BIN)/stdm recon $(OUT)/sample.h5 --method lps --mask vista --accel 8 --acs 20 \
		--out $(OUT)/sample_lps.h5 --png $(OUT)/sample_lps.png --json $(OUT)/sample_lps.json
	@if [ -n "$$DISPLAY" ] && [ -z "$$CI" ]; then $(BIN)/python -m napari_stdm $(OUT)/sample_dstdm.h5 $(OUT)/sample_lps.h5; \
	else echo "no display: napari not opened (results are in $(OUT)/)"; fi

test: setup
	$(BIN)/python -m pytest

test-all: setup
	$(BIN)/python -m pytest -m "slow or not slow"

bench: setup
	$(BIN)/python benchmarks/phantom_speed.py
	$(BIN)/python benchmarks/diffusion.py
	$(BIN)/python benchmarks/run.py --seeds 1000 --no-real --name classical_phantom
	$(BIN)/python benchmarks/run.py --seeds --masks vista --name classical_real
	$(BIN)/python benchmarks/gldm.py
	$(BIN)/python benchmarks/gldm.py --only lps bart-ttv gldm --seeds 1002 1003 --accels 8

# Default priors from phantom cines (seeds 10000+, disjoint from the sample (7) and benchmark seeds (1000-1099)).
# The two models train side by side, one thread each, for at most WEIGHT_MINUTES of wall clock.
WEIGHT_MINUTES ?= 50
weights: setup
	$(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	$(BIN)/stdm train --data data/train --planes both --preset small --steps 50000 --lr 1e-3 --warmup 200 --max-minutes $(WEIGHT_MINUTES) \
		--threads 1 --quiet --out sample_data/stdm_yt_xt.safetensors & \
	$(BIN)/stdm train --data data/train --planes xy --preset small --steps 50000 --lr 1e-3 --warmup 200 --max-minutes $(WEIGHT_MINUTES) \
		--threads 1 --quiet --out sample_data/spatial_xy.safetensors; wait
	mv sample_data/stdm_yt_xt.loss.png sample_data/spatial_xy.loss.png benchmarks/results/

# GLDM's global and local k-space priors, from time-interleaved (R 4/8) acquisitions of the same phantoms only.
GLDM_MINUTES ?= 50
weights-gldm: setup
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	$(BIN)/stdm train --data data/train --planes kspace-global --preset small --steps 50000 --batch 8 --lr 1e-3 --warmup 200 \
		--sigma-max 4 --max-minutes $(GLDM_MINUTES) --threads 1 --quiet --out sample_data/gldm_global.safetensors & \
	$(BIN)/stdm train --data data/train --planes kspace-local --preset small --steps 50000 --batch 8 --lr 1e-3 --warmup 200 \
		--sigma-max 4 --max-minutes $(GLDM_MINUTES) --threads 1 --quiet --out sample_data/gldm_local.safetensors; wait
	mv sample_data/gldm_global.loss.png sample_data/gldm_local.loss.png benchmarks/results/

screenshot: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshot.py dstdm

clean:
	rm -rf $(OUT) .pytest_cache
