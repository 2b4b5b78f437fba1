# Shortcuts; dev.py is the real entry point and needs nothing but Python.
.PHONY: up test ci lint lint-docker
up:
	python3 dev.py up
test:
	python3 dev.py test
ci:
	bash .ci/run
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
lint-docker:
	.venv/bin/hadolint Dockerfile && .venv/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
