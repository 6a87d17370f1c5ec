//go:build !race

package chattest

// RaceEnabled says whether the tests were built with -race (go test -race).
const RaceEnabled = false
