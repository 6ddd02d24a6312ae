# The two commands of the README. Both work on a fresh Debian machine with python3, git and make.
.PHONY: run test

run:  ## the portal on http://127.0.0.1:8000 with a Celery worker and a demo login
	bash scripts/run.sh

test:  ## lint, checks and every test, installing and starting what they need
	bash scripts/test.sh $(PYTEST_ARGS)
