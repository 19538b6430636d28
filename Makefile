.PHONY: run test bench lint install stop

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
