//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit makes sure this process may have need files open: each client is
// a socket, and a socket is a file to the operating system.
//
// There are two limits. The soft one is what the process may use now, and it
// may raise it up to the hard one; only root may raise the hard one. Go already
// raises the soft limit almost to the hard one when a program starts (since Go
// 1.19), so we try the last step and, if that is not enough, say what to do.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // we cannot tell: let the run say it, if it goes wrong
	}
	// The limits are uint64 on Linux and macOS but int64 on FreeBSD: compare them
	// as uint64 on every system. Neither is ever negative.
	if uint64(lim.Cur) >= uint64(need) {
		return nil
	}
	if lim.Max > lim.Cur {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && uint64(lim.Cur) >= uint64(need) {
			return nil
		}
	}
	return fmt.Errorf("%d clients need about %d open files, and this process may have only %d "+
		"(the hard limit, `ulimit -Hn`). Raise it first, as root: `ulimit -n %d`; "+
		"the server needs as many too", need-reservedFiles, need, lim.Max, roundUp(need))
}

// roundUp returns a round number at least n, to suggest as a limit.
func roundUp(n int) int {
	for _, r := range []int{1024, 4096, 16384, 65536, 262144} {
		if n <= r {
			return r
		}
	}
	return n
}
