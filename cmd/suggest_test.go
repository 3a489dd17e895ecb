package cmd

import (
	"encoding/json"
	"testing"
)

func TestSuggestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"suggest-demo", []string{"suggest", "testdata/demo"}},
		{"suggest-demo-json", []string{"suggest", "-o", "json", "testdata/demo"}},
		{"suggest-demo-markdown", []string{"suggest", "-o", "markdown", "testdata/demo"}},
		{"suggest-what-if", []string{"suggest", "--include-dependent", "--top", "3", "--what-if", "to=pricing:-2ms",
			"--what-if", "to=route:x0.5", "--what-if", "to=nobody:x0", "testdata/demo"}},
		{"suggest-endpoint-none", []string{"suggest", "--endpoint", "frontend:GET /nothing", "testdata/demo"}},
		{"suggest-bad-what-if", []string{"suggest", "--what-if", "to=pricing:-20", "testdata/demo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args...)
			golden(t, tc.name, stdout, stderr, code)
		})
	}
}

// analyze -o json carries the same candidates as suggest -o json.
func TestAnalyzeJSONCarriesCandidates(t *testing.T) {
	a, _, code := run(t, "", "analyze", "-o", "json", "testdata/demo")
	s, _, code2 := run(t, "", "suggest", "-o", "json", "testdata/demo")
	if code != ExitOK || code2 != ExitOK {
		t.Fatalf("exit %d, %d", code, code2)
	}
	var ad, sd struct {
		Parallelizable json.RawMessage `json:"parallelizable"`
	}
	if err := json.Unmarshal([]byte(a), &ad); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(s), &sd); err != nil {
		t.Fatal(err)
	}
	if len(ad.Parallelizable) < 10 || string(ad.Parallelizable) != string(sd.Parallelizable) {
		t.Errorf("analyze: %s\nsuggest: %s", ad.Parallelizable, sd.Parallelizable)
	}
}
