# Quick start: `make demo` (set up, then reconstruct the bundled sample) and `make test` (set up, then run the tests).
VENV := .venv
BIN := $(VENV)/bin
OUT := out

.PHONY: setup demo test test-all bench weights weights-focus weights-focus-spatial weights-refocus weights-variation weights-gldm gldm-phantom-priors screenshot clean

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
	$(MAKE) gldm-phantom-priors
	$(BIN)/python benchmarks/gldm.py
	$(BIN)/python benchmarks/heldout.py

# Default priors from phantom cines (seeds 10000+, disjoint from the sample (7) and benchmark seeds (1000-1099)) mixed
# with real anatomy: the Sunnybrook SCD cine (CC0; 2/3 of the batches), slices 4 and 7 held out as the tuning set.
# The GIRAF cine is never trained on (held-out evaluation). SOURCES=phantoms: the earlier phantom-only recipe. Both models see the same data for the same wall clock,
# side by side, one thread each; a run continues from its .state.pt (beside the weights) when one is there.
WEIGHT_MINUTES ?= 65
SUNNYBROOK ?= ../shared/data/sunnybrook_scd2001_sax_cine.npz
TUNING_SLICES := 4,7
SOURCES ?= phantoms+real
ifeq ($(SOURCES),phantoms)
TRAIN_SOURCES = --data data/train
else
TRAIN_SOURCES = --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES)
endif
TRAIN_FLAGS = $(TRAIN_SOURCES) --preset small --steps 50000 --lr 1e-3 --warmup 200 --max-minutes $(WEIGHT_MINUTES) \
	--threads 1 --quiet
weights: setup
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	[ "$(SOURCES)" = phantoms ] || [ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	$(BIN)/stdm train $(TRAIN_FLAGS) --planes both --out sample_data/stdm_yt_xt.safetensors & \
	$(BIN)/stdm train $(TRAIN_FLAGS) --planes xy --out sample_data/spatial_xy.safetensors; wait
	mv sample_data/stdm_yt_xt.loss.png sample_data/spatial_xy.loss.png benchmarks/results/

# The shipped y-t/x-t prior: the phantom-only prior (make weights SOURCES=phantoms WEIGHT_MINUTES=50; the shipped one
# of commit 52c813b by default) fine-tuned on phantoms + Sunnybrook with 3/4 of each batch at the noise levels the
# samplers visit (sigma <= 0.2), 80 minutes. A run continues from data/focus/*.state.pt when one is there.
FOCUS_MINUTES ?= 80
FOCUS_INIT ?= data/focus/phantom_only.safetensors
weights-focus: setup
	[ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	mkdir -p data/focus
	[ -f $(FOCUS_INIT) ] || git show 52c813b:sample_data/stdm_yt_xt.safetensors > $(FOCUS_INIT)
	$(BIN)/stdm train --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES) --planes both \
		--preset small --steps 50000 --lr 3e-4 --warmup 100 --sigma-focus 0.2 --max-minutes $(FOCUS_MINUTES) \
		--threads 1 --quiet --init-from $(FOCUS_INIT) --out data/focus/stdm_yt_xt.safetensors
	cp data/focus/stdm_yt_xt.safetensors sample_data/stdm_yt_xt.safetensors
	cp data/focus/stdm_yt_xt.loss.png benchmarks/results/focus_stdm_yt_xt.loss.png

# The shipped x-y (spatial baseline) prior: the phantom-only x-y prior of commit 52c813b fine-tuned with the same
# recipe and budget as weights-focus, so that dSTDM, STDM and spatial compare priors with equal training.
weights-focus-spatial: setup
	[ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	mkdir -p data/focus
	[ -f data/focus/spatial_phantom_only.safetensors ] || \
		git show 52c813b:sample_data/spatial_xy.safetensors > data/focus/spatial_phantom_only.safetensors
	$(BIN)/stdm train --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES) --planes xy \
		--preset small --steps 50000 --lr 3e-4 --warmup 100 --sigma-focus 0.2 --max-minutes $(FOCUS_MINUTES) \
		--threads 1 --quiet --init-from data/focus/spatial_phantom_only.safetensors --out data/focus/spatial_xy.safetensors
	cp data/focus/spatial_xy.safetensors sample_data/spatial_xy.safetensors
	cp data/focus/spatial_xy.loss.png benchmarks/results/focus_spatial_xy.loss.png

# A second fine-tuning stage of both shipped image priors (y-t/x-t and x-y side by side, one thread each, same
# data and wall clock): from the weights shipped at commit ff06195, 3/4 of each batch at sigma <= 0.1 (the level
# the L+S start begins at), another data order (seed 1). A run continues from data/refocus/*.state.pt when one is there.
REFOCUS_MINUTES ?= 65
REFOCUS_FLAGS = --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES) --preset small --steps 50000 \
	--lr 3e-4 --warmup 100 --sigma-focus 0.1 --max-minutes $(REFOCUS_MINUTES) --threads 1 --seed 1 --quiet
weights-refocus: setup
	[ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	mkdir -p data/refocus
	[ -f data/refocus/start_yt_xt.safetensors ] || git show ff06195:sample_data/stdm_yt_xt.safetensors > data/refocus/start_yt_xt.safetensors
	[ -f data/refocus/start_xy.safetensors ] || git show ff06195:sample_data/spatial_xy.safetensors > data/refocus/start_xy.safetensors
	$(BIN)/stdm train $(REFOCUS_FLAGS) --planes both --init-from data/refocus/start_yt_xt.safetensors \
		--out data/refocus/stdm_yt_xt.safetensors & \
	$(BIN)/stdm train $(REFOCUS_FLAGS) --planes xy --init-from data/refocus/start_xy.safetensors \
		--out data/refocus/spatial_xy.safetensors; wait
	cp data/refocus/stdm_yt_xt.safetensors data/refocus/spatial_xy.safetensors sample_data/
	cp data/refocus/stdm_yt_xt.loss.png benchmarks/results/refocus_stdm_yt_xt.loss.png
	cp data/refocus/spatial_xy.loss.png benchmarks/results/refocus_spatial_xy.loss.png

# A third fine-tuning stage of the y-t/x-t prior: the same sources, the real slices made to look like other
# patients' (--patient-variation: warped anatomy and motion, another contrast; 32 variants per slice), from the
# weights shipped at commit 2fa09b2, lr 2e-4, 3/4 of each batch at sigma <= 0.1, bfloat16 where the CPU has AMX
# (float32 elsewhere: fewer steps in the same minutes), 42 minutes on two threads (17 417 steps on a 2-core AMX Xeon;
# benchmarks/results/tuning_variation_notes.md). A run continues from data/variation/*.state.pt when one is there.
VARIATION_MINUTES ?= 42
weights-variation: setup
	[ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	mkdir -p data/variation
	[ -f data/variation/start_yt_xt.safetensors ] || git show 2fa09b2:sample_data/stdm_yt_xt.safetensors > data/variation/start_yt_xt.safetensors
	$(BIN)/stdm train --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES) --planes both \
		--preset small --steps 50000 --lr 2e-4 --warmup 100 --sigma-focus 0.1 --max-minutes $(VARIATION_MINUTES) \
		--threads 2 --seed 3 --variants 32 --patient-variation 0.03 --precision auto --quiet \
		--init-from data/variation/start_yt_xt.safetensors --out data/variation/stdm_yt_xt.safetensors
	cp data/variation/stdm_yt_xt.safetensors sample_data/stdm_yt_xt.safetensors
	cp data/variation/stdm_yt_xt.loss.png benchmarks/results/variation_stdm_yt_xt.loss.png

# GLDM's global and local k-space priors: position-aware (they read each pixel's ky/kx), trained only from
# time-interleaved (R 4/8/12) acquisitions of the phantoms and of the Sunnybrook cine (single-coil, synthetic phase;
# 2/3 of the batches; slices 4 and 7 held out as the tuning set, as for `make weights`). The GIRAF cine is never
# trained on. Both run side by side, one thread each; a run continues from its .state.pt when one is there.
GLDM_MINUTES ?= 45
GLDM_FLAGS = --data data/train:1 --data $(SUNNYBROOK):2 --skip-slices $(TUNING_SLICES) --preset small --steps 50000 \
	--batch 8 --lr 1e-3 --warmup 200 --sigma-max 4 --max-minutes $(GLDM_MINUTES) --threads 1 --quiet
weights-gldm: setup
	[ -f $(SUNNYBROOK) ] || { echo "$(SUNNYBROOK) is missing: set SUNNYBROOK=path/to/sunnybrook_scd2001_sax_cine.npz"; exit 2; }
	[ -d data/train ] || $(BIN)/stdm simulate data/train --count 48 --seed 10000 --vary --coils 1 --snr 0
	mkdir -p data/gldm
	$(BIN)/stdm train $(GLDM_FLAGS) --planes kspace-global --out data/gldm/gldm_global.safetensors & \
	$(BIN)/stdm train $(GLDM_FLAGS) --planes kspace-local --out data/gldm/gldm_local.safetensors; wait
	cp data/gldm/gldm_global.safetensors data/gldm/gldm_local.safetensors sample_data/
	cp data/gldm/gldm_global.loss.png data/gldm/gldm_local.loss.png benchmarks/results/

# The GLDM priors shipped before 2026-11-30 (phantoms only, position-free), for the benchmarks' comparison rows.
gldm-phantom-priors:
	mkdir -p data/gldm/old
	for f in gldm_global gldm_local; do git show bd0e06f:sample_data/$$f.safetensors > data/gldm/old/$$f.safetensors; done

screenshot: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python scripts/screenshot.py dstdm

clean:
	rm -rf $(OUT) .pytest_cache
