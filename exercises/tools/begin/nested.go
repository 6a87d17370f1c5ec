package main

// Nested modules: an exercise whose dependencies learners of the earlier stages
// should never download (cluster needs a NATS server and client) is a Go module of
// its own inside the workbook, with its own go.mod and go.sum. The root module's
// ./... does not enter it, so its copies must be modules of their own too, and the
// go command must run inside them.

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
)

// nestedModule returns the folder, from the root, of the module nested in the
// workbook that holds dir (a folder from the root), or "" when dir is in the root
// module.
func nestedModule(root, dir string) string {
	for d := path.Clean(dir); d != "." && d != "/"; d = path.Dir(d) {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(d), "go.mod")); err == nil {
			return d
		}
	}
	return ""
}

// copyModule makes the folder to a module of its own when answer (from the root)
// lives in a nested module: it gets that module's go.mod, named after the folder,
// and go.sum, so it builds with the same pinned versions.
func copyModule(root, answer, to string) error {
	mod := nestedModule(root, answer)
	if mod == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(mod), "go.mod"))
	if err != nil {
		return err
	}
	b = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(b, []byte("module "+filepath.Base(to)))
	if err := os.WriteFile(filepath.Join(to, "go.mod"), b, 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(mod), "go.sum"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(to, "go.sum"), sum, 0o644)
}

// goPkg runs the go command with args on the package in dir: from the root, or
// inside dir when dir is a module of its own.
func goPkg(root, dir string, args ...string) ([]byte, error) {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return goCmd(dir, append(args, ".")...)
	}
	return goCmd(root, append(args, "./"+filepath.ToSlash(must(filepath.Rel(root, dir))))...)
}

// testCommand is the command that tests the learner's copy in dir.
func testCommand(dir string) string {
	dir = filepath.ToSlash(filepath.Clean(dir))
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return fmt.Sprintf("cd %s && go test -race .   (a module of its own: its dependencies stay out of the workbook's)", dir)
	}
	return "go test -race ./" + dir
}
