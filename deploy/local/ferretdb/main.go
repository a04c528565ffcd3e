// Command ferretdb-embedded runs FerretDB v1.24 as a local MongoDB-wire server for development and
// tests on machines without mongod or Docker. Its backend is SQLite by default, or PostgreSQL
// (-handler postgresql -postgresql-url ...), which deploy/local/src/measure-mongo-backends.ts compares.
//
// Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.x`: that binary panics at
// start because the module's embedded build/version/version.txt is empty outside FerretDB's own
// build (`bin/task gen-version`). The embeddable package skips that check, so we wrap it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "data", "directory for the SQLite databases")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL for -handler postgresql")
	gcPercent := flag.Int("gc-percent", 400, "Go GC target percentage, unless GOGC is set")
	memLimitMiB := flag.Int64("memory-limit-mib", 1024, "Go soft memory limit in MiB (0: none), unless GOMEMLIMIT is set")
	flag.Parse()

	// FerretDB turns every document into several short-lived structures (BSON, its own types, the
	// backend's JSON), so with Go's default GOGC=100 its collector took a large share of its CPU,
	// on the cores the services and Kafka share. A higher target trades some memory for that CPU
	// (measured in docs/perf/HISTORY.md); the soft limit makes the collector work harder before the
	// heap passes it. GOGC and GOMEMLIMIT, when set, win as usual.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && *memLimitMiB > 0 && *memLimitMiB < 1<<43 {
		debug.SetMemoryLimit(*memLimitMiB << 20)
	}

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "cannot create data dir %s: %v\n", *dataDir, err)
		os.Exit(1)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// SQLite runs in WAL mode (FerretDB's default) with synchronous=NORMAL instead of SQLite's FULL:
	// a crash of this process loses nothing acknowledged; only an OS crash or power loss can lose the
	// commits since the last WAL checkpoint. Comparable to a standalone mongod's default (w:1 is
	// acknowledged before it is journaled; the journal is flushed every 100 ms). FULL syncs on every
	// commit, which made inserts measurably slower (docs/perf/HISTORY.md).
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     "file:" + *dataDir + "/?_pragma=synchronous(normal)",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("listening", "addr", *listen, "dataDir", *dataDir)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
