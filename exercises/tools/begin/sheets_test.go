package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/course"
	"chatbook/exercises/tools/internal/toolchain"
)

// scratch is a new folder inside the module (a folder whose name starts with "."
// is left out of ./...), as a learner's mine/ would be.
func scratch(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(root)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(abs, ".tmp"), 0o755))
	dir, err := os.MkdirTemp(filepath.Join(abs, ".tmp"), "begin-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// noProbe keeps the tests quick: the real probe has its own tests.
func noProbe(t *testing.T, r toolchain.Race) {
	old := raceProbe
	raceProbe = func(context.Context) toolchain.Race { return r }
	t.Cleanup(func() { raceProbe = old })
}

// Exercises 2 to 5 start from the stage before's program and the next stage's
// tests, without the hazard test; and the copy, tests included, compiles.
func TestBeginSheets(t *testing.T) {
	noProbe(t, toolchain.Race{OK: true})
	base := scratch(t)
	var pkgs []string
	for _, s := range course.Sheets {
		if !copies(s) {
			continue
		}
		name := fmt.Sprintf("ex%d", s.Stage)
		dir := filepath.Join(base, name)
		var out, errs bytes.Buffer
		require.Equal(t, 0, setUp(root, []string{name, dir}, &out, &errs), errs.String())
		assert.Contains(t, out.String(), name+" is ready in "+dir)
		assert.Contains(t, out.String(), fmt.Sprintf("go run ./exercises/tools/check -stage %d %s", s.Stage, dir))
		assert.NotContains(t, out.String(), "Note:")

		for _, f := range []string{"main.go", "server.go"} {
			want, err := os.ReadFile(filepath.Join(root, s.From, f))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dir, f))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s: %s is not %s's", name, f, s.From)
		}
		tests, err := filepath.Glob(filepath.Join(root, fmt.Sprintf("stage%d", s.Stage), "*_test.go"))
		require.NoError(t, err)
		for _, f := range tests {
			if filepath.Base(f) == "hazard_test.go" {
				assert.NoFileExists(t, filepath.Join(dir, "hazard_test.go"), "%s: the hazard test was copied", name)
				continue
			}
			assert.FileExists(t, filepath.Join(dir, filepath.Base(f)))
		}
		if s.Stage == 5 {
			b, err := os.ReadFile(filepath.Join(dir, "server_test.go"))
			require.NoError(t, err)
			assert.Contains(t, string(b), "func TestNoDataRace", "ex5 needs it to find the race with go test -race")
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(must(filepath.Rel(must(filepath.Abs(root)), dir))))
	}
	// One go vet for all the copies: it compiles them, tests included, in parallel.
	out, err := goCmd(root, append([]string{"vet"}, pkgs...)...)
	require.NoError(t, err, "a copy does not compile with its tests:\n%s", out)
}

// Exercises 0 and 1 work on the stage itself: begin says so and copies nothing.
func TestSheetsWithNothingToCopy(t *testing.T) {
	for _, args := range [][]string{{"ex0"}, {"ex1", "mine/ex1"}} {
		var out, errs bytes.Buffer
		require.Equal(t, 0, setUp(root, args, &out, &errs))
		assert.Contains(t, out.String(), "as it is: there is nothing to copy")
		assert.Contains(t, out.String(), "go run ./exercises/tools/check -stage")
	}
	assert.NoDirExists(t, "mine")
}

// A machine without -race is told so once, with what to install, and the command
// that works meanwhile.
func TestBeginWithoutRace(t *testing.T) {
	noProbe(t, toolchain.Race{Why: "it needs cgo, and cgo is off: CGO_ENABLED=0", Fix: "turn cgo on"})
	dir := filepath.Join(scratch(t), "names")
	var out, errs bytes.Buffer
	require.Equal(t, 0, setUp(root, []string{"names", dir}, &out, &errs), errs.String())
	assert.Contains(t, out.String(), "\nNote: this Go cannot build with -race (it needs cgo, and cgo is off: CGO_ENABLED=0): "+
		"turn cgo on. Until then, run the tests without it: go test "+dir+"\n")
}

// Wrong names, folders outside the workbook, and missing arguments get one
// sentence each, and nothing is created.
func TestSetUpErrors(t *testing.T) {
	noProbe(t, toolchain.Race{OK: true})
	outside := filepath.Join(t.TempDir(), "ex2")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ex2", outside}, 2, outside + " is outside the workbook: choose a folder inside it, such as "},
		{[]string{"nosuch", "mine/x"}, 2, `no exercise called "nosuch": there are ex2 to ex5 and names, presence`},
		{[]string{"ex2"}, 2, "usage: go run ./exercises/tools/begin NAME DIR"},
		{nil, 2, "NAME is ex2 to ex5"},
	}
	for _, tc := range cases {
		var out, errs bytes.Buffer
		require.Equal(t, tc.code, setUp(root, tc.args, &out, &errs), "%q", tc.args)
		assert.Contains(t, errs.String(), tc.want, "%q", tc.args)
	}
	assert.NoDirExists(t, outside)
	assert.NoDirExists(t, "mine")
}

// -list shows every sheet and every extension, in teaching order.
func TestList(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, listAll(root, &out))
	var names []string
	for _, s := range course.Sheets {
		names = append(names, fmt.Sprintf("ex%d", s.Stage))
	}
	names = append(names, course.Names()...)
	last := -1
	for _, n := range names {
		i := strings.Index(out.String(), "  "+n+" ")
		require.Greater(t, i, last, "%s is missing or out of order:\n%s", n, out.String())
		last = i
	}
	assert.Contains(t, out.String(), "ex2        stage1's program, with stage2's tests")
}
