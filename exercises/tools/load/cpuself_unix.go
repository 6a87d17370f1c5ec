//go:build unix

package main

import (
	"syscall"
	"time"
)

// selfCPU returns the CPU time this process has used so far, all its threads,
// in user mode and in the kernel on its behalf (getrusage, on any Unix).
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
