// Package grammar holds the small languages users type on the command
// line, each with its syntax written above its parser:
//
//	glob.go      globs: service, operation and statement patterns
//	             (budget matchers, --endpoint, --what-if)
//	endpoint.go  --endpoint SERVICE:OPERATION
//	whatif.go    --what-if SELECTORS:CHANGE (suggest)
//	gate.go      --fail-on METRIC>THRESHOLD (diff)
//	band.go      --percentile-band pLO-pHI and --slowest X% (profile, report)
//	clock.go     --clock-granularity SERVICE=DURATION
//	size.go      sizes such as 512MiB (--max-decompressed)
//
// The package is a leaf: it imports only the standard library, and parsed
// values are plain data that analyze, budget and cmd consume. Every parser
// fails with a *SyntaxError, which quotes the input and says at which
// column what was found and what would have been valid there. Each grammar
// has a fuzz target (no panic; where a value has a String form, it reads
// back as the same value).
//
// The budget file's YAML is parsed in budget/, which uses the globs from
// here.
package grammar
