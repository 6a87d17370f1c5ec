//go:build !unix

package main

import (
	"errors"
	"time"
)

// selfCPU does not know this process's CPU time here: it asks getrusage, which
// is Unix's. The summary then has no CPU line.
func selfCPU() (time.Duration, error) {
	return 0, errors.New("getrusage is Unix's")
}
