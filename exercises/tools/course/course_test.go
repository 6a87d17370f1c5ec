package course

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the workbook's top folder, seen from this package's folder.
const root = "../../.."

var update = flag.Bool("update", false, "rewrite the lists of extensions in the READMEs")

// The lists of the READMEs are made from Sheets and Extensions: the teaching
// order lives here only. go test ./exercises/tools/course -update rewrites them.
func TestReadmeListsFollowTheCourse(t *testing.T) {
	for _, g := range []struct{ readme, marker, want string }{
		{"README.md", "extensions", List("exercises/")},  // the front page names them
		{"exercises/README.md", "extensions", Table("")}, // the map has the whole table
		{"exercises/README.md", "sheets", SheetTable()},
	} {
		begin, end := "<!-- BEGIN "+g.marker+" -->\n", "<!-- END "+g.marker+" -->"
		path := filepath.Join(root, g.readme)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		s := string(b)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		require.True(t, i >= 0 && j > i, "%s has no %q ... %q markers", g.readme, begin, end)
		if *update {
			s = s[:i+len(begin)] + g.want + s[j:]
			require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
			continue
		}
		require.Equal(t, g.want, s[i+len(begin):j],
			"%s's list of %s is not the course's: go test ./exercises/tools/course -update", g.readme, g.marker)
	}
}

// Every extension has the one shape: a sheet, a START whose parts exist, and an answer.
func TestEveryExtensionHasTheShape(t *testing.T) {
	for _, e := range Extensions {
		require.FileExists(t, filepath.Join(root, e.Dir(), "README.md"), e.Name)
		start, err := e.Start(root)
		require.NoError(t, err, e.Name)
		for _, from := range start {
			_, err := os.Stat(filepath.Join(root, from))
			require.NoError(t, err, "%s/START names %s", e.Dir(), from)
		}
		tests, err := filepath.Glob(filepath.Join(root, e.AnswerDir(), "*_test.go"))
		require.NoError(t, err)
		require.NotEmpty(t, tests, "%s has no tests", e.AnswerDir())
		entries, err := os.ReadDir(filepath.Join(root, e.Dir()))
		require.NoError(t, err)
		for _, entry := range entries {
			switch entry.Name() {
			case "README.md", "START", "_start", "answer", "mistakes":
			case "go.mod", "go.sum": // a module of its own, whose dependencies only it downloads (cluster)
			default:
				t.Errorf("%s/%s: an extension folder holds only README.md, START, _start/, answer/ and mistakes/", e.Dir(), entry.Name())
			}
		}
	}
	for _, s := range Sheets {
		require.FileExists(t, filepath.Join(root, s.Path()))
	}
}
