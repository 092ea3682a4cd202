# Sluice - entry points. See README.md.
#   make        build libsluice, the sluice CLI, the C tests (build/) and the jar (target/)
#   make test   every test, with MariaDB and an S3 server started on loopback (tests/run.sh)
#   make demo   a volume on SQLite + local files, used through the sluice CLI
#   make bench  Sluice against its peers (JuiceFS SDK, S3A, HDFS, local disk) and the raw limits;
#               SLUICE_BENCH_MODE=quick for a first look (benchmarks/run.sh)
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2

.PHONY: all native java asan test demo bench clean

all: native java

native:
	@bash tests/env/deps.sh
	cmake -S native -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The jar, with libsluice.so inside; packaging runs the Java tests (about 10 s).
java: native
	mvn -B -q -ntp package -Dsluice.build.dir=$(CURDIR)/$(BUILD)

asan:
	@bash tests/env/deps.sh
	cmake -S native -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test: native asan
	bash tests/run.sh

demo: native
	bash tests/demo.sh

bench: all
	bash benchmarks/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) target
