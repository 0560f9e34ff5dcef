.PHONY: demo test bench lint

# Start the local AWS sandbox and open the console on it.
demo:
	@scripts/demo.sh

# Run every test (installs moto into .venv if needed).
test:
	@scripts/test.sh

bench:
	cargo bench

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
