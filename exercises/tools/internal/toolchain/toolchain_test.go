package toolchain

import (
	"context"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the go command prints when -race cannot work, and what a learner is told.
func TestExplain(t *testing.T) {
	cases := []struct {
		name string
		env  Env
		out  string
		want []string
	}{
		{"no race detector on windows/arm64",
			Env{GOOS: "windows", GOARCH: "arm64", CgoEnabled: "1", CC: "gcc"},
			"-race is not supported on windows/arm64\n",
			[]string{"no race detector for windows/arm64", "WSL2"}},
		{"no race detector on linux/386",
			Env{GOOS: "linux", GOARCH: "386", CgoEnabled: "1", CC: "gcc"},
			"-race is not supported on linux/386\n",
			[]string{"no race detector for linux/386", "linux (amd64, arm64"}},
		{"no C compiler on Linux",
			Env{GOOS: "linux", GOARCH: "amd64", CgoEnabled: "0", CC: "no-such-cc-here"},
			"go: -race requires cgo; enable cgo by setting CGO_ENABLED=1\n",
			[]string{"no `no-such-cc-here` on the PATH", "sudo apt install gcc"}},
		{"no C compiler on Windows",
			Env{GOOS: "windows", GOARCH: "amd64", CgoEnabled: "0", CC: "no-such-cc-here"},
			"go: -race requires cgo; enable cgo by setting CGO_ENABLED=1\n",
			[]string{"no `no-such-cc-here` on the PATH", "mingw-w64, version 8 or newer", "MSYS2", "WSL2"}},
		{"an old mingw on Windows",
			Env{GOOS: "windows", GOARCH: "amd64", CgoEnabled: "1", CC: "go"},
			"# runtime/race\nrace_windows_amd64.syso: undefined reference to `__imp__aligned_free'\n",
			[]string{"the C compiler failed: race_windows_amd64.syso", "version 8 or newer"}},
		{"macOS needs no compiler",
			Env{GOOS: "darwin", GOARCH: "arm64", CgoEnabled: "0", CC: "clang"},
			"something odd\n",
			[]string{"something odd", "needs no C compiler"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Explain(tc.env, tc.out)
			require.False(t, r.OK)
			for _, w := range tc.want {
				assert.Contains(t, r.String(), w)
			}
			assert.Contains(t, r.String(), "this Go cannot build with -race (")
		})
	}
}

// cgo turned off by hand, while a C compiler is there: the fix is to turn it on.
func TestExplainCgoOff(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on the PATH")
	}
	r := Explain(Env{GOOS: "linux", GOARCH: "amd64", CgoEnabled: "0", CC: "go"},
		"go: -race requires cgo; enable cgo by setting CGO_ENABLED=1\n")
	assert.Equal(t, "it needs cgo, and cgo is off: CGO_ENABLED=0", r.Why)
	assert.Contains(t, r.Fix, "unset CGO_ENABLED or set it to 1")
}

// The list of platforms follows Go's own (internal/platform): the ones with a
// race detector, and two without.
func TestSupported(t *testing.T) {
	for _, p := range [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"},
		{"windows", "amd64"}, {"freebsd", "amd64"}} {
		assert.True(t, Supported(p[0], p[1]), p)
	}
	for _, p := range [][2]string{{"windows", "arm64"}, {"linux", "386"}, {"openbsd", "amd64"}} {
		assert.False(t, Supported(p[0], p[1]), p)
	}
}

// The real probe, on this machine: with cgo off, it cannot build (except on macOS).
func TestProbe(t *testing.T) {
	if !Supported(runtime.GOOS, runtime.GOARCH) {
		t.Skip("no race detector here")
	}
	ctx := context.Background()
	off := Probe(ctx, "CGO_ENABLED=0")
	if runtime.GOOS == "darwin" {
		assert.True(t, off.OK, off.String())
		return
	}
	require.False(t, off.OK)
	assert.Contains(t, off.String(), "cgo")
}
