// Preflight checks this machine for the workbook before the first lesson, and
// says what to install:
//
//	go run ./exercises/tools/preflight
//
// It looks at what the workbook needs (Go 1.24 or newer, a Go that can build with
// -race, the module's dependencies in the module cache so the tests work offline)
// and at what it can use (nc and telnet, which the Go client
// `go run ./exercises/tools/client` replaces). The exit status is 0 when everything
// the workbook needs is there, 1 when something is missing.
package main

import (
	"context"
	"fmt"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"chatbook/exercises/tools/internal/toolchain"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	code := run(ctx, os.Stdout)
	cancel()
	os.Exit(code)
}

// oldestGo is the oldest Go the workbook supports (go.mod's go line).
const oldestGo = "go1.24"

// finding is one line of the report.
type finding struct {
	need   bool   // the workbook needs it (else it is optional)
	ok     bool   // it is there and works
	what   string // what was looked at
	detail string // what was found, or what to do
}

func run(ctx context.Context, w io.Writer) int {
	root := moduleRoot(ctx)
	if root == "" {
		fmt.Fprintln(w, "preflight: run it inside the workbook (the folder with go.mod): cd there, then go run ./exercises/tools/preflight")
		return 1
	}
	fmt.Fprintf(w, "Checking this machine for the workbook in %s\n\n", root)
	findings := []finding{
		goVersion(ctx),
		race(ctx),
		dependencies(ctx, root),
		netcat(ctx),
		telnet(),
	}
	missing := 0
	for _, f := range findings {
		status := "ok"
		switch {
		case !f.ok && f.need:
			status = "MISSING"
			missing++
		case !f.ok:
			status = "optional"
		}
		fmt.Fprintf(w, "%-9s %s: %s\n", status, f.what, f.detail)
	}
	fmt.Fprintln(w)
	switch missing {
	case 0:
		fmt.Fprintln(w, "Everything the workbook needs is here.")
		return 0
	case 1:
		fmt.Fprintln(w, "One thing the workbook needs is missing: see the MISSING line above.")
	default:
		fmt.Fprintf(w, "%d things the workbook needs are missing: see the MISSING lines above.\n", missing)
	}
	return 1
}

// moduleRoot is the workbook's folder, or "" when this is not inside it.
func moduleRoot(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return ""
	}
	return filepath.Dir(gomod)
}

// goVersion is the Go that built this program: the one `go run` and `go test`
// use here. When the go command on the PATH is older, it fetched this one because
// go.mod asks for it; that needs the network, so say so.
func goVersion(ctx context.Context) finding {
	f := finding{need: true, what: "Go", ok: version.Compare(runtime.Version(), oldestGo) >= 0}
	f.detail = fmt.Sprintf("%s (the workbook needs %s or newer)", runtime.Version(), oldestGo)
	if !f.ok && version.IsValid(runtime.Version()) {
		f.detail += ": install a newer Go from https://go.dev/dl"
	}
	if !version.IsValid(runtime.Version()) {
		f.ok = true // a development build of Go: newer than any release it was cut from
	}
	cmd := exec.CommandContext(ctx, "go", "version")
	cmd.Dir = os.TempDir() // outside the module, so that go.mod asks for nothing
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.Output(); err == nil {
		if fields := strings.Fields(string(out)); len(fields) >= 3 && fields[2] != runtime.Version() &&
			version.IsValid(fields[2]) && version.Compare(fields[2], oldestGo) < 0 {
			f.detail += fmt.Sprintf("; your go command is %s, and it downloaded %s because go.mod asks for it: "+
				"install %s or newer from https://go.dev/dl to work offline", fields[2], runtime.Version(), oldestGo)
		}
	}
	return f
}

// race really builds a small program with -race: stage 4's lesson and exercise 5
// need the race detector.
func race(ctx context.Context) finding {
	r := toolchain.Probe(ctx)
	f := finding{need: true, ok: r.OK, what: "go test -race"}
	if r.OK {
		f.detail = fmt.Sprintf("this Go builds and runs programs with -race (%s/%s)", runtime.GOOS, runtime.GOARCH)
	} else {
		f.detail = r.String()
	}
	return f
}

// dependencies says whether the modules the tests import are in the module cache.
// With GOPROXY=off, go mod download fetches nothing: it fails if one is missing.
func dependencies(ctx context.Context, root string) finding {
	f := finding{need: true, what: "module dependencies"}
	cmd := exec.CommandContext(ctx, "go", "mod", "download")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		f.detail = "some are not downloaded yet (" + firstLine(string(out), err) + "): " +
			"run `go mod download` here while online, and the tests will work offline"
		return f
	}
	f.ok = true
	f.detail = "all in the module cache: the tests work offline"
	return f
}

// netcat finds nc and tells which of its many flavours it is: the tests use
// `nc -N` (shut down the connection when the input ends), which OpenBSD's netcat
// has and the others lack.
func netcat(ctx context.Context) finding {
	f := finding{what: "nc"}
	path, err := exec.LookPath("nc")
	if err != nil {
		f.detail = "not found; the Go client replaces it: go run ./exercises/tools/client " +
			"(to install nc: " + installNetcat() + ")"
		return f
	}
	flavour, hasN := netcatFlavour(ctx, path)
	f.detail = fmt.Sprintf("%s, %s", path, flavour)
	if hasN {
		f.detail += ", with -N, which the tests use"
	}
	if !hasN {
		f.detail += "; it has no -N, which the tests use, so they fail with it: install OpenBSD's (" + installNetcat() +
			"), or use the Go client: go run ./exercises/tools/client"
		return f
	}
	f.ok = true
	return f
}

// netcatFlavour asks nc for its help text, which names the flavour, and whether
// it knows -N.
func netcatFlavour(ctx context.Context, path string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-h")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput() // most flavours exit non-zero after their help
	help := string(out)
	hasN := strings.Contains(help, "-N")
	real, _ := filepath.EvalSymlinks(path)
	switch {
	case strings.Contains(help, "OpenBSD netcat") || strings.Contains(real, "openbsd"):
		return "OpenBSD netcat", hasN
	case strings.Contains(help, "Ncat"):
		return "Ncat, from Nmap", hasN
	case strings.Contains(help, "BusyBox") || strings.Contains(real, "busybox"):
		return "BusyBox nc", hasN
	case strings.Contains(help, "GNU netcat"):
		return "GNU netcat", hasN
	case strings.Contains(help, "[v1.10") || strings.Contains(real, "traditional"):
		return "traditional netcat (Hobbit's)", hasN
	case runtime.GOOS == "darwin":
		return "macOS's nc (from OpenBSD's)", hasN
	}
	return "a netcat of unknown flavour", hasN
}

func installNetcat() string {
	switch runtime.GOOS {
	case "linux":
		return "Debian or Ubuntu: sudo apt install netcat-openbsd; Fedora: sudo dnf install netcat"
	case "darwin":
		return "macOS has one"
	case "windows":
		return "Windows has none: use the Go client, or nc inside WSL2"
	}
	return "install your system's netcat package"
}

// telnet sends "\r\n" at the end of each line: the workbook's servers must take it.
func telnet() finding {
	f := finding{what: "telnet"}
	path, err := exec.LookPath("telnet")
	if err != nil {
		how := "Debian or Ubuntu: sudo apt install telnet; macOS: brew install telnet; " +
			"Windows: turn on the Telnet Client in Windows Features"
		f.detail = "not found; the Go client replaces it: go run ./exercises/tools/client (to install telnet: " + how + ")"
		return f
	}
	f.ok = true
	f.detail = path
	return f
}

func firstLine(out string, err error) string {
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return err.Error()
}
