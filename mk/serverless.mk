# Serverless Framework v3 (osls, its maintained fork): packaging and local emulation.
# docs/deploy.md. Included from the Makefile; also runs alone: make -f mk/serverless.mk package
VENV ?= .venv
PY ?= $(VENV)/bin/python

# Targets that run the venv's Python depend on $(PY_READY): the venv is created and installed
# first, so each works as the first command on a fresh clone. Included from the Makefile, its
# $(STAMP) rule does that; run alone, the rule below asks the Makefile to. PY=... given on the
# command line means "use this Python" (tests do), and then no venv is made.
ifndef STAMP
STAMP := $(VENV)/.installed
$(STAMP): pyproject.toml requirements/dev.txt
	$(MAKE) --no-print-directory -f Makefile install VENV=$(VENV)
endif
PY_READY := $(if $(filter command line,$(origin PY)),,$(STAMP))
STAGE ?= dev
SLS_ARGS ?=
OFFLINE_HTTP_PORT ?= 3000
OFFLINE_LAMBDA_PORT ?= 3002

# Packaging must not phone home: no telemetry, no update or dashboard notices.
SLS_ENV := SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off NPM_CONFIG_UPDATE_NOTIFIER=false \
  SLS_REQUIREMENTS_PYTHON=$(PY)
SLS := $(SLS_ENV) npx --no-install serverless

.PHONY: package offline cfn-lint sls-clean

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The zip's size, zipped and unzipped. MB are 10^6 bytes, MiB 2^20; tests/test_serverless.py
# fails above 30 MiB unzipped for x86_64 (docs/deploy.md, "The package").
define SLS_SIZES_PY
import os, sys, zipfile
for path in sys.argv[1:]:
    unzipped = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB zipped, "
          f"{unzipped / 1e6:.1f} MB unzipped ({unzipped / 2**20:.1f} MiB; "
          "the tests' x86_64 limit is 30 MiB)")
endef
export SLS_SIZES_PY

# Writes .serverless/*.zip and the CloudFormation templates; no AWS access needed.
# The Lambda's requirements are the runtime lock, requirements/runtime.txt (serverless.yml's
# pythonRequirements.fileName): hashed, so pip downloads exactly the pinned files.
package: node_modules $(PY_READY)
	$(SLS) package --stage $(STAGE) $(SLS_ARGS)
	@$(PY) -c "$$SLS_SIZES_PY" .serverless/*.zip

# Lints the template `package` has just written, so never a stale one. Fails on errors only
# (cfn-lint's exit code is a bitmask: 2 errors, 4 warnings, 8 infos).
# W3005 (a redundant DependsOn) is how the framework writes its HTTP API routes.
cfn-lint: package
	@$(dir $(PY))cfn-lint --ignore-checks W3005 -- .serverless/cloudformation-template-update-stack.json; \
	 rc=$$?; [ $$((rc & 2)) -eq 0 ] || { echo "cfn-lint: errors (exit $$rc)"; exit 1; }

# The dev stage behind an emulated HTTP API on localhost, handlers run by the venv's
# python (serverless-offline spawns `python3` from PATH; VIRTUAL_ENV puts ours first).
offline: node_modules $(STAMP)
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH $(SLS) offline \
	  --stage dev --httpPort $(OFFLINE_HTTP_PORT) --lambdaPort $(OFFLINE_LAMBDA_PORT) $(SLS_ARGS)

sls-clean:
	rm -rf .serverless .requirements
