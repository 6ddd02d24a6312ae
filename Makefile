# The two commands of the README. Both work on a fresh Debian machine with python3, git and make.
.PHONY: run test

run:  ## the portal on http://127.0.0.1:8000 with a Celery worker and a demo login
	bash scripts/run.sh

test:  ## lint, checks and every test, installing and starting what they need
	bash scripts/test.sh $(PYTEST_ARGS)

# The benchmarks of bench/ (docs/performance.md): each starts what it needs and prints a Markdown table.
.PHONY: bench bench-quick

bench:  ## every benchmark, full size (the launch of 1,000 takes minutes); tables into bench/RESULTS.md
	bash scripts/bench.sh

bench-quick:  ## a subset of every benchmark in under 2 minutes (CI); tables into bench/RESULTS-quick.md
	bash scripts/bench.sh --quick

# The fault tests with real processes (docs/reliability.md), RUNS times (3): their table into that page.
.PHONY: reliability

reliability:  ## restart Redis, PostgreSQL, the beat, hang the cloud mid-launch; the table in docs/reliability.md
	bash scripts/reliability.sh

# The desktop cloud's base image (docs/desktop-cloud.md): debootstrap, once; reused afterwards.
.PHONY: image

image:  ## var/images/debian-12-context.qcow2 with its kernel and initrd (FORCE=1 rebuilds)
	bash scripts/build-image.sh
