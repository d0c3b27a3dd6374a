# parley: build, test and benchmark the chat server.
#
#   make            build build/parleyd, build/parley-bench and the
#                   benchmark relays build/room_floor (with rooms; with
#                   --relay, the reference relay)
#   make run        install missing build packages, build, serve telnet on 3030,
#                   text on 3031, IRC on 6667, the web on 8080 (http) and
#                   8443 (https), TLS on 3032 and 6697
#   make test       every test: unit + end-to-end, normal and ASan/UBSan builds
#   make asan       the AddressSanitizer + UBSan build in build/asan/
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make soak       a bounded soak run (SOAK_SECONDS, default 180)
#   make bench      a quick benchmark run (under 2 minutes)
#   make fmt        reformat the sources; make fmt-check verifies
#   make install    install the server, its man pages, the systemd unit and
#                   the example config (PREFIX=/usr/local, DESTDIR=)

CC ?= cc
BUILD ?= build
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef -Wvla \
       -Wimplicit-fallthrough
CFLAGS ?= -O2 -g
# SANITIZE=address,undefined builds with those sanitizers (see `make asan`).
SANITIZE ?=
ifneq ($(SANITIZE),)
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
endif
# libsodium (Debian: libsodium-dev) hashes and checks operator passwords.
# Recursive (=) so that pkg-config runs when a recipe needs it, after
# `make run` has installed the package; -lsodium if pkg-config cannot say.
SODIUM_CFLAGS = $(shell pkg-config --cflags libsodium 2>/dev/null)
SODIUM_LIBS = $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
# libinih (Debian: libinih-dev) parses the config file; libsystemd
# (libsystemd-dev) tells systemd the server is ready (sd_notify).
INIH_CFLAGS = $(shell pkg-config --cflags inih 2>/dev/null)
INIH_LIBS = $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
SYSTEMD_CFLAGS = $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS = $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
# SQLite (Debian: libsqlite3-dev) keeps history on disk (src/store/).
SQLITE_CFLAGS = $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQLITE_LIBS = $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
# OpenSSL 3 (Debian: libssl-dev) carries the tls:// and ircs:// listeners.
SSL_CFLAGS = $(shell pkg-config --cflags libssl libcrypto 2>/dev/null)
SSL_LIBS = $(shell pkg-config --libs libssl libcrypto 2>/dev/null || \
             echo -lssl -lcrypto)
# libwslay (Debian: libwslay-dev) frames WebSocket messages (src/event/ws.c);
# Debian ships no pkg-config file for it, hence the fallback.
WSLAY_CFLAGS = $(shell pkg-config --cflags wslay 2>/dev/null)
WSLAY_LIBS = $(shell pkg-config --libs wslay 2>/dev/null || echo -lwslay)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Isrc $(WARN) $(CFLAGS) $(SANFLAGS) \
             $(SODIUM_CFLAGS) $(INIH_CFLAGS) $(SYSTEMD_CFLAGS) \
             $(SQLITE_CFLAGS) $(SSL_CFLAGS) $(WSLAY_CFLAGS)
LDFLAGS ?=
LDLIBS = -lm $(SODIUM_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(SQLITE_LIBS) \
         $(SSL_LIBS) $(WSLAY_LIBS)
PYTHON = /usr/bin/python3

SRC = $(wildcard src/*.c src/*/*.c)
LIB_SRC = $(filter-out src/main.c,$(SRC))
HDR = $(wildcard src/*.h src/*/*.h)
OBJ = $(SRC:src/%.c=$(BUILD)/obj/%.o)
LIB_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
BENCH_SRC = $(wildcard bench/pb_*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

.PHONY: all run deps asan test unit e2e fuzz soak bench smoke fmt fmt-check clean \
        install uninstall
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 180

all: $(BUILD)/parleyd $(BUILD)/parley-bench $(BUILD)/room_floor

$(BUILD)/obj/%.o: src/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit:
	mkdir -p $@

$(BUILD)/parleyd: $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/parley-bench: $(BENCH_SRC) $(wildcard bench/*.h)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(BENCH_SRC) $(LDLIBS)

$(BUILD)/room_floor: bench/room_floor.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJ) | $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

# Installs what building and testing need, if it is missing (Debian).
deps:
	@sh tests/deps.sh

# make run serves TLS too (ircs on 6697, text over TLS on 3032), on a
# self-signed certificate for localhost that it makes on the first run.
RUN_CERT = $(BUILD)/run-tls/cert.pem
RUN_KEY = $(BUILD)/run-tls/key.pem
$(RUN_CERT):
	@mkdir -p $(dir $@)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	  -keyout $(RUN_KEY) -out $@ -days 365 -subj /CN=localhost \
	  -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 2>/dev/null

run: deps all $(RUN_CERT)
	$(BUILD)/parleyd --tls-cert $(RUN_CERT) --tls-key $(RUN_KEY)

asan:
	$(MAKE) BUILD=build/asan CC=clang CFLAGS="-O1 -g" \
	  SANITIZE=address,undefined all unit-bins

.PHONY: unit-bins
unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@sh tests/unit/run.sh $(UNIT_BIN)

e2e: $(BUILD)/parleyd
	$(PYTHON) tests/e2e/run.py --parleyd $(BUILD)/parleyd

# The web client in headless Chromium, and the screenshots in docs/
# (tests/browser/README.md).
.PHONY: browser screenshots
browser: deps $(BUILD)/parleyd
	node tests/browser/run.mjs --parleyd $(BUILD)/parleyd

screenshots: deps $(BUILD)/parleyd
	node tests/browser/screenshots.mjs --parleyd $(BUILD)/parleyd

test: deps
	@sh tests/run-all.sh

fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

soak: $(BUILD)/parleyd
	$(PYTHON) tests/soak/soak.py --parleyd $(BUILD)/parleyd --seconds $(SOAK_SECONDS)

bench: all
	@sh bench/run.sh --quick

fmt:
	clang-format -i src/*.[ch] src/*/*.[ch]

fmt-check:
	clang-format --dry-run --Werror src/*.[ch] src/*/*.[ch]

# Where `make install` puts things; DESTDIR is prepended to each (staging,
# packages) but not written into the unit, which names the final paths.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/parley
DATADIR ?= $(PREFIX)/share/parley
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
DESTDIR ?=
INSTALL ?= install

# The config file is installed only where there is none: an upgrade never
# overwrites the admin's; the example is always in $(DOCDIR).
install: $(BUILD)/parleyd
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/parley
	$(INSTALL) -m 755 $(BUILD)/parleyd $(DESTDIR)$(SBINDIR)/parleyd
	$(INSTALL) -m 644 docs/parleyd.8 $(DESTDIR)$(MANDIR)/man8/parleyd.8
	$(INSTALL) -m 644 docs/parley.conf.5 $(DESTDIR)$(MANDIR)/man5/parley.conf.5
	sed -e 's|/usr/local/sbin/parleyd|$(SBINDIR)/parleyd|g' \
	  -e 's|/etc/parley/|$(SYSCONFDIR)/parley/|g' \
	  -e 's|/usr/local/share/parley/|$(DATADIR)/|g' contrib/parleyd.service \
	  > $(DESTDIR)$(UNITDIR)/parleyd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/parleyd.service
	sed -e 's|/usr/local/share/parley/|$(DATADIR)/|g' contrib/parley.conf \
	  > $(DESTDIR)$(DOCDIR)/parley.conf.example
	chmod 644 $(DESTDIR)$(DOCDIR)/parley.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/parley/parley.conf || \
	  $(INSTALL) -m 644 $(DESTDIR)$(DOCDIR)/parley.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/parley/parley.conf
	# The web client (web-root in the config names it).
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/web
	if [ -d web ]; then cp -R web/. $(DESTDIR)$(DATADIR)/web/ && \
	  chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/web; fi

# Removes what install put there, except the config file.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/parleyd $(DESTDIR)$(MANDIR)/man8/parleyd.8 \
	  $(DESTDIR)$(MANDIR)/man5/parley.conf.5 \
	  $(DESTDIR)$(UNITDIR)/parleyd.service \
	  $(DESTDIR)$(DOCDIR)/parley.conf.example
	rm -rf $(DESTDIR)$(DATADIR)/web

clean:
	rm -rf build
