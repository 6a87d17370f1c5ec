package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// preflight builds the tool once, then runs it in the workbook with env added.
func preflight(t *testing.T, bin string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = "../../.."
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s", out)
		code = exit.ExitCode()
	}
	return code, string(out)
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "preflight")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// Each finding changes the report, and only a missing need changes the exit status.
func TestPreflight(t *testing.T) {
	bin := build(t)

	t.Run("cgo off: no -race, with the fix", func(t *testing.T) {
		if runtime.GOOS == "darwin" {
			t.Skip("on macOS -race needs no cgo")
		}
		code, out := preflight(t, bin, "CGO_ENABLED=0")
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "MISSING   go test -race: this Go cannot build with -race "+
			"(it needs cgo, and cgo is off: CGO_ENABLED=0): turn cgo on")
		assert.Contains(t, out, "One thing the workbook needs is missing")
	})

	t.Run("no C compiler, no nc, no telnet", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("the PATH trick is for Linux")
		}
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		require.NoError(t, err)
		// Go's own bin folder: go and gofmt, and nothing else.
		code, out := preflight(t, bin, "PATH="+filepath.Join(strings.TrimSpace(string(goroot)), "bin"))
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "there is no `gcc` on the PATH): install gcc from your distribution")
		assert.Contains(t, out, "optional  nc: not found; the Go client replaces it: go run ./exercises/tools/client")
		assert.Contains(t, out, "optional  telnet: not found")
	})

	t.Run("dependencies not downloaded", func(t *testing.T) {
		code, out := preflight(t, bin, "GOMODCACHE="+t.TempDir())
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "MISSING   module dependencies: some are not downloaded yet")
		assert.Contains(t, out, "run `go mod download` here while online")
	})

	t.Run("outside the workbook", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(out), "run it inside the workbook")
	})
}
