# The two commands of the README, and the steps behind them.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SLIMFORMER := $(BUILD_DIR)/slimformer
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: all setup configure build quickstart test test-all bench install format clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

configure: setup $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Runs the flagship pipeline on the bundled data and model and writes a report.
quickstart: build
	$(SLIMFORMER) quickstart --output runs/quickstart

# Unit and end-to-end tests (the `slow` label is left out).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -LE slow -j $(JOBS)

test-all: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	SLIMFORMER_SETUP_PEERS=1 bash scripts/setup.sh
	bash bench/run_all.sh $(BUILD_DIR)

install: build
	cmake --install $(BUILD_DIR) --prefix $(or $(PREFIX),/usr/local)

format:
	clang-format -i $$(git ls-files '*.h' '*.cpp')

clean:
	rm -rf $(BUILD_DIR)
