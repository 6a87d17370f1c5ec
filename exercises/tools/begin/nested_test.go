package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An exercise that is a module of its own (cluster) is set up as a module of its
// own: its go.mod, renamed after the folder, and its go.sum, so that it builds
// with its pinned versions; the others stay in the workbook's module.
func TestBeginCopiesANestedModule(t *testing.T) {
	require.Equal(t, "exercises/cluster", nestedModule(root, "exercises/cluster/answer"))
	require.Equal(t, "", nestedModule(root, "exercises/slow/answer"))

	dir := filepath.Join(t.TempDir(), "mine", "cluster")
	require.NoError(t, begin(root, "cluster", dir))
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(mod), "module cluster\n"), "go.mod starts %.40q", mod)
	require.FileExists(t, filepath.Join(dir, "go.sum"))
	require.Contains(t, testCommand(dir), "cd ")

	slow := filepath.Join(t.TempDir(), "mine", "slow")
	require.NoError(t, begin(root, "slow", slow))
	require.NoFileExists(t, filepath.Join(slow, "go.mod"))
}
