# Shortcuts; dev.py is the real entry point and needs nothing but Python.
.PHONY: up test ci lint
up:
	python3 dev.py up
test:
	python3 dev.py test
ci:
	bash .ci/run
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
