// Package toolchain tells whether the Go on this machine can build with -race, and,
// when it cannot, why and what to install, in words a learner can act on. The
// checker, begin and preflight share it, so that they all say the same thing.
//
// The race detector is a C++ runtime linked into the program. On Linux, FreeBSD,
// NetBSD and Windows, linking it needs cgo, and so a C compiler (on Windows,
// mingw-w64 version 8 or newer); on macOS it needs neither. On some platforms
// (windows/arm64, for one) it does not exist at all.
package toolchain

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Race is what this machine's Go can do with -race.
type Race struct {
	OK  bool
	Why string // when not OK: the cause, short enough for parentheses
	Fix string // when not OK: what to install or set, one sentence
}

// String is the one sentence to show a learner: the problem and its fix.
func (r Race) String() string {
	if r.OK {
		return r.Problem()
	}
	return r.Problem() + ": " + r.Fix
}

// Problem is the first half of that sentence, without the fix.
func (r Race) Problem() string {
	if r.OK {
		return "this Go builds with -race"
	}
	return fmt.Sprintf("this Go cannot build with -race (%s)", r.Why)
}

// Env is the part of `go env` that decides whether -race can work.
type Env struct {
	GOOS       string
	GOARCH     string
	CgoEnabled string `json:"CGO_ENABLED"`
	CC         string
	GOVERSION  string
}

// GoEnv asks the go command for its settings, with extra (NAME=value entries)
// added to this process's environment.
func GoEnv(ctx context.Context, extra ...string) (Env, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "-json", "GOOS", "GOARCH", "CGO_ENABLED", "CC", "GOVERSION")
	cmd.Env = append(os.Environ(), extra...)
	out, err := cmd.Output()
	if err != nil {
		return Env{}, fmt.Errorf("go env: %v", err)
	}
	var e Env
	if err := json.Unmarshal(out, &e); err != nil {
		return Env{}, fmt.Errorf("go env: %v", err)
	}
	return e, nil
}

// Supported says whether the race detector exists for goos/goarch. It follows
// internal/platform.RaceDetectorSupported in Go's own source (Go 1.26).
func Supported(goos, goarch string) bool {
	switch goos {
	case "linux":
		switch goarch {
		case "amd64", "arm64", "loong64", "ppc64le", "riscv64", "s390x":
			return true
		}
	case "darwin":
		return goarch == "amd64" || goarch == "arm64"
	case "freebsd", "netbsd", "windows":
		return goarch == "amd64"
	}
	return false
}

// probe is the tiny program the probe builds: one goroutine, so the race
// detector's runtime is really linked and started.
const probe = `package main

func main() {
	done := make(chan int)
	go func() { done <- 1 }()
	<-done
}
`

// Probe really builds (and, for this machine's own platform, runs) a tiny program
// with -race in a temporary folder, and explains what went wrong if anything did.
// extra (NAME=value entries) is added to the environment, as for GoEnv.
func Probe(ctx context.Context, extra ...string) Race {
	env, err := GoEnv(ctx, extra...)
	if err != nil {
		return Race{Why: err.Error(), Fix: "install Go from https://go.dev/dl and make sure `go` is on your PATH"}
	}
	tmp, err := os.MkdirTemp("", "chatbook-race-")
	if err != nil {
		return Race{Why: err.Error(), Fix: "make the temporary folder writable"}
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "main.go"), []byte(probe), 0o644); err != nil {
		return Race{Why: err.Error(), Fix: "make the temporary folder writable"}
	}
	bin := filepath.Join(tmp, "probe.exe")
	cmd := exec.CommandContext(ctx, "go", "build", "-race", "-o", bin, "main.go")
	cmd.Dir = tmp
	// Outside any module, and with no go.work: only the toolchain is tried.
	cmd.Env = append(os.Environ(), append([]string{"GO111MODULE=on", "GOWORK=off", "GOFLAGS="}, extra...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Explain(env, string(out))
	}
	if env.GOOS != runtime.GOOS || env.GOARCH != runtime.GOARCH {
		return Race{OK: true} // built for another machine: it cannot run here
	}
	run := exec.CommandContext(ctx, bin)
	// A program built with -race waits a second before it exits, for goroutines
	// that might still race; the probe's have ended by then, so it need not.
	run.Env = append(os.Environ(), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	if out, err := run.CombinedOutput(); err != nil {
		why := firstLine(string(out))
		if why == "" {
			why = err.Error()
		}
		return Race{Why: "a program built with -race does not run: " + why, Fix: brokenToolchain(env.GOOS)}
	}
	return Race{OK: true}
}

// Explain says why a build with -race failed on a machine with settings env,
// given what the go command printed. It is for builds whose plain (non-race)
// build works: then the cause is the toolchain, never the program.
func Explain(env Env, out string) Race {
	platform := env.GOOS + "/" + env.GOARCH
	if !Supported(env.GOOS, env.GOARCH) || strings.Contains(out, "-race is not supported on") {
		return Race{Why: "Go has no race detector for " + platform, Fix: unsupported(env.GOOS, env.GOARCH)}
	}
	if env.GOOS == "darwin" {
		// On macOS -race needs no C compiler: whatever failed, it is the Go installation.
		return Race{Why: firstLine(out), Fix: brokenToolchain(env.GOOS)}
	}
	cc := ccName(env.CC)
	_, lookErr := exec.LookPath(cc)
	noCompiler := lookErr != nil || strings.Contains(out, "executable file not found")
	cgoOff := env.CgoEnabled != "1" || strings.Contains(out, "requires cgo")
	switch {
	case noCompiler:
		why := fmt.Sprintf("it needs cgo and a C compiler, and there is no `%s` on the PATH", cc)
		fix := installCompiler(env.GOOS)
		if os.Getenv("CGO_ENABLED") == "0" {
			fix += ", and unset CGO_ENABLED (it is 0 in your environment)"
		}
		return Race{Why: why, Fix: fix}
	case cgoOff:
		return Race{Why: "it needs cgo, and cgo is off: CGO_ENABLED=0",
			Fix: "turn cgo on: unset CGO_ENABLED or set it to 1 in your shell, or run `go env -u CGO_ENABLED` if you set it with `go env -w`"}
	default:
		return Race{Why: "the C compiler failed: " + firstLine(out), Fix: brokenToolchain(env.GOOS)}
	}
}

// ccName is the compiler's program name in a CC setting such as "gcc" or "zig cc".
func ccName(cc string) string {
	if f := strings.Fields(cc); len(f) > 0 {
		return f[0]
	}
	return "gcc"
}

// installCompiler says how to get a C compiler that Go's race detector accepts.
func installCompiler(goos string) string {
	switch goos {
	case "linux":
		return "install gcc from your distribution (Debian or Ubuntu: `sudo apt install gcc`; " +
			"Fedora: `sudo dnf install gcc`; Alpine: `apk add gcc musl-dev`)"
	case "windows":
		return "install gcc from mingw-w64, version 8 or newer, through MSYS2 " +
			"(`pacman -S mingw-w64-ucrt-x86_64-gcc`, then put C:\\msys64\\ucrt64\\bin on your PATH), " +
			"or work inside WSL2, where Linux's gcc does it"
	default:
		return "install a C compiler (`pkg install gcc`, or the system's clang) and make sure `go env CC` names it"
	}
}

// brokenToolchain is the advice when a C compiler is there and still fails.
func brokenToolchain(goos string) string {
	switch goos {
	case "windows":
		return "the race detector needs mingw-w64 gcc version 8 or newer: install MSYS2's " +
			"(`pacman -S mingw-w64-ucrt-x86_64-gcc`) and put it first on your PATH, or work inside WSL2"
	case "darwin":
		return "on macOS -race needs no C compiler: reinstall Go from https://go.dev/dl"
	default:
		return "run `go build -race` on any small program to see the whole error, and reinstall your C compiler (gcc) and Go if it persists"
	}
}

// unsupported says where to go for the race lesson when this platform has no
// race detector.
func unsupported(goos, goarch string) string {
	if goos == "windows" {
		return "work inside WSL2 (Linux on " + goarch + " has it) or on an amd64 machine; " +
			"everything else in the workbook works here"
	}
	return "it exists for linux (amd64, arm64, loong64, ppc64le, riscv64, s390x), darwin (amd64, arm64) " +
		"and amd64 freebsd, netbsd and windows: do the race lesson on one of those"
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return strings.TrimSpace(s)
}
