package main

import (
	"context"

	"chatbook/exercises/tools/internal/toolchain"
)

// raceProbe tries -race on this machine (a test replaces it, to stay quick).
var raceProbe = func(ctx context.Context) toolchain.Race { return toolchain.Probe(ctx) }
