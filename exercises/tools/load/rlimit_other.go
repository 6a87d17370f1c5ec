//go:build !unix

package main

// raiseFileLimit does nothing here: this system has no `ulimit -n`. If there are
// too many clients for it, connecting them fails and the run says so.
func raiseFileLimit(need int) error { return nil }
