package tracefmt

// Temporary: pins dependencies for go mod tidy until real code imports them.
import (
	_ "github.com/jaegertracing/jaeger-idl/model/v1"
	_ "github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/cobra"
	_ "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	_ "go.opentelemetry.io/proto/otlp/trace/v1"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/stat"
	_ "google.golang.org/protobuf/encoding/protojson"
	_ "google.golang.org/protobuf/encoding/protowire"
)
