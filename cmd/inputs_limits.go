package cmd

import (
	"fmt"

	"github.com/spf13/pflag"

	"hopbudget/grammar"
	"hopbudget/tracefmt"
)

// addMaxDecompressedFlag declares --max-decompressed, the cap on each
// compressed input's decompressed size (tracefmt.Options.MaxDecompressed).
func addMaxDecompressedFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "max-decompressed", grammar.FormatBytes(tracefmt.DefaultMaxDecompressed),
		"fail a compressed input that expands beyond this size (e.g. 512MiB, 200GiB; -1 for no limit)")
}

// parseMaxDecompressed reads --max-decompressed for tracefmt.Options: ""
// (flag not declared) is tracefmt's default, -1 no limit.
func parseMaxDecompressed(v string) (int64, error) {
	switch v {
	case "":
		return 0, nil
	case "-1":
		return -1, nil
	}
	n, err := grammar.ParseBytes(v)
	if err == nil && n == 0 {
		err = fmt.Errorf("0 would refuse every compressed input")
	}
	if err != nil {
		return 0, fmt.Errorf("--max-decompressed: %v", err)
	}
	return n, nil
}
