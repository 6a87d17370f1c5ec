//go:build !linux

package main

import (
	"errors"
	"time"
)

// errNoProc: the server's CPU time is read from /proc, and /proc, with the
// files this tool reads in it, is Linux's.
var errNoProc = errors.New("it is read from /proc, which only Linux has")

// findServer cannot find the server here: see cpu_linux.go.
func findServer(addr string, pid int) (int, string) { return 0, errNoProc.Error() }

// processCPU cannot read another process's CPU time here.
func processCPU(pid int) (time.Duration, error) { return 0, errNoProc }

// serverTick does not matter here: the server's CPU time is never read.
func serverTick() time.Duration { return 0 }

// machineCPU is not known here: see cpu_linux.go.
func machineCPU() (time.Duration, error) { return 0, errNoProc }

// processRSS cannot read another process's memory here: see mem_linux.go.
func processRSS(pid int) (int64, error) { return 0, errNoProc }
