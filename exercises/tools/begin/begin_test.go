package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the workbook's top folder, seen from this package's folder.
const root = "../../.."

// begin copies the starting point's program and the exercise's tests, never the
// starting point's own tests.
func TestBeginCopiesStartAndTests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mine", "names")
	require.NoError(t, begin(root, "names", dir))

	for _, f := range []string{"main.go", "server.go"} {
		want, err := os.ReadFile(filepath.Join(root, "stage5", f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is not stage5's", f)
	}
	tests, err := filepath.Glob(filepath.Join(root, "exercises", "names", "answer", "*_test.go"))
	require.NoError(t, err)
	require.NotEmpty(t, tests)
	for _, f := range tests {
		require.FileExists(t, filepath.Join(dir, filepath.Base(f)))
	}
	_, err = os.Stat(filepath.Join(dir, "hazard_test.go"))
	require.True(t, os.IsNotExist(err), "stage5's own tests were copied")
}

// A START file of several lines lays each folder or file over the first.
func TestBeginLaysFilesOver(t *testing.T) {
	start, err := startOf(root, "framing")
	require.NoError(t, err)
	require.Greater(t, len(start), 1, "framing's START names its stub and its ready-made files")

	dir := filepath.Join(t.TempDir(), "framing")
	require.NoError(t, begin(root, "framing", dir))
	for _, from := range start[1:] {
		paths := []string{filepath.Join(root, from)}
		if info, err := os.Stat(paths[0]); err == nil && info.IsDir() {
			paths, err = filepath.Glob(filepath.Join(root, from, "*.go"))
			require.NoError(t, err)
		}
		for _, p := range paths {
			want, err := os.ReadFile(p)
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dir, filepath.Base(p)))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%s was not laid over", p)
		}
	}
	require.DirExists(t, filepath.Join(dir, "testdata"), "the exercise's testdata (its fuzz corpus) comes along")
}

// begin never overwrites a learner's work.
func TestBeginRefusesAnExistingFolder(t *testing.T) {
	dir := t.TempDir()
	require.ErrorContains(t, begin(root, "names", dir), "already exists")
}

func TestUnknownExercise(t *testing.T) {
	err := begin(root, "nosuch", filepath.Join(t.TempDir(), "x"))
	require.ErrorContains(t, err, `no exercise called "nosuch"; there are: `)
	require.ErrorContains(t, err, "names")
}

// Every exercise folder has a START naming folders and files that exist.
func TestEveryStartExists(t *testing.T) {
	names, err := exercises(root)
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, name := range names {
		start, err := startOf(root, name)
		require.NoError(t, err)
		for _, from := range start {
			_, err := os.Stat(filepath.Join(root, from))
			require.NoError(t, err, "exercises/%s/START names %s", name, from)
		}
	}
}
