# ja4 — build, test, run and benchmark. Every target installs what it needs on Debian.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
BUILD_DIR := build
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all build test run bench deb rpm deps-build deps-test deps-bench native clean check-dotnet chdb package-test soak

all: build

check-dotnet:
	@command -v $(DOTNET) >/dev/null || { echo "missing: the .NET 10 SDK (dotnet) is not on PATH; see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }

deps-build: check-dotnet
	@scripts/install-deps.sh build

deps-test: check-dotnet
	@scripts/install-deps.sh test

deps-bench: check-dotnet
	@scripts/install-deps.sh bench

## chdb: fetch libchdb.so (the embedded ClickHouse engine) once into .cache/chdb/, checksum verified
chdb:
	@scripts/fetch-chdb.sh

## build: publish the framework-dependent executable to build/ja4
build: deps-build chdb
	$(DOTNET) publish Ja4.Host/Ja4.Host.csproj -c $(CONFIG) -o $(BUILD_DIR) --nologo -v quiet -p:UseAppHost=true
	@echo "built $(BUILD_DIR)/ja4"

## test: build and run every test (unit, corpus, live capture, Apache, storage)
test: deps-test chdb native
	$(DOTNET) build ja4.sln -c $(CONFIG) --nologo -v quiet
	@mkdir -p $(BUILD_DIR); set -o pipefail; \
	$(DOTNET) test ja4.sln -c $(CONFIG) --no-build --nologo --logger "console;verbosity=normal" --blame-hang-timeout 10m \
	  | tee $(BUILD_DIR)/test.log || { scripts/test-failures.sh $(BUILD_DIR)/test.log; exit 1; }

## run: as the systemd unit runs it (its Environment= line: the GC settings), on the root appsettings.json
run: build
	env $(shell sed -n 's/^Environment=//p' packaging/systemd/ja4.service) $(BUILD_DIR)/ja4 run --config appsettings.json

## bench: run the benchmarks and print one table
bench: deps-bench build
	bench/run.sh

## deb, rpm: packages in dist/ (self-contained executable, libchdb.so, Apache module, unit)
deb: deps-test chdb native
	scripts/package.sh deb

rpm: deps-test chdb native
	scripts/package.sh rpm

## package-test: build the .deb and .rpm, install, run, upgrade and purge the .deb here (root)
package-test: deps-test chdb native
	tests/package/deb-install.sh

## soak: the daemon under steady load for SOAK_SECONDS (default 600) of web-shop requests (SOAK_RECORDS=minimal: three-header ones), optionally within SOAK_MEMORY_LIMIT_MB; RSS, GC, drops every 10 s
soak: deps-bench build
	bench/soak.sh . bench/out

## native: build the Apache module mod_reqin_log (apxs)
native:
	$(MAKE) -C native/mod_reqin_log

clean:
	rm -rf $(BUILD_DIR) dist bench/out */bin */obj
