# The two commands of the README, plus the ones developers use.
.PHONY: run test lint train bench shell

run:            ## run the whole assistant (Redis, model, ticket backend, actions, Rasa, console)
	@scripts/bootstrap.sh
	@.venv/bin/bianmin run

test:           ## the whole test suite, end-to-end tests included
	@scripts/bootstrap.sh
	@scripts/test.sh

lint:           ## ruff (lint and format check) and mypy, as configured in pyproject.toml; a few seconds
	@scripts/bootstrap.sh
	@scripts/lint.sh

train:
	@scripts/bootstrap.sh
	@.venv/bin/bianmin train

shell:
	@.venv/bin/bianmin shell

bench:          ## benchmarks with their baselines; reports land next to them in bench/
	@scripts/bootstrap.sh
	@scripts/bench.sh
