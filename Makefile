.PHONY: run test bench lint install stop vendor

run:  ## everything at once with the demo data (Ctrl-C stops it)
	python3 dev.py up

test:  ## the whole test suite
	python3 dev.py test

bench:  ## retrieval, answer and change-impact benchmarks; prints figures
	python3 dev.py bench

lint:
	python3 dev.py lint

install:
	python3 dev.py install

stop:  ## stop the embedded PostgreSQL and broker of this checkout
	.venv/bin/python manage.py services stop

vendor:  ## re-fetch the vendored browser libraries (static/vendor/, pinned in tools/vendor_static.py; needs npm)
	python3 tools/vendor_static.py
