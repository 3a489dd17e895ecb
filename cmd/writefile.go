package cmd

import (
	"context"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so that path never holds a partial file: an interrupt, a
// crash or a full disk leaves the old file (or none), never a truncated one
// that looks complete. A done ctx writes nothing.
func writeFileAtomic(ctx context.Context, path string, data []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
