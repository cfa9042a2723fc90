# The newcomer's commands (see README): `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run test bench bench-env reliability lint clean

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

test: $(STAMP)
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

lint: $(STAMP)
	$(BIN)/ruff check scanner flows tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
