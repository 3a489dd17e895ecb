package tracefmt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const oneSpanOTLP = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},` +
	`"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607%s","name":"op","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`

func oneSpan(n string) string { return strings.Replace(oneSpanOTLP, "%s", n, 1) }

// Symbolic links in a walked directory are followed, files and
// directories alike; a link back up the tree is not followed twice.
func TestReadWalkFollowsSymlinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "linked.json"), []byte(oneSpan("01")), 0o644)
	os.MkdirAll(filepath.Join(elsewhere, "sub"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "sub", "deep.json"), []byte(oneSpan("02")), 0o644)
	os.WriteFile(filepath.Join(root, "plain.json"), []byte(oneSpan("03")), 0o644)
	for _, l := range [][2]string{
		{filepath.Join(elsewhere, "linked.json"), filepath.Join(root, "file-link.json")},
		{filepath.Join(elsewhere, "sub"), filepath.Join(root, "dir-link")},
		{root, filepath.Join(root, "loop")}, // a loop back to the root
	} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Skip("symbolic links unavailable:", err)
		}
	}
	res, err := Read([]string{root}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Files {
		names = append(names, filepath.Base(f.Name))
	}
	if got := strings.Join(names, " "); got != "deep.json file-link.json plain.json" {
		t.Errorf("read %q, want deep.json file-link.json plain.json (links followed, the loop once)", got)
	}
	if res.Sink.Kept() != 3 {
		t.Errorf("%d spans, want 3", res.Sink.Kept())
	}
}
