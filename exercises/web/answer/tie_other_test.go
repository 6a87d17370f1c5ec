//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// startTied starts cmd. Only Linux can tie a child's life to its parent's (see
// tie_linux_test.go): elsewhere, a test binary killed before its cleanups leaves
// chromedriver and Chromium running.
func startTied(cmd *exec.Cmd, exited <-chan struct{}) error {
	return cmd.Start()
}

// stopTied kills cmd, and returns once exited is closed.
func stopTied(cmd *exec.Cmd, exited <-chan struct{}, wait time.Duration) {
	cmd.Process.Kill()
	<-exited
}
