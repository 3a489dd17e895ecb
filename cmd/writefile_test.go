package cmd

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// writeFileAtomic replaces a regular file whole, writes a device in place
// (never replacing it), and follows a symbolic link (the link stays).
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	plain := filepath.Join(dir, "out.txt")
	for _, data := range []string{"first", "second"} {
		if err := writeFileAtomic(ctx, plain, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(plain); string(got) != data {
			t.Errorf("%s holds %q, want %q", plain, got, data)
		}
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(plain, link); err != nil {
		t.Skip("symbolic links unavailable:", err)
	}
	if err := writeFileAtomic(ctx, link, []byte("third")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if got, _ := os.ReadFile(plain); string(got) != "third" {
		t.Errorf("through the link: %q", got)
	}
	if err := writeFileAtomic(ctx, os.DevNull, []byte("gone")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode().IsRegular() {
		t.Errorf("%s is a regular file now: %v %v", os.DevNull, st, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("left in %s: %v", dir, ents)
	}
}
