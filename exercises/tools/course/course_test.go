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

const begin, end = "<!-- BEGIN extensions -->\n", "<!-- END extensions -->"

// The lists of extensions in the READMEs are made from Extensions: the teaching order
// lives here only. go test ./exercises/tools/course -update rewrites them.
func TestReadmeTablesFollowTheCourse(t *testing.T) {
	// The front page names the extensions, in order; the map of the exercises has
	// the whole table.
	for readme, want := range map[string]string{"README.md": List("exercises/"), "exercises/README.md": Table("")} {
		path := filepath.Join(root, readme)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		s := string(b)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		require.True(t, i >= 0 && j > i, "%s has no %q ... %q markers", readme, begin, end)
		if *update {
			s = s[:i+len(begin)] + want + s[j:]
			require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
			continue
		}
		require.Equal(t, want, s[i+len(begin):j],
			"%s's list of extensions is not the course's: go test ./exercises/tools/course -update", readme)
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
