# pylvs — two commands on a fresh machine:
#   make demo   the main job (proxy plane on loopback, no root)
#   make test   the whole suite (bootstraps .venv and, as root, Debian packages)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KSTAMP := $(VENV)/.kernel-installed
# Debian packages the integration tests and data planes use (installed only as root).
DEB_PACKAGES := nftables iproute2 conntrack iptables keepalived haproxy curl tcpdump ethtool \
                wrk iperf3 gcc libc6-dev python3-dev libnetfilter-queue-dev clang
PYTEST_ARGS ?=

.PHONY: all venv sysdeps kernel-deps test lint typecheck unit demo bench clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,fast]'
	touch $(STAMP)

venv: $(STAMP)

# The kernel plane's and the lab's Python packages (NetfilterQueue builds
# against libnetfilter-queue-dev, which sysdeps installs as root).
$(KSTAMP): $(STAMP) pyproject.toml
	@if [ "$$(id -u)" = 0 ]; then \
	  $(PY) -m pip install -q -e '.[kernel]' && touch $(KSTAMP) \
	  || echo "kernel-deps: could not install .[kernel]; the kernel plane and the lab will say what is missing"; \
	else echo "kernel-deps: not root; the kernel plane and the lab need root"; fi

kernel-deps: sysdeps $(KSTAMP)

# System packages: only when root on a Debian-like machine and something is missing.
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; }; \
	  fi; \
	else echo "sysdeps: not root or no apt-get; tests that need system packages will skip"; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit tests/golden tests/property tests/scenario $(PYTEST_ARGS)

test: $(STAMP) sysdeps kernel-deps lint typecheck
	$(PY) -m pytest tests $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/pylvs demo

bench: $(STAMP)
	$(PY) bench/core.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
