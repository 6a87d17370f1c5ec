package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"chatbook/exercises/tools/course"
)

// The student edition holds no answer, builds, and leaves the learner work to do,
// with begin still working in it.
func TestHandoutHasNoAnswersAndStillWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a whole copy of the workbook; skipped with -short")
	}
	t.Parallel() // it waits for go commands, as the next test does: side by side
	dir := filepath.Join(t.TempDir(), "class")
	require.NoError(t, handout(root, dir, []int{0, 1, 2, 3, 4, 5}))

	// No answer: no answer/ or mistakes/ folder, no teacher's page, and not one
	// answer program file's text anywhere, except the files a START gives on purpose.
	given := map[string]bool{}
	for _, e := range course.Extensions {
		start, err := e.Start(root)
		require.NoError(t, err)
		for _, line := range start {
			if info, err := os.Stat(filepath.Join(root, line)); err == nil && !info.IsDir() {
				given[filepath.ToSlash(line)] = true
			}
		}
	}
	answers := map[string]string{} // text -> its file
	programs, err := filepath.Glob(filepath.Join(root, "exercises", "*", "answer", "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, programs)
	for _, p := range programs {
		rel := filepath.ToSlash(must(filepath.Rel(root, p)))
		if strings.HasSuffix(p, "_test.go") || given[rel] {
			continue
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		answers[string(b)] = rel
	}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(must(filepath.Rel(dir, p)))
		switch d.Name() {
		case "answer", "mistakes", "TEACHING.md", "MISTAKES.md", "CONTRIBUTING.md", ".ci":
			t.Errorf("the handout holds %s", rel)
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		if from, ok := answers[string(b)]; ok {
			t.Errorf("the handout's %s is the answer %s", rel, from)
		}
		return nil
	}))
	require.NoFileExists(t, filepath.Join(dir, "exercises", "names", "answer", "server.go"))
	require.FileExists(t, filepath.Join(dir, "exercises", "names", "_tests", "server_test.go"))
	require.FileExists(t, filepath.Join(dir, "stage5", "server.go"))

	// It builds: every package, tests included.
	run := func(args ...string) (string, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("vet", "./...")
	require.NoError(t, err, "go vet ./... in the handout:\n%s", out)

	// begin works in it, for an extension whose START gave answer files (framing's
	// ready-made main.go and client.go), and the tests fail: there is work to do.
	out, err = run("run", "./exercises/tools/begin", "framing", "mine/framing")
	require.NoError(t, err, out)
	for _, f := range []string{"main.go", "client.go", "frame.go", "server.go", "frame_test.go"} {
		require.FileExists(t, filepath.Join(dir, "mine", "framing", f))
	}
	out, err = run("test", "-count=1", "-failfast", "./mine/framing")
	require.Error(t, err, "framing's starting point passes its tests in the handout:\n%s", out)
	require.Contains(t, out, "--- FAIL", "the tests did not run and fail:\n%s", out)
}

// A START line the handout cannot honour points at the learner's own work.
func TestHandoutRewritesStart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "class")
	require.NoError(t, handout(root, dir, []int{0, 1, 2, 3}))
	for name, want := range map[string]string{
		"names":    "mine/ex5\n",                           // stage5 was not given: the learner's sheet 5
		"presence": "mine/names\n",                         // names' answer: the learner's names
		"framing":  "mine/ex5\nexercises/framing/_start\n", // the ready-made files joined the stub
		"client":   "exercises/client/_start\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, "exercises", name, "START"))
		require.NoError(t, err)
		require.Equal(t, want, string(b), "%s's START", name)
	}
	require.NoDirExists(t, filepath.Join(dir, "stage4"))
	require.DirExists(t, filepath.Join(dir, "stage3"))
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "Stages given in this copy: 0, 1, 2, 3.")
	require.Contains(t, string(readme), "go run ./stage3 ")

	// begin refuses what it cannot find, and says what it starts from.
	err = begin(dir, "presence", filepath.Join(dir, "mine", "presence"))
	require.ErrorContains(t, err, "presence starts from mine/names")

	require.ErrorContains(t, handout(root, dir, []int{0}), "already exists")
	require.ErrorContains(t, handout(root, filepath.Join(t.TempDir(), "c"), []int{0, 2, 3}), "stages 0 and 1")

	// A sheet whose stage is held back: its tests are given, but the hazard test,
	// and the next sheet starts from the learner's own work.
	require.FileExists(t, filepath.Join(dir, "exercises", "_tests", "ex4", "server_test.go"))
	require.NoFileExists(t, filepath.Join(dir, "exercises", "_tests", "ex4", "hazard_test.go"))
	require.NoDirExists(t, filepath.Join(dir, "exercises", "_tests", "ex3"), "stage3 is given: its tests are in it")
	err = beginSheet(dir, must(sheet("ex5")), filepath.Join(dir, "mine", "ex5"))
	require.ErrorContains(t, err, "ex5 starts from mine/ex4, your exercise 4")
	require.NoError(t, beginSheet(dir, must(sheet("ex4")), filepath.Join(dir, "mine", "ex4")))
	for _, f := range []string{"main.go", "server.go", "server_test.go", "main_test.go"} {
		require.FileExists(t, filepath.Join(dir, "mine", "ex4", f))
	}
	stage3, err := os.ReadFile(filepath.Join(root, "stage3", "server.go"))
	require.NoError(t, err)
	mine, err := os.ReadFile(filepath.Join(dir, "mine", "ex4", "server.go"))
	require.NoError(t, err)
	require.Equal(t, string(stage3), string(mine), "ex4 starts from stage3's program")
	if testing.Short() {
		return
	}
	// stage4's tests fail on stage3's program: there is work to do.
	cmd := exec.Command("go", "test", "-count=1", "-failfast", "./mine/ex4")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "exercise 4's starting point passes its tests in the handout:\n%s", out)
	require.Contains(t, string(out), "--- FAIL", "the tests did not run and fail:\n%s", out)
}

// sheet is the sheet called name, or an error.
func sheet(name string) (course.Sheet, error) {
	s, ok := sheetNamed(name)
	if !ok {
		return s, os.ErrNotExist
	}
	return s, nil
}

func TestParseStages(t *testing.T) {
	for in, want := range map[string][]int{"0-5": {0, 1, 2, 3, 4, 5}, "0-3": {0, 1, 2, 3}, "0,2,4": {0, 2, 4}, "1-2,5": {1, 2, 5}, "3": {3}} {
		got, err := parseStages(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "6", "3-1", "a-b", "-1"} {
		_, err := parseStages(in)
		require.Error(t, err, in)
	}
}
