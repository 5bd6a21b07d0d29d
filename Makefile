# The two front-door commands: `make run` sets up this machine and starts the platform;
# `make test` sets up what the tests need and runs every test, end-to-end ones included.
SHELL := /bin/bash
CONFIGURATION ?= Release
export PAAS_DATA_DIR ?= /var/lib/paas
export PAAS_REDIS_PORT ?= 6379
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

SOURCES := $(shell find src router tests -name '*.cs' -o -name '*.csproj' -o -name 'pre-receive' -o -name 'post-receive' -o -name 'stage.sh' -o -name '*.props' | grep -v '/obj/' | grep -v '/bin/') Paas.sln
BUILD_STAMP := .build/$(CONFIGURATION).stamp

.PHONY: run test setup build install-cli bench chaos clean docs cell-bundle

run: setup $(BUILD_STAMP) install-cli
	@CONFIGURATION=$(CONFIGURATION) deploy/run.sh

test: setup
	dotnet build Paas.sln -c $(CONFIGURATION) -nologo -clp:ErrorsOnly
	PAAS_REDIS=$${PAAS_REDIS:-$$(deploy/redis/connection.sh $(PAAS_REDIS_PORT) $(PAAS_DATA_DIR)/redis)} \
		dotnet test Paas.sln -c $(CONFIGURATION) --no-build --logger "console;verbosity=normal"

setup:
	@deploy/setup.sh

build: $(BUILD_STAMP)

# Rebuild only when a source changed, so a second `make run` starts within seconds.
$(BUILD_STAMP): $(SOURCES)
	@echo "==> building the solution ($(CONFIGURATION))"
	@dotnet build Paas.sln -c $(CONFIGURATION) -nologo -clp:ErrorsOnly
	@mkdir -p .build && touch $@

install-cli: $(BUILD_STAMP)
	@printf '#!/bin/sh\nexec dotnet "%s" "$$@"\n' "$(CURDIR)/src/Paas.Cli/bin/$(CONFIGURATION)/net10.0/paas.dll" > /usr/local/bin/paas.tmp
	@chmod 755 /usr/local/bin/paas.tmp && mv /usr/local/bin/paas.tmp /usr/local/bin/paas
	@echo "==> installed paas CLI at /usr/local/bin/paas"

# README's command reference, regenerated from the CLI's own help (a test fails when they differ).
docs: $(BUILD_STAMP)
	@dotnet src/Paas.Cli/bin/$(CONFIGURATION)/net10.0/paas.dll help --markdown > .build/commands.md
	@dotnet src/Paas.Cli/bin/$(CONFIGURATION)/net10.0/paas.dll help --settings-markdown > .build/settings.md
	@awk -v generated=.build/commands.md \
		'/^<!-- BEGIN COMMAND REFERENCE/ { print; while ((getline line < generated) > 0) print line; skip = 1; next } \
		 /^<!-- END COMMAND REFERENCE/ { skip = 0 } !skip' README.md > .build/README.md
	@awk -v generated=.build/settings.md \
		'/^<!-- BEGIN SETTINGS TABLE/ { print; while ((getline line < generated) > 0) print line; skip = 1; next } \
		 /^<!-- END SETTINGS TABLE/ { skip = 0 } !skip' .build/README.md > .build/README2.md
	@mv .build/README2.md README.md && rm -f .build/README.md
	@echo "==> README command reference and settings table regenerated"

# The cell agent self-contained (with its own .NET runtime), for deploy/join-cell.sh --bundle on a fresh host
# that has no .NET: copy the tarball there or serve it over HTTP.
CELL_BUNDLE := .build/paas-cell-linux-x64.tar.gz
cell-bundle: $(CELL_BUNDLE)

$(CELL_BUNDLE): $(SOURCES)
	@echo "==> publishing the cell agent self-contained (linux-x64)"
	@rm -rf .build/cell-bundle
	@dotnet publish src/Paas.Cell -c $(CONFIGURATION) -r linux-x64 --self-contained -nologo -clp:ErrorsOnly -o .build/cell-bundle/paas-cell
	@tar -C .build/cell-bundle -czf $@.tmp paas-cell && mv $@.tmp $@ && rm -rf .build/cell-bundle
	@echo "==> $@ ($$(du -h $@ | cut -f1)): give it to deploy/join-cell.sh --bundle on the new host"

bench: setup $(BUILD_STAMP)
	tests/benchmarks/push-to-serving.sh

# Faults under load against a platform of its own (tests/chaos/run.sh): one table, non-zero exit when a
# goal is missed. Not part of `make test`. CHAOS_REDEPLOY_MINUTES=10 for the issue's full redeploy run.
chaos: setup $(BUILD_STAMP)
	tests/chaos/run.sh

clean:
	rm -rf .build
	dotnet clean Paas.sln -nologo -v q
