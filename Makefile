# The newcomer's commands (see README): `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run test browser bench bench-env reliability calibrators lint clean

# torch is installed first and explicitly: the CPU wheel on disk. Asking pip for the
# project first could pull a multi-GB CUDA build of torch.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/scanner run

# The report's browser test needs Debian's chromium; installed here when possible
# (root and apt available), otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1; } || \
	  echo "chromium is not installed and cannot be installed here: the browser test will skip"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# A separate venv for comparisons against tools that are not project dependencies
# (BERTopic for bench/topics.py). It sees the project venv's packages through a .pth
# file, so torch is not downloaded again; nothing is installed into .venv.
BENCH_VENV := .cache/bench-venv
bench-env: $(STAMP)
	test -x $(BENCH_VENV)/bin/python || $(BIN)/python -m venv $(BENCH_VENV)
	$(BIN)/python -c "import site; print(site.getsitepackages()[0])" > \
	  "$$($(BENCH_VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/_project_venv.pth"
	$(BENCH_VENV)/bin/pip install --quiet bertopic==0.17.4

reliability: $(STAMP)
	$(BIN)/python bench/reliability.py

# The shipped field-assignment calibrators (models/assign/calibrator-TAXONOMY-KEY.json), one
# per model and stored-vector key (float32 and int8 of both e5 models): each is
# `scanner evaluate assign --save` (nested CV figures printed, then the calibrator fitted
# on dev + the train split of data/labels/labels.jsonl). Deterministic: a rerun with the
# same features, labels and models writes the same files. Rerun after any change to the
# assignment features, the taxonomy or the labels. Needs ../shared (texts, int8 build).
CALIBRATORS := multilingual-e5-small:openvino multilingual-e5-small:openvino-int8 \
               multilingual-e5-small-fast:openvino multilingual-e5-small-fast:openvino-int8
calibrators: $(STAMP)
	@for pair in $(CALIBRATORS); do \
	  echo "== $$pair"; \
	  SCANNER_MODEL=$${pair%%:*} SCANNER_EMBED_BACKEND=$${pair#*:} \
	    $(BIN)/python -m scanner evaluate assign --save || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check scanner flows tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
